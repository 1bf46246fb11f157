"""CommandQueue, without Qt: the offline queue's order, flush, limit and (no) expiry, and
the results still to come. The bodies are v1 commands built by shared.wire (TicketSync's
Qt side of the queue: test_kds_offline.py)."""

from __future__ import annotations

import pytest

from kitchen_display.command_queue import (
    MAX_AWAITED_RESULTS,
    MAX_QUEUED_COMMANDS,
    AwaitedResult,
    CommandQueue,
    PendingCommand,
)
from shared.errors import MqError, MqNotConnected
from shared.wire import ItemDoneCommand, encode, make_command, parse_command

SITE = "ams-01"
REPLY_TO = {"reply-to": f"/queue/kds.{SITE}.replies.grill-1"}


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Broker:
    """A send function that records what went, and fails when told."""

    def __init__(self) -> None:
        self.sent: list[PendingCommand] = []
        self.fail_after: int | None = None

    def __call__(self, pending: PendingCommand) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise MqNotConnected("not connected to 127.0.0.1:61613")
        self.sent.append(pending)


def enqueue(
    queue: CommandQueue, kind: str = "bump", ticket_id: str = "ord_1", **fields: object
) -> tuple[str, list[PendingCommand]]:
    """Queue a v1 command as TicketSync does; return its id and what was dropped."""
    command = make_command(
        kind, SITE, ticket_id=ticket_id, display_id="grill-1", station="grill", **fields
    )
    command_id = str(command.command_id)
    queue.expect_result(command_id, kind, ticket_id)
    return command_id, queue.enqueue(command_id, kind, ticket_id, encode(command), REPLY_TO)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(clock: Clock) -> CommandQueue:
    return CommandQueue(clock=clock)


def test_defaults_are_todays_limits() -> None:
    assert (MAX_QUEUED_COMMANDS, MAX_AWAITED_RESULTS) == (500, 500)
    assert CommandQueue().limit == MAX_QUEUED_COMMANDS


def test_enqueued_commands_keep_their_id_body_headers_and_time(
    queue: CommandQueue, clock: Clock
) -> None:
    assert len(queue) == 0 and not queue
    command_id, dropped = enqueue(queue, "item_done", "ord_1", line_id="l2")
    assert dropped == []
    [pending] = queue.commands()
    assert (pending.command_id, pending.kind, pending.ticket_id) == (
        command_id,
        "item_done",
        "ord_1",
    )
    assert pending.queued_at == clock.now
    assert dict(pending.headers) == REPLY_TO
    command = parse_command(pending.body)  # the exact v1 command, sent later as it is
    assert isinstance(command, ItemDoneCommand)
    assert (command.type, command.command_id, command.site_id) == ("item_done", command_id, SITE)
    assert (command.ticket_id, command.line_id, command.station) == ("ord_1", "l2", "grill")


def test_queue_keeps_the_cooks_order_and_says_what_waits_per_ticket(queue: CommandQueue) -> None:
    ids = [
        enqueue(queue, "start", "ord_1")[0],
        enqueue(queue, "bump", "ord_1")[0],
        enqueue(queue, "bump", "ord_2")[0],
    ]
    assert len(queue) == 3 and queue
    assert [p.command_id for p in queue.commands()] == ids
    assert queue.pending_for("ord_1") == ["start", "bump"]
    assert queue.pending_for("ord_2") == ["bump"]
    assert queue.pending_for("ord_3") == []


def test_flush_sends_oldest_first_and_empties_the_queue(queue: CommandQueue) -> None:
    queued = [enqueue(queue, "bump", f"ord_{n}")[0] for n in range(3)]
    broker = Broker()
    assert queue.flush(broker) == 3
    assert [p.command_id for p in broker.sent] == queued
    assert queue.commands() == [] and queue.pending_for("ord_0") == []
    assert queue.flush(broker) == 0
    assert len(broker.sent) == 3


def test_flush_stops_at_the_first_failure_and_resumes_in_order(queue: CommandQueue) -> None:
    queued = [enqueue(queue, "bump", f"ord_{n}")[0] for n in range(4)]
    broker = Broker()
    broker.fail_after = 1
    assert queue.flush(broker) == 1
    assert [p.command_id for p in queue.commands()] == queued[1:]
    broker.fail_after = None
    assert queue.flush(broker) == 3
    assert [p.command_id for p in broker.sent] == queued


def test_flush_lets_other_errors_through(queue: CommandQueue) -> None:
    enqueue(queue)

    def broken(_pending: PendingCommand) -> None:
        raise RuntimeError("a bug, not the broker")

    with pytest.raises(RuntimeError):
        queue.flush(broken)
    assert len(queue) == 1


def test_a_send_error_of_any_mq_kind_keeps_the_command(queue: CommandQueue) -> None:
    enqueue(queue)

    def no_receipt(_pending: PendingCommand) -> None:
        raise MqError("send to /queue/kds.ams-01.commands failed: broken pipe")

    assert queue.flush(no_receipt) == 0
    assert len(queue) == 1


def test_queued_commands_never_expire(queue: CommandQueue, clock: Clock) -> None:
    command_id, _ = enqueue(queue)
    clock.now += 7 * 24 * 3600  # a week offline
    broker = Broker()
    assert queue.flush(broker) == 1
    assert broker.sent[0].command_id == command_id
    assert "expires" not in dict(broker.sent[0].headers)


def test_a_full_queue_drops_the_oldest_and_forgets_its_result(clock: Clock) -> None:
    queue = CommandQueue(limit=3, clock=clock)
    ids = [enqueue(queue, "bump", f"ord_{n}")[0] for n in range(3)]
    newest, dropped = enqueue(queue, "bump", "ord_3")
    assert [p.command_id for p in dropped] == ids[:1]
    assert [p.command_id for p in queue.commands()] == [*ids[1:], newest]
    assert queue.take_result(ids[0]) is None  # its result would be a stranger's
    assert queue.take_result(ids[1]) == AwaitedResult("bump", "ord_1")


def test_results_are_awaited_once(queue: CommandQueue) -> None:
    queue.expect_result("c1", "bump", "ord_1")
    queue.expect_result("c2", "fold_stations", "")
    assert queue.take_result("c2") == AwaitedResult("fold_stations", "")
    assert queue.take_result("c1") == AwaitedResult("bump", "ord_1")
    assert queue.take_result("c1") is None
    assert queue.take_result("unknown") is None
    assert len(queue) == 0  # awaiting a result is not waiting to be sent


def test_only_the_newest_results_are_awaited() -> None:
    queue = CommandQueue(max_awaited=2)
    for n in range(3):
        queue.expect_result(f"c{n}", "bump", f"ord_{n}")
    assert queue.take_result("c0") is None
    assert queue.take_result("c1") == AwaitedResult("bump", "ord_1")
    assert queue.take_result("c2") == AwaitedResult("bump", "ord_2")
