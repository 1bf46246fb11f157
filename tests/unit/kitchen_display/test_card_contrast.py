"""Every text of a card is readable: WCAG 2 contrast against what it is drawn on.

The table is the style's own (``CardStyle.all_inks``): the painter takes each text's
colour and the surface under it from one entry, so what is checked here is what is
painted. At least 4.5:1 (WCAG AA, normal text) in the dark and light themes, 7:1 (AAA)
in high contrast.
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor

from kitchen_display.card_content import Block, Chip
from kitchen_display.card_style import CardStyle, Ink, composite, contrast_ratio
from kitchen_display.theme import DARK, HIGH_CONTRAST, LIGHT, THEMES, Theme
from kitchen_display.ticket_model import StationProgress
from shared.aging import AgeState

MINIMUM = {"dark": 4.5, "light": 4.5, "high-contrast": 7.0}


@pytest.fixture(params=list(THEMES.values()), ids=list(THEMES))
def style(request: pytest.FixtureRequest, qapp: object) -> CardStyle:
    theme: Theme = request.param
    return CardStyle(theme)


def test_the_contrast_formula() -> None:
    """WCAG's own examples: black on white 21:1, a colour on itself 1:1, #777 on white
    4.48:1 (just too light for AA)."""
    white, black = QColor("#ffffff"), QColor("#000000")
    assert contrast_ratio(black, white) == pytest.approx(21.0)
    assert contrast_ratio(white, black) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#c62828"), QColor("#c62828")) == pytest.approx(1.0)
    assert contrast_ratio(QColor("#777777"), white) == pytest.approx(4.48, abs=0.01)
    half = QColor(0, 0, 0, 128)
    assert composite(half, white).name() == "#7f7f7f"
    # a translucent surface counts over each thing under it, the worse one wins
    veiled = Ink(white, half, (white, black))
    assert veiled.contrast() == pytest.approx(contrast_ratio(white, QColor("#7f7f7f")))


def test_every_text_reads_against_its_background(style: CardStyle) -> None:
    minimum = MINIMUM[style.theme.name]
    measured = {name: ink.contrast() for name, ink in style.all_inks()}
    low = {
        name: f"{style.inks[name].fg.name() if name in style.inks else 'logo'}: {ratio:.2f}"
        for name, ratio in measured.items()
        if ratio < minimum
    }
    assert not low, f"{style.theme.name}: below {minimum}:1: {low}"
    # the table covers the card: every state, chip, block kind, heading and button
    assert len(measured) >= 360 + 40


@pytest.mark.parametrize("age", list(AgeState))
def test_the_painter_asks_the_table(style: CardStyle, age: AgeState) -> None:
    """What the painter looks up for each part of a card is an entry of the table."""
    table = set(map(id, style.inks.values()))
    chips = ("void", "cue", "rush", "rush_up", "started", "fold", "pending")
    kinds = (
        "line",
        "waiting",
        "changed",
        "unavailable",
        "done",
        "fire",
        "modifier",
        "note",
        "allergy",
        "contains",
        "order_note",
        "also",
    )
    inks = [style.header_ink(age), style.channel_ink("doordash"), style.channel_ink("pos")]
    inks += [style.chip_ink(Chip(kind, "x"), age) for kind in chips]
    inks += [style.block_ink(Block(kind, "x")) for kind in kinds]
    inks += [style.block_ink(Block("heading", "x", progress=p)) for p in StationProgress]
    inks.append(style.block_ink(Block("heading", "FRY")))
    for action in ("start", "bump", "ack_allergens", "ack_void"):
        for started in (False, True):
            for pressed in (False, True):
                inks.append(style.button_ink(action, started=started, pressed=pressed))
    assert all(id(ink) in table for ink in inks)


def test_the_light_theme_notes_are_no_longer_pale_yellow_on_white(qapp: object) -> None:
    """The review's screenshot: "fire at 19:13" and line notes in #fff3a0 on white (1.1:1)."""
    style = CardStyle(LIGHT)
    for kind in ("fire", "note"):
        ink = style.block_ink(Block(kind, "x"))
        assert ink.bg == QColor(LIGHT.colors.card_bg)
        assert ink.contrast() >= 4.5


def test_each_theme_paints_its_own_colours(qapp: object) -> None:
    """No colour is left from another palette: the LATE header, the VOID veil, the
    buttons differ between the themes."""
    styles = [CardStyle(theme) for theme in (DARK, LIGHT, HIGH_CONTRAST)]
    for key in ("header.late", "block.fire", "button.started", "button.ack_void", "void"):
        colors = {(s.inks[key].fg.name(), s.inks[key].bg.name()) for s in styles}
        assert len(colors) >= 2, key
    assert [s.inks["header.ok"].bg.name() for s in styles] == [
        theme.colors.header_ok for theme in (DARK, LIGHT, HIGH_CONTRAST)
    ]
