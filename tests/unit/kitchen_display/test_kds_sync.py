"""TicketSync: subscribe, snapshot, seq order, gaps, buffering, reconnects, commands."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kitchen_display.sync import TicketSync
from shared.wire import MAX_FRAME_BYTES, command_queue, parse_command, state_topic
from tests.unit.kitchen_display.fakes import (
    SITE,
    FakeAgent,
    FakeBroker,
    as_fake,
    display_config,
    ticket,
)


class MakeSync(Protocol):
    def __call__(
        self, station: str = "grill", *, start: bool = True, wait: bool = True, **display: Any
    ) -> TicketSync: ...


@pytest.fixture
def make_sync(broker: FakeBroker, qtbot: QtBot) -> Iterator[MakeSync]:
    syncs: list[TicketSync] = []

    def make(
        station: str = "grill", *, start: bool = True, wait: bool = True, **display: Any
    ) -> TicketSync:
        sync = TicketSync(display_config(station, **display), broker.client(f"sync-{station}"))
        syncs.append(sync)
        if start:
            sync.start()
            if wait:
                qtbot.waitUntil(lambda: sync.synced)
        return sync

    yield make
    for sync in syncs:
        sync.close()


def test_start_subscribes_first_then_asks_for_a_snapshot(
    broker: FakeBroker, agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_a"))
    agent.publish(ticket("ord_b"))
    sync = make_sync(wait=False)
    mq = as_fake(sync._mq)
    assert mq.subscriptions == [
        (state_topic(SITE), "auto"),
        (sync.config.reply_queue, "auto"),
    ]
    qtbot.waitUntil(lambda: sync.synced)
    [frame] = broker.sent_to(command_queue(SITE))
    assert frame.headers["reply-to"] == f"/queue/kds.{SITE}.replies.grill-1"
    # a snapshot request is only worth its answer while we wait: it must not pile up
    # in the queue while the agent is down
    assert not frame.persistent
    assert int(frame.headers["expires"]) > time.time() * 1000
    command = parse_command(frame.body)
    assert (command.type, command.display_id, command.station) == ("snapshot", "grill-1", "grill")
    assert sync.last_seq == 2
    assert sorted(t.id for t in sync.tickets()) == ["ord_a", "ord_b"]


def test_snapshot_emits_reset_and_seq(
    broker: FakeBroker, agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_a"))
    sync = make_sync(start=False)
    with (
        qtbot.waitSignal(sync.ticketsReset) as reset,
        qtbot.waitSignal(sync.seqChanged) as seq,
        qtbot.waitSignal(sync.connectionChanged) as conn,
    ):
        sync.start()
    assert [t.id for t in reset.args[0]] == ["ord_a"]
    assert seq.args == [1]
    assert conn.args == [True]


def test_updates_and_removals_apply_in_order(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    with qtbot.waitSignal(sync.ticketUpserted) as upserted:
        agent.publish(ticket("ord_a", number="17"))
    assert upserted.args[0].display_number == "17"
    with qtbot.waitSignal(sync.ticketRemoved) as removed:
        agent.remove("ord_a")
    assert removed.args == ["ord_a"]
    assert sync.tickets() == []
    assert sync.last_seq == 2


def test_duplicate_and_old_seq_are_ignored(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    first = ticket("ord_a", number="1")
    seq = agent.publish(first)
    qtbot.waitUntil(lambda: sync.last_seq == seq)
    # An agent restart may resend what we already have, with other content even.
    stale = first.model_copy(update={"display_number": "999"})
    agent.publish(stale, seq=seq)
    agent.publish(stale, seq=seq - 1 if seq > 1 else seq)
    agent.publish(ticket("ord_b"), seq=seq + 1)
    qtbot.waitUntil(lambda: sync.last_seq == seq + 1)
    kept = sync.ticket("ord_a")
    assert kept is not None and kept.display_number == "1"
    assert len(agent.snapshot_requests()) == 1  # a duplicate is not a gap


def test_gap_requests_snapshot_and_buffered_messages_apply_after(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    agent.publish(ticket("ord_a"))  # seq 1
    qtbot.waitUntil(lambda: sync.last_seq == 1)
    agent.publish(ticket("ord_lost"), lose=True)  # seq 2 never arrives
    agent.answer_snapshots = False
    agent.publish(ticket("ord_c"))  # seq 3: a gap
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) == 2)
    assert sync.snapshot_pending
    # While the snapshot is pending, new messages are buffered, not applied.
    agent.publish(ticket("ord_d"))  # seq 4
    agent.remove("ord_a")  # seq 5
    with qtbot.waitSignal(sync.ticketsReset) as reset:
        agent.release_snapshots()  # the state as of seq 3
    assert sorted(t.id for t in reset.args[0]) == ["ord_a", "ord_c", "ord_lost"]
    qtbot.waitUntil(lambda: sync.last_seq == 5)
    assert sorted(t.id for t in sync.tickets()) == ["ord_c", "ord_d", "ord_lost"]
    assert sync.synced


def test_state_before_first_snapshot_is_buffered(
    broker: FakeBroker, agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    agent.answer_snapshots = False
    sync = make_sync(wait=False)
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) == 1)
    agent.publish(ticket("ord_a"))  # seq 1, after the snapshot was asked for
    broker.drain()
    qtbot.waitUntil(lambda: len(sync._replica.buffered) == 1)
    assert sync.tickets() == []
    agent.release_snapshots()  # seq 0, no tickets
    qtbot.waitUntil(lambda: sync.last_seq == 1)
    assert [t.id for t in sync.tickets()] == ["ord_a"]


def test_unanswered_snapshot_is_sent_again(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    agent.answer_snapshots = False
    sync = make_sync(wait=False, snapshot_timeout_seconds=0.2)
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) >= 2, timeout=5000)
    ids = {command.command_id for command in agent.snapshot_requests()}
    assert len(ids) >= 2
    agent.answer_snapshots = True
    agent.publish(ticket("ord_a"))
    agent.release_snapshots()
    qtbot.waitUntil(lambda: sync.synced)
    qtbot.waitUntil(lambda: [t.id for t in sync.tickets()] == ["ord_a"])


def test_reconnect_requests_a_snapshot(agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot) -> None:
    sync = make_sync()
    mq = as_fake(sync._mq)
    with qtbot.waitSignal(sync.connectionChanged) as down:
        mq.set_connected(False)
    assert down.args == [False]
    agent.publish(ticket("ord_missed"))  # published while the display is away
    with qtbot.waitSignal(sync.connectionChanged) as up:
        mq.set_connected(True)
    assert up.args == [True]
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) == 2)
    qtbot.waitUntil(lambda: sync.ticket("ord_missed") is not None)
    assert sync.synced


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not utf-8",
        b"not json",
        b"[1, 2]",
        json.dumps({"v": 2, "type": "ticket.updated", "site_id": SITE, "seq": 2}).encode(),
        json.dumps({"v": 1, "type": "ticket.exploded", "site_id": SITE, "seq": 2}).encode(),
        json.dumps({"v": 1, "type": "ticket.updated", "site_id": SITE, "seq": 2}).encode(),
        json.dumps(
            {"v": 1, "type": "ticket.removed", "site_id": "other-site", "seq": 2, "ticket_id": "x"}
        ).encode(),
    ],
)
def test_malformed_state_frame_is_logged_and_dropped(
    agent: FakeAgent,
    make_sync: MakeSync,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
    body: bytes,
) -> None:
    sync = make_sync()
    caplog.set_level(logging.WARNING, logger="kds.sync")
    agent.publish_raw(body)
    agent.publish(ticket("ord_ok"), seq=1)
    qtbot.waitUntil(lambda: sync.last_seq == 1)
    assert [t.id for t in sync.tickets()] == ["ord_ok"]
    dropped = [r for r in caplog.records if r.name == "kds.sync" and "dropped" in r.message]
    assert len(dropped) == 1


def test_malformed_reply_is_logged_and_dropped(
    broker: FakeBroker,
    agent: FakeAgent,
    make_sync: MakeSync,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    sync = make_sync()
    caplog.set_level(logging.WARNING, logger="kds.sync")
    broker.publish(sync.config.reply_queue, b'{"v": 1, "type": "command.result"}')
    qtbot.waitUntil(lambda: any("malformed command result" in r.message for r in caplog.records))
    agent.publish(ticket("ord_ok"))
    qtbot.waitUntil(lambda: sync.ticket("ord_ok") is not None)


def test_refused_command_emits_a_readable_message(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    agent.refuse["bump"] = ("invalid_transition", "ticket ord_x is cancelled")
    with qtbot.waitSignal(sync.commandFailed) as failed:
        sync.send_command("bump", ticket_id="ord_x")
    assert failed.args == ["Bump refused: ticket ord_x is cancelled"]


def test_a_screen_the_agent_does_not_know_says_so_on_screen(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    detail = "kds-ams-01-grill-1 is not a screen of site ams-01 ([access])"
    agent.refuse["snapshot"] = ("bad_request", detail, "forbidden")
    sync = make_sync(start=False, snapshot_timeout_seconds=0.5)
    with qtbot.waitSignal(sync.commandFailed) as failed:
        sync.start()
    assert failed.args == [f"This screen may not show site {SITE}: {detail}"]
    assert not sync.synced
    del agent.refuse["snapshot"]  # the lead added the screen to [access]
    qtbot.waitUntil(lambda: sync.synced, timeout=10_000)


def test_send_command_fills_in_display_and_station(
    broker: FakeBroker, agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync("fry")
    with qtbot.waitSignal(sync.commandResult) as result:
        command_id = sync.send_command("start", ticket_id="ord_9")
    assert result.args[0].command_id == command_id and result.args[0].ok
    [start] = agent.commands_of("start")
    assert (start.command_id, start.ticket_id, start.display_id, start.station, start.site_id) == (
        command_id,
        "ord_9",
        "fry-1",
        "fry",
        SITE,
    )
    assert agent.reply_to[command_id] == sync.config.reply_queue


def test_command_while_offline_is_queued_not_failed(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    # (the whole offline queue: test_kds_offline.py)
    sync = make_sync()
    with qtbot.waitSignal(sync.connectionChanged):
        as_fake(sync._mq).set_connected(False)
    with qtbot.waitSignal(sync.pendingChanged) as pending:
        command_id = sync.send_command("bump", ticket_id="ord_1")
    assert pending.args == [1]
    assert [(p.command_id, p.kind) for p in sync.pending_commands()] == [(command_id, "bump")]


def test_recall_candidate_is_the_last_accepted_bump(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    assert sync.recall_candidate() is None
    for ticket_id in ("ord_1", "ord_2"):
        with qtbot.waitSignal(sync.commandResult):
            sync.send_command("bump", ticket_id=ticket_id)
    assert sync.recall_candidate() == "ord_2"
    agent.refuse["bump"] = ("invalid_transition", "nope")
    with qtbot.waitSignal(sync.commandFailed):
        sync.send_command("bump", ticket_id="ord_3")
    assert sync.recall_candidate() == "ord_2"
    with qtbot.waitSignal(sync.commandResult):
        sync.send_command("recall", ticket_id="ord_2")
    assert sync.recall_candidate() == "ord_1"


def test_state_changes_happen_on_the_qt_thread(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    threads = []
    sync.ticketUpserted.connect(lambda _t: threads.append(QThread.currentThread()))
    agent.publish(ticket("ord_a"))
    qtbot.waitUntil(lambda: bool(threads))
    app = QApplication.instance()
    assert app is not None
    assert threads == [app.thread()]


def test_close_closes_the_client_and_ignores_late_frames(
    agent: FakeAgent, make_sync: MakeSync, qtbot: QtBot
) -> None:
    sync = make_sync()
    mq = as_fake(sync._mq)
    sync.close()
    assert mq.closed
    agent.publish(ticket("ord_late"))
    agent.broker.drain()
    qtbot.wait(50)  # let any queued slot run; nothing may change
    assert sync.ticket("ord_late") is None


def test_a_reply_too_large_to_read_is_logged_and_asked_for_later_and_later(
    broker: FakeBroker,
    agent: FakeAgent,
    make_sync: MakeSync,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="kds.sync")
    agent.answer_snapshots = False
    sync = make_sync(wait=False, snapshot_timeout_seconds=0.05)
    too_large = b" " * (MAX_FRAME_BYTES + 1)

    def requests() -> int:
        return len(agent.snapshot_requests())

    def backoffs() -> int:
        return caplog.text.count("too large; asking")

    for n in range(1, 4):
        qtbot.waitUntil(lambda: requests() >= backoffs() + 1, timeout=10_000)
        broker.publish(sync.config.reply_queue, too_large)
        qtbot.waitUntil(lambda: backoffs() == n, timeout=10_000)  # noqa: B023
    assert f"dropped a command result of {MAX_FRAME_BYTES + 1} bytes" in caplog.text
    delays = [
        float(r.message.rsplit(" ", 1)[1].rstrip("s"))
        for r in caplog.records
        if "too large; asking again in" in r.message
    ]
    assert delays == sorted(delays) and delays[-1] > delays[0]  # backing off, not a loop
    agent.answer_snapshots = True
    agent.publish(ticket("ord_a"))
    agent.release_snapshots()
    qtbot.waitUntil(lambda: sync.synced and sync.ticket("ord_a") is not None, timeout=10_000)
