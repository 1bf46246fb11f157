"""The edge agent: wires the feed, the kitchen, the command consumer and the outbox.

Concurrency model (threads, chosen once): stomp.py and httpx's sync client are
blocking, so each long-lived activity has one thread —

- ``feed``: long-polls the core and applies orders (``FeedFollower``);
- stomp.py's receiver thread: only hands each command frame to ``commands`` (it also
  services heart-beats, so it never waits on the store);
- ``commands``: applies each command, stores its effect, then acks; while the store
  fails it waits and tries the same frame again (backing off; no reconnect);
- ``outbox-mq``, ``outbox-core``, ``outbox-print``, ``outbox-notify``, ``outbox-report``:
  deliver side effects (``OutboxWorker``), one thread per channel so a slow printer
  never delays a screen;
- ``housekeeping``: clears VOID tickets, prunes delivered outbox rows and, past
  their retention, closed orders, commands and dead rows (``Retention``), reports
  outbox depth and connection gauges.

Every one but stomp.py's runs under one :class:`~edge_agent.supervisor.Supervisor`,
which logs, counts and restarts a thread that dies, and stops the agent (``run`` exits
1) when one cannot be kept alive. They share one :class:`~edge_agent.store.Store`,
whose lock serialises writes.
Adapters are injected, so tests build an ``Agent`` around real peers on loopback.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Mapping
from typing import TypedDict

from edge_agent.access import AccessPolicy
from edge_agent.adapters.core_http import CoreClient
from edge_agent.adapters.stomp_relay import StompRelay
from edge_agent.effects import EffectRules, Effects
from edge_agent.errors import CoreRejected, PermanentError, StoreError
from edge_agent.feed import FeedFollower
from edge_agent.kitchen import Kitchen
from edge_agent.outbox import Channel, Deliver, OutboxWorker
from edge_agent.ports import Metrics, NoMetrics, Notifier, Printer, ReportSink
from edge_agent.retention import Retention
from edge_agent.store import TROUBLE_WAIT_INITIAL, TROUBLE_WAIT_MAX, OutboxRow, Store
from edge_agent.supervisor import RestartPolicy, Supervisor
from shared import wire
from shared.allergy import AllergyRules
from shared.errors import MqError
from shared.mq import Message

log = logging.getLogger("edge.agent")

DONE_RETENTION_SECONDS = 3600.0
#: print and notify keys are kept this long, so a ticket remade hours later (a recall
#: and a new bump) does not text the customer or print the label a second time
KEY_RETENTION_SECONDS = 48 * 3600.0
#: status events to the core under way at once (each order's still go one by one)
CORE_IN_FLIGHT = 4
#: while the feed is in a rush, the rest after each pass of the core's events: each
#: POST takes ~0.5 ms of the interpreter the feed and the screens' publish need
#: (bench.bench_ingest at 1,000 orders/s: 366 orders/s to the screens with the core's
#: events flowing freely, against 530-560 when they were held back)
CORE_RUSH_PAUSE = 2.0
#: outside a rush, while the screens were sent something in the last
#: CORE_PACE_SECONDS, the core's events go in passes of at most this many (two per POST
#: under way), each full pass followed by CORE_PASS_REST of rest: the backlog a rush
#: left (80 events after 2 s) went out in one pass that held the interpreter ~60 ms,
#: and the order that came then reached the screens 15-90 ms late (bench_spine, one
#: order at a time, in-process). With nothing for the screens (a core back after an
#: outage, the rush over) the backlog drains at full speed
CORE_PASS_ROWS = 2 * CORE_IN_FLIGHT
CORE_PASS_REST = 0.01
CORE_PACE_SECONDS = 1.0
#: how long a dead-lettered side effect stays on the screens' problem line
DEAD_SHOWN_SECONDS = 3600.0
#: refused orders with a line of their own on the screens (more are counted in one line)
REFUSED_SHOWN = 3


class _Backoff(TypedDict):
    """The retry schedule every channel but ``mq`` shares."""

    backoff_initial: float
    backoff_max: float
    give_up_after: float


class Agent:
    def __init__(
        self,
        *,
        site_id: str,
        store: Store,
        core: CoreClient,
        relay: StompRelay,
        expo_station: str | None,
        poll_wait_seconds: int = 25,
        void_clear_seconds: float = 300.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        give_up_after: float = 86_400.0,
        housekeeping_interval: float = 5.0,
        alive_interval: float = 5.0,
        quarantine_shown_seconds: float = 3600.0,
        effect_rules: EffectRules | None = None,
        printers: Mapping[str, Printer] | None = None,
        notifier: Notifier | None = None,
        sink: ReportSink | None = None,
        metrics: Metrics | None = None,
        sms_sender_id: str | None = None,
        site_settings: wire.SiteSettings | None = None,
        allergy_rules: AllergyRules | None = None,
        restart_policy: RestartPolicy | None = None,
        retention: Retention | None = None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.site_id = site_id
        self.store = store
        self.core = core
        self.relay = relay
        self.printers: dict[str, Printer] = dict(printers or {})
        self.notifier = notifier
        self.sink = sink
        self.metrics: Metrics = metrics or NoMetrics()
        self._quarantine_shown = quarantine_shown_seconds
        #: why the agent stopped itself (a thread that could not be kept alive), or None
        self.failure: str | None = None
        self.supervisor = Supervisor(
            restart_policy, metrics=self.metrics, on_give_up=self._on_thread_lost
        )
        self._sender_id = sms_sender_id
        self.effects = Effects(
            store,
            effect_rules or EffectRules(site_id=site_id),
            self.metrics,
            # the configured [aging] rules (as the kitchen publishes them) for tickets.late
            site_settings=site_settings or wire.SiteSettings(expo_station=expo_station or ""),
        )
        self.kitchen = Kitchen(
            store,
            site_id,
            expo_station=expo_station,
            on_change=self._wake,
            effects=self.effects,
            settings=site_settings,
            allergy_rules=allergy_rules,
            metrics=self.metrics,
            access=access,
        )
        #: set after every pass of the state topic's outbox (the feed waits on it)
        self._published = threading.Event()
        #: the state topic's deliveries when last counted, and when that count last grew
        self._mq_delivered = 0
        self._last_publish = -CORE_PACE_SECONDS
        self.feed = FeedFollower(
            core,
            self.kitchen,
            store,
            wait_seconds=poll_wait_seconds,
            published=self._published,
        )
        common = _Backoff(
            backoff_initial=backoff_initial, backoff_max=backoff_max, give_up_after=give_up_after
        )
        # The MQ channel is ordered and only waits on the local broker: retry it quickly.
        self.mq_outbox = OutboxWorker(
            store,
            Channel.MQ,
            self._deliver_mq,
            deliver_many=self._deliver_mq_many,
            after_pass=self._wake_others,
            ordered=True,
            backoff_initial=min(backoff_initial, 0.25),
            backoff_max=min(backoff_max, 5.0),
            give_up_after=give_up_after,
            on_idle=self._publish_alive,
            idle_interval=alive_interval,
        )
        self._alive_interval = alive_interval
        # Status events to the core: one order's go in order, different orders' up to
        # CORE_IN_FLIGHT at a time (the transport is thread-safe). While the feed is in
        # a rush the screens go first: one pass, then CORE_RUSH_PAUSE of rest.
        self.core_outbox = OutboxWorker(
            store,
            Channel.CORE,
            self._deliver_core,
            ordered=False,
            in_flight=CORE_IN_FLIGHT,
            yield_to=self.feed.in_rush,
            yield_pause=CORE_RUSH_PAUSE,
            pass_rows=CORE_PASS_ROWS,
            pass_rest=CORE_PASS_REST,
            pace_to=self._screens_busy,
            **common,
        )
        # Side effects outside the kitchen: one worker per channel that has an adapter.
        # Rows of a channel without one stay pending (and show in `outbox`/`doctor`).
        self.side_outboxes: list[OutboxWorker] = []
        # Customer texts are at most once: a crash mid-send never texts twice.
        side: tuple[tuple[Channel, Deliver, bool, bool], ...] = (
            (Channel.PRINT, self._deliver_print, bool(self.printers), False),
            (Channel.NOTIFY, self._deliver_notify, notifier is not None, True),
            (Channel.REPORT, self._deliver_report, sink is not None, False),
        )
        for channel, deliver, wanted, at_most_once in side:
            if wanted:
                self.side_outboxes.append(
                    OutboxWorker(
                        store,
                        channel,
                        deliver,
                        ordered=False,
                        on_failure=self._on_delivery_failure,
                        at_most_once=at_most_once,
                        **common,
                    )
                )
        self._void_clear_seconds = void_clear_seconds
        self._housekeeping_interval = housekeeping_interval
        self._retention = retention or Retention(store)
        self._stop = threading.Event()
        self._housekeeper: threading.Thread | None = None
        #: command frames from stomp.py's receiver thread, for the ``commands`` thread
        #: (at most the subscription's prefetch: the broker holds the rest)
        self._commands: queue.Queue[Message] = queue.Queue()
        self._frames_received = 0
        self._frames_handled = 0
        #: the seq of the last ``agent.alive``
        self._alive_seq = 0
        #: store failures already counted in the ``store.errors`` metric, by kind
        self._store_errors_reported: dict[str, int] = {}

    # --- lifecycle ----------------------------------------------------------------------

    def start(self) -> Agent:
        log.info(
            "agent for site %s starting: store %s, seq %d",
            self.site_id,
            self.store.path,
            self.store.current_seq(),
        )
        access = self.kitchen.access
        if access.enabled and access.settings.identity == "broker":
            log.info("access: %s", access.describe())
        else:  # said at every start (and by doctor): a kitchen must know
            log.warning("access: %s", access.describe())
        self.relay.on_state_change(self._on_mq_state)
        self.relay.consume_commands(self._on_command)
        self.relay.start(self.supervisor.spawn)
        self.mq_outbox.start(self.supervisor)
        self.core_outbox.start(self.supervisor)
        for worker in self.side_outboxes:
            worker.start(self.supervisor)
        self.feed.start(self.supervisor)
        self.supervisor.spawn("commands", self._command_loop)
        self._housekeeper = self.supervisor.spawn("housekeeping", self._housekeeping)
        return self

    def close(self) -> None:
        """Stop every thread; stored work stays in the outbox for the next start."""
        self._stop.set()
        self.supervisor.stop()
        if self.commands_in_hand():
            log.info(
                "%d command frames left unacked; the broker redelivers them",
                self.commands_in_hand(),
            )
        self.feed.close()
        self.mq_outbox.close()
        self.core_outbox.close()
        for worker in self.side_outboxes:
            worker.close()
        if self._housekeeper is not None:
            self._housekeeper.join(5)
        self.relay.close()
        self.core.close()
        adapters: list[Printer | Notifier | ReportSink | Metrics] = [
            *self.printers.values(),
            *(a for a in (self.notifier, self.sink) if a is not None),
            self.metrics,
        ]
        for adapter in adapters:
            try:
                adapter.close()
            except Exception:
                log.exception("closing %s failed", type(adapter).__name__)
        log.info("agent for site %s stopped", self.site_id)

    def __enter__(self) -> Agent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)

    def stop(self) -> None:
        self._stop.set()

    def _on_thread_lost(self, reason: str) -> None:
        """A supervised thread could not be kept alive: stop (``run`` then exits 1)."""
        self.failure = reason
        self._stop.set()

    # --- wiring -------------------------------------------------------------------------

    def _wake(self) -> None:
        """Something was stored for delivery: the screens first. The state topic's
        worker is woken now and wakes the other channels (core, printers, texts,
        reporting) after its pass, so their work does not compete with the publish a
        cook is waiting for (one order to screen: p50 6.5 -> 5.3 ms, bench_spine)."""
        self.mq_outbox.wake()

    def _wake_others(self) -> None:
        delivered = self.mq_outbox.delivered
        if delivered != self._mq_delivered:
            self._mq_delivered = delivered
            self._last_publish = time.monotonic()
        self._published.set()
        self.core_outbox.wake()
        for worker in self.side_outboxes:
            worker.wake()

    def _screens_busy(self) -> bool:
        """The state topic was sent something in the last CORE_PACE_SECONDS."""
        return time.monotonic() - self._last_publish < CORE_PACE_SECONDS

    def _on_mq_state(self, up: bool) -> None:
        if up:
            self.mq_outbox.wake()

    def _on_command(self, message: Message) -> None:
        """Runs on stomp.py's receiver thread: hand the frame on, nothing more."""
        self._frames_received += 1  # only this thread counts these
        self._commands.put(message)

    def commands_in_hand(self) -> int:
        """Command frames received and not yet handled (stored and acked, or left)."""
        return self._frames_received - self._frames_handled

    def _command_loop(self) -> None:
        """The ``commands`` thread: each frame in arrival order, stored, then acked."""
        while not self._stop.is_set():
            try:
                message = self._commands.get(timeout=0.5)
            except queue.Empty:
                continue
            try:
                self._handle_command(message)
            finally:
                self._frames_handled += 1  # only this thread counts these

    def _handle_command(self, message: Message) -> None:
        log.debug(
            "command frame %s (reply-to %s, redelivered %s)",
            message.headers.get("message-id"),
            message.reply_to,
            message.redelivered,
        )
        wait = TROUBLE_WAIT_INITIAL
        while True:
            try:
                result = self.kitchen.handle_command(
                    message.body, message.reply_to, message.headers
                )
                break
            except StoreError as exc:
                # Nothing was stored and the frame stays unacked. Try it again after a
                # while (the frames behind it wait: commands apply in order); a stop
                # leaves it to the broker, which redelivers it to the next start.
                log.warning("command not stored (%s); trying again in %.1fs", exc, wait)
                if self._stop.wait(wait):
                    return
                wait = min(wait * 2, TROUBLE_WAIT_MAX)
            except Exception as exc:  # a bug on a frame we cannot handle: never loop on it
                log.exception("command frame could not be handled; dead-lettered")
                try:
                    self.store.dead_letter(
                        "commands", f"internal: {type(exc).__name__}", message.body
                    )
                except StoreError as store_exc:
                    log.warning("dead letter not stored (%s); again in %.1fs", store_exc, wait)
                    if self._stop.wait(wait):
                        return
                    wait = min(wait * 2, TROUBLE_WAIT_MAX)
                    continue
                result = None
                break
        if result is not None and result.tickets is not None and message.reply_to:
            # Snapshots are read-only and can be large: answer directly, not via the outbox.
            try:
                self.relay.reply(message.reply_to, wire.encode(result))
            except MqError as exc:
                log.warning("snapshot reply to %s failed: %s", message.reply_to, exc)
        self.relay.ack(message)
        self.mq_outbox.wake()

    def _deliver_mq(self, row: OutboxRow) -> None:
        if self._expired_reply(row):
            return  # nobody waits for it any more
        self.relay.publish(row.dest, row.body, row.headers)

    def _deliver_mq_many(self, rows: list[OutboxRow]) -> list[Exception | None]:
        """A pass of the state topic's outbox: published back to back, one wait for
        all their RECEIPTs (a Friday burst's ingest was one round trip per message)."""
        send = [row for row in rows if not self._expired_reply(row)]
        errors = iter(self.relay.publish_many([(r.dest, r.body, r.headers) for r in send]))
        sent = {row.id for row in send}
        return [next(errors) if row.id in sent else None for row in rows]

    @staticmethod
    def _expired_reply(row: OutboxRow) -> bool:
        if row.kind != "reply":
            return False
        expires = int(row.headers.get("expires", "0") or 0)
        return bool(expires) and expires < time.time() * 1000

    def _publish_alive(self) -> None:
        """``agent.alive`` with the last *published* seq (runs on the mq outbox thread)."""
        if not self.relay.connected:
            return
        try:
            seq = self.store.current_seq()
            if self.store.trouble is None and self.store.pending(Channel.MQ, limit=1):
                return  # rows up to ``seq`` are not all out yet; they are news enough
        except StoreError as exc:
            if not exc.is_trouble:
                raise
            seq = self._alive_seq  # the last one read: the screens see no false gap
            log.debug("agent.alive with the last seq read: %s", exc)
        self._alive_seq = seq
        message = wire.AgentAlive(
            site_id=self.site_id,
            seq=seq,
            interval_seconds=self._alive_interval,
            problems=tuple(line[:200] for line in self.problems()),
            epoch=self.store.epoch,
        )
        try:
            self.relay.announce(wire.encode(message))
        except MqError as exc:
            log.debug("agent.alive not sent: %s", exc)

    def problems(self) -> list[str]:
        """Short lines for the screens: stuck printers and texts, the core, dead letters."""
        try:
            found = self._problems()
        except StoreError:
            found = []  # a damaged or failing store: its alarm says enough
        trouble = self.store.trouble
        if trouble is not None:
            found.insert(0, trouble.headline)
        return found[:8]

    def _problems(self) -> list[str]:
        found: list[str] = []
        for channel, dest, count, error in self.store.stuck_destinations(min_attempts=1):
            if channel == Channel.PRINT:
                what = f"printer {dest}"
            elif channel == Channel.NOTIFY:
                what = "customer texts"
            elif channel == Channel.REPORT:
                what = "reporting"
            elif channel == Channel.CORE:
                what = "status to the core"
            else:
                continue
            reason = (error or "failing").split(": ")[-1][:80]
            found.append(f"{what}: {reason} ({count} waiting)")
        if not self.feed.connected:
            found.append("no orders from the core: " + (self.feed.last_error or "unreachable")[:80])
        found.extend(self._refused_orders())
        dead = self.store.recent_dead(time.time() - DEAD_SHOWN_SECONDS)
        if dead:
            found.append(
                f"{dead} side effects failed for good in the last hour: "
                "run edge-agent outbox --dead"
            )
        return found

    def _refused_orders(self) -> list[str]:
        """One line per quarantined order nobody has dealt with yet (the newest first)."""
        refused = self.store.quarantined(unresolved_since=time.time() - self._quarantine_shown)
        lines = [
            f"order {q['label']} refused: {q['summary']}"[:160]
            for q in reversed(refused[-REFUSED_SHOWN:])
        ]
        if len(refused) > REFUSED_SHOWN:
            lines.append(
                f"{len(refused) - REFUSED_SHOWN} more orders refused: "
                "run edge-agent quarantine list"
            )
        return lines

    def _deliver_core(self, row: OutboxRow) -> None:
        body = json.loads(row.body)
        if row.kind == "event":
            try:
                self.core.post_event(row.dest, body, idempotency_key=row.key)
            except CoreRejected as exc:
                if exc.status != 409:
                    raise
                # The core moved the order on first (cancelled it, say): its word wins and
                # the feed brings it. Not a failure to show on every screen for an hour.
                log.info(
                    "core refused %s event %s for order %s as %s (%s); the core's state wins",
                    body.get("type"),
                    row.key,
                    row.dest,
                    exc.code,
                    exc.detail,
                )
                self.metrics.increment("core.events_superseded", tags={"code": exc.code})
        elif row.kind == "availability":
            self.core.set_availability(row.dest, bool(body["available"]))
        else:
            raise CoreRejected(0, "unknown_kind", f"outbox row kind {row.kind!r}")

    def _deliver_print(self, row: OutboxRow) -> None:
        from edge_agent.printing import render_label, render_ticket
        from shared.model import Ticket

        printer = self.printers.get(row.dest)
        if printer is None:
            raise PermanentError(f"no printer configured for {row.dest!r} any more")
        body = json.loads(row.body)
        ticket = Ticket.model_validate(body["ticket"])
        if body["kind"] == "label":
            receipt = render_label(ticket, body.get("first_name", ""))
        else:
            receipt = render_ticket(ticket, body["station"])
        printer.print(receipt, job_id=row.key)

    def _deliver_notify(self, row: OutboxRow) -> None:
        if self.notifier is None:  # pragma: no cover - no worker without a notifier
            raise PermanentError("no notifier configured any more")
        body = json.loads(row.body)
        if row.kind == "sms":
            self.notifier.send_sms(
                body["phone"], body["text"], dedup_id=row.key, sender_id=self._sender_id
            )
        else:
            self.notifier.publish(
                body["topic_arn"], body["text"], body["attributes"], dedup_id=row.key
            )

    def _deliver_report(self, row: OutboxRow) -> None:
        if self.sink is None:  # pragma: no cover - no worker without a sink
            raise PermanentError("no report sink configured any more")
        event = json.loads(row.body)
        self.sink.send(
            str(event["order_id"]),
            row.body,
            {"event_id": str(event["event_id"]), "type": str(event["type"])},
        )

    def _on_delivery_failure(self, channel: Channel, row: OutboxRow, dead: bool) -> None:
        tags = {"channel": channel, "kind": row.kind, "final": "true" if dead else "false"}
        if channel == Channel.PRINT:
            tags["station"] = row.dest
        self.metrics.increment(f"{channel}.failures", tags=tags)

    def _housekeeping(self) -> None:
        while not self._stop.wait(self._housekeeping_interval):
            try:
                self.kitchen.clear_voids(self._void_clear_seconds)
                now = time.time()
                self.store.prune_done(
                    now - DONE_RETENTION_SECONDS, keep_keys_until=now - KEY_RETENTION_SECONDS
                )
                self._retention.maybe_prune()  # closed orders, commands, dead rows: [store]
            except StoreError as exc:
                if not exc.is_trouble:
                    log.exception("housekeeping failed")
            except Exception:
                log.exception("housekeeping failed")
            try:
                self._report_gauges()
            except Exception:
                log.exception("reporting gauges failed")

    def _report_gauges(self) -> None:
        now = time.time()
        depths = self.store.outbox_depths()
        channels = {Channel.MQ, Channel.CORE, *(w.channel for w in self.side_outboxes)}
        for channel in sorted(channels | set(depths)):
            depth, oldest = depths.get(channel, (0, None))
            self.metrics.gauge("outbox.depth", depth, tags={"channel": channel})
            age = now - oldest if oldest is not None else 0.0
            self.metrics.gauge("outbox.oldest_age", age, tags={"channel": channel})
        self.metrics.gauge("store.healthy", 0 if self.store.trouble else 1)
        for kind, count in sorted(self.store.error_counts.items()):
            new = count - self._store_errors_reported.get(kind, 0)
            if new > 0:
                self.metrics.increment("store.errors", new, tags={"kind": kind})
                self._store_errors_reported[kind] = count
        self.metrics.gauge("connection.broker", 1 if self.relay.connected else 0)
        self.metrics.gauge("connection.core", 1 if self.feed.connected else 0)
