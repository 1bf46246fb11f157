"""Kiosk mode: full screen, no cursor, no close by accident, a lead exits with the PIN;
wrong PINs earn a growing wait, shown on the prompt."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp, load_config, main, parse_args
from kitchen_display.config import DisplayConfig
from kitchen_display.kiosk import LeadPinDialog
from kitchen_display.lead_pin import AttemptLimiter, hash_pin
from kitchen_display.theme import min_touch_px
from shared.config import Secret
from tests.unit.kitchen_display.fakes import FakeAgent, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture

PIN = "432198"
STORED = hash_pin(PIN)


def kiosk(stored: str = STORED, **display: Any) -> DisplayConfig:
    """A kiosk screen whose lead PIN is stored as ``stored`` (a hash of :data:`PIN`)."""
    return config_with(kiosk=True, lead_pin=Secret(stored, "the test"), **display)


def test_kiosk_is_full_screen_without_a_cursor(agent: FakeAgent, start_screen: StartScreen) -> None:
    agent.publish(ticket("ord_a"))
    app = start_screen(kiosk())
    assert app.window.isFullScreen()
    assert app.window.cursor().shape() == Qt.CursorShape.BlankCursor
    assert app.view.viewport().cursor().shape() == Qt.CursorShape.BlankCursor
    assert not app.view.viewport().hasMouseTracking()


def test_fullscreen_without_kiosk_closes_normally(
    agent: FakeAgent, start_screen: StartScreen
) -> None:
    app = start_screen(config_with(fullscreen=True))
    assert app.window.isFullScreen()
    assert app.window.cursor().shape() != Qt.CursorShape.BlankCursor
    app.window.close()
    assert not app.window.isVisible()


def test_close_is_refused_in_kiosk_mode(agent: FakeAgent, start_screen: StartScreen) -> None:
    app = start_screen(kiosk())
    assert not app.window.close()
    assert app.window.isVisible()
    assert app.window.message.text() == "Kiosk mode: a lead exits with Ctrl+Alt+Q and the PIN"


def open_pin_dialog(qtbot: QtBot, app: DisplayApp) -> LeadPinDialog:
    qtbot.keyClick(
        app.view,
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    qtbot.waitUntil(
        lambda: app.window.lead_gate.dialog is not None and app.window.lead_gate.dialog.isVisible()
    )
    dialog = app.window.lead_gate.dialog
    assert dialog is not None
    return dialog


def test_wrong_pin_keeps_the_screen_the_right_one_closes_it(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(kiosk())
    dialog = open_pin_dialog(qtbot, app)
    qtbot.keyClicks(dialog.edit, "123498")
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: app.window.message.text() == "Wrong PIN: the screen stays open")
    assert app.window.isVisible()

    dialog = open_pin_dialog(qtbot, app)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert app.window.isVisible()

    dialog = open_pin_dialog(qtbot, app)
    qtbot.keyClicks(dialog.edit, PIN)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not app.window.isVisible())


def test_a_cancelled_pin_prompt_never_blocks_the_next_one(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    """One lead PIN guards switching views and the kiosk exit: cancelling one prompt (and
    Qt deleting that dialog) must leave the next prompt working, whichever it is."""
    app = start_screen(kiosk())
    assert not app.window.views.switch_view("board")  # asks for the PIN
    view_prompt = app.window.lead_gate.dialog
    assert view_prompt is not None and view_prompt.isVisible()
    qtbot.mouseClick(view_prompt.cancel_button, Qt.MouseButton.LeftButton)
    assert app.window.lead_gate.dialog is None
    # Qt deletes the cancelled dialog (deleteLater); a reference kept to it would fail
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(view_prompt)
    assert app.window.views.current == "station"

    dialog = open_pin_dialog(qtbot, app)  # the kiosk exit still asks
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: app.window.lead_gate.dialog is None)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not app.window.views.switch_view("board")
    view_prompt = app.window.lead_gate.dialog
    assert view_prompt is not None
    qtbot.keyClicks(view_prompt.edit, PIN)
    qtbot.mouseClick(view_prompt.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.window.views.current == "board")


class Clock:
    """The gate's clock: moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def enter(qtbot: QtBot, app: DisplayApp, pin: str) -> None:
    dialog = open_pin_dialog(qtbot, app)
    qtbot.keyClicks(dialog.edit, pin)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: app.window.lead_gate.dialog is None)


def test_three_wrong_pins_lock_the_prompt_for_a_growing_wait(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    app = start_screen(kiosk())
    clock = Clock()
    gate = app.window.lead_gate
    gate.attempts = AttemptLimiter(clock)
    with caplog.at_level("WARNING", logger="kds.kiosk"):
        for wrong in ("111111", "222222", "333333"):
            enter(qtbot, app, wrong)
            assert app.window.message.text() == "Wrong PIN: the screen stays open"
    failures = [r for r in caplog.records if r.name == "kds.kiosk" and r.levelname == "WARNING"]
    assert [r.getMessage() for r in failures] == [
        "kiosk exit refused: wrong PIN (1 in a row)",
        "kiosk exit refused: wrong PIN (2 in a row)",
        "kiosk exit refused: wrong PIN (3 in a row; the next try in 5 s)",
    ]

    # the prompt opens locked, says how long, and takes no PIN, not even the right one
    dialog = open_pin_dialog(qtbot, app)
    assert dialog.wait_label.isVisible()
    assert dialog.wait_label.text() == "Too many wrong PINs: try again in 5 s"
    assert not dialog.edit.isEnabled() and not dialog.ok_button.isEnabled()
    qtbot.keyClicks(dialog.edit, PIN)
    qtbot.keyClick(dialog.edit, Qt.Key.Key_Return)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.edit.text() == "" and gate.dialog is dialog and app.window.isVisible()
    clock.now += 2
    qtbot.waitUntil(lambda: dialog.wait_label.text() == "Too many wrong PINs: try again in 3 s")

    # closing and reopening the prompt does not end the wait
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    dialog = open_pin_dialog(qtbot, app)
    assert dialog.wait_label.text() == "Too many wrong PINs: try again in 3 s"
    clock.now += 3
    qtbot.waitUntil(lambda: dialog.ok_button.isEnabled() and dialog.edit.isEnabled())
    assert not dialog.wait_label.isVisible()

    # one more wrong PIN: twice the wait
    qtbot.keyClicks(dialog.edit, "444444")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    dialog = open_pin_dialog(qtbot, app)
    assert dialog.wait_label.text() == "Too many wrong PINs: try again in 10 s"
    clock.now += 10
    qtbot.waitUntil(dialog.ok_button.isEnabled)
    qtbot.keyClicks(dialog.edit, PIN)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not app.window.isVisible())
    assert gate.attempts.failures == 0
    for record in caplog.records:  # no PIN, right or wrong, in any log line
        for digits in (PIN, "111111", "444444", STORED):
            assert digits not in record.getMessage()


def test_a_plain_text_pin_from_before_unlocks_nothing_and_says_so(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="kds.kiosk"):
        app = start_screen(kiosk("4321"))
    assert "lead PIN from the test unusable: the stored lead PIN is not a hash" in caplog.text
    qtbot.keyClick(
        app.view,
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    assert app.window.lead_gate.dialog is None
    assert app.window.message.text() == (
        "The lead PIN cannot be checked: set it again (kitchen-display set-pin)"
    )
    assert not app.window.views.switch_view("board")  # the same gate guards the views
    assert app.window.lead_gate.dialog is None and app.window.views.current == "station"
    assert app.window.isVisible()
    assert "4321" not in caplog.text


def test_no_pin_no_exit(agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot) -> None:
    app = start_screen(kiosk(""))
    qtbot.keyClick(
        app.view,
        Qt.Key.Key_Q,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier,
    )
    assert app.window.lead_gate.dialog is None
    assert app.window.message.text().startswith("No lead PIN is set")
    assert app.window.isVisible()


def test_pin_dialog_buttons_are_finger_sized(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(kiosk())
    dialog = open_pin_dialog(qtbot, app)
    touch = app.window.min_touch_px()
    assert touch >= 48
    for widget in (dialog.ok_button, dialog.cancel_button, dialog.edit):
        assert widget.height() >= touch


def test_min_touch_px_is_12_mm_at_the_screen_dpi(qapp: QApplication) -> None:
    screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch()
    if not 50 <= dpi <= 1000:
        dpi = 96
    expected = max(48, math.ceil(12 / 25.4 * dpi / max(1.0, screen.devicePixelRatio())))
    assert min_touch_px(screen) == expected
    assert min_touch_px(screen, mm=30) >= min_touch_px(screen)


def write(tmp_path: Path, display: str) -> str:
    path = tmp_path / "display.toml"
    path.write_text(
        'config_version = 1\nsite_id = "ams-01"\ndisplay_id = "grill-1"\n'
        f'station = "grill"\n\n[display]\n{display}'
    )
    return str(path)


def test_lead_pin_comes_from_the_environment_never_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")
    monkeypatch.setenv("KDS_DISPLAY_LEAD_PIN", STORED)
    config = load_config(parse_args(["--config", write(tmp_path, "kiosk = true\n")]))
    assert config.display.kiosk and config.display.full_screen
    assert config.display.lead_pin.reveal() == STORED
    assert STORED not in repr(config)

    assert main(["--config", write(tmp_path, 'lead_pin = "1"\n')]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kitchen-display: config error: display.lead_pin: secrets are not read")
    assert err.count("\n") == 1


@pytest.mark.parametrize("value", ["kiosk = true\nfullscreen = false\n"])
def test_kiosk_alone_means_full_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")
    monkeypatch.setenv("KDS_DISPLAY_LEAD_PIN", "")
    config = load_config(parse_args(["--config", write(tmp_path, value)]))
    assert config.display.full_screen
