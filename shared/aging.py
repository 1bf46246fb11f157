"""The one aging rule: is a ticket OK, WARN or LATE right now, and by how much.

Every place that says a ticket is late uses :func:`age_ticket` (or
:func:`late_when_ready`): the station cards, the expo screen, the lead's board and the
agent's ``tickets.late`` metric, so they never disagree.

The rule, for one :class:`~shared.wire.AgingRule` (``0``: that threshold is off):

* **LATE** from the earlier of ``placed_at + late_minutes`` and ``promised_at``;
  ``overdue_seconds`` counts from that moment (the first deadline missed), so a
  ticket past its promise is late even before ``late_minutes``;
* **WARN** (when not late) from the earlier of ``placed_at + warn_minutes`` and
  ``promised_at - promised_warn_minutes``;
* **OK** before that.

Each moment is inclusive: at exactly ``late_minutes`` the ticket is late.

Which rule: ``settings.aging_for(station=..., brand_id=..., channel=...)`` (the most
specific wins). A station card asks with its station. The whole ticket (``station=None``:
the board, the expo screen, the metric) is the worst over the stations that still have
unfinished lines; once every line is done (the ticket waits to be bagged) or when it has
no lines, the expo station's rule (``settings.expo_station``; without a rule of its own
that is the brand's, channel's or site's rule).

Only a working ticket (``accepted``, ``in_progress``) ages: a ready, picked-up or
cancelled ticket is OK (a READY ticket on expo's shelf never goes late). Whether a
ticket *became ready* late (the agent's ``tickets.late``) is :func:`late_when_ready`:
the whole ticket's aging at ``ready_at``, on the ticket as it was just before it
turned ready: exactly what the board and expo showed at that moment.

Deadlines are clamped to the calendar's ends: a ticket placed (or promised) within
``late_minutes`` of year 9999 (or year 1) ages without an ``OverflowError``; a deadline
beyond the last moment is never reached, one before the first has always passed.

Pure and Qt-free: the caller passes the time.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.model import ItemStatus, Ticket, TicketStatus
from shared.wire import AgingRule, SiteSettings

#: the statuses in which a ticket ages
AGING_STATUSES = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})


class AgeState(enum.StrEnum):
    """How long a ticket has waited, against the site's thresholds."""

    OK = "ok"
    WARN = "warn"
    LATE = "late"

    @property
    def rank(self) -> int:
        """0 for OK, 1 for WARN, 2 for LATE (higher is worse)."""
        return _RANK[self]


_RANK = {AgeState.OK: 0, AgeState.WARN: 1, AgeState.LATE: 2}


@dataclass(frozen=True)
class Aging:
    """A ticket's aging at one moment."""

    state: AgeState = AgeState.OK
    #: whole seconds since ``placed_at`` (>= 0)
    elapsed_seconds: int = 0
    #: LATE only: whole seconds since the first deadline missed (``placed_at +
    #: late_minutes`` or ``promised_at``, whichever came first); 0 otherwise
    overdue_seconds: int = 0
    #: seconds left to ``promised_at`` (rounded up, so 0 means "due now"; negative once
    #: past); ``None`` without a promise or when the ticket no longer ages
    due_in_seconds: int | None = None
    #: ``promised_warn_minutes`` or less are left to the promise, which has not passed
    #: yet (the card says "DUE IN 2:30" rather than "WARN 5:12")
    promise_near: bool = False

    @property
    def late(self) -> bool:
        return self.state is AgeState.LATE

    def _worse_key(self) -> tuple[int, int, bool]:
        return (self.state.rank, self.overdue_seconds, self.promise_near)


def age_by_rule(ticket: Ticket, now: datetime, rule: AgingRule) -> Aging:
    """The rule above for one :class:`AgingRule`, whatever the ticket's status."""
    elapsed = (now - ticket.placed_at).total_seconds()
    late_since = _earliest(
        _shifted(ticket.placed_at, rule.late_minutes) if rule.late_minutes else None,
        ticket.promised_at,
    )
    warn_since = _earliest(
        _shifted(ticket.placed_at, rule.warn_minutes) if rule.warn_minutes else None,
        _shifted(ticket.promised_at, -rule.promised_warn_minutes)
        if ticket.promised_at is not None and rule.promised_warn_minutes
        else None,
    )
    due_in: int | None = None
    promise_near = False
    if ticket.promised_at is not None:
        left = (ticket.promised_at - now).total_seconds()
        due_in = math.ceil(left)
        promise_near = 0 < left <= rule.promised_warn_minutes * 60
    state = AgeState.OK
    overdue = 0
    if late_since is not None and now >= late_since:
        state = AgeState.LATE
        overdue = math.floor((now - late_since).total_seconds())
    elif warn_since is not None and now >= warn_since:
        state = AgeState.WARN
    return Aging(
        state=state,
        elapsed_seconds=max(0, math.floor(elapsed)),
        overdue_seconds=overdue,
        due_in_seconds=due_in,
        promise_near=promise_near,
    )


def working_stations(ticket: Ticket, settings: SiteSettings) -> tuple[str, ...]:
    """The stations whose rules decide the whole ticket's aging: those with unfinished
    lines, else (all done, or no lines) the expo station (``""`` when the site has none)."""
    open_ = {item.station for item in ticket.items if item.status is not ItemStatus.DONE}
    stations = tuple(s for s in ticket.stations() if s in open_)
    return stations or (settings.expo_station,)


def age_ticket(
    ticket: Ticket,
    now: datetime,
    settings: SiteSettings,
    *,
    station: str | None = None,
) -> Aging:
    """``ticket``'s aging at ``now`` for ``station``'s card (``None``: the whole ticket,
    the worst over :func:`working_stations`). Not working (ready, picked up, cancelled):
    OK, not aging."""
    if ticket.status not in AGING_STATUSES:
        elapsed = max(0, math.floor((now - ticket.placed_at).total_seconds()))
        return Aging(elapsed_seconds=elapsed)
    return _age_working(ticket, now, settings, station)


def next_change(
    ticket: Ticket,
    now: datetime,
    settings: SiteSettings,
    *,
    station: str | None = None,
) -> datetime | None:
    """The first moment after ``now`` at which :func:`age_ticket` (same arguments) may
    give another ``state`` or ``promise_near``, if the ticket does not change first;
    ``None``: never. A screen re-ages a ticket then, not every second.

    The candidates are every deadline of the rules that decide (warn and late by the
    clock, the promise and its warning); a candidate that turns out to change nothing
    costs one needless re-aging.
    """
    if ticket.status not in AGING_STATUSES:
        return None
    moments: list[datetime] = []
    for rule in _rules(ticket, settings, station):
        if rule.late_minutes:
            moments.append(_shifted(ticket.placed_at, rule.late_minutes))
        if rule.warn_minutes:
            moments.append(_shifted(ticket.placed_at, rule.warn_minutes))
        if ticket.promised_at is not None and rule.promised_warn_minutes:
            moments.append(_shifted(ticket.promised_at, -rule.promised_warn_minutes))
    if ticket.promised_at is not None:
        moments.append(ticket.promised_at)
    future = [moment for moment in moments if moment > now]
    return min(future) if future else None


def recheck_due(checked: datetime, due: datetime | None, now: datetime) -> bool:
    """Whether a ticket aged at ``checked``, with :func:`next_change` ``due``, must be
    aged again at ``now``: its change came, or the clock went back past ``checked``."""
    return now < checked or (due is not None and now >= due)


def late_when_ready(
    ticket: Ticket, settings: SiteSettings, *, before: Ticket | None = None
) -> bool:
    """Whether the ready ``ticket`` became ready late: the whole ticket was LATE at its
    ``ready_at``.

    ``before`` is the ticket just before the bump that made it ready (still working,
    with the lines that were unfinished then), so the answer is what the board and expo
    showed at that moment; without it, ``ticket``'s own lines decide (all done by then:
    the expo station's rule). ``False`` without ``ready_at``.
    """
    if ticket.ready_at is None:
        return False
    return _age_working(before or ticket, ticket.ready_at, settings, None).late


def _age_working(
    ticket: Ticket, now: datetime, settings: SiteSettings, station: str | None
) -> Aging:
    worst: Aging | None = None
    for rule in _rules(ticket, settings, station):
        aging = age_by_rule(ticket, now, rule)
        if worst is None or aging._worse_key() > worst._worse_key():
            worst = aging
    assert worst is not None  # stations is never empty
    return worst


def _rules(ticket: Ticket, settings: SiteSettings, station: str | None) -> Iterable[AgingRule]:
    """The distinct rules of ``station`` (``None``: of :func:`working_stations`), in
    station order: most sites set no per-station rule, so a ticket on four stations is
    aged once, not four times to the same answer."""
    stations = (station,) if station is not None else working_stations(ticket, settings)
    brand, channel = ticket.brand.id, ticket.channel
    return dict.fromkeys(
        settings.aging_for(station=name, brand_id=brand, channel=channel) for name in stations
    )


def _shifted(moment: datetime, minutes: float) -> datetime:
    """``moment`` plus ``minutes``, clamped to the first / last representable moment."""
    try:
        return moment + timedelta(minutes=minutes)
    except OverflowError:
        edge = datetime.max if minutes > 0 else datetime.min
        return edge.replace(tzinfo=moment.tzinfo)


def _earliest(*moments: datetime | None) -> datetime | None:
    present = [moment for moment in moments if moment is not None]
    return min(present) if present else None
