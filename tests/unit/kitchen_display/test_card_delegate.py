"""The card painter (kitchen_display.card_delegate): it paints every text of a card in an
ink of the style's table, in the theme's colours, and shows a pressed button."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_style import Ink
from kitchen_display.theme import DARK, HIGH_CONTRAST, LIGHT, THEMES, Theme
from kitchen_display.ticket_model import TicketListModel
from shared.model import Ticket, format_time
from shared.wire import AgingRule, SiteSettings
from tests.unit.kitchen_display.fakes import NOW, FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay

RULES = SiteSettings(
    expo_station="expo",
    aging=AgingRule(warn_minutes=5, late_minutes=8, promised_warn_minutes=3),
)


def at(minutes_ago: float) -> datetime:
    return NOW - timedelta(minutes=minutes_ago)


def every_kind_of_card() -> list[Ticket]:
    """Tickets that between them show every chip, block kind, heading and button (the
    last one, "due", becomes a rush after being shown)."""
    lines: list[dict[str, Any]] = [
        {"station": "grill", "name": "Burger", "modifiers": [{"name": "no onion"}]},
        {"station": "grill", "name": "Ribs", "changed": True, "notes": "well done"},
        {"station": "grill", "name": "Wings", "unavailable": True, "allergens": ["celery"]},
        {"station": "grill", "name": "Slider", "prep_seconds": 60},  # paced: fire at
        {"station": "fry", "name": "Fries", "status": "done"},
        {"station": "cold", "name": "Shake", "status": "in_progress", "allergy": True},
    ]
    return [
        revise(
            ticket("ok", lines=lines, placed_at=at(1), notes="ring"),
            promised_at=format_time(NOW + timedelta(minutes=30)),
        ),
        ticket("warn", placed_at=at(6), priority="rush", status="in_progress", channel="doordash"),
        revise(ticket("late", placed_at=at(12), channel="pos", customer="Sam"), allergy=["nuts"]),
        ticket("void", placed_at=at(2), status="cancelled", channel="app"),
        revise(
            ticket("due", placed_at=at(1), brand=("b_wok", "Wok")),
            promised_at=format_time(NOW + timedelta(minutes=2)),
            allergy=["sesame"],
            allergy_acks=[{"station": "grill", "at": format_time(NOW)}],
        ),
    ]


class Recording(TicketCardDelegate):
    """The delegate, noting each text it draws and the ink it draws it in."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.drawn: list[tuple[str, Ink]] = []

    def _text(self, painter: QPainter, ink: Ink, rect: QRect, flags: int, text: str) -> None:  # type: ignore[override]
        self.drawn.append((text, ink))
        TicketCardDelegate._text(painter, ink, rect, flags, text)


def paint_all(delegate: TicketCardDelegate, model: TicketListModel) -> None:
    for row in range(model.rowCount()):
        index = model.index(row, 0)
        size = delegate.sizeHint(QStyleOptionViewItem(), index)
        image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied)
        option = QStyleOptionViewItem()
        option.rect = QRect(0, 0, size.width(), size.height())
        if row == 0:
            option.state = QStyle.StateFlag.State_Selected
        painter = QPainter(image)
        delegate.paint(painter, option, index)
        painter.end()


@pytest.fixture
def models(qapp: object) -> Iterator[list[TicketListModel]]:
    made = []
    for station, is_expo in (("grill", False), ("expo", True)):
        model = TicketListModel(station, is_expo=is_expo, clock=lambda: NOW)
        model.set_site_settings(RULES.model_copy(update={"folds": {"cold": "grill"}}))
        tickets = every_kind_of_card()
        model.reset(tickets)
        model.upsert(revise(tickets[-1], priority="rush"))  # RUSH ↑
        model.set_pending({"ok": ("bump",)})
        made.append(model)
    yield made
    for model in made:
        model.deleteLater()


@pytest.mark.parametrize("theme", list(THEMES.values()), ids=list(THEMES))
def test_every_text_is_painted_in_an_ink_of_the_table(
    models: list[TicketListModel], theme: Theme
) -> None:
    kinds: set[str] = set()
    for model in models:
        delegate = Recording(model.station, is_expo=model.is_expo, theme=theme)
        paint_all(delegate, model)
        table = {id(ink): name for name, ink in delegate.style.all_inks()}
        strays = [text for text, ink in delegate.drawn if id(ink) not in table]
        assert not strays, f"painted outside the contrast table: {strays}"
        kinds |= {table[id(ink)].split(".")[0] + "." for _text, ink in delegate.drawn}
        kinds |= {table[id(ink)] for _text, ink in delegate.drawn}
        # and every text the card says is painted (the VOID veil's word too)
        painted = [text for text, _ink in delegate.drawn]
        for row in range(model.rowCount()):
            content = delegate.content(model.index(row, 0))
            for text in content.texts():
                assert text in painted, (model.station, text)
        assert "VOID" in painted
    # the cards above show the whole table's variety
    expected = {
        "header.ok",
        "header.warn",
        "header.late",
        "cue.warn",
        "cue.late",
        "chip.void",
        "chip.rush",
        "chip.rush_up",
        "chip.started",
        "chip.fold",
        "chip.pending",
        "channel",
        "channel.doordash",
        "block.line",
        "block.modifier",
        "block.waiting",
        "block.done",
        "block.unavailable",
        "block.changed",
        "block.fire",
        "block.note",
        "block.allergy",
        "block.order_note",
        "block.contains",
        "block.also",
        "heading.fold",
        "heading.done",
        "heading.in_progress",
        "heading.pending",
        "button.start",
        "button.started",
        "button.bump",
        "button.ack_allergens",
        "button.ack_void",
        "void",
        "logo.",
    }
    assert expected <= kinds, expected - kinds


def pixel(app: DisplayApp, x: int, y: int) -> QColor:
    color: QColor = app.view.viewport().grab().toImage().pixelColor(x, y)
    return color


@pytest.mark.parametrize("theme", [DARK, LIGHT, HIGH_CONTRAST], ids=lambda t: t.name)
def test_the_screen_shows_the_themes_card_colours(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, theme: Theme
) -> None:
    agent.publish(ticket("late", minutes_ago=20))
    app = make_display("grill", theme=theme.name)
    qtbot.waitUntil(lambda: app.model.index_of("late").isValid())
    style = app.delegate.style
    assert style.theme is theme
    rect = app.view.visualRect(app.model.index_of("late"))
    header_y = rect.top() + style.header_h - 3
    body_y = rect.top() + style.header_h + style.gap // 2
    x = rect.right() - style.pad - 2  # inside the (selected) card's frame, beside no text
    assert pixel(app, x, header_y) == QColor(theme.colors.late)
    assert pixel(app, x, body_y) == QColor(theme.colors.card_bg)
    bump = app.delegate.button_rect(rect, "bump")
    assert pixel(app, bump.left() + 4, bump.center().y()) == QColor(theme.colors.bump_button)


def test_a_pressed_button_darkens_under_its_white_label(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("t1"))
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.index_of("t1").isValid())
    bump = app.delegate.button_rect(app.view.visualRect(app.model.index_of("t1")), "bump")
    at = (bump.left() + 4, bump.center().y())
    pressed = app.delegate.style.button_ink("bump", pressed=True)
    assert pressed.contrast() > app.delegate.style.button_ink("bump").contrast()
    viewport = app.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=bump.center())
    qtbot.waitUntil(lambda: pixel(app, *at) == pressed.bg)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=bump.center())
    qtbot.waitUntil(lambda: pixel(app, *at) == QColor(DARK.colors.bump_button))
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)


def test_the_theme_styles_the_cards_and_not_their_layout(qapp: object) -> None:
    dark = TicketCardDelegate("grill", is_expo=False).style
    assert dark.theme is DARK
    delegate = TicketCardDelegate("grill", is_expo=False, theme=LIGHT)
    assert delegate.style.theme is LIGHT
    assert delegate.style.inks["block.note"].fg == QColor(LIGHT.colors.note)
    assert delegate.card_width == dark.width  # the same layout in the new colours


def test_a_clock_at_the_end_of_time_still_paints(qapp: object) -> None:
    """shared.aging clamps: a ticket promised near year 1 paints its card (it raised)."""
    first = datetime.min.replace(tzinfo=UTC)
    t = ticket("t1").model_copy(
        update={"placed_at": first, "promised_at": first + timedelta(minutes=1)}
    )
    model = TicketListModel("grill", is_expo=False, clock=lambda: first + timedelta(seconds=5))
    model.set_site_settings(RULES)
    model.upsert(t)
    delegate = Recording("grill", is_expo=False)
    paint_all(delegate, model)
    assert "DUE IN 0:55" in [text for text, _ink in delegate.drawn]
    model.deleteLater()
