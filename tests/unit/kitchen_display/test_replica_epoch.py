"""TicketReplica and the agent database's ``epoch`` (no Qt): a new database (its seq
started over) drops everything the replica had and asks for a snapshot, whether the
new epoch shows on a state message, on ``agent.alive`` or on a snapshot answer.
Frames without an epoch (an older agent) behave exactly as before."""

from __future__ import annotations

from typing import Any

from kitchen_display.replica import Outcome, Reset, SeqChanged, TicketReplica, Update, Upserted
from shared.model import Ticket
from shared.wire import AgentAlive, CommandResult, StateMessage, parse_result, parse_state_message
from tests.unit.shared.factories import SITE, ticket

AT = "2026-11-24T18:05:00.000Z"
OLD = "0123456789abcdef"
NEW = "fedcba9876543210"


def make_ticket(ticket_id: str) -> Ticket:
    return ticket(id=ticket_id, display_number=ticket_id[-2:].upper())


def _epoch(epoch: str | None) -> dict[str, Any]:
    return {} if epoch is None else {"epoch": epoch}


def updated(seq: int, t: Ticket, epoch: str | None) -> StateMessage:
    frame = {"v": 1, "site_id": SITE, "at": AT, "type": "ticket.updated", "seq": seq}
    message = parse_state_message({**frame, "ticket": t.model_dump(mode="json"), **_epoch(epoch)})
    assert not isinstance(message, AgentAlive)
    return message


def alive(seq: int, epoch: str | None) -> AgentAlive:
    frame = {"v": 1, "type": "agent.alive", "site_id": SITE, "seq": seq, "at": AT}
    message = parse_state_message({**frame, **_epoch(epoch)})
    assert isinstance(message, AgentAlive)
    return message


def snapshot(command_id: str, seq: int, tickets: list[Ticket], epoch: str | None) -> CommandResult:
    return parse_result(
        {
            "v": 1,
            "type": "command.result",
            "site_id": SITE,
            "command_id": command_id,
            "ok": True,
            "seq": seq,
            "tickets": [t.model_dump(mode="json") for t in tickets],
            **_epoch(epoch),
        }
    )


def synced(seq: int, tickets: list[Ticket], epoch: str | None = OLD) -> TicketReplica:
    replica = TicketReplica()
    replica.snapshot_requested("snap-0")
    replica.apply_snapshot(snapshot("snap-0", seq, tickets, epoch))
    replica.command_accepted("bump", tickets[0].id)
    assert replica.synced and replica.epoch == epoch
    return replica


def ids(replica: TicketReplica) -> set[str]:
    return {t.id for t in replica.tickets()}


def test_a_state_message_of_a_new_database_drops_everything_and_resyncs() -> None:
    old = [make_ticket(f"ord_o{n}") for n in range(5)]
    replica = synced(5, old)
    fresh = make_ticket("ord_n1")

    # seq 1 of the new database: without the epoch it would be ignored as a duplicate
    update = replica.receive(updated(1, fresh, NEW))
    assert update == Update(Outcome.RESYNC, (Reset(()),))
    assert replica.tickets() == [] and replica.last_seq is None and not replica.synced
    assert replica.epoch == NEW
    assert replica.recall_candidate() is None, "a bump of the old database is no recall"
    # messages of the new database wait for its snapshot
    replica.snapshot_requested("snap-1")
    assert replica.receive(updated(2, make_ticket("ord_n2"), NEW)).outcome is Outcome.BUFFERED

    new = [make_ticket(f"ord_n{n}") for n in range(1, 6)]
    applied = replica.apply_snapshot(snapshot("snap-1", 5, new, NEW))
    assert applied.outcome is Outcome.APPLIED
    assert [replica.receive(m).outcome for m in replica.take_buffered()] == [Outcome.STALE] * 2
    assert ids(replica) == {t.id for t in new} and replica.synced and replica.last_seq == 5


def test_an_answer_asked_of_the_old_database_no_longer_counts() -> None:
    replica = synced(3, [make_ticket("ord_o1")])
    replica.snapshot_requested("asked-old")  # a gap, say; the old agent never answers
    assert replica.receive(updated(1, make_ticket("ord_n1"), NEW)).outcome is Outcome.RESYNC
    assert not replica.answers_snapshot("asked-old")
    assert not replica.snapshot_pending


def test_alive_of_a_new_database_drops_everything_and_resyncs_even_at_the_same_seq() -> None:
    replica = synced(5, [make_ticket(f"ord_o{n}") for n in range(5)])
    # the same seq as the screen's: without the epoch it would say "in step"
    assert replica.receive_alive(alive(5, OLD)) == Update(Outcome.IN_STEP)
    update = replica.receive_alive(alive(5, NEW))
    assert update == Update(Outcome.RESYNC, (Reset(()),))
    assert replica.tickets() == [] and not replica.synced and replica.epoch == NEW
    # before the new snapshot, alive of the new database cannot tell more
    replica.snapshot_requested("snap-1")
    assert replica.receive_alive(alive(5, NEW)).outcome is Outcome.IN_STEP


def test_a_snapshot_of_a_new_database_never_applies_old_buffered_messages() -> None:
    replica = synced(5, [make_ticket("ord_o1")])
    replica.snapshot_requested("snap-1")  # e.g. the broker link came back
    # the old database's messages, kept while the answer was on its way
    for seq in (6, 7):
        assert replica.receive(updated(seq, make_ticket(f"ord_o{seq}"), OLD)).outcome is (
            Outcome.BUFFERED
        )
    new = [make_ticket("ord_n1"), make_ticket("ord_n2")]
    update = replica.apply_snapshot(snapshot("snap-1", 2, new, NEW))
    assert update == Update(Outcome.APPLIED, (Reset(tuple(new)), SeqChanged(2)))
    assert replica.take_buffered() == [], "seq 6 and 7 of the old database are phantoms"
    assert replica.epoch == NEW and replica.recall_candidate() is None
    # the new database goes on from its snapshot
    later = make_ticket("ord_n3")
    assert replica.receive(updated(3, later, NEW)).changes[0] == Upserted(later)
    assert ids(replica) == {"ord_n1", "ord_n2", "ord_n3"} and replica.synced


def test_the_same_epoch_and_frames_without_one_behave_as_before() -> None:
    replica = synced(2, [make_ticket("ord_a1")])
    assert replica.receive(updated(2, make_ticket("ord_a1"), OLD)).outcome is Outcome.STALE
    assert replica.receive(updated(3, make_ticket("ord_a2"), OLD)).outcome is Outcome.APPLIED
    # an older agent's frames carry no epoch: seq rules only
    assert replica.receive(updated(3, make_ticket("ord_a3"), None)).outcome is Outcome.STALE
    assert replica.receive(updated(4, make_ticket("ord_a3"), None)).outcome is Outcome.APPLIED
    assert replica.receive_alive(alive(4, None)).outcome is Outcome.IN_STEP
    assert ids(replica) == {"ord_a1", "ord_a2", "ord_a3"} and replica.epoch == OLD


def test_a_replica_without_epochs_learns_the_first_one_without_dropping_anything() -> None:
    replica = synced(1, [make_ticket("ord_a1")], epoch=None)
    assert replica.epoch is None
    assert replica.receive(updated(2, make_ticket("ord_a2"), OLD)).outcome is Outcome.APPLIED
    assert replica.epoch == OLD and ids(replica) == {"ord_a1", "ord_a2"}


def test_an_unreadable_epoch_counts_as_absent() -> None:
    frame = {"v": 1, "type": "agent.alive", "site_id": SITE, "seq": 1, "at": AT}
    for bad in (5, "", "x" * 65, None, ["a"]):
        message = parse_state_message({**frame, "epoch": bad})
        assert isinstance(message, AgentAlive) and message.epoch is None
