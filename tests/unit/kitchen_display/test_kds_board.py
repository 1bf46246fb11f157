"""The kitchen lead's board: every open ticket, late first, stats, all-day, 86 and lead
actions — driven by taps on a real display wired to the fake agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.board import BoardView, FoldDialog
from kitchen_display.board_model import BoardModel, BoardRole, Column
from kitchen_display.card_style import contrast_ratio
from kitchen_display.theme import DARK, HIGH_CONTRAST, THEMES, Theme
from kitchen_display.widgets import ChoiceDialog
from shared.aging import AgeState
from shared.model import Ticket
from shared.wire import AgingRule, OutOfStock, SiteSettings
from tests.unit.kitchen_display.fakes import FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay

SMASH = ("b_smash", "Smash Co")


def board_rows(board: BoardView) -> list[str]:
    model = board.model
    return [model.index(r, Column.ORDER).data() for r in range(model.rowCount())]


def row_texts(board: BoardView, ticket_id: str) -> list[str]:
    model = board.model
    row = model.row_of(ticket_id)
    return [model.index(row, c).data() for c in Column]


class Lead(Protocol):
    """The ``lead`` fixture: ``lead(**display_settings)`` -> (expo display, its board)."""

    def __call__(self, **display: Any) -> tuple[DisplayApp, BoardView]: ...


@pytest.fixture
def lead(agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot) -> Lead:
    """A display whose lead opened the board (and the board widget)."""

    def make(**display: Any) -> tuple[DisplayApp, BoardView]:
        app = make_display("expo", **display)
        board = BoardView(app.sync)
        qtbot.addWidget(board)
        board.resize(1600, 900)
        board.show()
        qtbot.waitExposed(board)
        return app, board

    return make


def fold_dialog(board: BoardView) -> FoldDialog:
    """The fold dialog the last tap on the board opened."""
    dialog = board.dialog
    assert isinstance(dialog, FoldDialog), dialog
    return dialog


def click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def tap_row(qtbot: QtBot, board: BoardView, ticket_id: str) -> None:
    index = board.model.index(board.model.row_of(ticket_id), Column.BRAND)
    rect = board.table.visualRect(index)
    qtbot.mouseClick(board.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    selected = board.selected_ticket()
    assert selected is not None and selected.id == ticket_id


def test_late_tickets_first_across_stations(agent: FakeAgent, lead: Lead, qtbot: QtBot) -> None:
    agent.publish(ticket("ord_new", number="10", minutes_ago=1))
    agent.publish(ticket("ord_late", number="11", minutes_ago=12, lines=[("fry", "Fries")]))
    agent.publish(ticket("ord_warn", number="12", minutes_ago=6, lines=[("cold", "Salad")]))
    agent.publish(ticket("ord_rush", number="13", minutes_ago=2, priority="rush"))
    _, board = lead()
    assert board_rows(board) == ["#11", "#12", "#13", "#10"]
    assert row_texts(board, "ord_late")[Column.STATE].startswith("LATE +4:")
    assert row_texts(board, "ord_late")[Column.STATIONS] == "fry ○"
    assert row_texts(board, "ord_warn")[Column.STATE] == "WARN"
    assert row_texts(board, "ord_rush")[Column.STATE] == "RUSH"
    assert board.summary.text().startswith("BOARD   4 open   ·   1 late   ·   1 warn")
    # what it looks like: the late row is red with white text
    index = board.model.index(0, Column.ORDER)
    assert index.data(Qt.ItemDataRole.BackgroundRole).name() == DARK.colors.late
    assert index.data(Qt.ItemDataRole.ForegroundRole).name() == DARK.colors.text_on_late

    # a new late ticket goes to the top without a reset
    with qtbot.waitSignal(board.model.rowsInserted) as inserted:
        agent.publish(ticket("ord_older", number="9", minutes_ago=20))
    assert inserted.args[1] == 0
    assert board_rows(board)[:2] == ["#9", "#11"]


def test_site_aging_rules_decide_what_is_late(agent: FakeAgent, lead: Lead, qtbot: QtBot) -> None:
    agent.publish(ticket("ord_fry", number="1", minutes_ago=4, lines=[("fry", "Fries")]))
    agent.publish(ticket("ord_grill", number="2", minutes_ago=4))
    _, board = lead()
    assert board.model.state_of("ord_fry") is AgeState.OK
    agent.publish_settings(
        SiteSettings(aging_stations={"fry": AgingRule(warn_minutes=2, late_minutes=3)})
    )
    qtbot.waitUntil(lambda: board.model.state_of("ord_fry") is AgeState.LATE)
    assert board.model.state_of("ord_grill") is AgeState.OK
    assert board_rows(board) == ["#1", "#2"]


def test_done_and_picked_up_tickets_leave_ready_ones_wait_at_the_bottom(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    t1 = ticket("ord_1", number="1", minutes_ago=3)
    agent.publish(t1)
    agent.publish(ticket("ord_2", number="2", minutes_ago=1))
    _, board = lead()
    ready = revise(t1, status="ready", item={"status": "done"}, ready_at=datetime.now(UTC))
    agent.publish(ready)
    qtbot.waitUntil(lambda: board_rows(board) == ["#2", "#1"])
    assert row_texts(board, "ord_1")[Column.STATE] == "READY"
    assert board.model.index(1, 0).data(BoardRole.ReadyRole) is True
    agent.remove("ord_1")
    qtbot.waitUntil(lambda: board_rows(board) == ["#2"])


def test_average_ticket_time_and_throughput_over_the_last_hour(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    now = datetime.now(UTC)

    def done(
        ticket_id: str,
        brand: tuple[str, str],
        minutes: float,
        ready_minutes_ago: float,
        stations: tuple[str, ...] = ("grill",),
    ) -> Ticket:
        placed = now - timedelta(minutes=ready_minutes_ago + minutes)
        base = ticket(ticket_id, brand=brand, placed_at=placed)
        ready_at = now - timedelta(minutes=ready_minutes_ago)
        return revise(
            base,
            status="ready",
            item={"status": "done"},
            ready_at=ready_at.isoformat(),
            bumped_at={s: (ready_at - timedelta(minutes=1)).isoformat() for s in stations},
        )

    _, board = lead()
    agent.publish(done("ord_a", ("b_burger", "Burger Bros"), 10, 5))
    agent.publish(done("ord_b", ("b_burger", "Burger Bros"), 14, 20))
    agent.publish(done("ord_c", SMASH, 6, 30))
    agent.publish(done("ord_old", SMASH, 50, 90))  # ready 90 minutes ago: not in the hour
    qtbot.waitUntil(lambda: board.model.rowCount() == 4)
    stats = board.model.stats
    assert stats.throughput(now) == 3
    assert stats.by_brand(now) == {"Burger Bros": (2, 12 * 60.0), "Smash Co": (1, 6 * 60.0)}
    assert stats.by_station(now) == {"grill": (3, 9 * 60.0)}
    qtbot.waitUntil(lambda: "3 ready" in board.stats_label.text())
    text = board.stats_label.text()
    assert "Last hour</b>: 3 ready, avg 10:00" in text
    assert "Burger Bros: 2, 12:00" in text
    assert "Smash Co: 1, 6:00" in text
    assert "grill: 3, 9:00" in text


def test_all_day_on_the_board_merges_brands_per_station(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", lines=[{"station": "grill", "name": "Classic Burger", "qty": 2}]))
    agent.publish(
        ticket(
            "ord_2",
            brand=SMASH,
            lines=[{"station": "grill", "name": "Classic Burger"}, ("fry", "Fries")],
        )
    )
    _, board = lead()
    assert board.all_day.texts() == ["FRY", "   1× Fries", "GRILL", "   3× Classic Burger"]
    agent.publish_settings(SiteSettings(folds={"fry": "grill"}))
    qtbot.waitUntil(lambda: board.all_day.texts()[0] == "GRILL")
    assert board.all_day.texts() == ["GRILL", "   3× Classic Burger", "   1× Fries"]


def test_86_an_item_from_the_open_tickets_and_back_in_stock(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", lines=[("grill", "Classic Burger"), ("fry", "Fries")]))
    _, board = lead()
    click(qtbot, board.eighty_six_button)
    dialog = board.dialog
    assert isinstance(dialog, ChoiceDialog) and dialog.isVisible()
    assert [dialog.list.item(r).text() for r in range(dialog.list.count())] == [
        "Classic Burger  (classic-burger)",
        "Fries  (fries)",
    ]
    item = dialog.list.item(1)
    qtbot.mouseClick(
        dialog.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=dialog.list.visualItemRect(item).center(),
    )
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("set_availability")) == 1)
    [command] = agent.commands_of("set_availability")
    assert (command.sku, command.available) == ("fries", False)

    # the agent publishes the 86 list: the board shows it
    agent.publish_settings(SiteSettings(out_of_stock=(OutOfStock(sku="fries", name="Fries"),)))
    qtbot.waitUntil(lambda: board.out_of_stock_texts() == ["86  Fries"])
    assert board.back_button.isEnabled()
    item = board.out_of_stock.item(0)
    qtbot.mouseClick(
        board.out_of_stock.viewport(),
        Qt.MouseButton.LeftButton,
        pos=board.out_of_stock.visualItemRect(item).center(),
    )
    click(qtbot, board.back_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("set_availability")) == 2)
    back = agent.commands_of("set_availability")[1]
    assert (back.sku, back.available) == ("fries", True)


def test_lead_rushes_and_recalls_the_selected_ticket(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    now = datetime.now(UTC)
    base = ticket("ord_1", number="7", lines=[("grill", "Burger"), ("fry", "Fries")])
    agent.publish(
        revise(
            base,
            station="grill",
            item={"status": "done"},
            status="in_progress",
            bumped_at={"grill": now.isoformat()},
        )
    )
    _, board = lead()
    assert not board.rush_button.isEnabled()
    tap_row(qtbot, board, "ord_1")
    assert board.rush_button.isEnabled()
    click(qtbot, board.rush_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("prioritize")) == 1)
    assert agent.commands_of("prioritize")[0].priority == "rush"
    click(qtbot, board.normal_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("prioritize")) == 2)
    assert agent.commands_of("prioritize")[1].priority == "normal"

    click(qtbot, board.recall_button)
    dialog = board.dialog
    assert isinstance(dialog, ChoiceDialog)
    assert dialog.list.item(0).text().startswith("GRILL")
    click(qtbot, dialog.ok_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)
    [recall] = agent.commands_of("recall")
    assert (recall.ticket_id, recall.station) == ("ord_1", "grill")


def test_fold_and_unfold_stations_for_quiet_hours(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", lines=[("grill", "Burger"), ("fry", "Fries"), ("cold", "Salad")]))
    _, board = lead()
    click(qtbot, board.fold_button)
    dialog = fold_dialog(board)
    dialog.source.setCurrentText("fry")
    dialog.target.setCurrentText("grill")
    click(qtbot, dialog.fold_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("fold_stations")) == 1)
    assert agent.commands_of("fold_stations")[0].folds == {"fry": "grill"}
    assert board.dialog is None

    agent.publish_settings(SiteSettings(folds={"fry": "grill", "cold": "grill"}))
    qtbot.waitUntil(lambda: board.model.settings.folds == {"fry": "grill", "cold": "grill"})
    click(qtbot, board.fold_button)
    dialog = fold_dialog(board)
    assert "fry → grill" in dialog.current.text()
    click(qtbot, dialog.unfold_buttons["fry"])
    qtbot.waitUntil(lambda: len(agent.commands_of("fold_stations")) == 2)
    assert agent.commands_of("fold_stations")[1].folds == {"cold": "grill"}
    click(qtbot, board.fold_button)
    dialog = fold_dialog(board)
    click(qtbot, dialog.unfold_all_button)
    qtbot.waitUntil(lambda: len(agent.commands_of("fold_stations")) == 3)
    assert agent.commands_of("fold_stations")[2].folds == {}


def test_board_model_passes_the_model_tester(
    qapp: QApplication, qtmodeltester: ModelTester
) -> None:
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    clock = [now]
    model = BoardModel(SiteSettings(), clock=lambda: clock[0])
    qtmodeltester.check(model, force_py=True)
    a = ticket("ord_a", placed_at=now - timedelta(minutes=1))
    b = ticket("ord_b", placed_at=now - timedelta(minutes=3))
    model.upsert(a)
    model.upsert(b)
    model.upsert(revise(a, priority="rush"))
    clock[0] = now + timedelta(minutes=6)  # b turns late, a turns warn
    model.tick()
    model.remove("ord_b")
    model.reset([a, ticket("ord_c", placed_at=now)])
    qtmodeltester.check(model, force_py=True)


def test_a_snapshot_arrives_on_the_board_in_one_insert_per_run(
    qapp: QApplication, qtmodeltester: ModelTester
) -> None:
    """Into an empty board, one insert of every row; new tickets between shown ones,
    one insert per run; the rows end as upserting the tickets one by one leaves them."""
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    model = BoardModel(SiteSettings(), clock=lambda: now)
    qtmodeltester.check(model, force_py=True)
    inserted: list[tuple[int, int]] = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    first = [ticket(f"ord_{m}", placed_at=now - timedelta(minutes=m)) for m in (1, 3, 6, 9)]
    model.reset(first)
    assert inserted == [(0, 3)]
    later = [
        *first[:3],
        ticket("ord_late", placed_at=now - timedelta(minutes=20)),  # late: first
        ticket("ord_4", placed_at=now - timedelta(minutes=4)),
        ticket("ord_5", placed_at=now - timedelta(minutes=5)),
        ticket("ord_0", placed_at=now),
        revise(ticket("ord_r", placed_at=now - timedelta(minutes=2)), status="ready"),
    ]
    inserted.clear()
    model.reset(later)
    one_by_one = BoardModel(SiteSettings(), clock=lambda: now)
    for t in later:
        one_by_one.upsert(t)
    rows = [model.ticket_at(row).id for row in range(model.rowCount())]  # type: ignore[union-attr]
    assert rows == [
        one_by_one.ticket_at(row).id  # type: ignore[union-attr]
        for row in range(one_by_one.rowCount())
    ]
    assert len(inserted) < 5  # ord_4 and ord_5 together
    assert model.rowCount() == 8  # the ready one at the bottom


def test_only_changed_rows_are_announced(qtbot: QtBot) -> None:
    now = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    clock = [now]
    model = BoardModel(SiteSettings(), clock=lambda: clock[0])
    tickets = [ticket(f"ord_{i}", placed_at=now - timedelta(minutes=i)) for i in range(5)]
    model.reset(tickets)
    changes: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(
        lambda tl, br, roles: changes.append((tl.row(), br.row(), tl.column(), br.column()))
    )
    moves: list[int] = []
    model.rowsMoved.connect(lambda *args: moves.append(args[1]))
    model.upsert(revise(tickets[2], notes="no cutlery"))
    row = model.row_of("ord_2")
    assert changes == [(row, row, 0, len(Column) - 1)]
    assert moves == []
    changes.clear()
    model.upsert(model.tickets()[row])  # the same again: nothing to say
    assert changes == []
    # the clock: the age and state columns of every row in one change, unless aging
    # changes
    clock[0] = now + timedelta(seconds=1)
    model.tick()
    assert changes == [(0, 4, Column.AGE, Column.STATE)]
    # late rows counting up (LATE +m:ss) are in that one change too
    clock[0] = now + timedelta(minutes=8)
    model.tick()
    assert model.late_count() == 5
    changes.clear()
    clock[0] += timedelta(seconds=1)
    model.tick()
    assert changes == [(0, 4, Column.AGE, Column.STATE)]
    assert model.late_count() == 5
    moves.clear()
    # rush moves one row (a move, not a reset)
    with qtbot.assertNotEmitted(model.modelReset):
        model.upsert(revise(tickets[0], priority="rush"))
    assert moves == [4]
    assert model.tickets()[0].id == "ord_0"


def test_the_board_shows_a_declared_allergy_and_who_saw_it(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    seen_at = datetime(2026, 11, 24, 18, 3, tzinfo=UTC)
    declared = revise(
        ticket("ord_allergy", number="31", lines=[("grill", "Pad Thai"), ("fry", "Rolls")]),
        allergy=["ALLERGY: peanuts"],
        allergy_acks=[{"station": "grill", "display_id": "grill-2", "at": seen_at.isoformat()}],
    )
    agent.publish(declared)
    agent.publish(ticket("ord_plain", number="32"))
    _app, board = lead()
    qtbot.waitUntil(lambda: board.model.rowCount() == 2)
    hhmm = seen_at.astimezone().strftime("%H:%M")
    qtbot.waitUntil(
        lambda: (
            row_texts(board, "ord_allergy")[Column.ALLERGY]
            == f"✓ grill {hhmm}  ○ fry  ⚠ ALLERGY: peanuts"
        )
    )
    assert row_texts(board, "ord_plain")[Column.ALLERGY] == ""
    index = board.model.index(board.model.row_of("ord_allergy"), Column.ALLERGY)
    assert index.data(Qt.ItemDataRole.BackgroundRole).name() == DARK.colors.allergy
    # the tooltip names the screen that acknowledged
    assert index.data(Qt.ItemDataRole.ToolTipRole).startswith(f"✓ grill {hhmm} (grill-2)")


@pytest.mark.parametrize("theme", list(THEMES.values()), ids=list(THEMES))
def test_board_rows_take_the_themes_colours_and_stay_readable(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, theme: Theme
) -> None:
    agent.publish(ticket("ord_late", number="1", minutes_ago=30))
    app = make_display("expo", theme=theme.name)
    board = app.window.board
    qtbot.waitUntil(lambda: board.model.rowCount() == 1)
    index = board.model.index(0, Column.ORDER)
    assert index.data(Qt.ItemDataRole.BackgroundRole) == QColor(theme.colors.late)
    assert index.data(Qt.ItemDataRole.ForegroundRole) == QColor(theme.colors.text_on_late)
    minimum = 7.0 if theme is HIGH_CONTRAST else 4.5
    for name, (text, background) in board.model.colors.pairs().items():
        assert contrast_ratio(text, background) >= minimum, (theme.name, name)


def test_order_numbers_and_the_late_state_show_whole(
    agent: FakeAgent, lead: Lead, qtbot: QtBot
) -> None:
    """The bold columns are as wide as their bold text: "#W-1045" was cut to
    "#W-10…" (the widths were measured in the regular weight, on "#00000")."""
    late = ticket("late", number="W-1045", minutes_ago=45, priority="rush")
    agent.publish(late)
    _app, board = lead()
    qtbot.waitUntil(lambda: board.model.rowCount() == 1)
    bold = QFont(board.table.font())
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    pad = 6  # the cell's padding each side, at scale 1
    header = board.table.horizontalHeader()
    for column in (Column.ORDER, Column.AGE, Column.STATE):
        text = str(board.model.index(0, column).data())
        room = header.sectionSize(column) - 2 * pad
        assert metrics.elidedText(text, Qt.TextElideMode.ElideRight, room) == text, column
