"""All-day counts: how many of each item the kitchen still has to make right now.

Pure functions over tickets (no Qt). An item's *key* is its normalised name plus its
sorted, normalised modifiers, so the same item sold by two brands is one count: a
"Classic Burger" at Burger Bros and a "classic  burger" at Smash Co are one patty
count ("win here": one all-day merged across brands)::

    >>> counts = all_day(tickets, "grill", folds={"fry": "grill"})
    >>> [format_count(c) for c in counts]
    ['6x Classic Burger', '2x Classic Burger + no onion', '3x Fries']  (x: U+00D7)

What counts: lines of ``accepted`` / ``in_progress`` tickets that are not ``done``
and not marked ``unavailable``; cancelled, ready and picked-up tickets never count.
A station's count includes the stations folded into it (``SiteSettings.folds``);
the expo station (or ``station=None``) counts every station's lines.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from shared.model import ItemStatus, Ticket, TicketItem, TicketStatus

TIMES = "\u00d7"

_WORKING = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})

#: (normalised modifier name, qty)
ModifierKey = tuple[str, int]
#: (normalised item name, sorted modifiers)
ItemKey = tuple[str, tuple[ModifierKey, ...]]


def normalise(name: str) -> str:
    """``"  Classic   BURGER "`` -> ``"classic burger"`` (case and spacing do not count)."""
    return " ".join(name.split()).casefold()


def item_key(item: TicketItem) -> ItemKey:
    """What makes two lines "the same item" for the all-day count."""
    modifiers = sorted((normalise(m.name), m.qty) for m in item.modifiers)
    return normalise(item.name), tuple(modifiers)


@dataclass(frozen=True)
class AllDayCount:
    """One all-day row: ``qty`` of ``name`` (with ``modifiers``) still to make."""

    key: ItemKey
    #: the name as first seen (for the screen)
    name: str
    #: modifier texts as first seen, sorted like the key (``"no onion"``, ``"2x bacon"``)
    modifiers: tuple[str, ...]
    qty: int
    #: how many tickets it is on
    tickets: int
    #: brand names it is sold under (sorted)
    brands: tuple[str, ...]
    #: stations whose lines it comes from (sorted)
    stations: tuple[str, ...]
    #: skus it is sold as (sorted)
    skus: tuple[str, ...]


def stations_for(
    station: str | None,
    *,
    folds: Mapping[str, str] | None = None,
    expo_station: str | None = None,
) -> frozenset[str] | None:
    """The stations whose lines count for ``station`` (``None``: every station)."""
    if station is None or (expo_station and station == expo_station):
        return None
    folded = {s for s, into in (folds or {}).items() if into == station}
    return frozenset({station, *folded})


def still_to_make(item: TicketItem) -> bool:
    return item.status is not ItemStatus.DONE and not item.unavailable


def all_day(
    tickets: Iterable[Ticket],
    station: str | None = None,
    *,
    folds: Mapping[str, str] | None = None,
    expo_station: str | None = None,
) -> list[AllDayCount]:
    """Every item still to make at ``station``, summed across open tickets and brands.

    Sorted by quantity (most first), then name. ``folds``: stations folded into
    others (``{"fry": "grill"}``: grill's count includes fry's lines).
    """
    wanted = stations_for(station, folds=folds, expo_station=expo_station)
    qty: dict[ItemKey, int] = {}
    first: dict[ItemKey, TicketItem] = {}
    ticket_ids: dict[ItemKey, set[str]] = {}
    brands: dict[ItemKey, set[str]] = {}
    stations: dict[ItemKey, set[str]] = {}
    skus: dict[ItemKey, set[str]] = {}
    for ticket in tickets:
        if ticket.status not in _WORKING:
            continue
        for item in ticket.items:
            if wanted is not None and item.station not in wanted:
                continue
            if not still_to_make(item):
                continue
            key = item_key(item)
            qty[key] = qty.get(key, 0) + item.qty
            first.setdefault(key, item)
            ticket_ids.setdefault(key, set()).add(ticket.id)
            brands.setdefault(key, set()).add(ticket.brand.name)
            stations.setdefault(key, set()).add(item.station)
            skus.setdefault(key, set()).add(item.sku)
    counts = [
        AllDayCount(
            key=key,
            name=first[key].name.strip(),
            modifiers=tuple(
                modifier_text(m.name, m.qty)
                for m in sorted(first[key].modifiers, key=lambda m: (normalise(m.name), m.qty))
            ),
            qty=total,
            tickets=len(ticket_ids[key]),
            brands=tuple(sorted(brands[key])),
            stations=tuple(sorted(stations[key])),
            skus=tuple(sorted(skus[key])),
        )
        for key, total in qty.items()
    ]
    counts.sort(key=lambda c: (-c.qty, c.key))
    return counts


def all_day_by_station(
    tickets: Iterable[Ticket], *, folds: Mapping[str, str] | None = None
) -> dict[str, list[AllDayCount]]:
    """Each station's all-day (folded stations counted where they are folded into)."""
    tickets = list(tickets)
    folds = dict(folds or {})
    names: set[str] = set()
    for ticket in tickets:
        if ticket.status in _WORKING:
            names.update(item.station for item in ticket.items)
    targets = sorted({folds.get(name, name) for name in names})
    return {
        station: counts for station in targets if (counts := all_day(tickets, station, folds=folds))
    }


@dataclass
class _Entry:
    """One item's running count in one group of :class:`AllDayTally`."""

    qty: int = 0
    #: ticket id -> its first line of this item (the first key is "as first seen")
    lines: dict[str, TicketItem] = field(default_factory=dict)
    #: ticket id -> how many of its lines this is
    refs: Counter[str] = field(default_factory=Counter)
    brands: Counter[str] = field(default_factory=Counter)
    stations: Counter[str] = field(default_factory=Counter)
    skus: Counter[str] = field(default_factory=Counter)

    def count(self, key: ItemKey) -> AllDayCount:
        first = next(iter(self.lines.values()))
        return AllDayCount(
            key=key,
            name=first.name.strip(),
            modifiers=tuple(
                modifier_text(m.name, m.qty)
                for m in sorted(first.modifiers, key=lambda m: (normalise(m.name), m.qty))
            ),
            qty=self.qty,
            tickets=len(self.lines),
            brands=tuple(sorted(self.brands)),
            stations=tuple(sorted(self.stations)),
            skus=tuple(sorted(self.skus)),
        )


#: what one line of a ticket adds to a tally: (group, key, qty, brand, station, sku)
_Share = tuple[str, ItemKey, int, str, str, str]


class AllDayTally:
    """All-day counts kept up to date ticket by ticket, for a screen that shows them
    live: an update costs what that one ticket's lines cost, not a pass over every
    open ticket, and :meth:`counts` costs what the menu costs.

    ``group(station)`` says where a line of ``station`` counts (a station's name, the
    station it is folded into, one name for "everything" on expo) or ``None`` for
    nowhere. ``tally.counts(g)`` equals ``all_day(tickets, ...)`` over the same open
    tickets for the stations of ``g``; when the grouping itself changes (new folds),
    build a new tally.
    """

    def __init__(self, group: Callable[[str], str | None]) -> None:
        self._group = group
        #: ticket id -> what its lines add
        self._shares: dict[str, tuple[_Share, ...]] = {}
        #: group -> item key -> its running count
        self._entries: dict[str, dict[ItemKey, _Entry]] = {}

    def _counted(self, ticket: Ticket) -> list[tuple[_Share, TicketItem]]:
        if ticket.status not in _WORKING:
            return []
        counted = []
        for item in ticket.items:
            if not still_to_make(item):
                continue
            group = self._group(item.station)
            if group is not None:
                share = (group, item_key(item), item.qty, ticket.brand.name, item.station, item.sku)
                counted.append((share, item))
        return counted

    def update(self, ticket: Ticket) -> bool:
        """Count ``ticket`` as it is now; ``True`` when any count changed."""
        counted = self._counted(ticket)
        shares = tuple(share for share, _ in counted)
        if shares == self._shares.get(ticket.id, ()):
            return False
        self._take(ticket.id)
        if shares:
            self._shares[ticket.id] = shares
            for (group, key, qty, brand, station, sku), item in counted:
                entries = self._entries.setdefault(group, {})
                entry = entries.get(key)
                if entry is None:  # not setdefault: an _Entry (five containers) per line
                    entry = entries[key] = _Entry()
                entry.qty += qty
                entry.lines.setdefault(ticket.id, item)
                entry.refs[ticket.id] += 1
                entry.brands[brand] += 1
                entry.stations[station] += 1
                entry.skus[sku] += 1
        return True

    def remove(self, ticket_id: str) -> bool:
        """Stop counting ``ticket_id``; ``True`` when any count changed."""
        return self._take(ticket_id)

    def reset(self, tickets: Iterable[Ticket]) -> None:
        """Count exactly ``tickets``."""
        self._shares.clear()
        self._entries.clear()
        for ticket in tickets:
            self.update(ticket)

    def _take(self, ticket_id: str) -> bool:
        shares = self._shares.pop(ticket_id, ())
        for group, key, qty, brand, station, sku in shares:
            entries = self._entries[group]
            entry = entries[key]
            entry.qty -= qty
            for counter, value in (
                (entry.refs, ticket_id),
                (entry.brands, brand),
                (entry.stations, station),
                (entry.skus, sku),
            ):
                counter[value] -= 1
                if not counter[value]:
                    del counter[value]
            if ticket_id not in entry.refs:
                del entry.lines[ticket_id]
            if not entry.lines:
                del entries[key]
                if not entries:
                    del self._entries[group]
        return bool(shares)

    def groups(self) -> list[str]:
        """The groups with something to make, sorted."""
        return sorted(self._entries)

    def counts(self, group: str) -> list[AllDayCount]:
        """``group``'s counts, most first, then by name (like :func:`all_day`)."""
        counts = [entry.count(key) for key, entry in self._entries.get(group, {}).items()]
        counts.sort(key=lambda c: (-c.qty, c.key))
        return counts

    def by_group(self) -> dict[str, list[AllDayCount]]:
        """Every group's counts (like :func:`all_day_by_station`)."""
        return {group: self.counts(group) for group in self.groups()}


def station_tally(
    station: str | None,
    *,
    folds: Mapping[str, str] | None = None,
    expo_station: str | None = None,
) -> AllDayTally:
    """A tally whose group ``"all day"`` counts what :func:`all_day` counts for
    ``station`` (folds honoured; the expo station or ``None``: every station)."""
    wanted = stations_for(station, folds=folds, expo_station=expo_station)
    if wanted is None:
        return AllDayTally(lambda _station: ALL)
    return AllDayTally(lambda s: ALL if s in wanted else None)


def board_tally(folds: Mapping[str, str] | None = None) -> AllDayTally:
    """A tally grouped like :func:`all_day_by_station`: each station, folded stations
    counted where they fold into."""
    folds = dict(folds or {})
    return AllDayTally(lambda s: folds.get(s, s))


#: the one group of :func:`station_tally`
ALL = "all day"


def modifier_text(name: str, qty: int) -> str:
    name = " ".join(name.split())
    return f"{qty}\u00d7 {name}" if qty > 1 else name


def format_count(count: AllDayCount) -> str:
    """``6x Classic Burger + no onion, 2x bacon`` (with U+00D7 for x)."""
    text = f"{count.qty}\u00d7 {count.name}"
    if count.modifiers:
        text += " + " + ", ".join(count.modifiers)
    return text
