"""CommandQueue, without Qt: order, flush, receipts, resends with backoff, expiry, the
limit, and the file that keeps the commands across a restart. The clock is a test
clock; the bodies are v1 commands built by shared.wire (TicketSync's Qt side:
test_kds_offline.py, test_kds_confirm.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kitchen_display.command_queue import (
    MAX_QUEUED_COMMANDS,
    MAX_RESENDS,
    CommandQueue,
    Expired,
    PendingCommand,
)
from shared.errors import MqError, MqNotConnected
from shared.wire import ItemDoneCommand, encode, make_command, parse_command

SITE = "ams-01"
REPLY_TO = {"reply-to": f"/queue/kds.{SITE}.replies.grill-1"}
CONFIRM = 5.0
MAX_AGE = 120.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Broker:
    """A send function that records what went (with the send number), and fails when told."""

    def __init__(self) -> None:
        self.sent: list[tuple[PendingCommand, int]] = []
        self.fail_after: int | None = None

    def __call__(self, pending: PendingCommand, send: int) -> None:
        if self.fail_after is not None and len(self.sent) >= self.fail_after:
            raise MqNotConnected("not connected to 127.0.0.1:61613")
        self.sent.append((pending, send))

    def ids(self) -> list[str]:
        return [pending.command_id for pending, _send in self.sent]


def add(
    queue: CommandQueue, kind: str = "bump", ticket_id: str = "ord_1", **fields: object
) -> tuple[str, list[PendingCommand]]:
    """Keep a v1 command as TicketSync does; return its id and what was dropped."""
    command = make_command(
        kind, SITE, ticket_id=ticket_id, display_id="grill-1", station="grill", **fields
    )
    command_id = str(command.command_id)
    number = ticket_id.removeprefix("ord_")
    dropped = queue.add(command_id, kind, ticket_id, encode(command), REPLY_TO, number=number)
    return command_id, dropped


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def queue(clock: Clock) -> CommandQueue:
    return CommandQueue(confirm_seconds=CONFIRM, max_age_seconds=MAX_AGE, clock=clock)


def test_defaults() -> None:
    assert (MAX_QUEUED_COMMANDS, MAX_RESENDS) == (500, 3)
    queue = CommandQueue()
    assert queue.limit == MAX_QUEUED_COMMANDS
    assert queue.path is None


def test_a_command_keeps_its_id_body_headers_number_and_time(
    queue: CommandQueue, clock: Clock
) -> None:
    assert queue.unanswered() == []
    command_id, dropped = add(queue, "item_done", "ord_1", line_id="l2")
    assert dropped == []
    [pending] = queue.waiting()
    assert (pending.command_id, pending.kind, pending.ticket_id, pending.number) == (
        command_id,
        "item_done",
        "ord_1",
        "1",
    )
    assert pending.queued_at == clock.now
    assert dict(pending.headers) == REPLY_TO
    command = parse_command(pending.body)  # the exact v1 command, sent later as it is
    assert isinstance(command, ItemDoneCommand)
    assert (command.type, command.command_id, command.site_id) == ("item_done", command_id, SITE)
    assert (command.ticket_id, command.line_id, command.station) == ("ord_1", "l2", "grill")


def test_commands_keep_the_cooks_order_and_say_what_waits_per_ticket(queue: CommandQueue) -> None:
    ids = [add(queue, "start", "ord_1")[0], add(queue, "bump", "ord_1")[0]]
    ids.append(add(queue, "bump", "ord_2")[0])
    assert [p.command_id for p in queue.waiting()] == ids
    assert queue.pending_for("ord_1") == ["start", "bump"]
    assert queue.pending_for("ord_2") == ["bump"]
    assert queue.pending_for("ord_3") == []


def test_flush_sends_oldest_first_and_keeps_them_until_answered(queue: CommandQueue) -> None:
    ids = [add(queue, "bump", f"ord_{n}")[0] for n in range(3)]
    broker = Broker()
    assert queue.flush(broker) == 3
    assert broker.ids() == ids
    assert [send for _pending, send in broker.sent] == [1, 1, 1]
    assert queue.waiting() == [] and queue.pending_for("ord_0") == []
    assert [p.command_id for p in queue.unanswered()] == ids  # sent, not answered
    assert queue.flush(broker) == 0
    assert len(broker.sent) == 3
    answered = queue.answered(ids[1])
    assert answered is not None and (answered.kind, answered.ticket_id) == ("bump", "ord_1")
    assert queue.answered(ids[1]) is None  # once
    assert queue.answered("unknown") is None
    assert [p.command_id for p in queue.unanswered()] == [ids[0], ids[2]]


def test_flush_stops_at_the_first_failure_and_resumes_in_order(queue: CommandQueue) -> None:
    ids = [add(queue, "bump", f"ord_{n}")[0] for n in range(4)]
    broker = Broker()
    broker.fail_after = 1
    assert queue.flush(broker) == 1
    assert [p.command_id for p in queue.waiting()] == ids[1:]
    broker.fail_after = None
    assert queue.flush(broker) == 3
    assert broker.ids() == ids


def test_flush_lets_other_errors_through(queue: CommandQueue) -> None:
    add(queue)

    def broken(_pending: PendingCommand, _send: int) -> None:
        raise RuntimeError("a bug, not the broker")

    with pytest.raises(RuntimeError):
        queue.flush(broken)
    assert len(queue.waiting()) == 1


def test_a_send_error_of_any_mq_kind_keeps_the_command_waiting(queue: CommandQueue) -> None:
    add(queue)

    def no_receipt(_pending: PendingCommand, _send: int) -> None:
        raise MqError("send to /queue/kds.ams-01.commands failed: broken pipe")

    assert queue.flush(no_receipt) == 0
    assert len(queue.waiting()) == 1


def test_a_send_the_broker_did_not_confirm_waits_to_be_sent_again(
    queue: CommandQueue, clock: Clock
) -> None:
    first, _ = add(queue, "bump", "ord_1")
    second, _ = add(queue, "bump", "ord_2")
    broker = Broker()
    queue.flush(broker)
    queue.receipt(first, 1, delivered=True)
    queue.receipt(second, 1, delivered=False)  # the connection went before the RECEIPT
    assert [p.command_id for p in queue.waiting()] == [second]
    assert queue.pending_for("ord_2") == ["bump"]
    queue.flush(broker)
    assert broker.sent[-1] == (queue.unanswered()[1], 2)  # the same command, send 2
    # a late word on an older send changes nothing
    queue.receipt(second, 1, delivered=False)
    assert queue.waiting() == []
    queue.receipt("unknown", 1, delivered=False)


def test_no_result_in_time_marks_it_not_confirmed_and_sends_it_again_with_backoff(
    queue: CommandQueue, clock: Clock
) -> None:
    command_id, _ = add(queue, "bump", "ord_1")
    broker = Broker()
    queue.flush(broker)
    sent_at = clock.now
    assert queue.next_deadline() == sent_at + CONFIRM
    clock.now = sent_at + CONFIRM - 0.1
    assert queue.check(broker) == []
    assert queue.unconfirmed() == [] and len(broker.sent) == 1

    # resends after 5 s, then 10 s, then 20 s, each the same command (same id, body)
    for n, wait in enumerate((CONFIRM, 2 * CONFIRM, 4 * CONFIRM), start=2):
        clock.now = sent_at + wait
        assert queue.check(broker) == []
        assert [p.command_id for p in queue.unconfirmed()] == [command_id]
        assert queue.unconfirmed_for("ord_1") == ["bump"]
        assert queue.pending_for("ord_1") == []  # sent, not waiting
        assert broker.sent[-1] == (broker.sent[0][0], n)
        sent_at = clock.now
    assert len(broker.sent) == 1 + MAX_RESENDS
    # no resends left: it only waits for its result (or its age)
    assert queue.next_deadline() == broker.sent[0][0].queued_at + MAX_AGE
    clock.now = sent_at + 100 * CONFIRM
    queue.check(broker)
    assert len(broker.sent) == 1 + MAX_RESENDS


def test_the_result_clears_the_mark(queue: CommandQueue, clock: Clock) -> None:
    command_id, _ = add(queue)
    broker = Broker()
    queue.flush(broker)
    clock.now += CONFIRM
    queue.check(broker)
    assert queue.unconfirmed_for("ord_1") == ["bump"]
    assert queue.answered(command_id) is not None
    assert queue.unconfirmed() == [] and queue.unanswered() == []
    assert queue.next_deadline() is None


def test_a_resend_that_cannot_go_waits_for_the_connection(
    queue: CommandQueue, clock: Clock
) -> None:
    command_id, _ = add(queue)
    broker = Broker()
    queue.flush(broker)
    broker.fail_after = 1  # the link is down now
    clock.now += CONFIRM
    queue.check(broker)
    assert [p.command_id for p in queue.waiting()] == [command_id]
    assert queue.unconfirmed() == []  # the card says PENDING again, not both
    broker.fail_after = None
    assert queue.flush(broker) == 1
    assert broker.sent[-1][1] == 2


def test_old_commands_expire_sent_or_not(queue: CommandQueue, clock: Clock) -> None:
    start = clock.now
    unsent, _ = add(queue, "start", "ord_1")
    clock.now += 10
    taken, _ = add(queue, "bump", "ord_2")
    broker = Broker()
    broker.fail_after = 0
    queue.flush(broker)  # offline: nothing goes
    broker.fail_after = None
    clock.now += 1
    queue.flush(broker)
    queue.receipt(unsent, 1, delivered=False)  # the connection went first
    queue.receipt(taken, 1, delivered=True)  # the broker has it
    clock.now = start + 30
    young, _ = add(queue, "bump", "ord_3")
    assert queue.next_deadline() is not None

    clock.now = start + MAX_AGE
    expired = queue.check(broker)
    assert [(e.command.command_id, e.sent) for e in expired] == [(unsent, False)]
    clock.now = start + 10 + MAX_AGE
    expired = queue.check(broker)
    assert expired == [Expired(expired[0].command, sent=True)]
    assert expired[0].command.command_id == taken
    assert [p.command_id for p in queue.unanswered()] == [young]
    assert queue.answered(taken) is None  # a late result is a stranger's now


def test_a_full_queue_drops_the_oldest(clock: Clock) -> None:
    queue = CommandQueue(limit=3, clock=clock)
    ids = [add(queue, "bump", f"ord_{n}")[0] for n in range(3)]
    newest, dropped = add(queue, "bump", "ord_3")
    assert [p.command_id for p in dropped] == ids[:1]
    assert [p.command_id for p in queue.unanswered()] == [*ids[1:], newest]
    assert queue.answered(ids[0]) is None


# --- the file ---------------------------------------------------------------------------


def make(path: Path, clock: Clock) -> CommandQueue:
    return CommandQueue(confirm_seconds=CONFIRM, max_age_seconds=MAX_AGE, path=path, clock=clock)


def test_commands_survive_a_restart_in_order_and_as_they_were(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "state" / "ams-01.grill-1.commands.json"
    before = make(path, clock)
    assert before.path == path
    ids = [add(before, "start", "ord_1")[0], add(before, "item_done", "ord_1", line_id="l2")[0]]
    done, _ = add(before, "bump", "ord_2")
    before.flush(Broker())  # sent, not answered: kept too
    before.answered(done)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left

    after = make(path, clock)
    assert after.unanswered() == before.unanswered()
    assert [p.command_id for p in after.waiting()] == ids  # sent again on connect
    broker = Broker()
    assert after.flush(broker) == 2
    assert [parse_command(p.body).command_id for p, _send in broker.sent] == ids
    # and they still expire by the time of the tap
    clock.now += MAX_AGE
    assert len(after.check(broker)) == 2
    assert make(path, clock).unanswered() == []


def test_an_unreadable_file_is_set_aside_never_a_crash(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "q.json"
    path.write_text('{"v": 1, "commands": [')  # cut short
    with caplog.at_level(logging.WARNING, "kds.sync.queue"):
        queue = make(path, clock)
    assert queue.unanswered() == []
    aside = tmp_path / f"q.json.corrupt-{int(clock.now)}"
    assert aside.read_text() == '{"v": 1, "commands": ['
    assert "is not JSON" in caplog.text and aside.name in caplog.text
    add(queue)  # and it writes a good one again
    assert len(make(path, clock).unanswered()) == 1


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"v": 2, "commands": []}, "is not a version 1 command queue"),
        ([], "is not a version 1 command queue"),
        ({"v": 1, "commands": {}}, "commands: must be a list"),
    ],
)
def test_a_file_of_another_shape_is_set_aside(
    tmp_path: Path,
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
    document: object,
    problem: str,
) -> None:
    path = tmp_path / "q.json"
    path.write_text(json.dumps(document))
    with caplog.at_level(logging.WARNING, "kds.sync.queue"):
        assert make(path, clock).unanswered() == []
    assert problem in caplog.text
    assert not path.exists() and len(list(tmp_path.glob("q.json.corrupt-*"))) == 1


def test_a_bad_command_in_the_file_is_named_and_the_others_kept(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "q.json"
    queue = make(path, clock)
    keep, _ = add(queue, "bump", "ord_1")
    add(queue, "bump", "ord_2")
    document = json.loads(path.read_text())
    document["commands"][1]["queued_at"] = "yesterday"
    document["commands"].append("not a command")
    path.write_text(json.dumps(document))
    with caplog.at_level(logging.WARNING, "kds.sync.queue"):
        loaded = make(path, clock)
    assert [p.command_id for p in loaded.unanswered()] == [keep]
    assert "commands[1].queued_at: must be a number" in caplog.text
    assert "commands[2].*: must be an object" in caplog.text
    assert len(list(tmp_path.glob("q.json.corrupt-*"))) == 1  # for a look
    assert [p.command_id for p in make(path, clock).unanswered()] == [keep]  # rewritten


def test_a_file_that_cannot_be_written_leaves_the_commands_in_memory(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, "kds.sync.queue"):
        queue = make(blocker / "q.json", clock)
        command_id, _ = add(queue)
        add(queue, "bump", "ord_2")
    assert len(queue.waiting()) == 2
    assert caplog.text.count("cannot write the command queue") == 1  # once, not per command
    assert queue.answered(command_id) is not None
