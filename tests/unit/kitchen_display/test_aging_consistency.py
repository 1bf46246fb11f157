"""One aging rule everywhere: the same ticket at the same moment has the same state on a
station card, on expo, on the lead's board and in the agent's ``tickets.late``.

The Qt models are driven directly (offscreen, a fixed clock); the metric through
:meth:`edge_agent.effects.Effects.on_lifecycle`, as the kitchen calls it when an expo
bump makes the ticket ready at that same moment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

import kitchen_display.ticket_model as ticket_model
from edge_agent.effects import EffectRules, Effects
from edge_agent.store import Store
from kitchen_display.board_model import BoardModel, BoardRole
from kitchen_display.card_content import aging_cue
from kitchen_display.config import DisplaySettings
from kitchen_display.ticket_model import Role, TicketListModel
from shared import aging
from shared.aging import AgeState
from shared.model import Ticket
from shared.wire import AgingRule, SiteSettings
from tests.helpers.metrics import RecordingMetrics
from tests.unit.kitchen_display.fakes import NOW, SITE, revise, ticket

#: warn at 5 and late at 8 minutes since placed, warn 3 minutes before the promise
RULES = SiteSettings(
    expo_station="expo",
    aging=AgingRule(warn_minutes=5, late_minutes=8, promised_warn_minutes=3),
)
#: fry is quicker: warn at 2, late at 3 minutes
FAST_FRY = RULES.model_copy(
    update={"aging_stations": {"fry": AgingRule(warn_minutes=2, late_minutes=3)}}
)
BOTH = [("grill", "Burger"), ("fry", "Fries")]


def placed(
    minutes_ago: float,
    *,
    lines: Sequence[tuple[str, str] | dict[str, Any]] | None = None,
    promised_in: float | None = None,
) -> Ticket:
    t = ticket("t1", lines=lines, placed_at=NOW - timedelta(minutes=minutes_ago))
    if promised_in is not None:
        t = revise(t, promised_at=(NOW + timedelta(minutes=promised_in)).isoformat())
    return t


@dataclass(frozen=True)
class Case:
    ticket: Callable[[], Ticket]
    settings: SiteSettings
    #: the state on each station's card (None: that station does not show it)
    grill: AgeState | None
    fry: AgeState | None
    #: the whole ticket: expo, board, and whether tickets.late counts it
    whole: AgeState


CASES = {
    "ok": Case(lambda: placed(1), RULES, AgeState.OK, None, AgeState.OK),
    "warn by time": Case(lambda: placed(6), RULES, AgeState.WARN, None, AgeState.WARN),
    "late by time": Case(lambda: placed(9), RULES, AgeState.LATE, None, AgeState.LATE),
    "warn by promise": Case(
        lambda: placed(1, promised_in=2), RULES, AgeState.WARN, None, AgeState.WARN
    ),
    "late by promise, before late_minutes": Case(
        lambda: placed(2, promised_in=-0.5), RULES, AgeState.LATE, None, AgeState.LATE
    ),
    "per-station rule": Case(
        lambda: placed(4, lines=BOTH), FAST_FRY, AgeState.OK, AgeState.LATE, AgeState.LATE
    ),
    "per-station rule, that station done": Case(
        lambda: revise(placed(4, lines=BOTH), station="fry", item={"status": "done"}),
        FAST_FRY,
        AgeState.OK,
        None,
        AgeState.OK,
    ),
    "per-station rule, every line done (waits at expo)": Case(
        lambda: revise(placed(6, lines=BOTH), item={"status": "done"}),
        FAST_FRY,
        None,
        None,
        AgeState.WARN,
    ),
}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "edge.sqlite3")
    try:
        yield db
    finally:
        db.close()


def counted_late(store: Store, settings: SiteSettings, before: Ticket) -> bool:
    """Expo bumps ``before`` now: does the agent count the ticket in ``tickets.late``?"""
    metrics = RecordingMetrics()
    effects = Effects(store, EffectRules(site_id=SITE), metrics, site_settings=settings)
    ready = revise(before, status="ready", ready_at=NOW.isoformat(), item={"status": "done"})
    effects.on_lifecycle(
        ready,
        "ready",
        station="expo",
        event_id="e1",
        at=NOW.isoformat(),
        seconds_since_received=60.0,
        before=before,
    )
    assert "tickets.ready" in metrics.counted
    return "tickets.late" in metrics.counted


def card_state(model: TicketListModel) -> AgeState | None:
    index = model.index_of("t1")
    return AgeState(model.data(index, Role.AgeStateRole)) if index.isValid() else None


@pytest.mark.parametrize("name", list(CASES))
def test_the_same_state_on_cards_expo_board_and_metric(
    name: str, qapp: QApplication, store: Store
) -> None:
    case = CASES[name]
    t = case.ticket()
    clock = lambda: NOW  # noqa: E731
    stations = {
        station: TicketListModel(station, is_expo=False, settings=DisplaySettings(), clock=clock)
        for station in ("grill", "fry")
    }
    expo = TicketListModel("expo", is_expo=True, settings=DisplaySettings(), clock=clock)
    board = BoardModel(case.settings, clock=clock)
    for model in (*stations.values(), expo):
        model.set_site_settings(case.settings)
        model.upsert(t)
    board.upsert(t)

    # each station's card: its own station's rule
    assert card_state(stations["grill"]) is case.grill
    assert card_state(stations["fry"]) is case.fry
    for station, model in stations.items():
        if card_state(model) is not None:
            assert (
                card_state(model) is aging.age_ticket(t, NOW, case.settings, station=station).state
            )

    # the whole ticket: expo, the board and the metric agree
    whole = aging.age_ticket(t, NOW, case.settings)
    assert whole.state is case.whole
    assert card_state(expo) is case.whole
    row = board.index(board.row_of("t1"), 0)
    assert AgeState(row.data(BoardRole.AgeStateRole)) is case.whole
    assert board.state_of("t1") is case.whole
    assert counted_late(store, case.settings, t) is (case.whole is AgeState.LATE)
    # and by how much: expo's cue and the board's LATE +m:ss count the same seconds
    expo_index = expo.index_of("t1")
    assert expo.data(expo_index, Role.LateBySecondsRole) == row.data(BoardRole.LateBySecondsRole)
    assert row.data(BoardRole.LateBySecondsRole) == whole.overdue_seconds
    board.deleteLater()


def test_warn_by_promise_says_due_in_on_cards_and_expo(qapp: QApplication) -> None:
    t = placed(1, promised_in=2)
    for model in (
        TicketListModel("grill", is_expo=False, clock=lambda: NOW),
        TicketListModel("expo", is_expo=True, clock=lambda: NOW),
    ):
        model.set_site_settings(RULES)
        model.upsert(t)
        result = model.data(model.index_of("t1"), Role.AgingRole)
        assert result == aging.Aging(
            AgeState.WARN, 60, due_in_seconds=120, promise_near=True
        )  # the typed result, no text
        assert aging_cue(result) == "DUE IN 2:00"


def test_a_ready_ticket_on_the_board_and_expo_shelf_never_goes_late(qapp: QApplication) -> None:
    t = revise(placed(30), status="ready", ready_at=NOW.isoformat(), item={"status": "done"})
    board = BoardModel(RULES, clock=lambda: NOW)
    board.upsert(t)
    assert board.state_of("t1") is AgeState.OK
    assert aging.age_ticket(t, NOW + timedelta(hours=1), RULES).state is AgeState.OK
    board.deleteLater()


def test_the_display_fallback_rules_feed_the_same_function(qapp: QApplication) -> None:
    """Before the agent sent settings, a screen ages by its own [display] thresholds."""
    model = TicketListModel(
        "grill",
        is_expo=False,
        settings=DisplaySettings(warn_minutes=2, late_minutes=3),
        clock=lambda: NOW,
    )
    t = placed(2.5)
    model.upsert(t)
    own = SiteSettings(aging=AgingRule(warn_minutes=2, late_minutes=3))
    assert card_state(model) is AgeState.WARN
    assert aging.age_ticket(t, NOW, own, station="grill").state is AgeState.WARN
    assert model.aging_settings().aging == own.aging


def test_kitchen_display_uses_the_shared_enum() -> None:
    assert vars(ticket_model)["AgeState"] is AgeState
