"""Where a card's parts are (kitchen_display.card_geometry), from content and style alone."""

from __future__ import annotations

from PySide6.QtCore import QRect

from kitchen_display.card_content import CardContent, CardState, card_content
from kitchen_display.card_geometry import GEOMETRY_CACHE_SIZE, CardLayout, button_rects
from kitchen_display.card_style import CardStyle
from kitchen_display.theme import DARK
from kitchen_display.ticket_model import LineView
from tests.unit.kitchen_display.fakes import ticket


def content(name: str = "Burger", **state: object) -> CardContent:
    t = ticket("t1", lines=[{"station": "grill", "name": name, "modifiers": [{"name": "x"}]}])
    lines = tuple(LineView(item) for item in t.items)
    return card_content(t, CardState("grill", is_expo=False, lines=lines, **state))  # type: ignore[arg-type]


def test_blocks_stack_under_the_header_and_buttons_sit_at_the_bottom(qapp: object) -> None:
    style = CardStyle(DARK)
    geometry = CardLayout(style).geometry(content())
    assert geometry.size.width() == style.width
    tops = [rect.top() for _block, rect in geometry.blocks]
    assert tops[0] > style.header_h and tops == sorted(tops)
    start, bump = geometry.buttons["start"], geometry.buttons["bump"]
    assert start.right() < bump.left() and bump.width() > start.width()  # 2:3
    assert bump.bottom() + 1 == geometry.size.height() - style.pad
    # the line's tap target covers its modifier, card-wide
    [line] = geometry.lines.values()
    assert all(line.contains(rect) for _block, rect in geometry.blocks[:2])
    moved = geometry.moved(QRect(100, 50, style.width, geometry.size.height()))
    assert moved.buttons["bump"] == bump.translated(100, 50)


def test_one_action_is_one_button_across_the_card(qapp: object) -> None:
    style = CardStyle(DARK)
    [button] = button_rects(style, QRect(0, 0, style.width, 400), ("ack_void",)).values()
    assert button.width() == style.width - 2 * style.pad
    assert button.height() == style.button_h >= 48


def test_layouts_are_cached_by_content_and_the_cache_is_bounded(qapp: object) -> None:
    layout = CardLayout(CardStyle(DARK))
    first = layout.geometry(content())
    assert layout.geometry(content()) is first  # the same content: no new layout
    for n in range(GEOMETRY_CACHE_SIZE + 1):
        layout.geometry(content(f"Burger {n}"))
    again = layout.geometry(content())
    assert again == first and again is not first  # laid out again after the clear
