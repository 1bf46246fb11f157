"""The faults of the reliability issue, played through the public contracts only.

An independent core (``independent_core.py``, the standard library only, written from
the core API contract) feeds a real ``edge-agent run`` poison orders, lenient ones, huge
ones and good ones in one page, then ``429`` with ``Retry-After: 0`` and ``86400``. A
raw display (stomp.py only, below) watches the site's state topic and asks for a v1
snapshot. The kitchen keeps working: good orders behind bad ones reach the screen,
refused orders are named on it, the agent neither hammers nor sleeps on Retry-After,
and no message to a display is over 512 KiB (no ``ticket.updated`` over 64 KiB).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import stomp

from tests.e2e.independent_core import IndependentCore
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import AgentProcess, wait_until, write_agent_config

pytestmark = [pytest.mark.broker, pytest.mark.slow]

KIB = 1024
#: the agent's Retry-After ceiling here (60 s by default), so "86400" costs 3 s
RETRY_MAX = 3


def _order(site_id: str, n: int, **fields: Any) -> dict[str, Any]:
    order: dict[str, Any] = {
        "id": f"ord_IND{n:05d}",
        "version": 1,
        "site_id": site_id,
        "brand": {"id": "burger-bros", "name": "Burger Bros"},
        "channel": "ubereats",
        "display_number": f"I-{n:04d}",
        "placed_at": "2026-11-24T18:01:55.000Z",
        "promised_at": "2026-11-24T18:20:00.000Z",
        "priority": "normal",
        "status": "placed",
        "customer": {"name": "Sam", "phone": "+31612345678", "notify": False},
        "notes": "",
        "items": [_line(1, "Classic Burger")],
        "total_cents": 1290,
    }
    order.update(fields)
    return order


def _line(n: int, name: str, **fields: Any) -> dict[str, Any]:
    line = {
        "line_id": f"l{n}",
        "sku": "BB-CLASSIC",
        "name": name,
        "qty": 1,
        "station": "grill",
        "prep_seconds": 300,
        "modifiers": [],
        "allergens": [],
        "notes": "",
    }
    line.update(fields)
    return line


class RawDisplay(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    """A display that knows only the site protocol: it records every frame's size."""

    def __init__(self, url: str, site: str) -> None:
        parts = urlsplit(url)
        self.site = site
        self.reply_to = f"/temp-queue/raw-{uuid.uuid4().hex[:8]}"
        self.lock = threading.Lock()
        self.sizes: list[tuple[str, int]] = []
        self.tickets: dict[str, dict[str, Any]] = {}
        self.problems: list[str] = []
        self.results: dict[str, dict[str, Any]] = {}
        self.conn = stomp.Connection12(
            [(parts.hostname or "127.0.0.1", parts.port or 61613)], heartbeats=(10000, 10000)
        )
        self.conn.set_listener("raw", self)
        self.conn.connect(wait=True)
        self.conn.subscribe(f"/topic/kds.{site}.state", id="state", ack="auto")
        self.conn.subscribe(self.reply_to, id="replies", ack="auto")

    def on_message(self, frame: Any) -> None:
        raw = frame.body.encode() if isinstance(frame.body, str) else frame.body
        body = json.loads(raw)
        with self.lock:
            self.sizes.append((str(body.get("type")), len(raw)))
            if body.get("type") == "ticket.updated":
                self.tickets[body["ticket"]["id"]] = body["ticket"]
            elif body.get("type") == "agent.alive":  # the project's documented extension
                self.problems = list(body.get("problems") or ())
            elif body.get("type") == "command.result":
                self.results[body["command_id"]] = body

    def snapshot(self) -> dict[str, Any]:
        command_id = str(uuid.uuid4())
        command = {"v": 1, "type": "snapshot", "site_id": self.site, "command_id": command_id}
        self.conn.send(
            f"/queue/kds.{self.site}.commands",
            json.dumps(command),
            content_type="application/json",
            headers={"reply-to": self.reply_to},
        )
        return wait_until(lambda: self.results.get(command_id), 30)

    def has(self, *ids: str) -> bool:
        with self.lock:
            return set(ids) <= set(self.tickets)

    def close(self) -> None:
        self.conn.disconnect()


@pytest.fixture
def core(site_id: str) -> Iterator[IndependentCore]:
    with IndependentCore(site_id, TOKEN) as core:
        yield core


def _gaps(times: list[float]) -> list[float]:
    return [b - a for a, b in itertools.pairwise(times)]


def test_faults_from_an_independent_core_leave_the_kitchen_working(
    site_id: str, core: IndependentCore, activemq_url: str, tmp_path: Path
) -> None:
    config, _ = write_agent_config(
        tmp_path, site_id=site_id, core_url=core.url, mq_url=activemq_url
    )
    env = {"KDS_RETRY_AFTER_MAX_SECONDS": str(RETRY_MAX)}
    display = RawDisplay(activemq_url, site_id)
    agent = AgentProcess(config, TOKEN, tmp_path / "agent.log", env=env).start()
    try:
        deep = json.dumps(_order(site_id, 1))[:-1] + ', "extra": ' + "[" * 1000 + "]" * 1000 + "}"
        no_items = _order(site_id, 3)
        del no_items["items"]
        lenient = _order(
            site_id,
            4,
            channel="UberEats",
            items=[_line(1, "B" * 201, qty=1000)],
        )
        huge_notes = _order(site_id, 6, notes="n" * 1_000_000)
        many_lines = _order(site_id, 7, items=[_line(i, f"Taco {i}") for i in range(1, 10_001)])
        core.add(
            deep,
            json.dumps(_order(site_id, 2, version=2**63)),
            json.dumps(no_items),
            json.dumps(lenient),
            json.dumps(_order(site_id, 5)),  # good, behind three bad ones
            json.dumps(huge_notes),
            json.dumps(many_lines),
            json.dumps(_order(site_id, 8)),  # good, behind two huge ones
        )
        wait_until(lambda: display.has(*(f"ord_IND{n:05d}" for n in (4, 5, 6, 7, 8))), timeout=60)
        # the refused orders are named on the screen, by their display numbers
        wait_until(
            lambda: all(
                any(f"order I-000{n}" in line for line in display.problems) for n in (1, 2, 3)
            ),
            timeout=30,
        )
        with display.lock:
            lenient_ticket = display.tickets["ord_IND00004"]
        assert lenient_ticket["channel"] == "ubereats"
        assert lenient_ticket["items"][0]["qty"] == 1000

        # Retry-After: 0 must not hammer the core; 86400 must not stop the orders
        core.fault("feed", 429, count=5, retry_after="0")
        wait_until(lambda: core.faults_left("feed") == 0, timeout=30)
        hammer = core.feed_requests[-5:]  # the five answered 429
        assert min(_gaps(hammer)) >= 0.9, _gaps(hammer)
        core.fault("feed", 429, retry_after="86400")
        wait_until(lambda: core.faults_left("feed") == 0, timeout=30)
        after = time.monotonic()
        core.add(json.dumps(_order(site_id, 9)))
        wait_until(lambda: display.has("ord_IND00009"), timeout=RETRY_MAX + 10)
        assert time.monotonic() - after < RETRY_MAX + 10

        snapshot = display.snapshot()
        assert snapshot["ok"] is True
        assert {t["id"] for t in snapshot["tickets"]} >= {
            f"ord_IND{n:05d}" for n in (4, 5, 6, 7, 8, 9)
        }
    finally:
        agent.stop()
        display.close()
    with display.lock:
        sizes = list(display.sizes)
    assert max(size for _, size in sizes) <= 512 * KIB, sorted(sizes, key=lambda s: -s[1])[:3]
    updates = [size for kind, size in sizes if kind == "ticket.updated"]
    assert max(updates) <= 64 * KIB
    log = agent.log()
    assert "Traceback" not in log, log[-3000:]


def test_the_independent_core_imports_nothing_of_the_project() -> None:
    source = (Path(__file__).parent / "independent_core.py").read_text()
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imports <= {
        "__future__",
        "json",
        "threading",
        "time",
        "collections",
        "http",
        "typing",
        "urllib",
    }
