"""Themes (dark, light, high-contrast) and the font scale of the header and banner."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp, main
from kitchen_display.theme import (
    DARK,
    HIGH_CONTRAST,
    LIGHT,
    SCROLL_BAR_PX,
    THEMES,
    Theme,
    theme_for,
)
from tests.unit.kitchen_display.fakes import FakeAgent, FakeBroker, as_fake, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture


def background(app: DisplayApp) -> QColor:
    """The colour of the card wall far from any card."""
    image = app.view.viewport().grab().toImage()
    return image.pixelColor(image.width() - 5, image.height() - 5)


def header_color(app: DisplayApp) -> QColor:
    image = app.window.grab().toImage()
    return image.pixelColor(image.width() // 2, 3)


@pytest.mark.parametrize("theme", [DARK, LIGHT, HIGH_CONTRAST], ids=lambda t: t.name)
def test_the_theme_colours_the_screen(
    agent: FakeAgent, start_screen: StartScreen, theme: Theme
) -> None:
    agent.publish(ticket("ord_a"))
    app = start_screen(config_with(theme=theme.name))
    assert app.window.theme is theme
    assert app.window.palette().color(QPalette.ColorRole.Window) == QColor(theme.window)
    assert background(app) == QColor(theme.window)
    assert header_color(app) == QColor(theme.header)


@pytest.mark.parametrize("theme", [DARK, LIGHT, HIGH_CONTRAST], ids=lambda t: t.name)
def test_the_scroll_bar_is_flat_in_the_theme_colours(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot, theme: Theme
) -> None:
    """The wall's scroll bar: its track in the header's colour, its handle in the dim
    text's, nothing else down its middle (Fusion's own bar is gradients and borders,
    and cost a move ~1 ms to repaint); as wide as Fusion's, so the wall wraps where it
    did."""
    for n in range(40):
        agent.publish(ticket(f"ord_{n:02d}"))
    app = start_screen(config_with(theme=theme.name))
    bar = app.view.verticalScrollBar()
    qtbot.waitUntil(lambda: bar.isVisible() and bar.maximum() > 0)
    assert bar.width() == SCROLL_BAR_PX
    image = bar.grab().toImage()
    column = {image.pixelColor(image.width() // 2, y).name() for y in range(image.height())}
    assert column == {QColor(theme.header).name(), QColor(theme.dim).name()}


def test_light_and_high_contrast_differ_from_dark(
    agent: FakeAgent, start_screen: StartScreen
) -> None:
    screens = {name: start_screen(config_with(theme=name)) for name in THEMES}
    colors = {name: background(app).name() for name, app in screens.items()}
    assert len(set(colors.values())) == 3
    # high contrast: white on black, the banner red with black text
    assert HIGH_CONTRAST.text == "#ffffff" and HIGH_CONTRAST.window == "#000000"


def test_card_colours_are_there_for_the_delegate() -> None:
    for theme in THEMES.values():
        colors = theme.colors
        for name in ("card_bg", "text", "warn", "late", "void", "rush", "allergy"):
            assert QColor(getattr(colors, name)).isValid(), (theme.name, name)
    assert theme_for("light") is LIGHT
    with pytest.raises(ValueError, match="unknown theme"):
        theme_for("pink")


def test_header_and_banner_grow_with_the_font_scale(
    broker: FakeBroker, start_screen: StartScreen, qtbot: QtBot
) -> None:
    broker_less: list[DisplayApp] = []
    for scale in (1.0, 2.0):
        app = start_screen(config_with(font_scale=scale), wait_synced=False)
        as_fake(app.mq).set_connected(False)

        def offline(app: DisplayApp = app) -> bool:
            return app.window.offline

        qtbot.waitUntil(offline)
        broker_less.append(app)
    small, big = broker_less
    assert big.window.banner.font().pixelSize() == 2 * small.window.banner.font().pixelSize()
    assert (
        big.window.header.station_label.font().pixelSize()
        > small.window.header.station_label.font().pixelSize()
    )
    assert big.window.banner.sizeHint().height() > 1.6 * small.window.banner.sizeHint().height()
    header = small.window.header.station_label.parentWidget()
    big_header = big.window.header.station_label.parentWidget()
    assert header is not None and big_header is not None
    assert big_header.sizeHint().height() > 1.6 * header.sizeHint().height()


def test_an_unknown_theme_stops_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")
    monkeypatch.setenv("KDS_DISPLAY_LEAD_PIN", "")
    path = tmp_path / "display.toml"
    path.write_text(
        'site_id = "a"\ndisplay_id = "g"\nstation = "grill"\n[display]\ntheme = "pink"\n'
    )
    assert main(["--config", str(path)]) == 2
    assert capsys.readouterr().err == (
        "kitchen-display: config error: display.theme: must be one of dark, light, "
        "high-contrast, got 'pink'\n"
    )
