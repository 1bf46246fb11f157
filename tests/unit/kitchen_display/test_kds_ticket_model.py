"""TicketListModel: filtering per station, order, row-level updates, aging, model tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kitchen_display.config import DisplaySettings
from kitchen_display.ticket_model import (
    Role,
    StationProgress,
    TicketListModel,
    format_elapsed,
)
from shared.aging import AgeState
from shared.model import Ticket
from tests.unit.kitchen_display.fakes import NOW, revise, ticket, with_items


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(qapp: QApplication) -> Clock:
    return Clock()


@pytest.fixture
def grill(clock: Clock) -> TicketListModel:
    return TicketListModel("grill", is_expo=False, settings=DisplaySettings(), clock=clock)


@pytest.fixture
def expo(clock: Clock) -> TicketListModel:
    return TicketListModel("expo", is_expo=True, settings=DisplaySettings(), clock=clock)


def ids(model: TicketListModel) -> list[str]:
    return [model.data(model.index(row, 0), Role.IdRole) for row in range(model.rowCount())]


def at(minutes: float, **kw: Any) -> Ticket:
    return ticket(placed_at=NOW - timedelta(minutes=minutes), **kw)


def test_passes_qtmodeltester(qtmodeltester: ModelTester, grill: TicketListModel) -> None:
    grill.reset([at(3, ticket_id="a"), at(2, ticket_id="b", priority="rush")])
    qtmodeltester.check(grill)
    grill.upsert(at(1, ticket_id="c"))
    grill.remove("a")
    grill.upsert(at(9, ticket_id="c", priority="rush"))
    qtmodeltester.check(grill)


def test_model_changes_keep_qtmodeltester_happy(
    qtmodeltester: ModelTester, grill: TicketListModel
) -> None:
    qtmodeltester.check(grill, force_py=True)
    grill.upsert(at(3, ticket_id="a"))
    grill.upsert(at(2, ticket_id="b"))
    grill.upsert(at(1, ticket_id="b", priority="rush"))  # moves
    grill.upsert(with_items(at(1, ticket_id="b", priority="rush"), status="done"))  # leaves
    grill.reset([at(5, ticket_id="z")])
    assert ids(grill) == ["z"]


def inserts_of(model: Any) -> list[tuple[int, int]]:
    """Every rowsInserted of ``model`` from now on, as (first, last)."""
    seen: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: seen.append((first, last)))
    return seen


def test_a_snapshot_arrives_in_one_insert_per_run_in_the_order_of_one_by_one(
    qtmodeltester: ModelTester, grill: TicketListModel, clock: Clock
) -> None:
    """A snapshot into an empty screen is one insert of every row (not one per
    ticket); new tickets between shown ones come as one insert per run between the
    same two rows; the rows end as upserting the tickets one by one leaves them."""
    qtmodeltester.check(grill, force_py=True)
    first = [at(m, ticket_id=f"t{m}") for m in (2, 4, 6, 8)] + [
        at(1, ticket_id="r", priority="rush"),
        with_items(at(9, ticket_id="done"), status="done"),  # not for this screen
    ]
    inserted = inserts_of(grill)
    grill.reset(first)
    assert inserted == [(0, 4)]
    assert ids(grill) == ["r", "t8", "t6", "t4", "t2"]
    # a resync: one gone, one moved, new ones before, between and after the rest
    later = [t for t in first if t.id != "t4"] + [
        at(9, ticket_id="n9"),
        at(7, ticket_id="n7"),
        at(6.5, ticket_id="n6"),
        at(0.5, ticket_id="n0"),
        at(3, ticket_id="n3", priority="rush"),
    ]
    later[0] = revise(later[0], priority="rush")  # t2 turns rush: moves up
    inserted.clear()
    grill.reset(later)
    one_by_one = TicketListModel("grill", is_expo=False, settings=DisplaySettings(), clock=clock)
    for t in later:
        one_by_one.upsert(t)
    assert ids(grill) == ids(one_by_one)
    assert ids(grill) == ["n3", "t2", "r", "n9", "t8", "n7", "n6", "t6", "n0"]
    # among [t2, r, t8, t6], the last run first: n0 after t6; n7 and n6 (one run)
    # before t6; n9 before t8; n3 before the rushes
    assert inserted == [(4, 4), (3, 4), (2, 2), (0, 0)]
    for row in range(grill.rowCount()):
        index = grill.index(row, 0)
        assert grill.data(index, Role.AgeStateRole) == one_by_one.data(
            one_by_one.index(row, 0), Role.AgeStateRole
        )


def test_the_role_reader_gives_what_index_data_gives(grill: TicketListModel) -> None:
    """The delegate reads a card's roles from ``role_reader``, not through Qt: every
    role must give the same value both ways."""
    grill.reset(
        [
            at(3, ticket_id="a", priority="rush"),
            with_items(at(12, ticket_id="b"), status="in_progress"),
            ticket(ticket_id="c", placed_at=NOW - timedelta(minutes=6), status="cancelled"),
        ]
    )
    for row in range(grill.rowCount()):
        index = grill.index(row, 0)
        read = grill.role_reader(grill.ticket_at(row))  # type: ignore[arg-type]
        for role in Role:
            assert read(role) == grill.data(index, role), role


def test_rush_first_then_oldest(grill: TicketListModel) -> None:
    grill.reset(
        [
            at(1, ticket_id="new"),
            at(10, ticket_id="old"),
            at(0.5, ticket_id="rush", priority="rush"),
            at(5, ticket_id="mid"),
        ]
    )
    assert ids(grill) == ["rush", "old", "mid", "new"]


def test_priority_change_moves_the_row(qtbot: QtBot, grill: TicketListModel) -> None:
    grill.reset([at(3, ticket_id="a"), at(2, ticket_id="b"), at(1, ticket_id="c")])
    with qtbot.waitSignal(grill.rowsMoved) as moved:
        grill.upsert(at(1, ticket_id="c", priority="rush"))
    assert moved.args[1:3] == [2, 2] and moved.args[4] == 0
    assert ids(grill) == ["c", "a", "b"]
    grill.upsert(at(1, ticket_id="c"))
    assert ids(grill) == ["a", "b", "c"]


def test_unchanged_upsert_emits_nothing_and_changed_one_only_its_row(
    qtbot: QtBot, grill: TicketListModel
) -> None:
    a, b = at(3, ticket_id="a"), at(2, ticket_id="b")
    grill.reset([a, b])
    changes = []
    grill.dataChanged.connect(lambda tl, br, roles=(): changes.append((tl.row(), br.row())))
    grill.upsert(a)
    assert changes == []
    grill.upsert(revise(b, notes="extra napkins"))
    assert changes == [(1, 1)]


def test_station_filter(grill: TicketListModel) -> None:
    fry_only = at(3, ticket_id="fry_only", lines=[("fry", "Fries")])
    both = at(2, ticket_id="both", lines=[("grill", "Burger"), ("fry", "Fries")])
    ready = at(1, ticket_id="ready", status="ready")
    grill.reset([fry_only, both, ready])
    assert ids(grill) == ["both"]
    index = grill.index(0, 0)
    assert [item.name for item in grill.data(index, Role.StationItemsRole)] == ["Burger"]
    assert grill.data(index, Role.OtherStationsRole) == ["fry"]


def test_card_leaves_when_the_station_is_done(grill: TicketListModel) -> None:
    base = at(2, ticket_id="t", lines=[("grill", "Burger"), ("fry", "Fries")])
    grill.upsert(base)
    grill.upsert(revise(base, station="fry", item={"status": "done"}, status="in_progress"))
    assert ids(grill) == ["t"]
    grill.upsert(revise(base, station="grill", item={"status": "done"}, status="in_progress"))
    assert ids(grill) == []


def test_cancelled_ticket_shows_as_void(grill: TicketListModel, expo: TicketListModel) -> None:
    t = at(2, ticket_id="t", status="cancelled")
    grill.upsert(t)
    expo.upsert(t)
    assert ids(grill) == ["t"]
    assert grill.data(grill.index(0, 0), Role.VoidRole) is True
    # expo bags the orders, so it sees the VOID too
    assert ids(expo) == ["t"]
    assert expo.data(expo.index(0, 0), Role.VoidRole) is True
    grill.upsert(at(2, ticket_id="other", status="cancelled", lines=[("fry", "Fries")]))
    assert ids(grill) == ["t"]


def test_expo_shows_whole_open_orders_with_progress(expo: TicketListModel) -> None:
    lines = [
        {"station": "grill", "name": "Burger", "status": "done"},
        {"station": "fry", "name": "Fries", "status": "in_progress"},
        ("cold", "Shake"),
    ]
    expo.reset(
        [
            at(3, ticket_id="t", lines=lines, status="in_progress"),
            at(2, ticket_id="ready", status="ready"),
            at(1, ticket_id="accepted"),
        ]
    )
    assert ids(expo) == ["t", "accepted"]
    index = expo.index(0, 0)
    assert [i.name for i in expo.data(index, Role.StationItemsRole)] == ["Burger", "Fries", "Shake"]
    assert expo.data(index, Role.StationProgressRole) == [
        ("grill", StationProgress.DONE),
        ("fry", StationProgress.IN_PROGRESS),
        ("cold", StationProgress.PENDING),
    ]
    assert expo.data(index, Role.OtherStationsRole) == []
    assert expo.data(index, Role.StartedRole) is True


def test_aging_and_elapsed(grill: TicketListModel, clock: Clock) -> None:
    grill.upsert(at(0, ticket_id="t"))
    index = grill.index(0, 0)
    assert grill.data(index, Role.AgeStateRole) is AgeState.OK
    clock.now = NOW + timedelta(minutes=5)
    assert grill.data(index, Role.ElapsedRole) == 300
    assert grill.data(index, Role.AgeStateRole) is AgeState.WARN
    clock.now = NOW + timedelta(minutes=11, seconds=12)
    assert grill.data(index, Role.AgeStateRole) is AgeState.LATE
    assert grill.data(index, Role.LateBySecondsRole) == 3 * 60 + 12
    assert format_elapsed(grill.data(index, Role.ElapsedRole)) == "11:12"


def test_tick_emits_elapsed_only_and_age_state_when_it_changes(
    grill: TicketListModel, clock: Clock
) -> None:
    grill.reset([at(1, ticket_id="a"), at(0, ticket_id="b")])
    changes = []
    grill.dataChanged.connect(
        lambda tl, br, roles=(): changes.append((tl.row(), br.row(), list(roles)))
    )
    grill.tick()
    assert changes == [(0, 1, [Role.ElapsedRole])]
    changes.clear()
    clock.now = NOW + timedelta(minutes=4, seconds=30)  # "a" crosses 5 minutes
    grill.tick()
    assert changes == [
        (0, 1, [Role.ElapsedRole]),
        (0, 0, [Role.AgeStateRole, Role.LateBySecondsRole]),
    ]


def test_clock_timer_runs_only_with_rows(grill: TicketListModel) -> None:
    assert not grill._timer.isActive()
    grill.upsert(at(1, ticket_id="a"))
    assert grill._timer.isActive()
    grill.remove("a")
    assert not grill._timer.isActive()
