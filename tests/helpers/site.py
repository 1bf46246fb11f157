"""Helpers for tests that run a whole site: agent config, agent process, MQ peers.

Everything here talks to real peers (the core simulator over HTTP, ActiveMQ over
STOMP); waiting is always on a condition with a deadline, never a bare sleep.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from shared import wire
from shared.mq import Message, MqClient

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[2]


def wait_until(
    predicate: Callable[[], T | None], timeout: float = 15.0, interval: float = 0.02
) -> T:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {predicate}")
        threading.Event().wait(interval)


def line_item(line_id: str, name: str, station: str, **extra: Any) -> dict[str, Any]:
    """One order line for ``CoreSimulator.create_order(items=[...])``."""
    return {
        "line_id": line_id,
        "sku": f"SKU-{name.upper().replace(' ', '-')}",
        "name": name,
        "qty": 1,
        "station": station,
        "prep_seconds": 300,
        "modifiers": [],
        "allergens": [],
        "notes": "",
        **extra,
    }


def unique_site() -> str:
    return f"t-{uuid.uuid4().hex[:10]}"


def agent_toml(
    *,
    site_id: str,
    core_url: str,
    mq_url: str,
    store_path: Path,
    poll_wait: int = 2,
    expo_station: str = "expo",
    void_clear_seconds: float = 300,
    alive_interval: float = 1.0,
    extra: str = "",
) -> str:
    return f"""\
config_version = 1
site_id = "{site_id}"
stations = ["grill", "fry", "cold", "bar", "expo"]
expo_station = "{expo_station}"
void_clear_seconds = {void_clear_seconds}
alive_interval_seconds = {alive_interval}
log_level = "INFO"

[core]
url = "{core_url}"
poll_wait_seconds = {poll_wait}
timeout_seconds = 5

[mq]
url = "{mq_url}"
heartbeat_ms = 2000
reconnect_max_seconds = 1.0

[store]
path = "{store_path}"

[outbox]
backoff_initial_seconds = 0.1
backoff_max_seconds = 1.0
{extra}
"""


def write_agent_config(
    workdir: Path,
    *,
    site_id: str,
    core_url: str,
    mq_url: str,
    extra: str = "",
    store_dir: Path | None = None,
) -> tuple[Path, Path]:
    """``workdir/agent.toml`` for an :class:`AgentProcess` (a 1 s long poll) with its
    store ``edge.sqlite3`` beside it, or in ``store_dir`` (a disk of its own):
    ``(config, store)``."""
    config, store = workdir / "agent.toml", (store_dir or workdir) / "edge.sqlite3"
    config.write_text(
        agent_toml(
            site_id=site_id,
            core_url=core_url,
            mq_url=mq_url,
            store_path=store,
            poll_wait=1,
            extra=extra,
        )
    )
    return config, store


class AgentProcess:
    """``edge-agent run`` as a real child process (for crash tests)."""

    def __init__(
        self, config: Path, token: str, log_path: Path, env: dict[str, str] | None = None
    ) -> None:
        self._config = config
        self._env = {
            **os.environ,
            "KDS_CORE_TOKEN": token,
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self._log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AgentProcess:
        log = self._log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "run", "--config", str(self._config)],
            cwd=ROOT,
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        return self

    def kill(self) -> None:
        """SIGKILL: no chance to flush or say goodbye."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else 0
        self.proc.terminate()
        try:
            return self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(5)

    def log(self) -> str:
        return self._log_path.read_text(errors="replace")


class SitePeer:
    """A raw protocol peer: records every state message and sends commands.

    Stands in for "another module listening in" and for tools; displays use the
    Qt app.
    """

    def __init__(
        self,
        mq_url: str,
        site_id: str,
        name: str = "peer",
        *,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        self.site_id = site_id
        self.reply_queue = f"/queue/kds.{site_id}.replies.{name}-{uuid.uuid4().hex[:6]}"
        self._lock = threading.Lock()
        self.states: list[wire.StateMessage] = []
        self.alive: list[wire.AgentAlive] = []
        self.results: dict[str, wire.CommandResult] = {}
        self.client = MqClient(
            mq_url, user=user, password=password, heartbeat_ms=2000, backoff_max=1.0, name=name
        )
        self.client.subscribe(wire.state_topic(site_id), self._on_state)
        self.client.subscribe(self.reply_queue, self._on_result)
        self.client.start()
        if not self.client.wait_connected(15):
            raise AssertionError(f"{name}: broker not reachable at {mq_url}")

    def close(self) -> None:
        self.client.close()

    def problems(self) -> tuple[str, ...]:
        """The problem lines of the newest ``agent.alive`` (none before the first)."""
        with self._lock:
            return self.alive[-1].problems if self.alive else ()

    def __enter__(self) -> SitePeer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _on_state(self, message: Message) -> None:
        parsed = wire.parse_state_message(message.body)
        with self._lock:
            if isinstance(parsed, wire.AgentAlive):
                self.alive.append(parsed)
            else:
                self.states.append(parsed)

    def _on_result(self, message: Message) -> None:
        result = wire.parse_result(message.body)
        with self._lock:
            self.results.setdefault(result.command_id, result)

    def send(self, kind: str, /, *, command_id: str | None = None, **fields: Any) -> str:
        if command_id is not None:
            fields["command_id"] = command_id
        command = wire.make_command(kind, self.site_id, display_id="peer", **fields)
        self.send_raw(wire.encode(command))
        return str(command.command_id)

    def send_raw(self, body: bytes) -> None:
        wait_until(lambda: self.client.connected, 15)
        self.client.send(
            wire.command_queue(self.site_id),
            body,
            headers={"reply-to": self.reply_queue},
            receipt_timeout=10,
        )

    def result(self, command_id: str, timeout: float = 15.0) -> wire.CommandResult:
        return wait_until(lambda: self.results.get(command_id), timeout)

    def call(self, kind: str, /, **fields: Any) -> wire.CommandResult:
        return self.result(self.send(kind, **fields))

    def updates_for(self, ticket_id: str) -> list[wire.TicketUpdated]:
        with self._lock:
            return [
                s
                for s in self.states
                if isinstance(s, wire.TicketUpdated) and s.ticket.id == ticket_id
            ]

    def latest(self, ticket_id: str, timeout: float = 15.0) -> wire.TicketUpdated:
        def newest() -> wire.TicketUpdated | None:
            updates = self.updates_for(ticket_id)
            return updates[-1] if updates else None

        return wait_until(newest, timeout)

    def seqs(self) -> list[int]:
        with self._lock:
            return [s.seq for s in self.states]
