"""The kitchen: the single writer of ticket state for its site.

Orders from the core and commands from the displays come in here. Each change is
one store transaction holding the new ticket, the next state ``seq``, and the
outbox rows for its side effects (the ``ticket.*`` publish, the ``command.result``
reply, the core status event). Nothing leaves the process from here: the outbox
workers deliver.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from edge_agent.access import AccessPolicy, AccessSettings, Forbidden
from edge_agent.adapters.feed_json import decode_order
from edge_agent.effects import EffectRules, Effects
from edge_agent.errors import StoreError
from edge_agent.outbox import Channel
from edge_agent.ports import Metrics, NoMetrics
from edge_agent.store import Store
from shared import state, wire, wire_form
from shared.allergy import AllergyRules
from shared.errors import BadRequest, CommandRefused, UnknownTicket, UnsupportedVersion, WireError
from shared.model import (
    MAX_INT64,
    ItemStatus,
    Order,
    OrderStatus,
    Ticket,
    TicketStatus,
    UndecodedOrder,
    format_time,
    parse_order,
    utcnow,
)

log = logging.getLogger("edge.kitchen")
#: what happened to each order from the feed (accepted, updated, quarantined)
feed_log = logging.getLogger("edge.feed")

SHOWN = (
    TicketStatus.ACCEPTED.value,
    TicketStatus.IN_PROGRESS.value,
    TicketStatus.READY.value,
    TicketStatus.CANCELLED.value,
)
#: stored status of a ticket that has left every screen (picked up, VOID cleared)
CLEARED = "cleared"
SETTINGS_KEY = "site_settings"


@dataclass(frozen=True)
class OrderOutcome:
    """What :meth:`Kitchen.apply_order` did with one feed entry."""

    action: str  # created, updated, duplicate, quarantined, ignored
    order_id: str | None = None
    #: what the feed log says once the order is committed (empty: nothing)
    note: str = ""


def order_identity(raw: Any) -> tuple[str | None, int | None, str | None]:
    """``(id, version, display number)`` of a feed entry, as far as they can be read (a
    version SQLite cannot hold is left out)."""
    if isinstance(raw, UndecodedOrder):
        return raw.order_id, raw.version, raw.display_number
    fields = raw if isinstance(raw, dict) else {}
    order_id, version, number = (
        fields.get("id"),
        fields.get("version"),
        fields.get("display_number"),
    )
    if not isinstance(version, int) or isinstance(version, bool) or abs(version) > MAX_INT64:
        version = None
    return (
        order_id if isinstance(order_id, str) else None,
        version,
        number if isinstance(number, str) else None,
    )


def refusal_summary(exc: WireError) -> str:
    """The reason of a refusal for a screen: its first field and problem."""
    text = str(exc)
    if text.startswith("invalid order ") and ": " in text:
        text = text.split(": ", 1)[1]
    return text.split("; ")[0][:140]


def quarantine_body(raw: Any) -> str:
    """The text kept of a refused entry: its JSON (undecodable ones as received, invalid
    UTF-8 as ``\\x..`` escapes), at most 64 KiB."""
    if isinstance(raw, UndecodedOrder):
        text = raw.text
    else:
        try:
            text = json.dumps(raw)
        except (TypeError, ValueError, RecursionError):
            text = repr(raw)
    encoded = text[:65536].encode("utf-8", "surrogateescape")
    return encoded.decode("utf-8", "backslashreplace")


class Kitchen:
    def __init__(
        self,
        store: Store,
        site_id: str,
        *,
        expo_station: str | None,
        clock: Callable[[], datetime] = utcnow,
        on_change: Callable[[], None] | None = None,
        effects: Effects | None = None,
        settings: wire.SiteSettings | None = None,
        allergy_rules: AllergyRules | None = None,
        metrics: Metrics | None = None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.store = store
        self.access = access or AccessPolicy(AccessSettings(), site_id, expo_station=expo_station)
        self.metrics: Metrics = metrics or NoMetrics()
        self.allergy_rules = allergy_rules or AllergyRules()
        self.effects = effects or Effects(store, EffectRules(site_id=site_id))
        self.site_id = site_id
        self.expo_station = expo_station or None
        self._clock = clock
        self._on_change = on_change or (lambda: None)
        self._configure(settings or wire.SiteSettings(expo_station=expo_station or ""))

    # --- the site's shared settings (aging, folds, out of stock) ------------------------

    def settings(self) -> wire.SiteSettings:
        stored = self.store.get_meta(SETTINGS_KEY)
        if stored:
            return wire.SiteSettings.model_validate_json(stored)
        return wire.SiteSettings(expo_station=self.expo_station or "")

    def _configure(self, configured: wire.SiteSettings) -> None:
        """At start: the config's aging and expo win; folds and 86s live on in the store."""
        with self.store.transaction():
            current = self.settings()
            wanted = current.model_copy(
                update={
                    "expo_station": configured.expo_station,
                    "allergen_gate": False,  # legacy field: older screens keep to v1
                    "allergy_gate": configured.allergy_gate,
                    "aging": configured.aging,
                    "aging_brands": configured.aging_brands,
                    "aging_channels": configured.aging_channels,
                    "aging_stations": configured.aging_stations,
                }
            )
            if self.store.get_meta(SETTINGS_KEY) is None:
                # first start: no screen has seen anything yet; snapshots carry them
                self.store.set_meta(SETTINGS_KEY, wanted.model_dump_json())
            elif wanted != current:
                self._publish_settings(wanted)

    def _publish_settings(self, settings: wire.SiteSettings) -> None:
        self.store.set_meta(SETTINGS_KEY, settings.model_dump_json())
        seq = self.store.next_seq()
        message = wire.SettingsUpdated(
            site_id=self.site_id,
            seq=seq,
            at=self._clock(),
            settings=wire_form.wire_settings(settings),
        )
        self._enqueue_state(seq, message)

    # --- orders from the core ----------------------------------------------------------

    def validate_order(self, raw: Any) -> Order:
        """The order of a feed entry, or :class:`WireError` naming the field."""
        order = parse_order(raw)
        if order.site_id != self.site_id:
            raise WireError(
                f"order {order.id} is for site {order.site_id!r}, not {self.site_id!r}",
                field="site_id",
            )
        return order

    def apply_order(self, raw: Any) -> OrderOutcome:
        """Store one order from the feed; bad ones are quarantined, never raised."""
        [outcome] = self.apply_page([raw])
        return outcome

    def apply_page(
        self, raws: Sequence[Any], then: Callable[[], None] | None = None
    ) -> list[OrderOutcome]:
        """Store a page of orders from the feed in one transaction (one commit, one
        turn of the store's lock, however many orders), ``then`` inside it too (the
        feed's cursor: the page and the cursor commit together). Each order is a
        savepoint: one that cannot be applied is undone alone and quarantined, the
        others stay. A :class:`StoreError` (the disk, not the orders) undoes the whole
        page, which the feed fetches again later. The feed log's notes and the outbox
        wake-up come once the page is committed."""
        with self.store.transaction():
            outcomes = [self._apply_order(raw) for raw in raws]
            if then is not None:
                then()
        if outcomes:
            self._on_change()  # wakes the outbox: what the page enqueued goes out now
        for outcome in outcomes:
            if outcome.note:
                feed_log.info("%s", outcome.note)  # only once it is committed
        return outcomes

    def _apply_order(self, raw: Any) -> OrderOutcome:
        try:
            order = self.validate_order(raw)
        except WireError as exc:
            return self._quarantine(raw, exc)
        try:
            with self.store.transaction():
                known = self.store.order_version(order.id)
                if known is not None and known >= order.version:
                    return OrderOutcome("duplicate", order.id)
                self.store.put_order(order.id, order.version, raw)
                if self.store.ticket_status(order.id) == CLEARED:
                    # picked up, or a VOID already cleared: later versions change nothing
                    return OrderOutcome("ignored", order.id)
                existing = self._load(order.id)
                return self._create(order) if existing is None else self._merge(existing, order)
        except StoreError:
            raise  # the disk, not the order: the feed retries this page later (unlogged)
        except Exception as exc:  # the order passed validation but cannot be applied
            log.exception("order %s v%d could not be applied", order.id, order.version)
            return self._quarantine(
                raw, WireError(f"order {order.id} could not be applied: {type(exc).__name__}")
            )

    def _create(self, order: Order) -> OrderOutcome:
        if order.status in (OrderStatus.CANCELLED, OrderStatus.PICKED_UP):
            feed_log.info(
                "order %s v%d arrives %s: not shown", order.id, order.version, order.status
            )
            return OrderOutcome("ignored", order.id)
        ticket = state.ticket_from_order(order, self._clock(), self.allergy_rules)
        self._save_and_publish(ticket)
        self._core_status(ticket.id, "accepted", actor="agent")
        self._life(ticket, "received")
        note = (
            f"order {order.id} v{order.version} accepted: {order.brand.name} "
            f"{order.display_number}, {len(order.items)} lines"
        )
        return OrderOutcome("created", order.id, note)

    def _merge(self, ticket: Ticket, order: Order) -> OrderOutcome:
        if not ticket.is_open and ticket.status is not TicketStatus.CANCELLED:
            return OrderOutcome("ignored", order.id)
        transition = state.merge_order(ticket, order, self._clock(), self.allergy_rules)
        if not transition.changed:
            return OrderOutcome("duplicate", order.id)
        new = transition.ticket
        if new.status is TicketStatus.PICKED_UP:
            self._save_and_publish(new, removed_reason="picked_up")
        else:
            self._save_and_publish(new)
        if transition.status_changed and new.status in (
            TicketStatus.CANCELLED,
            TicketStatus.PICKED_UP,
        ):
            self._life(new, new.status.value)
        note = f"order {order.id} now v{order.version} ({new.status})"
        return OrderOutcome("updated", order.id, note)

    def close_missing(self, open_ids: set[str]) -> int:
        """After a resync: tickets the core no longer lists as open are closed by the core."""
        closed = 0
        with self.store.transaction():
            for body in self.store.tickets_json(SHOWN):
                ticket = Ticket.model_validate_json(body)
                if ticket.id in open_ids:
                    continue
                status = (
                    TicketStatus.CANCELLED
                    if ticket.status is not TicketStatus.READY
                    else (TicketStatus.PICKED_UP)
                )
                gone = ticket.model_copy(update={"status": status})
                self._save_and_publish(gone, removed_reason="closed_by_core")
                closed += 1
        if closed:
            self._on_change()
        return closed

    def _quarantine(self, raw: Any, exc: WireError) -> OrderOutcome:
        order_id, version, number = order_identity(raw)
        self.store.quarantine(
            order_id,
            version,
            exc.field,
            str(exc),
            quarantine_body(raw),
            label=number or order_id or "",
            summary=refusal_summary(exc),
        )
        self.metrics.increment("orders.quarantined")
        feed_log.error(
            "quarantined order %s v%s: field %s: %s",
            order_id or "(no id)",
            version if version is not None else "?",
            exc.field or "(body)",
            exc,
        )
        return OrderOutcome("quarantined", order_id)

    def release(self, qid: int) -> OrderOutcome:
        """Apply a quarantined order again through the same validation (the rules may
        have become more lenient since); :class:`WireError` says why it still fails."""
        entry = self.store.quarantine_entry(qid)
        if entry is None:
            raise WireError(f"no quarantined order #{qid}")
        if entry["resolved"]:
            raise WireError(f"quarantined order #{qid} was {entry['resolved']} already")
        raw = decode_order(entry["body"])
        self.validate_order(raw)
        with self.store.transaction():
            outcome = self.apply_order(raw)
            self.store.resolve_quarantine(qid, "released")
        feed_log.info("quarantined order #%d released: %s", qid, outcome.action)
        return outcome

    # --- commands from displays --------------------------------------------------------

    def handle_command(
        self, raw: bytes, reply_to: str | None, headers: Mapping[str, str] | None = None
    ) -> wire.CommandResult | None:
        """Apply one command frame exactly once; returns its result (also queued as reply).

        A repeated ``command_id`` gets the stored result again and changes nothing.
        ``snapshot`` is answered from the store and never stored. ``headers`` are the
        frame's (the broker's ``JMSXUserID`` names the sender, see ``[access]``); a
        ``reply-to`` the agent does not write to is dropped with a warning.
        """
        if reply_to:
            refusal = self.access.reply_refusal(reply_to)
            if refusal is not None:
                log.warning("no answer to reply-to %r: %s", reply_to[:200], refusal)
                self.metrics.increment("commands.reply_refused")
                reply_to = None
        try:
            command = wire.parse_command(raw)
        except WireError as exc:
            return self._bad_frame(raw, exc, reply_to)
        if command.site_id != self.site_id:
            result = wire.error_result(
                self.site_id,
                command.command_id,
                "bad_request",
                f"command for site {command.site_id!r} sent to site {self.site_id!r}",
            )
            self._reply(result, reply_to, key=f"reply:{command.command_id}:{wire.new_id()}")
            return result
        refused = self._authorise(command, headers or {})
        if refused is not None:
            self._reply(refused, reply_to, key=f"reply:{command.command_id}:{wire.new_id()}")
            return refused
        if isinstance(command, wire.SnapshotCommand):
            return self.snapshot(command.command_id)
        with self.store.transaction():
            stored = self.store.command_result(command.command_id)
            if stored is not None:
                result = wire.parse_result(stored)
                log.info("command %s repeated: same result, no effect", command.command_id)
                self._reply(result, reply_to, key=f"reply:{command.command_id}:{wire.new_id()}")
                return result
            result = self._apply(command)
            self.store.put_command(
                command.command_id,
                command.type,
                wire.encode(command).decode(),
                wire.encode(result).decode(),
            )
            self._reply(result, reply_to, key=f"reply:{command.command_id}")
        self._on_change()
        return result

    def _authorise(
        self, command: wire.AnyCommand, headers: Mapping[str, str]
    ) -> wire.CommandResult | None:
        """The refusal when the sender's role may not send ``command`` (not stored)."""
        if not self.access.enabled:
            return None
        sender = self.access.sender(headers, command)
        ticket = None
        if isinstance(command, wire.TicketCommand):
            with self.store.transaction(write=False):
                ticket = self._load(command.ticket_id)
        try:
            self.access.check(sender, command, ticket, self.settings().folds)
        except Forbidden as exc:
            log.warning("command %s %s refused: %s", command.type, command.command_id, exc)
            self.metrics.increment("commands.forbidden")
            return wire.error_result(
                self.site_id, command.command_id, exc.code, str(exc), reason="forbidden"
            )
        return None

    def _bad_frame(
        self, raw: bytes, exc: WireError, reply_to: str | None
    ) -> wire.CommandResult | None:
        self.store.dead_letter("commands", str(exc), bytes(raw))
        log.warning("refused command frame: %s", exc)
        command_id = wire.peek_command_id(raw)
        if command_id is None:
            return None
        code = "unsupported_version" if isinstance(exc, UnsupportedVersion) else "bad_request"
        result = wire.error_result(self.site_id, command_id, code, str(exc))
        self._reply(result, reply_to, key=f"reply:{command_id}:{wire.new_id()}")
        return result

    def _apply(self, command: wire.AnyCommand) -> wire.CommandResult:
        ok = wire.CommandResult(site_id=self.site_id, command_id=command.command_id, ok=True)
        try:
            if isinstance(command, wire.SetAvailabilityCommand):
                self._enqueue_core(
                    "availability",
                    f"avail:{command.command_id}",
                    command.sku,
                    {"available": command.available},
                )
                self._track_availability(command.sku, command.available)
                log.info(
                    "86 %s -> available=%s (%s)", command.sku, command.available, command.display_id
                )
                return ok
            if isinstance(command, wire.FoldStationsCommand):
                self._fold(command.folds)
                return ok
            if isinstance(command, wire.SnapshotCommand):  # answered before, never stored
                raise BadRequest("a snapshot changes nothing")
            ticket = self._load(command.ticket_id)
            if (
                ticket is None
                or not (ticket.is_open or ticket.status is TicketStatus.CANCELLED)
                or self.store.ticket_status(ticket.id) == CLEARED
            ):
                raise UnknownTicket(f"no open ticket {command.ticket_id}")
            self._transition(ticket, command)
        except CommandRefused as exc:
            log.info("command %s %s refused: %s", command.type, command.command_id, exc)
            return wire.error_result(self.site_id, command.command_id, exc.code, str(exc))
        return ok

    def _transition(self, ticket: Ticket, command: wire.TicketCommand) -> None:
        now = self._clock()
        station = command.station
        actor = f"display:{command.display_id}" if command.display_id else "display"
        # v1 commands are never refused for allergy reasons unless the site opts in
        gate = self.settings().allergy_gate == "enforce"
        needs_station = (
            wire.StartCommand
            | wire.BumpCommand
            | wire.RecallCommand
            | wire.ReprintCommand
            | wire.AckAllergensCommand
            | wire.AckVoidCommand
        )
        if isinstance(command, needs_station) and not station:
            raise BadRequest(f"{command.type} needs the display's 'station'")
        match command:
            case wire.StartCommand():
                result = state.start(
                    ticket, station, now, expo_station=self.expo_station, allergen_gate=gate
                )
            case wire.BumpCommand():
                result = state.bump(
                    ticket, station, now, expo_station=self.expo_station, allergen_gate=gate
                )
                self.store.set_last_bump(ticket.id, station, list(result.bumped_lines))
            case wire.RecallCommand():
                last = self.store.last_bump(ticket.id, station)
                result = state.recall(
                    ticket, station, now, expo_station=self.expo_station, last_bump=last
                )
                self.store.set_last_bump(ticket.id, station, None)
            case wire.ItemDoneCommand():
                result = state.item_done(
                    ticket,
                    command.line_id,
                    now,
                    expo_station=self.expo_station,
                    allergen_gate=gate,
                )
            case wire.ItemUndoCommand():
                result = state.item_undo(ticket, command.line_id, now)
            case wire.PrioritizeCommand():
                result = state.prioritize(ticket, command.priority)
            case wire.PickedUpCommand():
                result = state.picked_up(ticket, now)
            case wire.AckAllergensCommand():
                result = state.ack_allergens(
                    ticket, station, now, display_id=command.display_id or ""
                )
            case wire.AckVoidCommand():
                result = state.ack_void(ticket, station)
                if result.changed and self._void_seen_everywhere(result.ticket):
                    self._save_and_publish(result.ticket, removed_reason="cancelled")
                    return
            case wire.ItemUnavailableCommand():
                result = state.item_unavailable(ticket, command.line_id)
                item = next(i for i in result.ticket.items if i.line_id == command.line_id)
                event = self._event("unavailable", sku=item.sku, actor=actor, station=station)
                self._enqueue_core("event", event["event_id"], ticket.id, event)
                self.effects.on_item_unavailable(result.ticket, item)
            case wire.ReprintCommand():
                if not self.effects.reprint(ticket, station, command.kind, command.command_id):
                    raise BadRequest(f"no printer for {command.kind}s at station {station!r}")
                return
            case _:  # pragma: no cover - parse_command admits only the types above
                raise BadRequest(f"unsupported command {command.type}")
        if not result.changed:
            return
        new = result.ticket
        removed = "picked_up" if new.status is TicketStatus.PICKED_UP else None
        self._save_and_publish(new, removed_reason=removed)
        for kind in _lifecycle_kinds(command, ticket, new, self.expo_station):
            self._life(new, kind, station=station, before=ticket, actor=command.display_id or "")
        if result.status_changed:
            self._core_status(new.id, new.status.value, actor=actor, station=station)
        for line_id, item_status in result.item_changes:
            if item_status is ItemStatus.DONE or isinstance(
                command, wire.ItemUndoCommand | wire.RecallCommand
            ):
                self._core_item(new.id, line_id, item_status.value, actor=actor, station=station)

    # --- snapshot and housekeeping -----------------------------------------------------

    def snapshot(self, command_id: str) -> wire.CommandResult:
        """Every ticket a screen shows, with the ``seq`` it is consistent with."""
        with self.store.transaction(write=False):
            seq = self.store.current_seq()
            tickets = tuple(Ticket.model_validate_json(b) for b in self.store.tickets_json(SHOWN))
            settings = self.settings()
        result = wire.CommandResult(
            site_id=self.site_id,
            command_id=command_id,
            ok=True,
            seq=seq,
            tickets=(),
            settings=wire_form.wire_settings(settings),
            epoch=self.store.epoch,
        )
        # v1: every ticket in one answer; within the budget, each cut as far as needed
        room = wire_form.DISPLAY_MESSAGE_BYTES - len(wire.encode(result))
        result = result.model_copy(update={"tickets": wire_form.wire_tickets(tickets, room)})
        size = len(wire.encode(result))
        if size > wire_form.DISPLAY_MESSAGE_BYTES:
            log.error(
                "snapshot of %d tickets takes %d bytes even with every ticket cut to its "
                "least (budget %d)",
                len(tickets),
                size,
                wire_form.DISPLAY_MESSAGE_BYTES,
            )
        return result

    def clear_voids(self, older_than_seconds: float) -> int:
        """Cancelled tickets leave the screens after they were shown VOID for a while."""
        cutoff = time.time() - older_than_seconds
        cleared = 0
        with self.store.transaction():
            for ticket_id in self.store.tickets_with_status_before(
                TicketStatus.CANCELLED.value, cutoff
            ):
                seq = self.store.next_seq()
                message = wire.TicketRemoved(
                    site_id=self.site_id,
                    seq=seq,
                    at=self._clock(),
                    ticket_id=ticket_id,
                    reason="cancelled",
                )
                self.store.set_ticket_status_only(ticket_id, CLEARED)
                self._enqueue_state(seq, message)
                cleared += 1
        if cleared:
            self._on_change()
        return cleared

    def _void_seen_everywhere(self, ticket: Ticket) -> bool:
        screens = set(ticket.stations())
        if self.expo_station:
            screens.add(self.expo_station)
        return screens <= set(ticket.void_acked)

    def _fold(self, folds: dict[str, str]) -> None:
        for station, into in folds.items():
            if station == into:
                raise BadRequest(f"cannot fold {station!r} into itself")
            if into in folds:
                raise BadRequest(f"{into!r} is folded itself; fold into a station that is not")
        settings = self.settings()
        self._publish_settings(settings.model_copy(update={"folds": dict(folds)}))
        log.info("stations folded: %s", folds or "none")

    def _track_availability(self, sku: str, available: bool) -> None:
        settings = self.settings()
        rest = tuple(o for o in settings.out_of_stock if o.sku != sku)
        if not available:
            rest = (*rest, wire.OutOfStock(sku=sku, name=self._item_name(sku), since=self._clock()))
        if rest != settings.out_of_stock:
            self._publish_settings(settings.model_copy(update={"out_of_stock": rest}))

    def _item_name(self, sku: str) -> str:
        for body in self.store.tickets_json(SHOWN):
            for item in Ticket.model_validate_json(body).items:
                if item.sku == sku:
                    return item.name
        return ""

    # --- helpers -----------------------------------------------------------------------

    def _load(self, ticket_id: str) -> Ticket | None:
        body = self.store.ticket_json(ticket_id)
        return Ticket.model_validate_json(body) if body else None

    def _save_and_publish(self, ticket: Ticket, *, removed_reason: str | None = None) -> None:
        seq = self.store.next_seq()
        status = CLEARED if removed_reason else ticket.status.value
        body = ticket.model_dump_json(exclude_none=True)
        self.store.put_ticket(ticket.id, status, body)
        message: wire.TicketUpdated | wire.TicketRemoved
        if removed_reason:
            message = wire.TicketRemoved(
                site_id=self.site_id,
                seq=seq,
                at=self._clock(),
                ticket_id=ticket.id,
                reason=removed_reason,
                epoch=self.store.epoch,
            )
        else:
            # the screens get a copy within the message budget; the store keeps it whole
            # (the stored form is the message's: its size says whether it fits as it is)
            message = wire.TicketUpdated(
                site_id=self.site_id,
                seq=seq,
                at=self._clock(),
                ticket=wire_form.wire_ticket(ticket, size=len(body.encode("utf-8"))),
                epoch=self.store.epoch,
            )
        self._enqueue_state(seq, message)

    def _enqueue_state(self, seq: int, message: wire.StateMessage) -> None:
        # the database's epoch: with it a screen tells this seq from another database's
        stamped = (
            message
            if message.epoch == self.store.epoch
            else message.model_copy(update={"epoch": self.store.epoch})
        )
        body = wire.encode(stamped)
        limit = (
            wire_form.TICKET_MESSAGE_BYTES
            if isinstance(message, wire.TicketUpdated)
            else wire_form.DISPLAY_MESSAGE_BYTES
        )
        if len(body) > limit:
            log.error("%s seq %d takes %d bytes (budget %d)", message.type, seq, len(body), limit)
        self.store.enqueue(
            Channel.MQ, "state", f"state:{seq}", wire.state_topic(self.site_id), body
        )

    def _reply(self, result: wire.CommandResult, reply_to: str | None, *, key: str) -> None:
        if not reply_to:
            return
        self.store.enqueue(
            Channel.MQ,
            "reply",
            key,
            reply_to,
            wire.encode(result),
            {"expires": str(int(time.time() * 1000) + wire.REPLY_TTL_MS)},
        )

    def _event(self, kind: str, **fields: Any) -> dict[str, Any]:
        event_id = wire.new_id()
        return {"event_id": event_id, "type": kind, "at": format_time(self._clock()), **fields}

    def _core_status(self, order_id: str, status: str, *, actor: str, station: str = "") -> None:
        event = self._event("status", status=status, actor=actor)
        if station:
            event["station"] = station
        self._enqueue_core("event", event["event_id"], order_id, event)

    def _core_item(
        self, order_id: str, line_id: str, status: str, *, actor: str, station: str
    ) -> None:
        event = self._event("item_status", line_id=line_id, status=status, actor=actor)
        if station:
            event["station"] = station
        self._enqueue_core("event", event["event_id"], order_id, event)

    def _life(
        self,
        ticket: Ticket,
        kind: str,
        *,
        station: str = "",
        before: Ticket | None = None,
        actor: str = "",
    ) -> None:
        now = self._clock()
        since = (now - ticket.accepted_at).total_seconds() if ticket.accepted_at else None
        event_id = wire.new_id()
        at = format_time(now)
        self.store.add_lifecycle(
            event_id,
            ticket.id,
            kind,
            at,
            station=station,
            brand=ticket.brand.id,
            channel=ticket.channel,
            seconds_since_received=since,
            actor=actor,
        )
        self.effects.on_lifecycle(
            ticket,
            kind,
            station=station,
            event_id=event_id,
            at=at,
            seconds_since_received=since,
            before=before,
        )

    def _enqueue_core(self, kind: str, key: str, dest: str, body: dict[str, Any]) -> None:
        self.store.enqueue(Channel.CORE, kind, key, dest, json.dumps(body).encode())


def _lifecycle_kinds(
    command: wire.TicketCommand, before: Ticket, after: Ticket, expo: str | None
) -> list[str]:
    """The reporting steps one accepted command makes (for the lifecycle table)."""
    kinds: list[str] = []
    if before.status is TicketStatus.ACCEPTED and after.status is TicketStatus.IN_PROGRESS:
        kinds.append("started")
    if isinstance(command, wire.BumpCommand) and command.station != expo:
        kinds.append("station_bumped")
    if isinstance(command, wire.RecallCommand):
        kinds.append("recalled")
    if isinstance(command, wire.AckAllergensCommand):
        kinds.append("allergy_seen")
    if after.status is not before.status and after.status in (
        TicketStatus.READY,
        TicketStatus.PICKED_UP,
    ):
        kinds.append(after.status.value)
    return kinds
