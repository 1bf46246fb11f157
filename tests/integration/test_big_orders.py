"""Huge orders through the real agent and ActiveMQ: every message to the screens stays
within its budget, the screens still sync and show the orders behind them, and the
store and the printer keep every line."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import stomp
from pytestqt.qtbot import QtBot

from core_sim.server import CoreSimulator
from kitchen_display.config import DisplayConfig, DisplaySettings
from kitchen_display.sync import TicketSync
from shared import wire
from shared.model import Ticket
from shared.mq import MqClient
from shared.wire_form import DISPLAY_MESSAGE_BYTES, TICKET_MESSAGE_BYTES
from tests.helpers.fixtures import Site, make_site
from tests.helpers.site import line_item, wait_until
from tests.helpers.socket_printer import SocketPrinter

pytestmark = pytest.mark.broker

NOTE = "extra crispy, no salt, " * 42  # 966 characters a line: ~1 MB for 1100 lines


class RawSubscriber(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    """stomp.py alone on the state topic and a reply queue: every body, as received."""

    def __init__(self, mq_url: str, site_id: str) -> None:
        parts = urlsplit(mq_url)
        self.site_id = site_id
        self.reply_to = f"/queue/kds.{site_id}.replies.raw-{uuid.uuid4().hex[:6]}"
        self.state: list[bytes] = []
        self.replies: list[bytes] = []
        self._lock = threading.Lock()
        self.conn = stomp.Connection12([(parts.hostname, parts.port)], heartbeats=(0, 0))
        self.conn.set_listener("raw", self)
        self.conn.connect(wait=True)
        self.conn.subscribe(wire.state_topic(site_id), id="state", ack="auto")
        self.conn.subscribe(self.reply_to, id="replies", ack="auto")

    def on_message(self, frame: Any) -> None:
        body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
        with self._lock:
            (self.state if frame.headers.get("subscription") == "state" else self.replies).append(
                body
            )

    def bodies(self) -> tuple[list[bytes], list[bytes]]:
        with self._lock:
            return list(self.state), list(self.replies)

    def updated(self, ticket_id: str) -> list[tuple[int, wire.TicketUpdated]]:
        found = []
        for body in self.bodies()[0]:
            message = wire.parse_state_message(body)
            if isinstance(message, wire.TicketUpdated) and message.ticket.id == ticket_id:
                found.append((len(body), message))
        return found

    def snapshot(self) -> tuple[int, wire.CommandResult]:
        command = wire.make_command("snapshot", self.site_id, display_id="raw")
        self.conn.send(
            wire.command_queue(self.site_id),
            wire.encode(command),
            headers={"reply-to": self.reply_to},
            content_type="application/json",
        )

        def answer() -> tuple[int, wire.CommandResult] | None:
            for body in self.bodies()[1]:
                result = wire.parse_result(body)
                if result.command_id == command.command_id:
                    return len(body), result
            return None

        return wait_until(answer, 30)

    def close(self) -> None:
        self.conn.disconnect()


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    with SocketPrinter() as fake:
        yield fake


@pytest.fixture
def site(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    printer: SocketPrinter,
) -> Iterator[Site]:
    extra = f"""
[printers.grill]
url = "{printer.url}"
print_on = ["new"]
"""
    s = make_site(core_sim, site_id, activemq_url, tmp_path, extra=extra)
    s.start_agent()
    try:
        yield s
    finally:
        s.stop_agent()


@pytest.fixture
def raw(site: Site) -> Iterator[RawSubscriber]:
    subscriber = RawSubscriber(site.mq_url, site.site_id)
    try:
        yield subscriber
    finally:
        subscriber.close()


@pytest.fixture
def screen(site: Site, qtbot: QtBot) -> Iterator[TicketSync]:
    """This project's display's sync over the real broker (no window)."""
    config = DisplayConfig(
        site_id=site.site_id,
        display_id="grill-1",
        station="grill",
        expo_station="expo",
        display=DisplaySettings(),
    )
    client = MqClient(site.mq_url, heartbeat_ms=2000, backoff_max=1.0, name="screen")
    sync = TicketSync(config, client)
    sync.start()
    try:
        yield sync
    finally:
        sync.close()


def _printed(printer: SocketPrinter, text: str) -> bool:
    return any(text in job.text for job in printer.jobs)


def test_huge_orders_stay_within_the_budgets_and_good_orders_behind_them_arrive(
    site: Site, raw: RawSubscriber, screen: TicketSync, printer: SocketPrinter, qtbot: QtBot
) -> None:
    noted = [line_item(f"l{n}", f"Burger {n}", "grill", notes=NOTE) for n in range(1100)]
    many = [line_item(f"l{n}", f"Taco {n}", "grill") for n in range(10_000)]
    many.append(line_item("f1", "Fries", "fry"))
    notes = site.sim.create_order(site.site_id, items=noted, notes="Ring twice " * 90)
    lines = site.sim.create_order(site.site_id, items=many)
    good = site.sim.create_order(site.site_id, items=[line_item("l1", "Good Burger", "grill")])

    # the orders behind them reach the screens
    wait_until(lambda: raw.updated(good["id"]), 60)
    qtbot.waitUntil(lambda: screen.synced and screen.ticket(good["id"]) is not None, timeout=30_000)
    shown = screen.ticket(lines["id"])
    assert isinstance(shown, Ticket) and shown.more_lines["grill"] > 9000
    assert [i.name for i in shown.items_at("fry")] == ["Fries"]

    # a left-out line is still there for commands
    done = wire.make_command(
        "item_done", site.site_id, ticket_id=lines["id"], line_id="l9999", station="grill"
    )
    raw.conn.send(
        wire.command_queue(site.site_id),
        wire.encode(done),
        headers={"reply-to": raw.reply_to},
        content_type="application/json",
    )
    wait_until(lambda: len(raw.updated(lines["id"])) == 2, 30)

    size, result = raw.snapshot()
    assert size <= DISPLAY_MESSAGE_BYTES and result.ok and result.tickets is not None
    assert {t.id for t in result.tickets} == {notes["id"], lines["id"], good["id"]}
    for state_size in (len(body) for body in raw.bodies()[0]):
        assert state_size <= DISPLAY_MESSAGE_BYTES
    for order in (notes, lines, good):
        for message_size, _message in raw.updated(order["id"]):
            assert message_size <= TICKET_MESSAGE_BYTES
    sent = raw.updated(notes["id"])[-1][1].ticket
    assert sent.more_lines and all(i.notes.endswith("…") for i in sent.items)

    # the store and the printed ticket keep every line
    assert site.agent is not None
    body = site.agent.store.ticket_json(lines["id"])
    assert body is not None
    whole = Ticket.model_validate_json(body)
    assert len(whole.items) == 10_001 and whole.items[9999].status == "done"
    wait_until(lambda: _printed(printer, "Taco 9999") and _printed(printer, "Burger 1099"), 60)
