"""The about box: a tap on the display id button in the header (or ☰'s ABOUT on a narrow screen)
shows release, build, Qt, site, station, display id, config file, broker (no secret)
and the log; CLOSE closes it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from kitchen_display.about import AboutDialog
from kitchen_display.app import DisplayApp, build_display
from kitchen_display.widgets import ChoiceDialog
from shared import version
from shared.config import Secret
from shared.settings import MqSettings
from tests.unit.kitchen_display.fakes import SITE, FakeAgent, FakeBroker, display_config

PASSWORD = "not-in-the-about-box-9"


def click(qtbot: QtBot, widget: QWidget) -> None:
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


@pytest.fixture
def screen(
    broker: FakeBroker, agent: FakeAgent, qtbot: QtBot, tmp_path: Path
) -> Iterator[DisplayApp]:
    config = dataclasses.replace(
        display_config("grill"),
        mq=MqSettings(
            url="stomp://10.0.0.5:61613", user="kds-ams-01-grill-1", password=Secret(PASSWORD)
        ),
    )
    app = build_display(
        config,
        broker.client("display-grill-1"),
        sound_player=None,
        config_path=tmp_path / "display.toml",
    )
    app.window.resize(1300, 900)
    app.start(show=True)
    qtbot.waitExposed(app.window)
    qtbot.waitUntil(lambda: app.sync.synced)
    yield app
    app.close()


def test_the_display_id_button_opens_the_about_box_and_close_closes_it(
    screen: DisplayApp, qtbot: QtBot, tmp_path: Path
) -> None:
    header = screen.window.header
    assert header.about_button.isVisible()
    assert header.about_button.text() == "grill-1  ℹ"
    assert header.about_button.height() >= 40
    click(qtbot, header.about_button)
    about = screen.window.about
    assert isinstance(about, AboutDialog)
    qtbot.waitExposed(about)
    texts = about.texts()
    assert texts["Release"] == version.VERSION
    assert texts["Build"] == version.build()
    assert texts["PySide6 / Qt"] == f"{pyside_version} / {qVersion()}"
    assert (texts["Site"], texts["Station"], texts["Display id"]) == (SITE, "grill", "grill-1")
    assert texts["Config file"] == str(tmp_path / "display.toml")
    assert texts["Broker"] == "stomp://10.0.0.5:61613 (user kds-ams-01-grill-1)"
    assert texts["Log"]
    assert not any(PASSWORD in text for text in texts.values())
    assert about.close_button.height() >= 48
    click(qtbot, about.close_button)
    qtbot.waitUntil(lambda: screen.window.about is None)
    assert not about.isVisible()


def test_a_narrow_screen_has_about_in_the_lead_menu(screen: DisplayApp, qtbot: QtBot) -> None:
    screen.window.resize(800, 900)
    header = screen.window.header
    qtbot.waitUntil(lambda: header.lead_menu_button.isVisible())
    assert not header.about_button.isVisible()
    click(qtbot, header.lead_menu_button)
    menu = screen.window.views.dialog
    assert isinstance(menu, ChoiceDialog)
    assert menu.choose("about")
    click(qtbot, menu.ok_button)
    qtbot.waitUntil(lambda: screen.window.about is not None)
    about = screen.window.about
    assert isinstance(about, AboutDialog)
    assert about.texts()["Display id"] == "grill-1"
    click(qtbot, about.close_button)
    qtbot.waitUntil(lambda: screen.window.about is None)
