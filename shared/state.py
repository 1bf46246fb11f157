"""The ticket state machine: every transition of the site protocol, and its refusals.

Pure functions over immutable :class:`~shared.model.Ticket` values; the edge agent
is their only caller that stores the result. Ticket statuses::

    accepted --start/bump/item_done--> in_progress --bump at expo (or last bump, no expo)--> ready
    ready --recall--> in_progress          ready --picked_up--> picked_up
    any open status --core cancels--> cancelled

A refused command raises a :class:`~shared.errors.CommandRefused` subclass whose
``code`` is the site-protocol error code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from shared.allergy import AllergyRules, declarations
from shared.errors import BadRequest, InvalidTransition, UnknownLine
from shared.model import (
    AllergyAck,
    ItemStatus,
    Order,
    OrderStatus,
    Priority,
    Ticket,
    TicketCustomer,
    TicketItem,
    TicketStatus,
)

DEFAULT_RULES = AllergyRules()

WORKING = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})


@dataclass(frozen=True)
class Transition:
    """The outcome of one accepted change."""

    ticket: Ticket
    previous_status: TicketStatus | None
    #: lines whose status this change set, with the new status (for core item events)
    item_changes: tuple[tuple[str, ItemStatus], ...] = ()
    #: lines a bump moved to done (kept by the agent so a recall can undo exactly them)
    bumped_lines: tuple[str, ...] = ()
    changed: bool = True
    notes: tuple[str, ...] = field(default=())

    @property
    def status_changed(self) -> bool:
        return self.previous_status != self.ticket.status


def _with_items(ticket: Ticket, updates: dict[str, ItemStatus]) -> Ticket:
    items = tuple(
        item.model_copy(update={"status": updates[item.line_id]})
        if item.line_id in updates
        else item
        for item in ticket.items
    )
    return ticket.model_copy(update={"items": items})


def _refuse_closed(ticket: Ticket, action: str) -> None:
    if ticket.status not in WORKING:
        raise InvalidTransition(f"cannot {action} ticket {ticket.id}: it is {ticket.status}")


def _to_in_progress(ticket: Ticket, now: datetime) -> Ticket:
    update: dict[str, object] = {"status": TicketStatus.IN_PROGRESS}
    if ticket.started_at is None:
        update["started_at"] = now
    return ticket.model_copy(update=update)


def _to_ready(ticket: Ticket, now: datetime) -> Ticket:
    return ticket.model_copy(
        update={
            "status": TicketStatus.READY,
            "ready_at": now,
            "started_at": ticket.started_at or now,
        }
    )


def _result(
    before: Ticket,
    after: Ticket,
    updates: dict[str, ItemStatus],
    bumped: Sequence[str] = (),
) -> Transition:
    return Transition(
        ticket=after,
        previous_status=before.status,
        item_changes=tuple(updates.items()),
        bumped_lines=tuple(bumped),
    )


def _require_allergy_seen(ticket: Ticket, station: str) -> None:
    """The opt-in gate (``allergen_gate = "enforce"``): a declared allergy must have been
    seen at ``station`` before it starts, bumps or marks a line done there."""
    if ticket.allergy and ticket.allergy_ack(station) is None:
        raise InvalidTransition(
            f"ticket {ticket.id} has a declared allergy ({'; '.join(ticket.allergy)}): "
            f"tap 'allergy seen' at {station} first"
        )


def ack_allergens(
    ticket: Ticket, station: str, now: datetime, *, display_id: str = ""
) -> Transition:
    """A cook at ``station`` confirms having seen the order's declared allergy.

    Recorded once per station (who, when); a repeat changes nothing.
    """
    _refuse_closed(ticket, "acknowledge the allergy on")
    if not ticket.allergy:
        raise InvalidTransition(f"ticket {ticket.id} has no declared allergy")
    if ticket.allergy_ack(station) is not None:
        return Transition(ticket=ticket, previous_status=ticket.status, changed=False)
    ack = AllergyAck(station=station, display_id=display_id, at=now)
    after = ticket.model_copy(update={"allergy_acks": (*ticket.allergy_acks, ack)})
    return _result(ticket, after, {})


def ack_void(ticket: Ticket, station: str) -> Transition:
    """A cook acknowledges a cancelled ticket: it leaves that station's screen."""
    if ticket.status is not TicketStatus.CANCELLED:
        raise InvalidTransition(f"ticket {ticket.id} is {ticket.status}, not void")
    if station in ticket.void_acked:
        return Transition(ticket=ticket, previous_status=ticket.status, changed=False)
    after = ticket.model_copy(update={"void_acked": (*ticket.void_acked, station)})
    return _result(ticket, after, {})


def start(
    ticket: Ticket,
    station: str,
    now: datetime,
    *,
    expo_station: str | None,
    allergen_gate: bool = False,
) -> Transition:
    """The station's pending items go in_progress; the ticket goes in_progress.

    With ``allergen_gate`` (the site's opt-in ``"enforce"``, a deviation from site
    protocol v1) a declared allergy must have been acknowledged at that station first
    (:func:`ack_allergens`).
    """
    _refuse_closed(ticket, "start")
    if allergen_gate:
        _require_allergy_seen(ticket, station)
    lines = ticket.items_at(station)
    if not lines and station != expo_station:
        raise InvalidTransition(f"ticket {ticket.id} has no items at station {station!r}")
    updates = {i.line_id: ItemStatus.IN_PROGRESS for i in lines if i.status is ItemStatus.PENDING}
    if not updates and ticket.status is TicketStatus.IN_PROGRESS:
        raise InvalidTransition(f"ticket {ticket.id} is already started at {station!r}")
    after = _to_in_progress(_with_items(ticket, updates), now)
    return _result(ticket, after, updates)


def bump(
    ticket: Ticket,
    station: str,
    now: datetime,
    *,
    expo_station: str | None,
    allergen_gate: bool = False,
) -> Transition:
    """Bump at a prep station (its items done) or at expo (the ticket is ready)."""
    _refuse_closed(ticket, "bump")
    if allergen_gate:
        _require_allergy_seen(ticket, station)
    bumped_at = {**ticket.bumped_at, station: now}
    if expo_station and station == expo_station:
        updates = {
            i.line_id: ItemStatus.DONE for i in ticket.items if i.status is not ItemStatus.DONE
        }
        after = _to_ready(_with_items(ticket, updates), now)
        after = after.model_copy(update={"bumped_at": bumped_at})
        return _result(ticket, after, updates, bumped=list(updates))
    lines = ticket.items_at(station)
    if not lines:
        raise InvalidTransition(f"ticket {ticket.id} has no items at station {station!r}")
    updates = {i.line_id: ItemStatus.DONE for i in lines if i.status is not ItemStatus.DONE}
    everything_done = all(i.status is ItemStatus.DONE for i in ticket.items)
    if not updates and (expo_station or not everything_done):
        raise InvalidTransition(f"ticket {ticket.id} is already bumped at {station!r}")
    after = _to_in_progress(_with_items(ticket, updates), now)
    if not expo_station and all(i.status is ItemStatus.DONE for i in after.items):
        after = _to_ready(after, now)
    after = after.model_copy(update={"bumped_at": bumped_at})
    return _result(ticket, after, updates, bumped=list(updates))


def recall(
    ticket: Ticket,
    station: str,
    now: datetime,
    *,
    expo_station: str | None,
    last_bump: Sequence[str] | None,
) -> Transition:
    """Undo the station's last bump; a ready ticket goes back to in_progress."""
    if ticket.status not in (*WORKING, TicketStatus.READY):
        raise InvalidTransition(f"cannot recall ticket {ticket.id}: it is {ticket.status}")
    if last_bump is None:
        raise InvalidTransition(f"ticket {ticket.id} has no bump at {station!r} to recall")
    known = {i.line_id: i for i in ticket.items}
    updates = {
        line: ItemStatus.IN_PROGRESS
        for line in last_bump
        if line in known and known[line].status is ItemStatus.DONE
    }
    after = _with_items(ticket, updates)
    if after.status is TicketStatus.READY:
        after = after.model_copy(update={"status": TicketStatus.IN_PROGRESS, "ready_at": None})
    if not updates and after.status == ticket.status:
        raise InvalidTransition(f"ticket {ticket.id}: nothing to recall at {station!r}")
    return _result(ticket, after, updates)


def item_done(
    ticket: Ticket,
    line_id: str,
    now: datetime,
    *,
    expo_station: str | None = None,
    allergen_gate: bool = False,
) -> Transition:
    """One line done. With ``allergen_gate`` its station must have seen a declared allergy."""
    _refuse_closed(ticket, "mark an item done on")
    item = _line(ticket, line_id)
    if allergen_gate:
        _require_allergy_seen(ticket, item.station)
    if item.status is ItemStatus.DONE:
        raise InvalidTransition(f"line {line_id} of ticket {ticket.id} is already done")
    updates = {line_id: ItemStatus.DONE}
    after = _to_in_progress(_with_items(ticket, updates), now)
    return _result(ticket, after, updates)


def item_undo(ticket: Ticket, line_id: str, now: datetime) -> Transition:
    _refuse_closed(ticket, "undo an item on")
    item = _line(ticket, line_id)
    if item.status is not ItemStatus.DONE:
        raise InvalidTransition(f"line {line_id} of ticket {ticket.id} is not done")
    updates = {line_id: ItemStatus.IN_PROGRESS}
    after = _to_in_progress(_with_items(ticket, updates), now)
    return _result(ticket, after, updates)


def prioritize(ticket: Ticket, priority: Priority | str) -> Transition:
    if ticket.status not in (*WORKING, TicketStatus.READY):
        raise InvalidTransition(f"cannot prioritise ticket {ticket.id}: it is {ticket.status}")
    try:
        value = Priority(priority)
    except ValueError:
        raise BadRequest(f"priority must be 'rush' or 'normal', not {priority!r:.20}") from None
    if value is ticket.priority:
        return Transition(ticket=ticket, previous_status=ticket.status, changed=False)
    return _result(ticket, ticket.model_copy(update={"priority": value}), {})


def picked_up(ticket: Ticket, now: datetime) -> Transition:
    if ticket.status is not TicketStatus.READY:
        raise InvalidTransition(f"ticket {ticket.id} is {ticket.status}, not ready")
    after = ticket.model_copy(update={"status": TicketStatus.PICKED_UP, "picked_up_at": now})
    return _result(ticket, after, {})


def item_unavailable(ticket: Ticket, line_id: str) -> Transition:
    """The kitchen cannot make this line (it ran out): the line is marked, nothing else."""
    _refuse_closed(ticket, "mark an item unavailable on")
    item = _line(ticket, line_id)
    if item.unavailable:
        raise InvalidTransition(f"line {line_id} of ticket {ticket.id} is already unavailable")
    items = tuple(
        i.model_copy(update={"unavailable": True}) if i.line_id == line_id else i
        for i in ticket.items
    )
    return _result(ticket, ticket.model_copy(update={"items": items}), {})


def _line(ticket: Ticket, line_id: str) -> TicketItem:
    for item in ticket.items:
        if item.line_id == line_id:
            return item
    raise UnknownLine(f"ticket {ticket.id} has no line {line_id!r}")


# --- orders from the core ----------------------------------------------------------------

_CORE_CLOSED = {
    OrderStatus.CANCELLED: TicketStatus.CANCELLED,
    OrderStatus.PICKED_UP: TicketStatus.PICKED_UP,
}


def _ticket_items(order: Order, rules: AllergyRules) -> tuple[TicketItem, ...]:
    declared = {d.line_id for d in declarations(order.notes, order.items, rules)}
    return tuple(
        TicketItem.model_validate(
            item.model_dump() | {"status": ItemStatus.PENDING, "allergy": item.line_id in declared}
        )
        for item in order.items
    )


def _allergy(order: Order, rules: AllergyRules) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for declaration in declarations(order.notes, order.items, rules):
        seen.setdefault(declaration.text, None)
    return tuple(seen)


def ticket_from_order(
    order: Order, now: datetime, allergy_rules: AllergyRules = DEFAULT_RULES
) -> Ticket:
    """A new ticket for the first version of an order the agent sees.

    ``allergy_rules`` recognise the customer's declared allergies (:mod:`shared.allergy`).
    """
    status = _CORE_CLOSED.get(order.status, TicketStatus.ACCEPTED)
    return Ticket(
        id=order.id,
        version=order.version,
        site_id=order.site_id,
        brand=order.brand,
        channel=order.channel,
        display_number=order.display_number,
        placed_at=order.placed_at,
        promised_at=order.promised_at,
        priority=order.priority,
        customer=TicketCustomer(name=order.customer.name),
        notes=order.notes,
        items=_ticket_items(order, allergy_rules),
        allergy=_allergy(order, allergy_rules),
        status=status,
        accepted_at=now,
    )


def merge_order(
    ticket: Ticket, order: Order, now: datetime, allergy_rules: AllergyRules = DEFAULT_RULES
) -> Transition:
    """Apply a newer version of the order from the core to the kitchen's ticket.

    Lines keep their kitchen status unless the core changed them (then they start
    over and are marked ``changed``); new lines arrive pending; a cancellation
    voids the ticket. A ready ticket that gains work goes back to in_progress. A
    declared allergy the kitchen has not seen yet (new or reworded) must be seen
    again by every station.
    """
    if order.version <= ticket.version:
        return Transition(ticket=ticket, previous_status=ticket.status, changed=False)
    old = {i.line_id: i for i in ticket.items}
    items = []
    for new in _ticket_items(order, allergy_rules):
        before = old.get(new.line_id)
        if before is None:
            items.append(new.model_copy(update={"changed": True}) if old else new)
            continue
        same = before.model_dump(exclude={"status", "changed"}) == new.model_dump(
            exclude={"status", "changed"}
        )
        if same:
            items.append(before)
        else:
            items.append(new.model_copy(update={"changed": True}))
    status = ticket.status
    if order.status in _CORE_CLOSED:
        status = _CORE_CLOSED[order.status]
    elif status is TicketStatus.READY and any(i.status is not ItemStatus.DONE for i in items):
        status = TicketStatus.IN_PROGRESS
    allergy = _allergy(order, allergy_rules)
    acks = ticket.allergy_acks if set(allergy) <= set(ticket.allergy) else ()
    update: dict[str, object] = {
        "allergy": allergy,
        "allergy_acks": acks,
        "version": order.version,
        "brand": order.brand,
        "channel": order.channel,
        "display_number": order.display_number,
        "promised_at": order.promised_at,
        "priority": order.priority,
        "customer": TicketCustomer(name=order.customer.name),
        "notes": order.notes,
        "items": tuple(items),
        "status": status,
    }
    if status is TicketStatus.PICKED_UP and ticket.picked_up_at is None:
        update["picked_up_at"] = now
    if status is TicketStatus.IN_PROGRESS and ticket.status is TicketStatus.READY:
        update["ready_at"] = None
    return Transition(ticket=ticket.model_copy(update=update), previous_status=ticket.status)
