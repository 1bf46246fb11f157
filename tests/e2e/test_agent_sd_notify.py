"""systemd's notify protocol with a real ``edge-agent run`` and a real unix datagram
socket as ``$NOTIFY_SOCKET``: READY=1, WATCHDOG=1 pings, and no more pings once a
thread cannot be kept alive (another process holds the SQLite write lock, so the feed
keeps dying; see test_agent_supervised.py)."""

from __future__ import annotations

import itertools
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from tests.e2e.test_agent_supervised import THREADS, cursor_stored
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import AgentProcess, wait_until, write_agent_config

pytestmark = [pytest.mark.broker]

WATCHDOG_USEC = 2_000_000  # WatchdogSec=2: a ping every second


class NotifySocket:
    """An abstract unix datagram socket standing in for systemd's."""

    def __init__(self) -> None:
        self.name = f"@kds-test-{uuid.uuid4().hex}"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind("\0" + self.name[1:])
        self.received: list[tuple[float, str]] = []

    def receive_until(self, want: str, timeout: float) -> None:
        """Read datagrams until one holds the line ``want`` (or its prefix ``want…``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                break
            text = data.decode()
            self.received.append((time.monotonic(), text))
            if any(line.startswith(want) for line in text.splitlines()):
                return
        raise AssertionError(f"no {want!r} within {timeout}s; got {self.lines()}")

    def lines(self) -> list[str]:
        return [line for _, text in self.received for line in text.splitlines()]

    def close(self) -> None:
        self._sock.close()


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    sock = NotifySocket()
    try:
        yield sock
    finally:
        sock.close()


def test_ready_then_watchdog_pings_that_stop_when_a_thread_is_lost(
    site_id: str,
    core_sim: CoreSimulator,
    activemq_url: str,
    tmp_path: Path,
    notify_socket: NotifySocket,
) -> None:
    config, store = write_agent_config(
        tmp_path, site_id=site_id, core_url=core_sim.url, mq_url=activemq_url, extra=THREADS
    )
    env = {
        "NOTIFY_SOCKET": notify_socket.name,
        "WATCHDOG_USEC": str(WATCHDOG_USEC),
        "KDS_STORE_BUSY_TIMEOUT_SECONDS": "0.2",
    }
    agent = AgentProcess(config, TOKEN, tmp_path / "agent.log", env=env).start()
    assert agent.proc is not None
    try:
        notify_socket.receive_until("READY=1", timeout=30)
        assert notify_socket.lines()[0] == "READY=1"
        for _ in range(2):
            notify_socket.receive_until("WATCHDOG=1", timeout=WATCHDOG_USEC / 1e6)
        wait_until(lambda: cursor_stored(store), timeout=30)
        lock = sqlite3.connect(store, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            core_sim.create_order(site_id)
            notify_socket.receive_until("STATUS=thread feed cannot be kept alive", timeout=30)
            lost_at = notify_socket.received[-1][0]
            notify_socket.receive_until("STOPPING=1", timeout=30)
            code = agent.proc.wait(30)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    finally:
        agent.stop()
    assert code == 1, agent.log()
    pings = [at for at, text in notify_socket.received if text == "WATCHDOG=1"]
    assert len(pings) >= 2
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert all(0.8 <= gap <= 1.5 for gap in gaps), gaps  # half of WATCHDOG_USEC
    assert all(at < lost_at for at in pings), "a watchdog ping after the thread was lost"
    assert "CRITICAL edge.main: agent stopped: thread feed cannot be kept alive" in agent.log()
