"""A card wall paints its cards from pictures: what the screen shows is what a card
painted whole, part by part, looks like, after every kind of change.

The wall (:class:`~kitchen_display.card_wall.CardWall`) keeps each card's still parts and
the card as shown as pictures, and paints only the clock and the chips row again when
they change. These tests grab the wall as the screen shows it and compare each card,
pixel for pixel, with the same card painted by a delegate that keeps nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_wall import CardWall, card_wall
from kitchen_display.config import DisplaySettings
from kitchen_display.theme import DARK
from kitchen_display.ticket_model import TicketListModel
from tests.unit.kitchen_display.fakes import NOW, revise, ticket


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def wall(qtbot: QtBot, clock: Clock) -> Iterator[CardWall]:
    model = TicketListModel(
        "grill",
        is_expo=False,
        settings=DisplaySettings(warn_minutes=5, late_minutes=10),
        clock=clock,
    )
    view = card_wall(model, TicketCardDelegate("grill", is_expo=False), name="wall", scale=1.0)
    qtbot.addWidget(view)
    view.resize(1300, 900)
    view.show()
    qtbot.waitExposed(view)
    yield view
    model.deleteLater()


def _model(wall: CardWall) -> TicketListModel:
    model = wall.model()
    assert isinstance(model, TicketListModel)
    return model


def painted_whole(
    wall: CardWall,
    ticket_id: str,
    ratio: float | None = None,
    delegate: TicketCardDelegate | None = None,
) -> QImage:
    """The card as a delegate that keeps nothing paints it (or ``delegate``), in the
    wall's colours, on a screen of ``ratio`` device pixels per pixel (the wall's own by
    default)."""
    model = _model(wall)
    index = model.index_of(ticket_id)
    rect = wall.visualRect(index)
    plain = delegate or TicketCardDelegate("grill", is_expo=False)
    ratio = wall.viewport().devicePixelRatioF() if ratio is None else ratio
    pixmap = QPixmap(rect.size() * ratio)
    pixmap.setDevicePixelRatio(ratio)
    pixmap.fill(QColor(DARK.window))  # the wall's colour: the rounded corners show it
    option = QStyleOptionViewItem()
    option.rect = QRect(QPoint(0, 0), rect.size())
    if wall.selectionModel().isSelected(index):
        option.state |= QStyle.StateFlag.State_Selected
    painter = QPainter(pixmap)
    try:
        plain.paint(painter, option, index)
    finally:
        painter.end()
    return pixmap.toImage().convertToFormat(QImage.Format.Format_RGB32)


def shown(wall: CardWall, ticket_id: str) -> QImage:
    """The card as the wall paints it now (through its pictures)."""
    rect = wall.visualRect(_model(wall).index_of(ticket_id))
    return wall.viewport().grab(rect).toImage().convertToFormat(QImage.Format.Format_RGB32)


def assert_shown_as_painted(wall: CardWall, *ticket_ids: str) -> None:
    """Each card, painted by the wall three times (the first time after a change paints
    the clock and chips onto the screen, the second brings the card's picture as shown
    up to date, the third copies it), looks as painted whole."""
    for ticket_id in ticket_ids:
        want = painted_whole(wall, ticket_id)
        for paint in ("after the change", "again, as it is", "from its picture"):
            got = shown(wall, ticket_id)
            assert got.size() == want.size(), ticket_id
            assert got == want, f"{ticket_id} painted {paint}: not as painted whole"


def test_the_wall_shows_its_cards_as_painted_whole(wall: CardWall, clock: Clock) -> None:
    model = _model(wall)
    model.upsert(ticket("a", number="101", placed_at=NOW - timedelta(seconds=30)))
    model.upsert(ticket("b", number="102", placed_at=NOW - timedelta(minutes=7), customer="Ana"))
    model.upsert(
        ticket("c", number="103", placed_at=NOW - timedelta(minutes=12), priority="rush", notes="x")
    )
    assert_shown_as_painted(wall, "a", "b", "c")
    # again, now from the pictures
    assert_shown_as_painted(wall, "a", "b", "c")
    wall.setCurrentIndex(_model(wall).index_of("b"))  # selected: the frame over it
    assert wall.selectionModel().isSelected(_model(wall).index_of("b"))
    assert_shown_as_painted(wall, "a", "b", "c")


def test_a_new_second_shows_the_new_clock_and_nothing_else_changes(
    wall: CardWall, clock: Clock
) -> None:
    model = _model(wall)
    model.upsert(ticket("a", number="101", placed_at=NOW - timedelta(seconds=30), customer="Bo"))
    model.upsert(ticket("late", number="102", placed_at=NOW - timedelta(minutes=12)))
    before = shown(wall, "a")
    for _ in range(3):
        clock.advance(1)
        model.tick()
        assert_shown_as_painted(wall, "a", "late")
    after = shown(wall, "a")
    assert after != before, "the clock did not move"
    style = TicketCardDelegate("grill", is_expo=False).style
    body = QRect(0, style.header_h, after.width(), after.height() - style.header_h)
    assert after.copy(body) == before.copy(body), "more than the header changed"


def test_a_card_turning_late_and_changing_shows_as_painted_whole(
    wall: CardWall, clock: Clock
) -> None:
    model = _model(wall)
    first = ticket("a", number="101", placed_at=NOW - timedelta(minutes=4, seconds=58))
    model.upsert(first)
    assert_shown_as_painted(wall, "a")
    clock.advance(3)  # warn
    model.tick()
    assert_shown_as_painted(wall, "a")
    started = revise(first, status="in_progress", station="grill", item={"status": "in_progress"})
    model.upsert(started)  # STARTED chip and buttons
    assert_shown_as_painted(wall, "a")
    model.upsert(revise(started, priority="rush"))  # a rush: a chip, and the card moves
    assert_shown_as_painted(wall, "a")
    model.set_pending({"a": ("bump",)})  # offline: BUMP PENDING
    assert_shown_as_painted(wall, "a")
    clock.advance(5 * 60)  # late
    model.tick()
    assert_shown_as_painted(wall, "a")


def test_a_wall_of_many_cards_repainted_shows_each_as_painted_whole(
    wall: CardWall, clock: Clock
) -> None:
    model = _model(wall)
    ids = [f"t{n:02d}" for n in range(24)]
    for n, ticket_id in enumerate(ids):
        model.upsert(ticket(ticket_id, number=str(200 + n), placed_at=NOW - timedelta(minutes=n)))
    visible = [
        t for t in ids if wall.viewport().rect().contains(wall.visualRect(model.index_of(t)))
    ]
    assert len(visible) >= 4
    wall.viewport().repaint()
    clock.advance(1)
    model.tick()
    wall.viewport().repaint()
    assert_shown_as_painted(wall, *visible)


def test_on_a_high_density_screen_the_cards_show_as_painted_whole(
    wall: CardWall, clock: Clock
) -> None:
    """A window moved to a screen of twice the density: the wall's delegate paints
    there (a paint device of ratio 2) and makes its pictures again for it, and a new
    second copies the rows of the still parts at that density."""
    model = _model(wall)
    model.upsert(ticket("a", number="101", placed_at=NOW - timedelta(minutes=12), customer="Bo"))
    assert_shown_as_painted(wall, "a")  # pictures for the window's own density
    delegate = wall.itemDelegate()
    assert isinstance(delegate, TicketCardDelegate)
    for _ in range(3):
        got = painted_whole(wall, "a", 2.0, delegate)  # through the wall's pictures
        assert got == painted_whole(wall, "a", 2.0)
        clock.advance(1)
        model.tick()
