"""Durable outbox workers: deliver stored side effects until they succeed or die visibly.

One worker thread per :class:`Channel`:

- ``mq``: state publishes and command replies, strictly in ``id`` order so that the
  displays see ``seq`` without gaps. A failed publish blocks the channel and is
  retried with backoff (the broker is down, nothing behind it could go either).
- ``core``: status events and availability changes. Each row retries on its own
  schedule (``Retry-After`` honoured within [1 s, 60 s], exponential backoff otherwise); a permanent
  refusal (404, 409, 422) is dead-lettered with the core's reason.
- ``print``, ``notify``, ``report``: the kitchen's printers, customer texts and
  reporting (:mod:`edge_agent.effects`), each destination on its own schedule.

A delivery function raises :class:`~edge_agent.errors.RetryableError` (or
``MqError``) to try again later and :class:`~edge_agent.errors.PermanentError` to
give up; the adapters translate their libraries' exceptions into these.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum

from edge_agent.adapters.http_util import bounded_retry_after
from edge_agent.errors import CoreAuthError, PermanentError, RetryableError, StoreError
from edge_agent.store import TROUBLE_WAIT_INITIAL, TROUBLE_WAIT_MAX, OutboxRow, Store
from edge_agent.supervisor import Supervisor
from shared.errors import MqError

log = logging.getLogger("edge.outbox")


class Channel(StrEnum):
    """The outbox channels: the ``channel`` column of the store's outbox rows."""

    #: state publishes and command replies to the broker (strictly ordered)
    MQ = "mq"
    #: status events and availability changes to the core
    CORE = "core"
    #: kitchen tickets and bag labels, ``dest`` = the printer's station
    PRINT = "print"
    #: customer texts and topic notifications (SNS), ``dest`` = the order
    NOTIFY = "notify"
    #: lifecycle events for reporting (Kafka), ``dest`` = the order
    REPORT = "report"


Deliver = Callable[[OutboxRow], None]
#: delivers rows back to back and returns, per row, ``None`` (delivered) or the error
#: ``Deliver`` would have raised for it
DeliverMany = Callable[[list[OutboxRow]], list[Exception | None]]

#: the most rows one pass of a channel takes
PASS_ROWS = 200

#: how long to wait before retrying after the core refused the site token
AUTH_RETRY_SECONDS = 30.0

#: a row of a pipelined pass that ``deliver_many`` did not answer for
_NOT_SENT = RetryableError("not sent: the pass ended before it")


class OutboxWorker:
    """Drains one outbox channel in a thread; :meth:`wake` after enqueueing."""

    def __init__(
        self,
        store: Store,
        channel: Channel,
        deliver: Deliver,
        *,
        ordered: bool,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        give_up_after: float = 86_400.0,
        idle_poll: float = 5.0,
        on_idle: Callable[[], None] | None = None,
        idle_interval: float = 5.0,
        on_failure: Callable[[Channel, OutboxRow, bool], None] | None = None,
        at_most_once: bool = False,
        in_flight: int = 1,
        deliver_many: DeliverMany | None = None,
        after_pass: Callable[[], None] | None = None,
        yield_to: Callable[[], bool] | None = None,
        yield_pause: float = 0.5,
        pass_rows: int = PASS_ROWS,
        pass_rest: float = 0.0,
        pace_to: Callable[[], bool] | None = None,
    ) -> None:
        self._store = store
        self.channel = channel
        self._deliver = deliver
        #: ordered channels: a pass's rows go out together (pipelined), then are
        #: recorded in order as one by one would have been
        self._deliver_many = deliver_many if ordered and not at_most_once else None
        #: called on this thread after every pass, delivered or not (the agent wakes the
        #: other channels from here: the screens' publish goes first)
        self._after_pass = after_pass
        #: a pipelined pass failed: send one row at a time until one goes through (so a
        #: state message the broker keeps refusing is retried alone, not with the 200
        #: behind it every time)
        self._cautious = False
        self._ordered = ordered
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._give_up_after = give_up_after
        self._idle_poll = idle_poll
        self._on_idle = on_idle
        self._on_failure = on_failure
        self._at_most_once = at_most_once
        #: unordered channels: how many deliveries may be under way at once
        self._in_flight = max(1, in_flight)
        #: while it says so, a pass that delivered is followed by ``yield_pause``
        #: seconds of rest (the agent passes "the feed is in a rush": the screens'
        #: work goes first, the core's events follow in passes)
        self._yield_to = yield_to
        self._yield_pause = yield_pause
        #: unordered channels, outside a rush, while ``pace_to`` says so (the screens'
        #: work goes on): at most ``pass_rows`` rows a pass and, after a full pass,
        #: ``pass_rest`` seconds of rest before the next, so a backlog (the events held
        #: back through a rush) drains in small passes beside the screens' work instead
        #: of taking the interpreter for a whole flood at once; with no such work (a
        #: core back after an outage, a quiet kitchen) it drains at full speed
        self._pass_rows = max(1, pass_rows)
        self._pass_rest = pass_rest
        self._pace_to = pace_to
        self._full_pass = False
        self._idle_interval = idle_interval
        self._last_idle = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0

    def start(self, supervisor: Supervisor | None = None) -> OutboxWorker:
        """Drain on the ``outbox-<channel>`` thread, supervised (restarted if it dies)."""
        if self._at_most_once:
            uncertain = self._store.fail_uncertain(self.channel)
            if uncertain:
                log.error(
                    "outbox %s: %d deliveries were in flight when the agent stopped; "
                    "dead-lettered as uncertain (not resent, to avoid duplicates)",
                    self.channel,
                    uncertain,
                )
        self._thread = (supervisor or Supervisor()).spawn(f"outbox-{self.channel}", self._run)
        return self

    def wake(self) -> None:
        self._wake.set()

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> OutboxWorker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _backoff(self, attempts: int, retry_after: float | None) -> float:
        bounded = bounded_retry_after(retry_after)
        if bounded is not None:
            return bounded
        delay = min(self._backoff_initial * (2.0 ** min(attempts, 20)), self._backoff_max)
        return delay * (0.8 + 0.4 * random.random())

    def _run(self) -> None:
        trouble_wait = TROUBLE_WAIT_INITIAL / 2
        while not self._stop.is_set():
            # One try around the whole pass, the due-time query included (outside it, one
            # StoreError there used to end the thread for good). Store trouble (disk full,
            # read-only, damaged) waits here; another store failure ends the loop for the
            # supervisor to log, count and restart; a bug backs off here.
            try:
                try:
                    progressed = self.drain_once()
                finally:
                    self._passed()
                if progressed:
                    trouble_wait = TROUBLE_WAIT_INITIAL / 2
                    if self._yielding():
                        self._stop.wait(self._yield_pause)
                    elif self._full_pass and self._pass_rest > 0:
                        self._stop.wait(self._pass_rest)
                    continue
                wait = self._idle_poll
                if self._on_idle is not None:
                    wait = min(wait, self._idle())
                next_at = self._store.next_due_at(self.channel)
                if next_at is not None:
                    wait = max(0.0, min(wait, next_at - time.time()))
            except StoreError as exc:
                if not exc.is_trouble:
                    raise
                # disk full, read-only, damaged: the store raised the alarm; wait for a
                # fix without dying (a restarted process would not fix the disk)
                trouble_wait = min(trouble_wait * 2, TROUBLE_WAIT_MAX)
                wait = trouble_wait
                if self._on_idle is not None:  # agent.alive carries the alarm to the screens
                    wait = min(wait, self._idle())
                log.debug("outbox %s: store trouble (%s); retry in %.0fs", self.channel, exc, wait)
            except Exception:
                log.exception("outbox %s: drain failed", self.channel)
                wait = self._idle_poll
            else:
                trouble_wait = TROUBLE_WAIT_INITIAL / 2
            self._wake.wait(wait)
            self._wake.clear()

    def _passed(self) -> None:
        if self._after_pass is not None:
            try:
                self._after_pass()
            except Exception:
                log.exception("outbox %s: after-pass hook failed", self.channel)

    def _idle(self) -> float:
        """Run the idle hook when it is due (on this thread, so in order with deliveries).

        Returns the seconds until it is due again.
        """
        now = time.monotonic()
        if now - self._last_idle >= self._idle_interval:
            self._last_idle = now
            try:
                self._on_idle()  # type: ignore[misc]
            except Exception:
                log.exception("outbox %s: idle hook failed", self.channel)
        return max(0.0, self._idle_interval - (time.monotonic() - self._last_idle))

    def drain_once(self) -> bool:
        """Deliver what is due; ``True`` if at least one row went out (or died)."""
        now = time.time()
        if self._ordered:
            # The head of the line waits out its backoff and nothing overtakes it.
            rows = self._store.pending(self.channel, limit=PASS_ROWS)
        else:
            # Independent destinations overtake each other; one destination's rows do not.
            # (in a rush, one pass of up to PASS_ROWS rows, then the yield pause)
            limit = self._pass_rows if self._pacing() else PASS_ROWS
            rows = self._store.due(self.channel, limit=limit, now=now, fifo_per_dest=True)
            self._full_pass = len(rows) >= limit
        if not self._ordered and self._in_flight > 1 and len(rows) > 1:
            # At most one row per destination is due (FIFO per order), so these may go
            # out side by side: a core 100 ms away then takes a burst in parallel. What
            # went out is marked done in one commit after the pass, not one commit (one
            # fsync, the store's lock held through it) per row: a crash in between sends
            # those rows again, which the core answers as it did the first time (the
            # same Idempotency-Key). At-most-once rows are marked one by one, always.
            done: list[int] | None = None if self._at_most_once else []
            try:
                with ThreadPoolExecutor(
                    max_workers=min(self._in_flight, len(rows)),
                    thread_name_prefix=f"outbox-{self.channel}",
                ) as pool:
                    outcomes = list(
                        pool.map(lambda row: self._attempt_unless_stopping(row, done), rows)
                    )
            finally:
                if done:
                    self._store.mark_done_many(done)
            return any(outcome in ("done", "dead") for outcome in outcomes)
        progressed = False
        # An ordered channel (the state topic) marks its delivered rows done in one
        # commit after the pass, not one commit each: a crash in between re-sends them
        # (at least once, as ever; screens drop a seq they have). At-most-once rows
        # (customer texts) are marked one by one, always.
        batch: list[int] | None = [] if self._ordered and not self._at_most_once else None
        errors: dict[int, Exception | None] | None = None
        failed = False
        if self._deliver_many is not None and not self._cautious:
            due: list[OutboxRow] = []
            for row in rows:
                if row.next_at > now:
                    break  # the head of the line waits out its backoff
                due.append(row)
            rows = due
            if rows and not self._stop.is_set():
                errors = self._send_together(rows)
        try:
            for row in rows:
                if (self._stop.is_set() and errors is None) or row.next_at > now:
                    break
                if errors is not None:
                    outcome = self._attempt(row, batch, sent=(errors.get(row.id, _NOT_SENT),))
                else:
                    outcome = self._attempt(row, batch)
                if outcome == "done" or outcome == "dead":
                    progressed = True
                elif self._ordered:
                    failed = True
                    break  # keep order: nothing behind a failed row may overtake it
        finally:
            if batch:
                self._store.mark_done_many(batch)
        if errors is not None:
            self._cautious = failed
        elif progressed and not failed:
            self._cautious = False
        return progressed

    def _pacing(self) -> bool:
        """Small passes now: outside a rush, while ``pace_to`` says so."""
        if self._pass_rows >= PASS_ROWS or self._yielding():
            return False
        return self._ask(self._pace_to, "pace_to")

    def _yielding(self) -> bool:
        return self._ask(self._yield_to, "yield_to")

    def _ask(self, hook: Callable[[], bool] | None, name: str) -> bool:
        """``hook()``, or ``False`` without one; a broken hook never stops deliveries."""
        if hook is None:
            return False
        try:
            return hook()
        except Exception:
            log.debug("outbox %s: %s hook failed", self.channel, name, exc_info=True)
            return False

    def _send_together(self, rows: list[OutboxRow]) -> dict[int, Exception | None]:
        """``deliver_many`` for a pass's rows; a bug in it is every row's error."""
        assert self._deliver_many is not None
        try:
            errors = self._deliver_many(rows)
        except Exception as exc:
            return {row.id: exc for row in rows}
        if len(errors) != len(rows):
            bad = RuntimeError(f"deliver_many answered {len(errors)} of {len(rows)} rows")
            return {row.id: bad for row in rows}
        return {row.id: error for row, error in zip(rows, errors, strict=True)}

    def _attempt_unless_stopping(self, row: OutboxRow, batch: list[int] | None = None) -> str:
        return "stopped" if self._stop.is_set() else self._attempt(row, batch)

    def _attempt(
        self,
        row: OutboxRow,
        batch: list[int] | None = None,
        sent: tuple[Exception | None] | None = None,
    ) -> str:
        outcome = self._try(row, batch, sent)
        if outcome != "done" and self._on_failure is not None:
            try:
                self._on_failure(self.channel, row, outcome == "dead")
            except Exception:
                log.debug("failure hook failed", exc_info=True)
        return outcome

    def _try(
        self,
        row: OutboxRow,
        batch: list[int] | None = None,
        sent: tuple[Exception | None] | None = None,
    ) -> str:
        """Deliver one row and record the outcome; a delivered row's id goes into
        ``batch`` when one is given (the caller marks them done together). ``sent``:
        the row already went out with others, and this is how (``(None,)``: delivered,
        ``(error,)``: what delivering it raised)."""
        if self._at_most_once:
            self._store.mark_sending(row.id)
        try:
            if sent is None:
                self._deliver(row)
            elif sent[0] is not None:
                raise sent[0]
        except CoreAuthError as exc:
            # An expired or rotated token: every event would fail the same way. Keep
            # them (slowly retried) until the token is fixed; never dead-letter them.
            delay = max(self._backoff(row.attempts, None), AUTH_RETRY_SECONDS)
            self._store.mark_retry(row.id, str(exc), time.time() + delay)
            log.error(
                "outbox %s: core refused our token (%s); retry in %.0fs", self.channel, exc, delay
            )
            return "retry"
        except PermanentError as exc:
            self._store.mark_dead(row.id, str(exc))
            log.error("outbox %s: %s %s dead-lettered: %s", self.channel, row.kind, row.key, exc)
            return "dead"
        except (RetryableError, MqError) as exc:
            age = time.time() - row.created_at
            if age > self._give_up_after:
                self._store.mark_dead(row.id, f"gave up after {age:.0f}s: {exc}")
                log.error("outbox %s: %s %s gave up: %s", self.channel, row.kind, row.key, exc)
                return "dead"
            retry_after = exc.retry_after if isinstance(exc, RetryableError) else None
            delay = self._backoff(row.attempts, retry_after)
            self._store.mark_retry(row.id, str(exc), time.time() + delay)
            level = logging.WARNING if row.attempts in (0, 5, 20) else logging.DEBUG
            log.log(
                level,
                "outbox %s: %s %s failed (attempt %d): %s; retry in %.1fs",
                self.channel,
                row.kind,
                row.key,
                row.attempts + 1,
                exc,
                delay,
            )
            return "retry"
        except Exception as exc:  # a bug or a bad row: back off instead of spinning
            delay = self._backoff(row.attempts, None)
            self._store.mark_retry(row.id, f"{type(exc).__name__}: {exc}", time.time() + delay)
            log.exception(
                "outbox %s: %s %s failed unexpectedly; retry in %.1fs",
                self.channel,
                row.kind,
                row.key,
                delay,
            )
            return "retry"
        if batch is not None:
            batch.append(row.id)
        else:
            self._store.mark_done(row.id)
        self.delivered += 1
        return "done"
