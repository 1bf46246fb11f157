"""TicketReplica and AgentWatch, without Qt: seq order, gaps, snapshots, buffering,
settings, agent.alive, the recall candidate. Every input is a v1 frame as the agent
sends it, parsed by shared.wire (TicketSync's Qt side: test_kds_sync.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kitchen_display.replica import (
    MAX_BUFFERED,
    MAX_RECALL_HISTORY,
    AgentWatch,
    Outcome,
    ProblemsChanged,
    Removed,
    Reset,
    SeqChanged,
    SettingsChanged,
    TicketReplica,
    Update,
    Upserted,
)
from shared.model import Ticket
from shared.wire import (
    AgentAlive,
    CommandResult,
    SiteSettings,
    StateMessage,
    parse_result,
    parse_state_message,
)
from tests.unit.shared.factories import SITE, ticket

AT = "2026-11-24T18:05:00.000Z"


# --- v1 frames ------------------------------------------------------------------------


def make_ticket(ticket_id: str, number: str = "A-1") -> Ticket:
    return ticket(id=ticket_id, display_number=number)


def state(frame: dict[str, Any]) -> StateMessage:
    message = parse_state_message({"v": 1, "site_id": SITE, "at": AT, **frame})
    assert not isinstance(message, AgentAlive)
    return message


def updated(seq: int, t: Ticket) -> StateMessage:
    return state({"type": "ticket.updated", "seq": seq, "ticket": t.model_dump(mode="json")})


def removed(seq: int, ticket_id: str) -> StateMessage:
    return state(
        {"type": "ticket.removed", "seq": seq, "ticket_id": ticket_id, "reason": "picked_up"}
    )


def settings_frame(seq: int, settings: SiteSettings) -> StateMessage:
    return state({"type": "site.settings", "seq": seq, "settings": settings.model_dump()})


def alive(seq: int, problems: tuple[str, ...] = ()) -> AgentAlive:
    message = parse_state_message(
        {
            "v": 1,
            "type": "agent.alive",
            "site_id": SITE,
            "seq": seq,
            "at": AT,
            "interval_seconds": 5.0,
            "problems": list(problems),
        }
    )
    assert isinstance(message, AgentAlive)
    return message


def snapshot_answer(
    command_id: str, seq: int, tickets: list[Ticket], settings: SiteSettings | None = None
) -> CommandResult:
    frame: dict[str, Any] = {
        "v": 1,
        "type": "command.result",
        "site_id": SITE,
        "command_id": command_id,
        "ok": True,
        "seq": seq,
        "tickets": [t.model_dump(mode="json") for t in tickets],
    }
    if settings is not None:
        frame["settings"] = settings.model_dump()
    return parse_result(frame)


def synced_replica(seq: int = 0, tickets: list[Ticket] | None = None) -> TicketReplica:
    replica = TicketReplica()
    replica.snapshot_requested("snap-0")
    replica.apply_snapshot(snapshot_answer("snap-0", seq, tickets or []))
    return replica


def replay(replica: TicketReplica) -> list[Update]:
    """What TicketSync does after a snapshot: feed the buffer back, asking for a new
    snapshot as soon as one is needed."""
    updates = []
    for n, message in enumerate(replica.take_buffered()):
        update = replica.receive(message)
        updates.append(update)
        if update.needs_snapshot:
            replica.snapshot_requested(f"resync-{n}")
    return updates


# --- snapshot, then deltas ------------------------------------------------------------


def test_a_new_replica_knows_nothing_and_is_not_synced() -> None:
    replica = TicketReplica()
    assert (replica.last_seq, replica.settings, replica.tickets()) == (None, None, [])
    assert not replica.synced and not replica.snapshot_pending
    assert replica.recall_candidate() is None


def test_snapshot_replaces_the_tickets_then_deltas_apply_in_order() -> None:
    a, b = make_ticket("ord_a"), make_ticket("ord_b")
    replica = TicketReplica()
    replica.snapshot_requested("snap-1")
    assert replica.snapshot_pending and not replica.synced
    assert replica.answers_snapshot("snap-1") and not replica.answers_snapshot("bump-1")

    update = replica.apply_snapshot(snapshot_answer("snap-1", 5, [a, b]))
    assert update == Update(Outcome.APPLIED, (Reset((a, b)), SeqChanged(5)))
    assert replica.synced and replica.last_seq == 5
    assert not replica.answers_snapshot("snap-1")

    a2 = make_ticket("ord_a", number="A-2")
    assert replica.receive(updated(6, a2)) == Update(Outcome.APPLIED, (Upserted(a2), SeqChanged(6)))
    assert replica.ticket("ord_a") == a2
    c = make_ticket("ord_c")
    assert replica.receive(updated(7, c)).changes == (Upserted(c), SeqChanged(7))
    assert replica.receive(removed(8, "ord_b")) == Update(
        Outcome.APPLIED, (Removed("ord_b"), SeqChanged(8))
    )
    assert sorted(t.id for t in replica.tickets()) == ["ord_a", "ord_c"]
    assert replica.last_seq == 8


def test_removing_an_unknown_ticket_only_moves_the_seq() -> None:
    replica = synced_replica(3)
    assert replica.receive(removed(4, "ord_never")) == Update(Outcome.APPLIED, (SeqChanged(4),))
    assert replica.last_seq == 4


def test_a_newer_snapshot_replaces_every_ticket() -> None:
    replica = synced_replica(2, [make_ticket("ord_a")])
    replica.snapshot_requested("snap-2")
    b = make_ticket("ord_b")
    update = replica.apply_snapshot(snapshot_answer("snap-2", 9, [b]))
    assert update.changes == (Reset((b,)), SeqChanged(9))
    assert [t.id for t in replica.tickets()] == ["ord_b"]


# --- duplicates, gaps, buffering ------------------------------------------------------


def test_duplicate_and_older_seq_are_ignored() -> None:
    first = make_ticket("ord_a", number="1")
    replica = synced_replica(0)
    replica.receive(updated(1, first))
    stale = make_ticket("ord_a", number="999")  # an agent restart may resend other content
    assert replica.receive(updated(1, stale)) == Update(Outcome.STALE)
    assert replica.receive(removed(1, "ord_a")) == Update(Outcome.STALE)
    assert replica.ticket("ord_a") == first
    assert replica.last_seq == 1
    assert replica.synced and replica.buffered == ()


def test_state_before_any_snapshot_is_kept_and_asks_for_one() -> None:
    replica = TicketReplica()
    message = updated(1, make_ticket("ord_a"))
    update = replica.receive(message)
    assert update == Update(Outcome.RESYNC) and update.needs_snapshot
    assert replica.buffered == (message,)
    assert replica.tickets() == []


def test_gap_asks_for_a_snapshot_and_buffers_until_it_arrives_then_replays() -> None:
    replica = synced_replica(1, [make_ticket("ord_a")])
    lost = make_ticket("ord_lost")  # seq 2 never arrives
    c = make_ticket("ord_c")
    gap = updated(3, c)
    assert replica.receive(gap) == Update(Outcome.RESYNC)
    assert replica.last_seq == 1 and replica.ticket("ord_c") is None
    replica.snapshot_requested("snap-gap")
    assert not replica.synced
    d = make_ticket("ord_d")
    # While the snapshot is pending every state message is kept, in or out of order.
    assert replica.receive(removed(5, "ord_a")) == Update(Outcome.BUFFERED)
    assert replica.receive(updated(4, d)) == Update(Outcome.BUFFERED)
    assert [m.seq for m in replica.buffered] == [3, 5, 4]

    answer = snapshot_answer("snap-gap", 3, [make_ticket("ord_a"), lost, c])
    assert replica.apply_snapshot(answer).outcome is Outcome.APPLIED
    assert replica.last_seq == 3
    updates = replay(replica)
    assert [u.outcome for u in updates] == [Outcome.STALE, Outcome.APPLIED, Outcome.APPLIED]
    assert updates[1].changes == (Upserted(d), SeqChanged(4))
    assert updates[2].changes == (Removed("ord_a"), SeqChanged(5))
    assert sorted(t.id for t in replica.tickets()) == ["ord_c", "ord_d", "ord_lost"]
    assert replica.synced and replica.buffered == ()


def test_a_gap_in_the_buffer_asks_again_and_keeps_the_rest() -> None:
    replica = TicketReplica()
    replica.snapshot_requested("snap-1")
    seven, nine, ten = (updated(n, make_ticket(f"ord_{n}")) for n in (7, 9, 10))
    for message in (ten, seven, nine):
        replica.receive(message)
    replica.apply_snapshot(snapshot_answer("snap-1", 6, []))
    updates = replay(replica)
    assert [u.outcome for u in updates] == [Outcome.APPLIED, Outcome.RESYNC, Outcome.BUFFERED]
    assert replica.last_seq == 7
    assert [m.seq for m in replica.buffered] == [9, 10]
    assert replica.snapshot_pending


def test_refused_or_incomplete_snapshot_changes_nothing_and_stays_pending() -> None:
    a = make_ticket("ord_a")
    replica = synced_replica(4, [a])
    replica.snapshot_requested("snap-2")
    refused = parse_result(
        {
            "v": 1,
            "type": "command.result",
            "site_id": SITE,
            "command_id": "snap-2",
            "ok": False,
            "error": "internal",
            "detail": "database busy",
        }
    )
    incomplete = parse_result(
        {"v": 1, "type": "command.result", "site_id": SITE, "command_id": "snap-2", "ok": True}
    )
    for answer in (refused, incomplete):
        assert replica.apply_snapshot(answer) == Update(Outcome.REFUSED)
        assert replica.snapshot_pending and replica.answers_snapshot("snap-2")
        assert replica.tickets() == [a] and replica.last_seq == 4


def test_forgotten_snapshot_requests_are_no_longer_answers() -> None:
    replica = TicketReplica()
    replica.snapshot_requested("old-connection")
    replica.forget_snapshot_requests()
    assert not replica.snapshot_pending
    assert not replica.answers_snapshot("old-connection")
    replica.snapshot_requested("new-connection")
    assert replica.answers_snapshot("new-connection")


def test_one_answer_settles_every_outstanding_request() -> None:
    replica = TicketReplica()
    replica.snapshot_requested("first")
    replica.snapshot_requested("resent")
    replica.apply_snapshot(snapshot_answer("first", 2, []))
    assert replica.synced
    assert not replica.answers_snapshot("resent")  # the late answer is not a snapshot


# --- settings -------------------------------------------------------------------------


def test_settings_message_changes_settings_once() -> None:
    replica = synced_replica(0)
    settings = SiteSettings(folds={"fry": "grill"}, allergy_gate="enforce")
    assert replica.receive(settings_frame(1, settings)) == Update(
        Outcome.APPLIED, (SettingsChanged(settings), SeqChanged(1))
    )
    assert replica.settings == settings
    # the same settings again: only the seq moves
    assert replica.receive(settings_frame(2, settings)).changes == (SeqChanged(2),)


def test_snapshot_settings_come_before_the_tickets_and_only_when_different() -> None:
    settings = SiteSettings(allergy_gate="off")
    a = make_ticket("ord_a")
    replica = TicketReplica()
    replica.snapshot_requested("s1")
    update = replica.apply_snapshot(snapshot_answer("s1", 1, [a], settings))
    assert update.changes == (SettingsChanged(settings), Reset((a,)), SeqChanged(1))
    replica.snapshot_requested("s2")
    assert replica.apply_snapshot(snapshot_answer("s2", 1, [a], settings)).changes == (
        Reset((a,)),
        SeqChanged(1),
    )
    # a snapshot without settings (an older agent) keeps the ones we have
    replica.snapshot_requested("s3")
    replica.apply_snapshot(snapshot_answer("s3", 1, [a]))
    assert replica.settings == settings


# --- agent.alive ----------------------------------------------------------------------


def test_alive_in_step_changes_nothing() -> None:
    replica = synced_replica(4)
    assert replica.receive_alive(alive(4)) == Update(Outcome.IN_STEP)


@pytest.mark.parametrize("agent_seq", [5, 3])  # a missed message; a new database
def test_alive_that_disagrees_asks_for_a_snapshot(agent_seq: int) -> None:
    replica = synced_replica(4)
    assert replica.receive_alive(alive(agent_seq)) == Update(Outcome.RESYNC)
    assert replica.last_seq == 4


def test_alive_cannot_tell_before_a_snapshot_or_while_one_is_pending() -> None:
    replica = TicketReplica()
    assert replica.receive_alive(alive(9)).outcome is Outcome.IN_STEP
    replica.snapshot_requested("s1")
    assert replica.receive_alive(alive(9)).outcome is Outcome.IN_STEP


def test_alive_problems_are_announced_when_they_change() -> None:
    replica = synced_replica(1)
    problem = ("printer grill: out of paper, 3 jobs waiting",)
    assert replica.receive_alive(alive(1, problem)).changes == (ProblemsChanged(problem),)
    assert replica.problems == problem
    assert replica.receive_alive(alive(1, problem)).changes == ()
    # problems are news even when the seq says resync
    update = replica.receive_alive(alive(2))
    assert update == Update(Outcome.RESYNC, (ProblemsChanged(()),))


# --- the recall candidate -------------------------------------------------------------


def test_recall_candidate_is_the_last_accepted_bump_until_recalled() -> None:
    replica = TicketReplica()
    for ticket_id in ("ord_1", "ord_2"):
        replica.command_accepted("bump", ticket_id)
    assert replica.recall_candidate() == "ord_2"
    replica.command_accepted("start", "ord_3")
    replica.command_accepted("bump", "")  # a bump without a ticket is no candidate
    assert replica.recall_candidate() == "ord_2"
    replica.command_accepted("recall", "ord_2")
    assert replica.recall_candidate() == "ord_1"
    replica.command_accepted("bump", "ord_2")
    replica.command_accepted("bump", "ord_1")  # bumped again: the newest once
    replica.command_accepted("recall", "ord_1")
    assert replica.recall_candidate() == "ord_2"
    replica.command_accepted("recall", "ord_2")
    assert replica.recall_candidate() is None


def test_recall_history_keeps_the_newest_bumps() -> None:
    replica = TicketReplica()
    for n in range(MAX_RECALL_HISTORY + 5):
        replica.command_accepted("bump", f"ord_{n}")
    for n in reversed(range(5, MAX_RECALL_HISTORY + 5)):
        assert replica.recall_candidate() == f"ord_{n}"
        replica.command_accepted("recall", f"ord_{n}")
    assert replica.recall_candidate() is None


# --- AgentWatch -----------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_agent_watch_says_silent_once_and_back_once() -> None:
    clock = Clock()
    watch = AgentWatch(15.0, clock=clock)
    clock.now += 15.0
    assert watch.check(connected=True) is None and watch.ok  # not more than the timeout
    clock.now += 1.0
    assert watch.check(connected=True) == 16.0
    assert not watch.ok
    assert watch.check(connected=True) is None  # said once
    assert watch.heard() is True and watch.ok
    assert watch.heard() is False


def test_agent_watch_is_quiet_while_the_broker_is_down_and_restarts_on_connect() -> None:
    clock = Clock()
    watch = AgentWatch(15.0, clock=clock)
    clock.now += 60.0
    assert watch.check(connected=False) is None and watch.ok
    watch.restart()  # the link came up: the agent gets the whole timeout
    clock.now += 10.0
    assert watch.check(connected=True) is None
    clock.now += 10.0
    assert watch.check(connected=True) == 20.0


# --- no Qt ----------------------------------------------------------------------------


def test_the_plain_classes_import_no_qt() -> None:
    code = (
        "import sys, kitchen_display.replica, kitchen_display.command_queue\n"
        "qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6'))\n"
        "print(','.join(qt))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert done.stdout.strip() == ""


# --- a bounded buffer -----------------------------------------------------------------


def test_the_buffer_is_bounded_a_full_one_is_dropped_for_a_fresh_snapshot(
    caplog: pytest.LogCaptureFixture,
) -> None:
    replica = synced_replica(seq=0)
    replica.snapshot_requested("slow")  # its answer does not come for a long time
    removals = [removed(seq, f"ord_{seq}") for seq in range(1, MAX_BUFFERED + 2)]
    outcomes = [replica.receive(message).outcome for message in removals]
    assert outcomes[:MAX_BUFFERED] == [Outcome.BUFFERED] * MAX_BUFFERED
    assert outcomes[-1] is Outcome.RESYNC
    assert replica.buffered == () and not replica.snapshot_pending
    assert "dropped them; asking for a fresh snapshot" in caplog.text
    # the answer to the old request is older than what was dropped: not applied
    assert not replica.answers_snapshot("slow")
    replica.snapshot_requested("fresh")
    update = replica.apply_snapshot(snapshot_answer("fresh", MAX_BUFFERED + 1, []))
    assert update.outcome is Outcome.APPLIED and replica.synced
    assert replica.receive(removed(MAX_BUFFERED + 2, "x")).outcome is Outcome.APPLIED
