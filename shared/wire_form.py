"""The wire form of tickets and settings: bounded copies for the screens.

The store keeps every ticket whole (commands, printing and reports use it); what the
agent sends to the displays is a copy that fits a byte budget:

- a ``ticket.updated`` is at most :data:`TICKET_MESSAGE_BYTES` (64 KiB);
- any message to the displays, a snapshot result included, at most
  :data:`DISPLAY_MESSAGE_BYTES` (512 KiB).

A ticket that fits is sent as it is. One that does not is cut, step by step
(:data:`LEVELS`), until it fits: texts (notes, names, declared allergies) end in "…";
modifiers and allergens beyond a cap are replaced by one entry ``… (+N)``; lines beyond
a cap are left out and counted per station in the ticket's ``more_lines`` extension
(``{"grill": 9940}``), which this project's screens show as "+N more lines". Lines
still to make are kept before done ones, and every station keeps lines of its own
before any station gets a second, so each screen still sees the order. Identifiers
(``id``, ``line_id``, ``sku``, ``station``, ``display_number``) are never cut. Every
copy is a valid v1 ticket.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shared.model import NAME_CHARS, ItemStatus, Modifier, Ticket, TicketCustomer, TicketItem
from shared.wire import SiteSettings

log = logging.getLogger("kds.wire_form")

#: the most one encoded ``ticket.updated`` may take
TICKET_MESSAGE_BYTES = 64 * 1024
#: the most any message to the displays may take (a snapshot result included)
DISPLAY_MESSAGE_BYTES = 512 * 1024
#: room kept for a message's own fields (``site_id``, ``seq``, ``at``, ``epoch`` ...)
ENVELOPE_BYTES = 2 * 1024
#: the most the site's settings may take in a message (``site.settings``, a snapshot)
SETTINGS_BYTES = 64 * 1024
#: what a cut text ends with
ELLIPSIS = "…"

_T = TypeVar("_T")


@dataclass(frozen=True)
class Caps:
    """One step of cutting: how much of each part of a ticket is kept."""

    lines: int
    #: characters of the order's note, a line's note and each declared allergy
    note: int
    #: characters of item, modifier, brand and customer names
    name: int
    #: modifiers per line (more: one ``… (+N)`` entry)
    modifiers: int
    #: allergens per line and declared allergies per ticket (more: ``… (+N)``)
    allergens: int
    #: entries of ``allergy_acks``, ``void_acked`` and ``bumped_at``
    marks: int


#: the steps tried in turn until a ticket fits its budget
LEVELS: tuple[Caps, ...] = (
    Caps(lines=60, note=500, name=120, modifiers=20, allergens=12, marks=20),
    Caps(lines=30, note=200, name=80, modifiers=10, allergens=8, marks=12),
    Caps(lines=12, note=80, name=48, modifiers=4, allergens=4, marks=8),
    Caps(lines=4, note=40, name=32, modifiers=1, allergens=2, marks=4),
    Caps(lines=1, note=1, name=24, modifiers=0, allergens=0, marks=2),
)


def encoded_size(ticket: Ticket) -> int:
    """The bytes ``ticket`` takes in a message."""
    return len(ticket.model_dump_json(exclude_none=True).encode("utf-8"))


def cut(text: str, chars: int) -> str:
    """``text`` in at most ``chars`` characters, ending in "…" when cut."""
    if len(text) <= chars:
        return text
    return text[: max(chars - 1, 0)] + ELLIPSIS


def more(count: int) -> str:
    """The entry that stands for ``count`` entries left out: ``… (+12)``."""
    return f"{ELLIPSIS} (+{count})"


def wire_ticket(
    ticket: Ticket,
    budget: int = TICKET_MESSAGE_BYTES - ENVELOPE_BYTES,
    *,
    size: int | None = None,
) -> Ticket:
    """``ticket`` as it is if it takes at most ``budget`` bytes, else the first step
    of :data:`LEVELS` that fits (or the last, the smallest there is). ``size``: its
    :func:`encoded_size`, when the caller has already encoded it."""
    if (encoded_size(ticket) if size is None else size) <= budget:
        return ticket
    small = ticket
    for caps in LEVELS:
        small = compact(ticket, caps)
        if encoded_size(small) <= budget:
            break
    return small


def wire_tickets(tickets: Sequence[Ticket], budget: int) -> tuple[Ticket, ...]:
    """Every ticket, in order, together within ``budget`` bytes where it can be done.

    Each is first its own ``ticket.updated`` form (:func:`wire_ticket`). When they
    are too many bytes together, the budget is shared out: the smallest ones keep
    what they take, the others are cut to an equal share of what is left.
    """
    forms = [wire_ticket(ticket) for ticket in tickets]
    sizes = [encoded_size(form) for form in forms]
    room = budget - len(forms)  # the commas between them
    if sum(sizes) <= room:
        return tuple(forms)
    by_size = sorted(range(len(forms)), key=sizes.__getitem__)
    for rank, index in enumerate(by_size):
        share = room // (len(forms) - rank)
        if sizes[index] > share:
            forms[index] = wire_ticket(tickets[index], max(share, 0))
            sizes[index] = encoded_size(forms[index])
        room -= sizes[index]
    return tuple(forms)


def compact(ticket: Ticket, caps: Caps) -> Ticket:
    """A copy of ``ticket`` cut to ``caps`` (see the module's docstring)."""
    kept = _pick_lines(ticket.items, caps.lines)
    dropped: dict[str, int] = dict(ticket.more_lines)
    for index, item in enumerate(ticket.items):
        if index not in kept:
            dropped[item.station] = dropped.get(item.station, 0) + 1
    stations = set(ticket.stations())
    return ticket.model_copy(
        update={
            "brand": ticket.brand.model_copy(update={"name": cut(ticket.brand.name, caps.name)}),
            "customer": TicketCustomer(name=cut(ticket.customer.name, caps.name)),
            "notes": cut(ticket.notes, caps.note),
            "items": tuple(_line(ticket.items[i], caps) for i in sorted(kept)),
            "allergy": _capped([cut(a, caps.note) for a in ticket.allergy], caps.allergens),
            "allergy_acks": tuple(
                _marks(ticket.allergy_acks, lambda a: a.station, stations, caps.marks)
            ),
            "void_acked": tuple(_marks(ticket.void_acked, lambda s: s, stations, caps.marks)),
            "bumped_at": {
                s: ticket.bumped_at[s]
                for s in _marks(list(ticket.bumped_at), lambda s: s, stations, caps.marks)
            },
            "more_lines": dropped,
        }
    )


def _pick_lines(items: Sequence[TicketItem], limit: int) -> set[int]:
    """The indexes of at most ``limit`` lines: round by round one more line of each
    station (first seen first), lines still to make before done ones."""
    by_station: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        by_station.setdefault(item.station, []).append(index)
    queues = [
        sorted(indexes, key=lambda i: (items[i].status is ItemStatus.DONE, i))
        for indexes in by_station.values()
    ]
    kept: set[int] = set()
    depth = 0
    while len(kept) < limit and any(depth < len(queue) for queue in queues):
        for queue in queues:
            if depth < len(queue):
                kept.add(queue[depth])
                if len(kept) == limit:
                    break
        depth += 1
    return kept


def _line(item: TicketItem, caps: Caps) -> TicketItem:
    modifiers = [
        Modifier(name=cut(m.name, caps.name), qty=m.qty) for m in item.modifiers[: caps.modifiers]
    ]
    if len(item.modifiers) > caps.modifiers:
        modifiers.append(Modifier(name=more(len(item.modifiers) - caps.modifiers)))
    return item.model_copy(
        update={
            "name": cut(item.name, caps.name),
            "notes": cut(item.notes, caps.note),
            "modifiers": tuple(modifiers),
            "allergens": _capped([cut(a, caps.name) for a in item.allergens], caps.allergens),
        }
    )


def _capped(entries: list[str], limit: int) -> tuple[str, ...]:
    if len(entries) <= limit:
        return tuple(entries)
    return (*entries[:limit], more(len(entries) - limit))


def _marks(
    entries: Sequence[_T], station_of: Callable[[_T], str], stations: set[str], limit: int
) -> list[_T]:
    """At most ``limit`` of ``entries`` (per-station marks), the ticket's own stations'
    first; a station name longer than any line's cannot be one and is left out."""
    fitting = [e for e in entries if len(station_of(e)) <= NAME_CHARS]
    fitting.sort(key=lambda e: station_of(e) not in stations)
    return fitting[:limit]


def wire_settings(settings: SiteSettings, budget: int = SETTINGS_BYTES) -> SiteSettings:
    """``settings`` within ``budget`` bytes: when too big, the out-of-stock list keeps
    its newest entries (names cut), as many as fit (logged)."""
    size = len(settings.model_dump_json().encode("utf-8"))
    if size <= budget:
        return settings
    items = tuple(o.model_copy(update={"name": cut(o.name, 60)}) for o in settings.out_of_stock)
    keep = len(items)
    while True:
        small = settings.model_copy(update={"out_of_stock": items[len(items) - keep :]})
        if keep == 0 or len(small.model_dump_json().encode("utf-8")) <= budget:
            log.warning(
                "site settings take %d bytes: %d of %d out-of-stock items go to the screens",
                size,
                keep,
                len(items),
            )
            return small
        keep //= 2
