"""Switching views (station / expo / board) with --view, [display] view and the lead PIN;
the all-day strip on the station view."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kitchen_display.app import load_config, parse_args
from kitchen_display.kiosk import LeadPinDialog
from kitchen_display.lead_pin import hash_pin
from kitchen_display.widgets import ChoiceDialog
from shared.config import Secret
from shared.errors import ConfigError
from shared.wire import SiteSettings
from tests.unit.kitchen_display.fakes import FakeAgent, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture

SMASH = ("b_smash", "Smash Co")


def click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_view_from_the_command_line_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "display.toml"
    path.write_text('site_id = "ams-01"\ndisplay_id = "lead-1"\nstation = "expo"\n')
    assert load_config(parse_args(["--config", str(path)])).display.view == "station"
    args = parse_args(["--config", str(path), "--view", "board"])
    assert load_config(args).display.view == "board"
    path.write_text(path.read_text() + '[display]\nview = "expo"\n')
    assert load_config(parse_args(["--config", str(path)])).display.view == "expo"
    path.write_text(path.read_text().replace('view = "expo"', 'view = "boards"'))
    with pytest.raises(ConfigError) as error:
        load_config(parse_args(["--config", str(path)]))
    assert error.value.key == "display.view"


def test_starts_on_the_board_when_configured(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="7", minutes_ago=9))
    app = start_screen(config_with("expo", view="board"))
    views = app.window.views
    assert views.current == "board"
    assert app.window.board.isVisible()
    assert not app.view.isVisible()
    assert app.window.board.model.rowCount() == 1
    assert app.window.header.view_button.text() == "VIEW: BOARD"


def test_a_lead_switches_views_with_the_pin(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="7"))
    app = start_screen(config_with("grill", lead_pin=Secret(hash_pin("432100"))))
    views = app.window.views
    assert views.current == "station" and app.view.isVisible()

    # VIEW… -> pick BOARD -> the PIN dialog
    click(qtbot, app.window.header.view_button)
    chooser = views.dialog
    assert isinstance(chooser, ChoiceDialog)
    chooser.choose("board")
    click(qtbot, chooser.ok_button)
    pin = app.window.lead_gate.dialog
    assert isinstance(pin, LeadPinDialog) and pin.isVisible()
    assert pin.prompt.text() == "Lead PIN to show the BOARD view:"
    qtbot.keyClicks(pin.edit, "111111")
    click(qtbot, pin.ok_button)
    assert views.current == "station"
    assert app.window.message.text() == "Wrong PIN: the view stays"

    assert not app.window.views.switch_view("board")  # the PIN is asked first
    pin = app.window.lead_gate.dialog
    assert pin is not None and pin.isVisible()
    qtbot.keyClicks(pin.edit, "432100")
    click(qtbot, pin.ok_button)
    assert views.current == "board"
    assert app.window.board.isVisible() and not app.view.isVisible()
    assert app.window.board.model.rowCount() == 1

    assert not app.window.views.switch_view("station")
    pin = app.window.lead_gate.dialog
    assert pin is not None
    qtbot.keyClicks(pin.edit, "432100")
    click(qtbot, pin.ok_button)
    assert views.current == "station" and app.view.isVisible()


def test_all_day_strip_on_the_station_view(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", lines=[{"station": "grill", "name": "Classic Burger", "qty": 2}]))
    agent.publish(
        ticket("ord_2", brand=SMASH, lines=[("grill", "Classic Burger"), ("fry", "Fries")])
    )
    app = start_screen(config_with("grill"))
    strip = app.window.stack.station.all_day
    assert not strip.isVisible()
    click(qtbot, app.window.header.all_day_button)
    assert strip.isVisible()
    assert strip.text() == "ALL DAY  3× Classic Burger"
    # a fold brings fry's items to this station's count
    agent.publish_settings(SiteSettings(folds={"fry": "grill"}))
    qtbot.waitUntil(lambda: "Fries" in strip.text())
    assert strip.text() == "ALL DAY  3× Classic Burger   ·   1× Fries"
    agent.remove("ord_1")
    qtbot.waitUntil(lambda: strip.text().startswith("ALL DAY  1× Classic Burger"))
    # the key the keys engineer maps
    assert app.window.views.toggle_all_day() is False
    assert not strip.isVisible()
    assert app.window.views.toggle_all_day() is True


def test_a_narrow_screen_lists_the_lead_buttons_behind_one(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    """At 800 px the header has no room for ALL DAY, RECALL… and VIEW…: one ☰ button
    lists them, and no header text is cut."""
    agent.publish(ticket("ord_1", lines=[{"station": "grill", "name": "Classic Burger"}]))
    app = start_screen(config_with("grill"))
    header = app.window.header
    assert header.view_button.isVisible() and not header.lead_menu_button.isVisible()
    app.window.resize(800, 900)
    qtbot.waitUntil(lambda: header.lead_menu_button.isVisible())
    assert not any(button.isVisible() for button in header.lead_buttons())
    qtbot.waitUntil(lambda: header.width() <= 800)
    for widget in (header.station_label, header.count_label, header.lead_menu_button):
        assert widget.width() >= widget.sizeHint().width(), widget.objectName()

    click(qtbot, header.lead_menu_button)
    menu = app.window.views.dialog
    assert isinstance(menu, ChoiceDialog)
    assert menu.choose("all_day") and menu.choose("recall") and menu.choose("view")
    menu.choose("all_day")
    click(qtbot, menu.ok_button)
    assert app.window.stack.station.all_day.isVisible()

    click(qtbot, header.lead_menu_button)
    menu = app.window.views.dialog
    assert isinstance(menu, ChoiceDialog)
    menu.choose("view")
    click(qtbot, menu.ok_button)
    chooser = app.window.views.dialog
    assert isinstance(chooser, ChoiceDialog) and chooser is not menu and chooser.isVisible()
    chooser.choose("board")
    click(qtbot, chooser.ok_button)
    assert app.window.views.current == "board"

    app.window.resize(1400, 900)  # wide again: the three buttons are back
    qtbot.waitUntil(lambda: header.view_button.isVisible())
    assert not header.lead_menu_button.isVisible()
