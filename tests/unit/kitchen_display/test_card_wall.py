"""The card wall lays its cards out as ``QListView`` did and keeps what the screen shows
right after every kind of change, repainting only what moved.

:class:`~kitchen_display.card_wall.CardWall` keeps each card's place from one change to
the next and repaints from the first card a change moved. These tests check the places
against a ``QListView`` set up as the wall used to be, and what the screen holds (the
window's backing store, grabbed from the screen, so a region left unpainted shows)
against the wall painted whole, after inserts, moves, removals, a card that grows or
shrinks, scrolling and a narrower window.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QAbstractItemModel, QPoint, QRect, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractItemView, QListView, QScrollBar, QStyle
from pytestqt.qtbot import QtBot

from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_wall import CardWall, card_wall
from kitchen_display.config import DisplaySettings
from kitchen_display.theme import DARK
from kitchen_display.ticket_model import TicketListModel
from shared.model import Ticket
from tests.unit.kitchen_display.fakes import NOW, revise, ticket
from tests.unit.kitchen_display.paints import PaintedRects


def _clock() -> datetime:
    return NOW


@pytest.fixture
def model() -> Iterator[TicketListModel]:
    rows = TicketListModel(
        "grill",
        is_expo=False,
        settings=DisplaySettings(warn_minutes=5, late_minutes=10),
        clock=_clock,
    )
    # No 1-second clock: it repaints every card on screen, which would cover up a
    # region a change left unpainted.
    rows._timer.timeout.disconnect()
    yield rows
    rows.deleteLater()


@pytest.fixture
def wall(qtbot: QtBot, model: TicketListModel) -> CardWall:
    view = card_wall(model, TicketCardDelegate("grill", is_expo=False), name="wall", scale=1.0)
    view.setStyleSheet(f"CardWall {{ background: {DARK.window}; border: none; }}")
    qtbot.addWidget(view)
    view.resize(1300, 900)
    view.show()
    qtbot.waitExposed(view)
    # active from the start: a window made active repaints whole, which would cover up
    # a region a change left unpainted
    view.activateWindow()
    qtbot.waitActive(view)
    return view


def old_wall(model: QAbstractItemModel, qtbot: QtBot) -> QListView:
    """The wall as it was: a ``QListView`` in icon mode, set up as ``card_wall`` did."""
    view = QListView()
    view.setItemDelegate(TicketCardDelegate("grill", is_expo=False, parent=view))
    view.setViewMode(QListView.ViewMode.IconMode)
    view.setFlow(QListView.Flow.LeftToRight)
    view.setWrapping(True)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setMovement(QListView.Movement.Static)
    view.setLayoutMode(QListView.LayoutMode.SinglePass)
    view.setUniformItemSizes(False)
    view.setSpacing(6)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setStyleSheet(f"QListView {{ background: {DARK.window}; border: none; }}")
    view.setModel(model)
    qtbot.addWidget(view)
    return view


def old_wall_beside(
    wall: CardWall, model: TicketListModel, qtbot: QtBot
) -> tuple[QListView, tuple[QScrollBar, QScrollBar]]:
    """The old wall at the wall's size, shown, once both scroll the same way: it and
    the two scroll bars (the wall's first)."""
    old = old_wall(model, qtbot)
    old.resize(wall.size())
    old.show()
    qtbot.waitExposed(old)
    bars = (wall.verticalScrollBar(), old.verticalScrollBar())
    qtbot.waitUntil(lambda: bars[0].maximum() == bars[1].maximum() > 0)
    return old, bars


def order(n: int, lines: int, *, minutes_ago: float | None = None) -> Ticket:
    """Order ``n`` with ``lines`` lines (cards of uneven heights), placed in order."""
    return ticket(
        f"ord_{n:03d}",
        lines=[("grill", f"Burger {k}") for k in range(lines)],
        placed_at=NOW - timedelta(minutes=minutes_ago if minutes_ago is not None else 60 - n / 2),
        number=str(100 + n),
    )


def fill(model: TicketListModel, count: int) -> None:
    for n in range(count):
        model.upsert(order(n, 1 + (n * 7) % 6))


def places(view: QAbstractItemView, model: TicketListModel) -> list[QRect]:
    return [view.visualRect(model.index(row, 0)) for row in range(model.rowCount())]


@pytest.mark.parametrize("width", [640, 977, 1300, 1917])
def test_cards_are_where_qlistview_put_them(
    qtbot: QtBot, model: TicketListModel, wall: CardWall, width: int
) -> None:
    fill(model, 40)
    old = old_wall(model, qtbot)
    for view in (wall, old):
        view.resize(width, 700)
        view.show()
        qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: places(wall, model) == places(old, model))
    assert all(not rect.isEmpty() for rect in places(wall, model))
    assert len({rect.top() for rect in places(wall, model)}) > 3  # lines of cards
    qtbot.waitUntil(lambda: wall.verticalScrollBar().maximum() == old.verticalScrollBar().maximum())
    assert wall.verticalScrollBar().maximum() > 0
    # scrolled to a card, each way, the two walls end up at the same place
    hints = QAbstractItemView.ScrollHint
    scrolls = [
        (30, hints.EnsureVisible),
        (2, hints.EnsureVisible),
        (20, hints.PositionAtTop),
        (25, hints.PositionAtCenter),
        (35, hints.PositionAtBottom),
    ]
    for row, hint in scrolls:
        for view in (wall, old):
            view.scrollTo(model.index(row, 0), hint)
        assert wall.verticalScrollBar().value() == old.verticalScrollBar().value(), (row, hint)
        assert places(wall, model) == places(old, model), (row, hint)
    # a tap lands on the card under it
    for row in range(model.rowCount()):
        rect = wall.visualRect(model.index(row, 0))
        if wall.viewport().rect().contains(rect.center()):
            assert wall.indexAt(rect.center()).row() == row
            assert wall.indexAt(rect.topLeft() - QPoint(2, 2)).row() != row


def test_cards_wrap_where_qlistview_wrapped_them_at_the_edge(
    qtbot: QtBot, model: TicketListModel, wall: CardWall
) -> None:
    """At the widths where one more card fits on a line, and a pixel either side."""
    fill(model, 12)
    old = old_wall(model, qtbot)
    old.show()
    qtbot.waitExposed(old)
    card = wall.visualRect(model.index(0, 0)).width()
    spacing = wall.spacing()
    bar = wall.style().pixelMetric(
        QStyle.PixelMetric.PM_ScrollBarExtent, None, wall.verticalScrollBar()
    )

    def first_line(view: QAbstractItemView) -> int:
        tops = [rect.top() for rect in places(view, model)]
        return tops.count(tops[0])

    for cards in (2, 3, 4):
        edge = spacing + cards * (card + spacing) + 1 + bar  # the narrowest that fits them
        counts = []
        for width in (edge - 1, edge, edge + 1):
            for view in (wall, old):
                view.resize(width, 700)
            qtbot.waitUntil(lambda: places(wall, model) == places(old, model))
            counts.append(first_line(old))
        assert counts == [cards - 1, cards, cards], (cards, counts)


def test_the_wall_is_as_tall_as_its_cards_after_the_last_ones_leave(
    qtbot: QtBot, model: TicketListModel, wall: CardWall
) -> None:
    """Scrolled to the end, the newest cards (at the end) picked up: the wall gets
    shorter and the cards left come back on screen, as they did in ``QListView``."""
    fill(model, 60)
    old, bars = old_wall_beside(wall, model, qtbot)
    for bar in bars:
        bar.setValue(bar.maximum())
    for left in (50, 10, 3, 0):
        while model.rowCount() > left:
            model.remove(model.tickets()[-1].id)
        qtbot.waitUntil(
            lambda: (
                (bars[0].maximum(), bars[0].value(), places(wall, model))
                == (bars[1].maximum(), bars[1].value(), places(old, model))
            ),
            timeout=2000,
        )
        if left:
            last = wall.visualRect(model.index(left - 1, 0))
            assert wall.viewport().rect().intersects(last), left  # on screen, not above it
    assert bars[0].maximum() == 0
    assert_screen_is_the_wall(qtbot, wall, "every card picked up")


def test_a_wheel_step_is_what_it_was_in_qlistview(
    qtbot: QtBot, model: TicketListModel, wall: CardWall
) -> None:
    fill(model, 30)
    _old, bars = old_wall_beside(wall, model, qtbot)
    assert bars[0].singleStep() == bars[1].singleStep() > 100  # about a card


def test_a_hidden_wall_measures_no_card_and_catches_up_when_shown(
    qtbot: QtBot, model: TicketListModel, wall: CardWall, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A station's wall behind the board: orders come, grow, move and go without a
    card measured; shown again, every card is where ``QListView`` puts it and the
    screen is the wall painted whole."""
    fill(model, 20)
    assert_screen_is_the_wall(qtbot, wall, "the first cards")
    wall.hide()
    delegate = wall.itemDelegate()
    measured: list[int] = []
    size_hint = delegate.sizeHint

    def counting(option: object, index: object) -> object:
        measured.append(1)
        return size_hint(option, index)  # type: ignore[arg-type]

    monkeypatch.setattr(delegate, "sizeHint", counting)
    for n in range(20, 40):
        model.upsert(order(n, 1 + (n * 7) % 6))  # new cards
    assert model.tickets()[3].id == "ord_003"
    model.upsert(revise(order(3, 7)))  # grows
    model.upsert(revise(model.tickets()[30], priority="rush"))  # moves to the front
    model.remove(model.tickets()[10].id)
    assert measured == []
    assert wall.card_rect(0).isValid()  # asked while hidden: laid out with every size
    assert len(measured) == model.rowCount()
    measured.clear()
    wall.show()
    qtbot.waitExposed(wall)
    old, bars = old_wall_beside(wall, model, qtbot)
    qtbot.waitUntil(lambda: places(wall, model) == places(old, model))
    assert bars[0].maximum() == bars[1].maximum()
    assert_screen_is_the_wall(qtbot, wall, "the wall shown again")


def on_screen(view: CardWall) -> QImage:
    """The wall's part of what the window holds now (no repaint)."""
    viewport = view.viewport()
    corner = viewport.mapTo(view.window(), QPoint(0, 0))
    window = view.window()
    shot = window.screen().grabWindow(
        window.winId(), corner.x(), corner.y(), viewport.width(), viewport.height()
    )
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def painted_whole(view: CardWall) -> QImage:
    return view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def assert_screen_is_the_wall(qtbot: QtBot, view: CardWall, what: str) -> None:
    """What the screen shows settles on the wall painted whole: nothing stale left."""
    try:
        qtbot.waitUntil(lambda: on_screen(view) == painted_whole(view), timeout=3000)
    except AssertionError:
        raise AssertionError(f"after {what}: the screen is not the wall painted whole") from None


def test_the_screen_shows_the_wall_as_painted_whole_after_every_kind_of_change(
    qtbot: QtBot, model: TicketListModel, wall: CardWall
) -> None:
    fill(model, 24)
    assert_screen_is_the_wall(qtbot, wall, "the first cards")

    def start_line(ticket_id: str) -> None:
        model.upsert(revise(present(model, ticket_id), item={"status": "in_progress"}))

    def rush(ticket_id: str, priority: str) -> None:
        model.upsert(revise(present(model, ticket_id), priority=priority))

    changes: list[tuple[str, Callable[[], None]]] = [
        ("an order placed last (at the end)", lambda: model.upsert(order(50, 2, minutes_ago=0))),
        (
            "an order placed first (at the front)",
            lambda: model.upsert(order(51, 3, minutes_ago=99)),
        ),
        ("a rush (to the front)", lambda: rush("ord_010", "rush")),
        ("the rush undone", lambda: rush("ord_010", "normal")),
        ("the first card picked up", lambda: model.remove(model.tickets()[0].id)),
        ("a card in the middle picked up", lambda: model.remove("ord_012")),
        ("the last card picked up", lambda: model.remove(model.tickets()[-1].id)),
        ("a card grows", lambda: model.upsert(grown(present(model, "ord_003"), 7))),
        ("a card shrinks", lambda: model.upsert(grown(present(model, "ord_003"), 1))),
        ("a line started (in place)", lambda: start_line("ord_005")),
    ]
    for what, change in changes:
        change()
        assert_screen_is_the_wall(qtbot, wall, what)
    bar = wall.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    assert_screen_is_the_wall(qtbot, wall, "scrolling half way")
    for what, change in changes[:6]:
        change()
        assert_screen_is_the_wall(qtbot, wall, f"{what}, scrolled")
    wall.resize(820, 900)
    assert_screen_is_the_wall(qtbot, wall, "a narrower window")
    while model.rowCount():
        model.remove(model.tickets()[0].id)
    assert_screen_is_the_wall(qtbot, wall, "every card picked up")


def test_a_card_that_arrives_below_the_screen_repaints_nothing(
    qtbot: QtBot, model: TicketListModel, wall: CardWall
) -> None:
    # the scroll bar there from the start: when it first shows, the scroll area lays
    # out its parts again a turn or more later and the whole wall repaints (seen under
    # load, 2 runs in 20), which is not what this test is about
    wall.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
    fill(model, 40)
    assert_screen_is_the_wall(qtbot, wall, "the first cards")
    last = wall.visualRect(model.index(model.rowCount() - 1, 0))
    assert last.top() > wall.viewport().height()  # the wall goes on below the screen
    painted = PaintedRects(wall.viewport()).rects
    model.upsert(order(60, 2, minutes_ago=0))
    qtbot.waitUntil(lambda: wall.verticalScrollBar().maximum() > 0)
    newest = wall.visualRect(model.index(model.rowCount() - 1, 0))
    qtbot.waitUntil(
        lambda: wall.verticalScrollBar().maximum() >= newest.bottom() - wall.viewport().height()
    )
    assert painted == []
    model.upsert(order(61, 2, minutes_ago=99))  # at the front: the whole screen moves
    qtbot.waitUntil(lambda: bool(painted))
    assert_screen_is_the_wall(qtbot, wall, "an order at the front")


def test_keys_move_the_current_card_through_the_wall(
    qtbot: QtBot, model: TicketListModel, wall: CardWall
) -> None:
    fill(model, 24)
    qtbot.waitUntil(lambda: not wall.visualRect(model.index(23, 0)).isEmpty())
    wall.setCurrentIndex(model.index(0, 0))
    moves = QAbstractItemView.CursorAction
    none = Qt.KeyboardModifier.NoModifier
    assert wall.moveCursor(moves.MoveNext, none).row() == 1
    assert wall.moveCursor(moves.MoveEnd, none).row() == 23
    assert wall.moveCursor(moves.MovePrevious, none).row() == 0  # not before the first
    first = wall.visualRect(model.index(0, 0))
    on_first_line = [
        row for row in range(24) if wall.visualRect(model.index(row, 0)).top() == first.top()
    ]
    below = wall.moveCursor(moves.MoveDown, none)
    assert below.row() == len(on_first_line)  # the card under the first one
    assert wall.visualRect(below).left() == first.left()
    wall.setCurrentIndex(below)
    assert wall.moveCursor(moves.MoveUp, none).row() == 0
    # at the edges the current card stays, as in QListView
    wall.setCurrentIndex(model.index(1, 0))
    assert wall.moveCursor(moves.MoveUp, none).row() == 1
    last_line = [
        row
        for row in range(24)
        if wall.visualRect(model.index(row, 0)).top() == wall.visualRect(model.index(23, 0)).top()
    ]
    wall.setCurrentIndex(model.index(last_line[0], 0))
    assert wall.moveCursor(moves.MoveDown, none).row() == last_line[0]


def present(model: TicketListModel, ticket_id: str) -> Ticket:
    row = model.row_of(ticket_id)
    found = model.ticket_at(row)
    assert found is not None, ticket_id
    return found


def grown(base: Ticket, lines: int) -> Ticket:
    """``base`` with ``lines`` grill lines (a card of another height)."""
    data = base.model_dump(mode="json")
    data["version"] = base.version + 1
    first = data["items"][0]
    data["items"] = [
        {**first, "line_id": f"l{k + 1}", "name": f"Burger {k}", "sku": f"burger-{k}"}
        for k in range(lines)
    ]
    return Ticket.model_validate(data)
