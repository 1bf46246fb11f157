"""shared.aging: the one rule for OK / WARN / LATE (cards, expo, board, tickets.late)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.aging import (
    AgeState,
    Aging,
    age_by_rule,
    age_ticket,
    late_when_ready,
    next_change,
    recheck_due,
    working_stations,
)
from shared.model import ItemStatus, Ticket, TicketStatus
from shared.wire import AgingRule, SiteSettings
from tests.unit.shared.factories import ticket

#: warn at 5, late at 8 minutes, warn 3 minutes before the promise
SITE = SiteSettings(
    expo_station="expo",
    aging=AgingRule(warn_minutes=5, late_minutes=8, promised_warn_minutes=3),
)


def placed(**overrides: Any) -> Ticket:
    """The factories' ticket (grill l1 + l3, fry l2), without a promise unless given."""
    overrides.setdefault("promised_at", None)
    return ticket(**overrides)


def after(t: Ticket, seconds: float) -> datetime:
    return t.placed_at + timedelta(seconds=seconds)


def promised_in(t: Ticket, seconds: float) -> Ticket:
    """``t`` with ``promised_at`` set ``seconds`` after its ``placed_at``."""
    return t.model_copy(update={"promised_at": after(t, seconds)})


def with_lines(t: Ticket, **status_by_line: ItemStatus) -> Ticket:
    items = tuple(
        item.model_copy(update={"status": status_by_line[item.line_id]})
        if item.line_id in status_by_line
        else item
        for item in t.items
    )
    return t.model_copy(update={"items": items})


# --- time since placed -------------------------------------------------------------------


def test_ok_until_warn_minutes_then_warn_until_late_minutes() -> None:
    t = placed()
    assert age_ticket(t, after(t, 0), SITE) == Aging(AgeState.OK, 0)
    assert age_ticket(t, after(t, 299.9), SITE).state is AgeState.OK
    assert age_ticket(t, after(t, 300), SITE) == Aging(AgeState.WARN, 300)  # inclusive
    assert age_ticket(t, after(t, 479.9), SITE).state is AgeState.WARN
    assert age_ticket(t, after(t, 480), SITE) == Aging(AgeState.LATE, 480, overdue_seconds=0)


def test_late_counts_overdue_from_late_minutes() -> None:
    t = placed()
    aging = age_ticket(t, after(t, 11 * 60 + 12.7), SITE)
    assert aging.state is AgeState.LATE and aging.late
    assert aging.elapsed_seconds == 11 * 60 + 12
    assert aging.overdue_seconds == 3 * 60 + 12
    assert aging.due_in_seconds is None and not aging.promise_near


def test_a_clock_behind_placed_at_is_zero_elapsed() -> None:
    t = placed()
    assert age_ticket(t, after(t, -30), SITE) == Aging(AgeState.OK, 0)


def test_a_threshold_of_zero_is_off() -> None:
    t = placed()
    only_late = SiteSettings(aging=AgingRule(late_minutes=8))
    assert age_ticket(t, after(t, 7 * 60), only_late).state is AgeState.OK
    nothing = SiteSettings(aging=AgingRule())
    assert age_ticket(t, after(t, 600 * 60), nothing).state is AgeState.OK


# --- the promise -------------------------------------------------------------------------


def test_warn_when_promised_warn_minutes_or_less_are_left() -> None:
    t = promised_in(placed(), 20 * 60)  # promised 20 minutes after placed
    early = age_ticket(t, after(t, 60), SiteSettings(aging=AgingRule(promised_warn_minutes=3)))
    assert early == Aging(AgeState.OK, 60, due_in_seconds=19 * 60)
    rule = SiteSettings(aging=AgingRule(warn_minutes=10, late_minutes=30, promised_warn_minutes=3))
    due = age_ticket(t, after(t, 17 * 60), rule)  # exactly 3 minutes left: inclusive
    assert due == Aging(AgeState.WARN, 17 * 60, due_in_seconds=180, promise_near=True)
    # DUE IN counts down rounded up: 2:29.5 left says 2:30
    assert age_ticket(t, after(t, 17 * 60 + 30.5), rule).due_in_seconds == 150


def test_past_the_promise_is_late_even_before_late_minutes() -> None:
    t = promised_in(placed(), 4 * 60)  # promised 4 minutes after placed, late_minutes 8
    aging = age_ticket(t, after(t, 5 * 60 + 12), SITE)
    assert aging.state is AgeState.LATE
    assert aging.overdue_seconds == 72  # since the promise: the first deadline missed
    assert aging.due_in_seconds == -72
    assert not aging.promise_near
    at_promise = age_ticket(t, after(t, 4 * 60), SITE)
    assert at_promise.state is AgeState.LATE and at_promise.overdue_seconds == 0
    # without any threshold the promise still makes it late
    assert age_ticket(t, after(t, 5 * 60), SiteSettings(aging=AgingRule())).late


def test_overdue_counts_from_the_first_deadline_missed() -> None:
    t = promised_in(placed(), 30 * 60)  # late_minutes (8) comes first
    aging = age_ticket(t, after(t, 31 * 60), SITE)
    assert aging.overdue_seconds == 23 * 60
    assert aging.due_in_seconds == -60


def test_no_promise_warning_without_promised_warn_minutes() -> None:
    t = promised_in(placed(), 10 * 60)
    rule = SiteSettings(aging=AgingRule(warn_minutes=8, late_minutes=12))
    aging = age_ticket(t, after(t, 9 * 60 + 59), rule)
    assert aging.state is AgeState.WARN  # by time (8 minutes), not by the promise
    assert not aging.promise_near
    assert age_ticket(t, after(t, 7 * 60), rule).state is AgeState.OK


# --- which rule --------------------------------------------------------------------------

STRICT_FRY = SITE.model_copy(
    update={"aging_stations": {"fry": AgingRule(warn_minutes=2, late_minutes=3)}}
)


def test_a_station_card_uses_its_station_rule() -> None:
    t = placed()
    now = after(t, 4 * 60)
    assert age_ticket(t, now, STRICT_FRY, station="fry").state is AgeState.LATE
    assert age_ticket(t, now, STRICT_FRY, station="grill").state is AgeState.OK
    # the station rule fills only what it sets: promised_warn_minutes stays the site's
    rule = STRICT_FRY.aging_for(station="fry", brand_id=t.brand.id, channel=t.channel)
    assert rule == AgingRule(warn_minutes=2, late_minutes=3, promised_warn_minutes=3)


def test_most_specific_rule_wins_station_over_brand_over_channel() -> None:
    t = placed()
    settings = SITE.model_copy(
        update={
            "aging_channels": {t.channel: AgingRule(warn_minutes=1, late_minutes=2)},
            "aging_brands": {t.brand.id: AgingRule(warn_minutes=3, late_minutes=4)},
            "aging_stations": {"grill": AgingRule(warn_minutes=6, late_minutes=7)},
        }
    )
    now = after(t, 3.5 * 60)
    assert age_ticket(t, now, settings, station="grill").state is AgeState.OK
    assert age_ticket(t, now, settings, station="fry").state is AgeState.WARN  # brand's
    no_brand = settings.model_copy(update={"aging_brands": {}})
    assert age_ticket(t, now, no_brand, station="fry").state is AgeState.LATE  # channel's


def test_the_whole_ticket_is_the_worst_station_still_working() -> None:
    t = placed()
    now = after(t, 4 * 60)
    assert working_stations(t, STRICT_FRY) == ("grill", "fry")
    whole = age_ticket(t, now, STRICT_FRY)
    assert whole == age_ticket(t, now, STRICT_FRY, station="fry")
    assert whole.state is AgeState.LATE and whole.overdue_seconds == 60
    # fry is done: only grill still works on it, by the site's rule
    fry_done = with_lines(t, l2=ItemStatus.DONE)
    assert working_stations(fry_done, STRICT_FRY) == ("grill",)
    assert age_ticket(fry_done, now, STRICT_FRY).state is AgeState.OK
    # an in-progress line is still work
    assert working_stations(with_lines(t, l2=ItemStatus.IN_PROGRESS), STRICT_FRY) == (
        "grill",
        "fry",
    )


def test_all_lines_done_waits_at_expo_by_the_expo_rule() -> None:
    t = with_lines(placed(), l1=ItemStatus.DONE, l2=ItemStatus.DONE, l3=ItemStatus.DONE)
    assert working_stations(t, SITE) == ("expo",)
    now = after(t, 6 * 60)
    assert age_ticket(t, now, SITE).state is AgeState.WARN  # the site's rule
    quick_expo = SITE.model_copy(
        update={"aging_stations": {"expo": AgingRule(warn_minutes=1, late_minutes=2)}}
    )
    assert age_ticket(t, now, quick_expo).state is AgeState.LATE
    no_expo = SITE.model_copy(update={"expo_station": ""})
    assert working_stations(t, no_expo) == ("",)
    assert age_ticket(t, now, no_expo).state is AgeState.WARN


# --- closed tickets ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [TicketStatus.READY, TicketStatus.PICKED_UP, TicketStatus.CANCELLED]
)
def test_closed_tickets_do_not_age(status: TicketStatus) -> None:
    t = promised_in(placed(), 5 * 60).model_copy(update={"status": status})
    aging = age_ticket(t, after(t, 60 * 60), SITE)
    assert aging == Aging(AgeState.OK, 3600)  # no overdue, no DUE IN
    assert age_ticket(t, after(t, 60 * 60), SITE, station="grill").state is AgeState.OK


@pytest.mark.parametrize("status", [TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS])
def test_working_tickets_age(status: TicketStatus) -> None:
    t = placed().model_copy(update={"status": status})
    assert age_ticket(t, after(t, 9 * 60), SITE).state is AgeState.LATE


# --- became ready late (tickets.late) ----------------------------------------------------


def ready(t: Ticket, seconds: float) -> Ticket:
    done = with_lines(t, l1=ItemStatus.DONE, l2=ItemStatus.DONE, l3=ItemStatus.DONE)
    return done.model_copy(update={"status": TicketStatus.READY, "ready_at": after(t, seconds)})


def test_late_when_ready_is_the_whole_ticket_at_ready_at() -> None:
    t = placed()
    assert not late_when_ready(t, SITE)  # not ready: no ready_at
    assert not late_when_ready(ready(t, 7 * 60 + 59), SITE)
    assert late_when_ready(ready(t, 8 * 60), SITE)
    promised = promised_in(t, 4 * 60)
    assert late_when_ready(ready(promised, 4 * 60), SITE)  # at the promise: late
    assert not late_when_ready(ready(promised, 3 * 60 + 59), SITE)
    # the site's rules, not a fixed 8 minutes
    relaxed = SiteSettings(aging=AgingRule(warn_minutes=10, late_minutes=20))
    assert not late_when_ready(ready(t, 15 * 60), relaxed)


def test_late_when_ready_judges_the_stations_still_working_just_before() -> None:
    # expo bumps while fry (late at 3 minutes) still works: the board showed it LATE
    before = placed().model_copy(update={"status": TicketStatus.IN_PROGRESS})
    made_ready = ready(before, 4 * 60)
    assert made_ready.ready_at is not None
    assert age_ticket(before, made_ready.ready_at, STRICT_FRY).state is AgeState.LATE
    assert late_when_ready(made_ready, STRICT_FRY, before=before)
    # without it, the ready ticket's own lines (all done): the expo station's rule
    assert not late_when_ready(made_ready, STRICT_FRY)


def test_aging_is_frozen() -> None:
    aging = age_by_rule(placed(), datetime.now().astimezone(), AgingRule(late_minutes=1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        aging.state = AgeState.OK  # type: ignore[misc]
    assert [s.rank for s in AgeState] == [0, 1, 2]


def test_deadlines_at_the_ends_of_the_calendar_do_not_overflow() -> None:
    """placed_at + late_minutes past year 9999, promised_at - promised_warn_minutes before
    year 1: clamped (was an OverflowError that stopped every screen's clock)."""
    rule = AgingRule(warn_minutes=5, late_minutes=80, promised_warn_minutes=3)
    last = datetime.max.replace(tzinfo=UTC) - timedelta(minutes=30)
    t = placed(placed_at=last)
    aging = age_by_rule(t, last + timedelta(minutes=10), rule)
    assert aging == Aging(AgeState.WARN, 600)  # warn at 5 minutes; late never comes
    assert age_ticket(t, datetime.max.replace(tzinfo=UTC), SITE).state is AgeState.LATE

    first = datetime.min.replace(tzinfo=UTC)
    t = placed(placed_at=first, promised_at=first + timedelta(minutes=1))
    aging = age_by_rule(t, first + timedelta(seconds=30), rule)
    # the promise warning began "before year 1": it has always been on
    assert aging == Aging(AgeState.WARN, 30, due_in_seconds=30, promise_near=True)
    assert age_by_rule(t, first + timedelta(minutes=2), rule).overdue_seconds == 60


# --- the promise -------------------------------------------------------------------------


# --- when to look again ---------------------------------------------------------------


def _mood(aging: Aging) -> tuple[AgeState, bool]:
    return aging.state, aging.promise_near


@pytest.mark.parametrize("promise", [None, 200, 420, 900])
@pytest.mark.parametrize("station", [None, "grill", "fry"])
@pytest.mark.parametrize(
    "settings",
    [
        SITE,
        SiteSettings(
            expo_station="expo",
            aging=AgingRule(warn_minutes=5, late_minutes=8, promised_warn_minutes=3),
            aging_stations={"fry": AgingRule(warn_minutes=2, late_minutes=4)},
        ),
    ],
)
def test_aging_changes_only_at_next_change(
    promise: int | None, station: str | None, settings: SiteSettings
) -> None:
    """Sampled every second over 20 minutes: the state (and the promise warning) never
    changes before ``next_change`` said, and it is asked again at that moment."""
    t = placed()
    if promise is not None:
        t = promised_in(t, promise)
    now = after(t, 0)
    due = next_change(t, now, settings, station=station)
    mood = _mood(age_ticket(t, now, settings, station=station))
    for second in range(1, 1200):
        now = after(t, second)
        current = _mood(age_ticket(t, now, settings, station=station))
        if due is None or now < due:
            assert current == mood, (second, due)
        else:
            mood = current
            due = next_change(t, now, settings, station=station)
            assert due is None or due > now


def test_a_ticket_that_no_longer_ages_has_no_next_change() -> None:
    done = placed().model_copy(update={"status": TicketStatus.READY})
    assert next_change(done, after(done, 0), SITE) is None
    late = placed()
    assert next_change(late, after(late, 3600), SITE) is None


def test_recheck_due_when_the_change_comes_or_the_clock_went_back() -> None:
    t = placed()
    checked = after(t, 60)
    due = next_change(t, checked, SITE)
    assert due is not None
    assert not recheck_due(checked, due, after(t, 61))
    assert recheck_due(checked, due, due)
    assert recheck_due(checked, due, after(t, 30))  # the clock went back
    assert not recheck_due(checked, None, after(t, 3600))  # nothing changes any more
