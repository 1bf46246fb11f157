"""Outbox workers (edge_agent.outbox.OutboxWorker) with fake delivery functions."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

import pytest

from edge_agent.adapters.http_util import bounded_retry_after
from edge_agent.errors import CoreAuthError, CoreRejected, CoreUnavailable
from edge_agent.outbox import AUTH_RETRY_SECONDS, Channel, OutboxWorker
from edge_agent.store import OutboxRow, Store
from shared.errors import MqError, MqNotConnected
from tests.helpers.site import wait_until

CHANNEL = Channel.CORE


class FakeDeliver:
    """Records the keys it sees; raises what ``fail`` says for a key (if anything)."""

    def __init__(self, fail: Callable[[OutboxRow], BaseException | None] | None = None) -> None:
        self.seen: list[str] = []
        self._fail = fail or (lambda row: None)

    def __call__(self, row: OutboxRow) -> None:
        self.seen.append(row.key)
        exc = self._fail(row)
        if exc is not None:
            raise exc


def enqueue(store: Store, *keys: str, dest: str | None = None) -> None:
    """One row per key; each for its own order unless ``dest`` is given."""
    for key in keys:
        assert store.enqueue(CHANNEL, "event", key, dest or f"ord_{key}", b'{"type": "status"}')


def worker(
    store: Store,
    deliver: FakeDeliver,
    *,
    ordered: bool = False,
    backoff_initial: float = 1.0,
    backoff_max: float = 60.0,
    give_up_after: float = 86_400.0,
    at_most_once: bool = False,
    in_flight: int = 1,
) -> OutboxWorker:
    return OutboxWorker(
        store,
        CHANNEL,
        deliver,
        ordered=ordered,
        backoff_initial=backoff_initial,
        backoff_max=backoff_max,
        give_up_after=give_up_after,
        at_most_once=at_most_once,
        in_flight=in_flight,
    )


def info(store: Store, key: str) -> dict[str, object]:
    (row,) = [r for r in store.outbox_rows() if r["key"] == key]
    with store.transaction() as db:
        row["next_at"] = db.execute("SELECT next_at FROM outbox WHERE key = ?", (key,)).fetchone()[
            0
        ]
    return row


def due_at(store: Store, key: str) -> float:
    """When the row of ``key`` is due next (epoch seconds)."""
    with store.transaction() as db:
        row = db.execute("SELECT next_at FROM outbox WHERE key = ?", (key,)).fetchone()
    return float(row[0])


def make_all_due(store: Store) -> None:
    with store.transaction() as db:
        db.execute("UPDATE outbox SET next_at = 0")


def test_success_marks_done(store: Store) -> None:
    enqueue(store, "a", "b")
    deliver = FakeDeliver()
    w = worker(store, deliver)
    assert w.drain_once() is True
    assert deliver.seen == ["a", "b"]
    assert w.delivered == 2
    assert [(r["key"], r["state"], r["attempts"]) for r in store.outbox_rows()] == [
        ("a", "done", 1),
        ("b", "done", 1),
    ]
    assert w.drain_once() is False
    assert deliver.seen == ["a", "b"]


def test_nothing_due_is_no_progress(store: Store) -> None:
    assert worker(store, FakeDeliver()).drain_once() is False


@pytest.mark.parametrize("error", [CoreUnavailable("core down"), MqNotConnected("no broker")])
def test_unavailable_retries_later_with_backoff(store: Store, error: Exception) -> None:
    enqueue(store, "a")
    deliver = FakeDeliver(lambda row: error)
    w = worker(store, deliver, backoff_initial=1.0, backoff_max=5.0)
    delays = []  # (longest, shortest) the delay can have been: the worker's clock was read
    for attempt in range(1, 6):  # between start and end
        start = time.time()
        assert w.drain_once() is False
        end = time.time()
        row = info(store, "a")
        assert (row["state"], row["attempts"]) == ("pending", attempt)
        assert str(error) in str(row["last_error"])
        due = due_at(store, "a")
        delays.append((due - start, due - end))
        assert store.due(CHANNEL) == []  # not again right away
        make_all_due(store)
    # 1, 2, 4, then capped at 5 -- each with +-20 % jitter
    for (longest, shortest), base in zip(delays, [1, 2, 4, 5, 5], strict=True):
        assert longest >= base * 0.8 - 0.001 and shortest <= base * 1.2 + 0.001, delays
    assert w.delivered == 0


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    # within [1, 60]; 1e9 is no advice, so the first backoff step (1 s +-20 %) applies
    [(30.0, 30.0), (0.0, 1.0), (86_400.0, 60.0), (1e9, 1.0), (float("nan"), 1.0)],
)
def test_retry_after_is_honoured(store: Store, retry_after: float, expected: float) -> None:
    enqueue(store, "a")
    deliver = FakeDeliver(lambda row: CoreUnavailable("503", retry_after=retry_after))
    w = worker(store, deliver, backoff_initial=1.0, backoff_max=60.0)
    start = time.time()
    w.drain_once()
    end = time.time()
    due = due_at(store, "a")
    slack = 0.2 if bounded_retry_after(retry_after) is None else 0.0  # backoff's jitter
    assert due - start >= expected * (1 - slack) - 0.001
    assert due - end <= expected * (1 + slack) + 0.001


def test_rejected_goes_dead_with_the_reason(store: Store) -> None:
    enqueue(store, "a")
    deliver = FakeDeliver(lambda row: CoreRejected(409, "invalid_transition", "order cancelled"))
    w = worker(store, deliver)
    assert w.drain_once() is True  # a dead row is progress
    row = info(store, "a")
    assert row["state"] == "dead" and row["attempts"] == 1
    assert "409 invalid_transition" in str(row["last_error"])
    assert "order cancelled" in str(row["last_error"])
    make_all_due(store)
    assert w.drain_once() is False
    assert deliver.seen == ["a"]


def test_auth_error_is_retried_slowly_never_dead_lettered(store: Store) -> None:
    # a rotated or expired token must not throw away every ready/picked_up event
    enqueue(store, "a")
    w = worker(store, FakeDeliver(lambda row: CoreAuthError(401, "unauthorized")))
    before = time.time()
    w.drain_once()
    row = info(store, "a")
    assert row["state"] == "pending"
    assert due_at(store, "a") >= before + AUTH_RETRY_SECONDS
    assert "401" in str(row["last_error"])


def test_one_orders_events_go_first_in_first_out(store: Store) -> None:
    # accepted, in_progress, ready for one order: a failed one holds back the rest
    enqueue(store, "accepted", "in_progress", "ready", dest="ord_1")
    enqueue(store, "other")
    fail = {"accepted"}
    deliver = FakeDeliver(lambda row: CoreUnavailable("busy") if row.key in fail else None)
    w = worker(store, deliver)
    w.drain_once()
    assert deliver.seen == ["accepted", "other"]
    fail.clear()
    make_all_due(store)
    w.drain_once()
    w.drain_once()
    w.drain_once()
    assert deliver.seen == ["accepted", "other", "accepted", "in_progress", "ready"]


def _fail_b(row: OutboxRow) -> BaseException | None:
    return CoreUnavailable("down") if row.key == "b" else None


def test_ordered_channel_stops_at_first_failure(store: Store) -> None:
    enqueue(store, "a", "b", "c")
    deliver = FakeDeliver(_fail_b)
    w = worker(store, deliver, ordered=True)
    assert w.drain_once() is True
    assert deliver.seen == ["a", "b"]
    assert [r["state"] for r in store.outbox_rows()] == ["done", "pending", "pending"]
    assert info(store, "c")["attempts"] == 0


def test_ordered_channel_keeps_order_across_passes(store: Store) -> None:
    enqueue(store, "a", "b", "c")
    deliver = FakeDeliver(_fail_b)
    w = worker(store, deliver, ordered=True)
    w.drain_once()
    assert deliver.seen == ["a", "b"]
    w.drain_once()  # b is waiting for its retry time: nothing may overtake it
    assert deliver.seen == ["a", "b"]
    assert info(store, "c")["state"] == "pending"


def done_commits(store: Store, monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The row ids of each ``mark_done_many`` commit the store makes from now on."""
    commits: list[list[int]] = []
    mark_many = store.mark_done_many

    def spy(row_ids: Sequence[int]) -> None:
        commits.append(list(row_ids))
        mark_many(row_ids)

    monkeypatch.setattr(store, "mark_done_many", spy)
    return commits


def test_ordered_channel_marks_a_pass_done_in_one_commit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b", "c", "d")
    commits = done_commits(store, monkeypatch)
    deliver = FakeDeliver(lambda row: CoreUnavailable("down") if row.key == "d" else None)
    w = worker(store, deliver, ordered=True)
    assert w.drain_once() is True
    assert deliver.seen == ["a", "b", "c", "d"]
    # a, b, c in one commit after the pass; d (failed) is pending, its retry recorded
    assert [len(ids) for ids in commits] == [3]
    assert [r["state"] for r in store.outbox_rows()] == ["done", "done", "done", "pending"]
    assert info(store, "d")["attempts"] == 1


def test_ordered_channel_marks_what_went_out_even_if_the_pass_breaks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b", "c")
    deliver = FakeDeliver(lambda row: RuntimeError("a bug") if row.key == "c" else None)
    w = worker(store, deliver, ordered=True)

    def store_went_away(*args: object) -> None:
        raise RuntimeError("the store went away while recording c's retry")

    monkeypatch.setattr(store, "mark_retry", store_went_away)
    with pytest.raises(RuntimeError, match="went away"):
        w.drain_once()
    # a and b went out before the pass broke: they are marked done all the same
    assert [r["state"] for r in store.outbox_rows()] == ["done", "done", "pending"]


def test_at_most_once_rows_are_marked_one_by_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b")
    commits = done_commits(store, monkeypatch)
    w = worker(store, FakeDeliver(), ordered=True, at_most_once=True)
    assert w.drain_once() is True
    assert commits == [[1], [2]]


def test_unordered_channel_continues_past_a_failure(store: Store) -> None:
    enqueue(store, "a", "b", "c")
    deliver = FakeDeliver(_fail_b)
    w = worker(store, deliver, ordered=False)
    assert w.drain_once() is True
    assert deliver.seen == ["a", "b", "c"]
    assert [r["state"] for r in store.outbox_rows()] == ["done", "pending", "done"]


def test_ordered_channel_continues_past_a_dead_row(store: Store) -> None:
    enqueue(store, "a", "b", "c")
    deliver = FakeDeliver(lambda row: CoreRejected(422, "invalid_body") if row.key == "b" else None)
    w = worker(store, deliver, ordered=True)
    assert w.drain_once() is True
    assert deliver.seen == ["a", "b", "c"]
    assert [r["state"] for r in store.outbox_rows()] == ["done", "dead", "done"]


def test_give_up_after_dead_letters(store: Store) -> None:
    enqueue(store, "old", "new")
    with store.transaction() as db:
        db.execute("UPDATE outbox SET created_at = created_at - 1000 WHERE key = 'old'")
    deliver = FakeDeliver(lambda row: CoreUnavailable("still down"))
    w = worker(store, deliver, give_up_after=500.0)
    assert w.drain_once() is True
    old, new = info(store, "old"), info(store, "new")
    assert old["state"] == "dead"
    assert "gave up after" in str(old["last_error"]) and "still down" in str(old["last_error"])
    assert (new["state"], new["attempts"]) == ("pending", 1)


def test_mq_error_gives_up_too(store: Store) -> None:
    enqueue(store, "old")
    with store.transaction() as db:
        db.execute("UPDATE outbox SET created_at = created_at - 1000")
    w = worker(store, FakeDeliver(lambda row: MqError("broker gone")), give_up_after=10.0)
    w.drain_once()
    assert info(store, "old")["state"] == "dead"


def test_unexpected_delivery_error_is_deferred(store: Store) -> None:
    enqueue(store, "a")
    w = worker(store, FakeDeliver(lambda row: KeyError("available")))
    start = time.time()
    assert w.drain_once() is False  # no exception: the worker's thread lives on
    row = info(store, "a")
    assert row["state"] == "pending" and "KeyError" in str(row["last_error"])
    next_at = store.next_due_at(CHANNEL)
    assert next_at is not None and next_at > start, "the poison row is due again at once"


def test_worker_thread_delivers_on_wake(store: Store) -> None:
    delivered = threading.Event()

    def deliver(row: OutboxRow) -> None:
        delivered.set()

    w = OutboxWorker(store, CHANNEL, deliver, ordered=True, idle_poll=30.0)
    with w:
        enqueue(store, "a")
        w.wake()
        assert delivered.wait(5.0)
    assert w._thread is not None and not w._thread.is_alive()
    assert store.outbox_stats() == {CHANNEL: {"done": 1}}


def test_at_most_once_row_in_flight_at_a_crash_is_never_resent(store: Store) -> None:
    # a customer text: the agent died after SNS took it, before it was recorded
    enqueue(store, "text")

    def crash(row: OutboxRow) -> BaseException | None:
        raise SystemExit("power cut")  # nothing after the send runs

    w = worker(store, FakeDeliver(crash), at_most_once=True)
    with pytest.raises(SystemExit):
        w.drain_once()
    assert info(store, "text")["state"] == "sending"
    # the next start: the row is dead-lettered as uncertain, never delivered again
    again = FakeDeliver()
    restarted = worker(store, again, at_most_once=True).start()
    try:
        assert info(store, "text")["state"] == "dead"
        assert "uncertain" in str(info(store, "text")["last_error"])
        assert restarted.drain_once() is False
        assert again.seen == []
    finally:
        restarted.close()


def test_at_most_once_retryable_failure_goes_back_to_pending(store: Store) -> None:
    enqueue(store, "text")
    w = worker(store, FakeDeliver(lambda row: CoreUnavailable("never left")), at_most_once=True)
    w.drain_once()
    assert info(store, "text")["state"] == "pending"


def test_unordered_channel_delivers_different_orders_side_by_side(store: Store) -> None:
    # four orders' events: with in_flight=4 all four are under way at once
    enqueue(store, "a", "b", "c", "d")
    barrier = threading.Barrier(4, timeout=10)

    def together(row: OutboxRow) -> BaseException | None:
        barrier.wait()  # raises BrokenBarrierError unless four deliveries overlap
        return None

    w = worker(store, FakeDeliver(together), in_flight=4)
    assert w.drain_once() is True
    assert sorted(r["state"] for r in store.outbox_rows()) == ["done"] * 4


def test_a_parallel_pass_marks_what_went_out_done_in_one_commit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Side by side deliveries (the core's events) are recorded together after the
    pass: one commit, not one fsync under the store's lock per event. A failed row
    keeps its own retry; the others are done."""
    enqueue(store, "a", "b", "c", "d", "e")
    commits = done_commits(store, monkeypatch)
    deliver = FakeDeliver(lambda row: CoreUnavailable("down") if row.key == "c" else None)
    w = worker(store, deliver, in_flight=4)
    assert w.drain_once() is True
    assert sorted(deliver.seen) == ["a", "b", "c", "d", "e"]
    assert [sorted(ids) for ids in commits] == [[1, 2, 4, 5]]
    assert {r["key"]: r["state"] for r in store.outbox_rows()} == {
        "a": "done",
        "b": "done",
        "c": "pending",
        "d": "done",
        "e": "done",
    }
    assert info(store, "c")["attempts"] == 1 and w.delivered == 4


def test_a_parallel_pass_that_breaks_still_marks_what_went_out(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b", "c")
    deliver = FakeDeliver(lambda row: RuntimeError("a bug") if row.key == "c" else None)
    w = worker(store, deliver, in_flight=4)

    def store_went_away(*args: object) -> None:
        raise RuntimeError("the store went away while recording c's retry")

    monkeypatch.setattr(store, "mark_retry", store_went_away)
    with pytest.raises(RuntimeError, match="went away"):
        w.drain_once()
    assert {r["key"]: r["state"] for r in store.outbox_rows()} == {
        "a": "done",
        "b": "done",
        "c": "pending",
    }


def test_a_parallel_at_most_once_pass_marks_rows_one_by_one(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b", "c")
    commits = done_commits(store, monkeypatch)
    w = worker(store, FakeDeliver(), in_flight=4, at_most_once=True)
    assert w.drain_once() is True
    assert sorted(commits) == [[1], [2], [3]]


class _StopAfter:
    """An Event whose ``wait`` records its timeout and then stops the worker's loop
    (sets itself, or ``stops``: the worker's stop event)."""

    def __init__(self, stops: _StopAfter | None = None) -> None:
        self.waits: list[float | None] = []
        self._set = False
        self._stops = stops

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True

    def clear(self) -> None:
        pass

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        (self._stops or self).set()
        return True


@pytest.mark.parametrize("rush", [True, False])
def test_while_told_to_yield_a_pass_that_delivered_is_followed_by_a_rest(
    store: Store, rush: bool
) -> None:
    """The core's events during a rush: a pass, then ``yield_pause`` of rest (the
    screens' work goes first); otherwise the next pass follows at once."""
    enqueue(store, "a", "b")
    w = OutboxWorker(
        store,
        CHANNEL,
        FakeDeliver(),
        ordered=False,
        in_flight=4,
        yield_to=lambda: rush,
        yield_pause=2.0,
    )
    stop = _StopAfter()
    idle = _StopAfter(stops=stop)
    w._stop = stop  # type: ignore[assignment]
    w._wake = idle  # type: ignore[assignment]
    w._run()
    assert sorted(r["state"] for r in store.outbox_rows()) == ["done", "done"]
    if rush:
        assert stop.waits == [2.0] and idle.waits == []
    else:  # straight on to the next pass, which finds nothing and waits to be woken
        assert stop.waits == [] and len(idle.waits) == 1


def test_a_broken_yield_hook_never_stops_deliveries(store: Store) -> None:
    enqueue(store, "a")

    def broken() -> bool:
        raise RuntimeError("a bug in the hook")

    w = OutboxWorker(store, CHANNEL, FakeDeliver(), ordered=False, yield_to=broken)
    stop = _StopAfter()
    idle = _StopAfter(stops=stop)
    w._stop = stop  # type: ignore[assignment]
    w._wake = idle  # type: ignore[assignment]
    w._run()
    assert [r["state"] for r in store.outbox_rows()] == ["done"] and stop.waits == []


def test_one_orders_events_never_overlap_even_in_flight(store: Store) -> None:
    enqueue(store, "accepted", "in_progress", "ready", dest="ord_1")
    enqueue(store, "other")
    w = worker(store, FakeDeliver(), in_flight=4)
    w.drain_once()
    # one pass: the oldest of ord_1 and the other order's; ord_1's next ones wait
    assert sorted(r["key"] for r in store.outbox_rows("done")) == ["accepted", "other"]
    w.drain_once()
    w.drain_once()
    assert [r["key"] for r in store.outbox_rows("done")] == [
        "accepted",
        "in_progress",
        "ready",
        "other",
    ]


# --- pipelined passes (deliver_many) ---------------------------------------------------


class FakeDeliverMany:
    """Records each pass it is given; answers per row what ``fail`` says."""

    def __init__(self, fail: Callable[[OutboxRow], Exception | None] | None = None) -> None:
        self.passes: list[list[str]] = []
        self._fail = fail or (lambda row: None)

    def __call__(self, rows: list[OutboxRow]) -> list[Exception | None]:
        self.passes.append([row.key for row in rows])
        return [self._fail(row) for row in rows]


def pipelined(store: Store, many: FakeDeliverMany, one: FakeDeliver) -> OutboxWorker:
    return OutboxWorker(store, CHANNEL, one, deliver_many=many, ordered=True)


def test_a_pipelined_pass_sends_its_rows_together_and_marks_them_in_one_commit(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b", "c", "d")
    commits = done_commits(store, monkeypatch)
    many, one = FakeDeliverMany(), FakeDeliver()
    assert pipelined(store, many, one).drain_once() is True
    assert many.passes == [["a", "b", "c", "d"]]
    assert one.seen == []  # never one by one
    assert [len(ids) for ids in commits] == [4]
    assert [r["state"] for r in store.outbox_rows()] == ["done"] * 4


def test_a_pipelined_pass_records_rows_in_order_up_to_the_first_failure(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    enqueue(store, "a", "b", "c", "d")
    commits = done_commits(store, monkeypatch)
    many = FakeDeliverMany(lambda row: MqError("no receipt") if row.key == "b" else None)
    one = FakeDeliver()
    w = pipelined(store, many, one)
    assert w.drain_once() is True
    # a is done; b waits for its retry; c and d went out too but stay pending (they go
    # again after b: at least once, in order, as after a crash)
    assert [len(ids) for ids in commits] == [1]
    assert [r["state"] for r in store.outbox_rows()] == ["done", "pending", "pending", "pending"]
    assert info(store, "b")["attempts"] == 1
    assert info(store, "c")["attempts"] == 0
    w.drain_once()  # b is waiting out its backoff: nothing overtakes it
    assert many.passes == [["a", "b", "c", "d"]]
    make_all_due(store)
    w.drain_once()  # after a failed pass: one at a time (see the test below)
    assert one.seen == ["b", "c", "d"]
    assert [r["state"] for r in store.outbox_rows()] == ["done"] * 4


def test_a_pipelined_row_refused_for_good_is_dead_and_the_rest_go_on(store: Store) -> None:
    enqueue(store, "a", "b", "c")
    refused = CoreRejected(403, "reply-to not allowed")
    many = FakeDeliverMany(lambda row: refused if row.key == "b" else None)
    assert pipelined(store, many, FakeDeliver()).drain_once() is True
    assert [r["state"] for r in store.outbox_rows()] == ["done", "dead", "done"]


def test_a_broken_deliver_many_is_every_rows_retry_not_a_dead_thread(store: Store) -> None:
    enqueue(store, "a", "b")

    def broken(rows: list[OutboxRow]) -> list[Exception | None]:
        raise RuntimeError("a bug in the adapter")

    w = OutboxWorker(store, CHANNEL, FakeDeliver(), deliver_many=broken, ordered=True)
    assert w.drain_once() is False
    assert [r["state"] for r in store.outbox_rows()] == ["pending", "pending"]
    assert info(store, "a")["attempts"] == 1
    assert info(store, "b")["attempts"] == 0


def test_after_pass_runs_after_every_pass_delivered_or_not(store: Store) -> None:
    """The agent wakes the other channels from the state topic's worker after each of
    its passes: a pass that delivers, one that fails and one with nothing to do."""
    passes: list[int] = []
    enqueue(store, "a")
    deliver = FakeDeliver(lambda row: MqError("down") if row.key == "b" else None)
    w = OutboxWorker(
        store,
        CHANNEL,
        deliver,
        ordered=True,
        idle_poll=0.05,
        after_pass=lambda: passes.append(len(deliver.seen)),
    )
    w.start()
    try:
        wait_until(lambda: 1 in passes, timeout=5.0)
        enqueue(store, "b")
        w.wake()
        wait_until(lambda: 2 in passes, timeout=5.0)  # b failed: the hook ran all the same
        count = len(passes)
        wait_until(lambda: len(passes) > count, timeout=5.0)  # idle passes too
    finally:
        w.close()


def test_after_a_failed_pipelined_pass_rows_go_one_at_a_time_until_one_goes_through(
    store: Store,
) -> None:
    """A state message the broker keeps refusing is retried alone, not with everything
    behind it on every retry; once one goes through, passes are pipelined again."""
    enqueue(store, "a", "b", "c")
    refusing = {"a"}
    many = FakeDeliverMany(lambda row: MqError("refused") if row.key in refusing else None)
    one = FakeDeliver(lambda row: MqError("refused") if row.key in refusing else None)
    w = pipelined(store, many, one)
    w.drain_once()
    assert many.passes == [["a", "b", "c"]]
    make_all_due(store)
    w.drain_once()  # a alone: b and c are not sent again behind it
    assert one.seen == ["a"] and len(many.passes) == 1
    refusing.clear()
    make_all_due(store)
    w.drain_once()  # a goes through alone, then b and c in the same pass
    assert one.seen == ["a", "a", "b", "c"]
    assert [r["state"] for r in store.outbox_rows()] == ["done"] * 3
    enqueue(store, "d", "e")
    w.drain_once()
    assert many.passes[-1] == ["d", "e"]  # pipelined again


class _Rests(_StopAfter):
    """The worker's stop event: records each rest; stops nothing by itself."""

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return self._set


@pytest.mark.parametrize("mode", ["paced", "screens idle", "rush"])
def test_a_backlog_drains_in_small_passes_while_the_screens_are_busy(
    store: Store, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """The core's events a rush held back: outside a rush and while the screens' work
    goes on, passes of ``pass_rows`` with ``pass_rest`` after each full one (a flood of
    80 POSTs in one pass held the interpreter ~60 ms, and the next order reached the
    screens late); with the screens idle (a core back after an outage) one pass of up
    to 200; in a rush, one such pass, then the yield pause."""
    enqueue(store, *(f"k{n}" for n in range(10)))
    passes: list[int] = []
    due = store.due

    def counting_due(*args: object, **kwargs: object) -> list[OutboxRow]:
        rows = due(*args, **kwargs)  # type: ignore[arg-type]
        passes.append(len(rows))
        return rows

    monkeypatch.setattr(store, "due", counting_due)
    deliver = FakeDeliver()
    w = OutboxWorker(
        store,
        CHANNEL,
        deliver,
        ordered=False,
        in_flight=4,
        yield_to=lambda: mode == "rush",
        yield_pause=2.0,
        pass_rows=4,
        pass_rest=0.01,
        pace_to=lambda: mode != "screens idle",
    )
    stop = _Rests()
    idle = _StopAfter(stops=stop)  # the worker idle: the loop ends
    w._stop = stop  # type: ignore[assignment]
    w._wake = idle  # type: ignore[assignment]
    w._run()
    assert sorted(deliver.seen) == sorted(f"k{n}" for n in range(10))
    assert {r["state"] for r in store.outbox_rows()} == {"done"}
    if mode == "paced":
        assert passes == [4, 4, 2, 0]
        assert stop.waits == [0.01, 0.01]  # after each full pass, none after the last
    elif mode == "screens idle":
        assert passes == [10, 0] and stop.waits == []
    else:
        assert passes[0] == 10 and stop.waits[0] == 2.0
