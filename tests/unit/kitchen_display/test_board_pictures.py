"""The lead's board paints its cells from pictures: the table the screen shows is the
table painted cell by cell, after the clock moves and after tickets change.

The board's delegate keeps each cell's look as a picture; these tests grab the table
as the screen shows it and compare it, pixel for pixel, with the same table painted by
a delegate that keeps nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QEvent, QObject, QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.board import BoardDelegate, BoardView
from kitchen_display.theme import DARK
from tests.unit.kitchen_display.fakes import NOW, FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def board(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, clock: Clock
) -> tuple[DisplayApp, BoardView]:
    app = make_display("expo")
    view = BoardView(app.sync, clock=clock)
    qtbot.addWidget(view)
    view.resize(1600, 900)
    view.show()
    qtbot.waitExposed(view)
    return app, view


def grab(view: BoardView) -> QImage:
    viewport = view.table.viewport()
    return viewport.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)


def assert_shown_as_painted(view: BoardView) -> None:
    """The table through the board's cell pictures (twice: made, then copied) is the
    table painted cell by cell."""
    table = view.table
    pictures = table.itemDelegate()
    assert isinstance(pictures, BoardDelegate)
    plain = BoardDelegate(table, DARK, 1.0, pictures=False)
    table.setItemDelegate(plain)
    want = grab(view)
    table.setItemDelegate(pictures)
    for paint in ("made", "copied"):
        assert grab(view) == want, f"the table from its cell pictures ({paint}) differs"
    plain.deleteLater()


def test_the_board_shows_its_cells_as_painted_one_by_one(
    agent: FakeAgent, board: tuple[DisplayApp, BoardView], clock: Clock, qtbot: QtBot
) -> None:
    _app, view = board
    late = ticket("late", number="101", placed_at=NOW - timedelta(minutes=30), priority="rush")
    agent.publish(late)
    agent.publish(ticket("warn", number="102", placed_at=NOW - timedelta(minutes=9)))
    agent.publish(ticket("ok", number="103", placed_at=NOW - timedelta(minutes=1)))
    agent.publish(ticket("long", number="104", brand=("b_x", "A Brand With A Very Long Name")))
    qtbot.waitUntil(lambda: view.model.rowCount() == 4)
    assert_shown_as_painted(view)
    for _ in range(2):  # the age column and the LATE cue move on
        clock.now += timedelta(seconds=1)
        view.model.tick()
        assert_shown_as_painted(view)
    agent.publish(revise(late, status="ready"))  # READY: the row's colours change
    qtbot.waitUntil(lambda: view.model.ready_count() == 1)
    assert_shown_as_painted(view)
    view.table.selectRow(0)  # a selected row: the highlight's colours
    assert_shown_as_painted(view)
    rect = view.table.visualRect(view.model.index(0, 0))
    image = grab(view)
    assert image.pixelColor(rect.left() + 1, rect.top() + 1) == QColor(DARK.highlight)
    below = view.table.visualRect(view.model.index(1, 0))
    assert image.pixelColor(below.left() + 1, below.top() + 1) != QColor(DARK.highlight)


def painted_dense(view: BoardView, delegate: BoardDelegate, row: int, column: int) -> QImage:
    """One cell as ``delegate`` paints it on a screen of twice the density."""
    table = view.table
    index = view.model.index(row, column)
    size = table.visualRect(index).size()
    pixmap = QPixmap(size * 2)
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(QColor(DARK.window))
    option = QStyleOptionViewItem()
    option.rect = QRect(QPoint(0, 0), size)
    painter = QPainter(pixmap)
    try:
        delegate.paint(painter, option, index)
    finally:
        painter.end()
    return pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_on_a_high_density_screen_the_cells_show_as_painted(
    agent: FakeAgent, board: tuple[DisplayApp, BoardView], qtbot: QtBot
) -> None:
    """A window moved to a screen of twice the density: the cells' pictures are made
    again for it, not stretched from the ones of the window's own density."""
    _app, view = board
    agent.publish(ticket("late", number="101", placed_at=NOW - timedelta(minutes=30)))
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    assert_shown_as_painted(view)  # pictures for the window's own density
    pictures = view.table.itemDelegate()
    assert isinstance(pictures, BoardDelegate)
    plain = BoardDelegate(view.table, DARK, 1.0, pictures=False)
    for column in range(view.model.columnCount()):
        for _ in range(2):
            got = painted_dense(view, pictures, 0, column)
            assert got == painted_dense(view, plain, 0, column), column


def on_screen(view: BoardView) -> QImage:
    """The table's part of what the window holds now (no repaint)."""
    viewport = view.table.viewport()
    window = view.window()
    corner = viewport.mapTo(window, QPoint(0, 0))
    shot = window.screen().grabWindow(
        window.winId(), corner.x(), corner.y(), viewport.width(), viewport.height()
    )
    return shot.toImage().convertToFormat(QImage.Format.Format_RGB32)


def test_the_screen_shows_the_table_painted_whole_as_rows_come_move_and_go(
    agent: FakeAgent, board: tuple[DisplayApp, BoardView], qtbot: QtBot
) -> None:
    """The table paints its own background (the widgets behind it are not painted
    first): where rows left, the screen shows the table's colour, not what was there."""
    _app, view = board
    for n in range(12):
        agent.publish(ticket(f"t{n}", number=str(200 + n), placed_at=NOW - timedelta(minutes=n)))
    qtbot.waitUntil(lambda: view.model.rowCount() == 12)
    qtbot.waitUntil(lambda: on_screen(view) == grab(view))
    before = view.model.row_of("t3")
    agent.publish(revise(agent.tickets["t3"], priority="rush"))  # the row moves up
    qtbot.waitUntil(lambda: view.model.row_of("t3") < before)
    qtbot.waitUntil(lambda: on_screen(view) == grab(view))
    for n in range(2, 12):
        agent.remove(f"t{n}")
    qtbot.waitUntil(lambda: view.model.rowCount() == 2)
    qtbot.waitUntil(lambda: on_screen(view) == grab(view))
    below = on_screen(view).pixelColor(5, view.table.viewport().height() - 5)
    assert below == QColor(DARK.window)  # under the last row: the table's colour


def test_scrolled_both_ways_and_repainted_in_part_the_table_shows_as_painted(
    agent: FakeAgent, board: tuple[DisplayApp, BoardView], qtbot: QtBot
) -> None:
    """The table paints its cells itself (one loop over the rows and columns in the
    repainted area): scrolled down and to the right, a column's edge half in view, a
    repaint of part of a row, the screen still shows the table painted by Qt cell by
    cell."""
    _app, view = board
    for n in range(40):
        agent.publish(ticket(f"t{n}", number=str(300 + n), placed_at=NOW - timedelta(minutes=n)))
    qtbot.waitUntil(lambda: view.model.rowCount() == 40)
    view.resize(700, 500)  # narrower than the columns: a horizontal scroll bar
    table = view.table
    qtbot.waitUntil(lambda: table.horizontalScrollBar().maximum() > 0)
    table.selectRow(25)
    table.verticalScrollBar().setValue(table.verticalScrollBar().maximum() // 2 + 7)
    table.horizontalScrollBar().setValue(table.horizontalScrollBar().maximum() // 2 + 3)
    assert_shown_as_painted(view)
    qtbot.waitUntil(lambda: on_screen(view) == grab(view))
    # a part of the screen repainted alone (a cell's text that changed, say)
    part = QRect(37, 51, 120, 23)
    agent.publish(revise(agent.tickets["t30"], notes="n"))
    table.viewport().update(part)
    qtbot.waitUntil(lambda: on_screen(view) == grab(view))


def test_rows_that_come_move_and_go_leave_the_header_alone(
    agent: FakeAgent, board: tuple[DisplayApp, BoardView], qtbot: QtBot
) -> None:
    """The header shows the board's titles from a model of its own: a row that comes,
    moves or goes tells the header nothing, so it is neither laid out nor repainted
    (as a view of the rows' model it repainted twice per move)."""
    _app, view = board
    header = view.table.horizontalHeader()
    titles = [header.model().headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert titles == [view.model.headerData(c, Qt.Orientation.Horizontal) for c in range(8)]
    assert header.count() == view.model.columnCount()
    told: list[str] = []
    columns = header.model()
    for name in ("rowsInserted", "rowsRemoved", "rowsMoved", "layoutChanged", "modelReset"):
        getattr(columns, name).connect(lambda *_args, name=name: told.append(name))
    painted = {"header": 0, "table": 0}

    class Paints(QObject):
        def __init__(self, what: str, parent: QObject) -> None:
            super().__init__(parent)
            self._what = what

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if isinstance(event, QPaintEvent):
                painted[self._what] += 1
            return False

    header.viewport().installEventFilter(Paints("header", header))
    view.table.viewport().installEventFilter(Paints("table", view.table))
    for n in range(6):
        agent.publish(ticket(f"t{n}", number=str(400 + n), placed_at=NOW - timedelta(minutes=n)))
    qtbot.waitUntil(lambda: view.model.rowCount() == 6)
    qtbot.waitUntil(lambda: on_screen(view) == grab(view))
    painted.update(header=0, table=0)
    before = view.model.row_of("t2")
    agent.publish(revise(agent.tickets["t2"], priority="rush"))  # moves up
    agent.publish(ticket("t9", number="409", placed_at=NOW))  # comes
    agent.remove("t4")  # goes
    qtbot.waitUntil(lambda: view.model.rowCount() == 6 and view.model.row_of("t2") < before)
    qtbot.waitUntil(lambda: painted["table"] > 0 and on_screen(view) == grab(view))
    assert told == []
    assert painted["header"] == 0
