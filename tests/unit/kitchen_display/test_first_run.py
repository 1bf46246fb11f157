"""The first-run setup screen, driven by taps: the keypad types, the station buttons
suggest ids, the checks name the field, SAVE writes the file (0600, no password) and
the keyring; where the config is looked for. The connection test against a real broker
and agent: tests/integration/test_first_run.py."""

from __future__ import annotations

import logging
import stat
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kitchen_display import first_run, i18n
from kitchen_display.app import Launcher, parse_args
from kitchen_display.config import DisplayConfig
from kitchen_display.keypad import NUMERIC, SYMBOLS, TEXT
from kitchen_display.setup_screen import SetupWindow
from shared.config import load, secret_lookup
from tests.helpers.setup_pad import fill, fill_form, tap, type_keys


@pytest.fixture
def window(tmp_path: Path, qtbot: QtBot) -> Iterator[SetupWindow]:
    screen = SetupWindow(tmp_path / "conf" / "ghost-kds" / "display.toml")
    qtbot.addWidget(screen)
    screen.show()
    qtbot.waitExposed(screen)
    yield screen
    screen.close()


def test_the_numeric_keypad_types_host_and_port(window: SetupWindow, qtbot: QtBot) -> None:
    qtbot.mouseClick(window.edits["host"], Qt.MouseButton.LeftButton)
    pad = window.keypad
    assert pad.page == NUMERIC
    assert window.typing_label.text() == "Typing: Broker address"
    for key in "10.0.0.55":
        tap(qtbot, pad.button(key))
    tap(qtbot, pad.button("backspace"))
    assert window.edits["host"].text() == "10.0.0.5"
    qtbot.mouseClick(window.edits["port"], Qt.MouseButton.LeftButton)
    assert window.edits["port"].text() == "61613"  # the default
    tap(qtbot, pad.button("clear"))
    assert window.edits["port"].text() == ""
    for key in "61614":
        tap(qtbot, pad.button(key))
    assert window.edits["port"].text() == "61614"
    assert window.edits["host"].text() == "10.0.0.5"  # the keypad typed into port only


def test_the_letter_pad_types_ids_capitals_and_symbols(window: SetupWindow, qtbot: QtBot) -> None:
    pad = window.keypad
    qtbot.mouseClick(window.edits["site_id"], Qt.MouseButton.LeftButton)
    assert pad.page == TEXT
    for key in "ams-01":
        tap(qtbot, pad.button(key))
    assert window.edits["site_id"].text() == "ams-01"
    qtbot.mouseClick(window.edits["password"], Qt.MouseButton.LeftButton)
    tap(qtbot, pad.button("shift"))
    assert pad.button("q").text() == "Q"
    tap(qtbot, pad.button("q"))
    tap(qtbot, pad.button("shift"))
    tap(qtbot, pad.button("x"))
    tap(qtbot, pad.button("symbols"))
    assert pad.page == SYMBOLS
    tap(qtbot, pad.button("!"))
    tap(qtbot, pad.button("abc"))
    assert window.edits["password"].text() == "Qx!"
    assert window.edits["password"].echoMode() == window.edits["password"].EchoMode.Password
    tap(qtbot, window.show_password)
    assert window.edits["password"].echoMode() == window.edits["password"].EchoMode.Normal
    # a host name needs letters: ABC on the numeric pad
    qtbot.mouseClick(window.edits["host"], Qt.MouseButton.LeftButton)
    assert pad.page == NUMERIC
    type_keys(qtbot, pad, "mq.Example-1.local")
    assert window.edits["host"].text() == "mq.Example-1.local"


def test_a_station_button_suggests_the_display_id_and_the_broker_user(
    window: SetupWindow, qtbot: QtBot
) -> None:
    fill(qtbot, window, "site_id", "ams-01")
    tap(qtbot, window.station_buttons["fry"])
    assert window.edits["display_id"].text() == "fry-1"
    assert window.edits["user"].text() == "kds-ams-01-fry-1"
    tap(qtbot, window.station_buttons["lead"])
    assert window.edits["display_id"].text() == "lead-1"
    assert window.edits["user"].text() == "kds-ams-01-lead-1"
    fill(qtbot, window, "display_id", "pass-2")  # typed: the station no longer changes it
    tap(qtbot, window.station_buttons["grill"])
    assert window.edits["display_id"].text() == "pass-2"
    assert window.edits["user"].text() == "kds-ams-01-pass-2"
    tap(qtbot, window.tls_button)
    assert window.edits["port"].text() == "61614"


def test_the_checks_name_each_field(window: SetupWindow, qtbot: QtBot) -> None:
    tap(qtbot, window.save_button)
    text = window.status.text()
    for line in (
        "Site id: type the site's id",
        "Station: tap the station",
        "Display id: type this screen's id",
        "Broker address: type the broker's address",
    ):
        assert line in text
    assert window.status.property("state") == "error"
    assert window.edits["site_id"].property("invalid") is True
    assert not window.path.exists()
    fill(qtbot, window, "site_id", "ams 01".replace(" ", "_"))
    fill(qtbot, window, "host", "10.0.0.5")
    fill(qtbot, window, "port", "99999")
    tap(qtbot, window.station_buttons["grill"])
    tap(qtbot, window.test_button)
    assert window.status.text() == "Port: a number from 1 to 65535 (usually 61613, TLS 61614)"
    assert window.edits["site_id"].property("invalid") is False
    assert window.edits["port"].property("invalid") is True
    assert not window.test.running


def test_save_writes_the_file_without_the_password_and_the_keyring_has_it(
    window: SetupWindow, qtbot: QtBot, test_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("KDS_MQ_PASSWORD", "KDS_SITE_ID", "KDS_STATION", "KDS_DISPLAY_ID"):
        monkeypatch.delenv(key, raising=False)
    password = "Pw-x_7Qz"
    fill_form(
        qtbot,
        window,
        site_id="ams-01",
        station="grill",
        host="10.0.0.5",
        port=61613,
        password=password,
    )
    with qtbot.waitSignal(window.saved, timeout=5000) as saved:
        tap(qtbot, window.save_button)
    path = window.path
    assert saved.args == [path]
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "config_version = 1"
    assert password not in text and "password" not in text.split("# ", 1)[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert tomllib.loads(text) == {
        "config_version": 1,
        "site_id": "ams-01",
        "display_id": "grill-1",
        "station": "grill",
        "expo_station": "expo",
        "mq": {"url": "stomp://10.0.0.5:61613", "user": "kds-ams-01-grill-1"},
        "display": {"fullscreen": True, "view": "station"},
    }
    # the loader reads the file (config_version included), the password from the keyring
    config = load(DisplayConfig, path, env={}, secrets=secret_lookup)
    assert (config.site_id, config.station, config.display_id) == ("ams-01", "grill", "grill-1")
    assert config.mq.password.reveal() == password
    assert "keyring" in config.mq.password.source
    assert "Saved to" in window.status.text()


def test_a_lead_screen_is_expo_on_the_board(
    window: SetupWindow, qtbot: QtBot, test_keyring: object
) -> None:
    fill_form(qtbot, window, site_id="ams-01", station="lead", host="mq.local", port=61613)
    with qtbot.waitSignal(window.saved, timeout=5000):
        tap(qtbot, window.save_button)
    config = load(DisplayConfig, window.path, env={}, secrets=None)
    assert (config.station, config.display.view, config.display_id) == ("expo", "board", "lead-1")


def test_config_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert first_run.config_location("~/x.toml") == Path.home() / "x.toml"
    if not first_run.LINUX_SITE_CONFIG.exists():
        assert first_run.config_location(None) == tmp_path / "xdg" / "ghost-kds" / "display.toml"
    site = tmp_path / "etc" / "display.toml"
    monkeypatch.setattr(first_run, "LINUX_SITE_CONFIG", site)
    site.parent.mkdir()
    site.write_text("")
    assert first_run.config_location(None) == site


def test_no_config_file_opens_the_setup_screen(
    tmp_path: Path, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "kds.ui")
    missing = tmp_path / "display.toml"
    launcher = Launcher(parse_args(["--config", str(missing)]), sound_player=None)
    try:
        assert launcher.start() is None
        assert launcher.setup is not None and launcher.display is None
        qtbot.waitExposed(launcher.setup)
        assert launcher.setup.path == missing
        assert f"no config at {missing}: opening the setup screen" in caplog.text
    finally:
        launcher.close()


def test_no_keyring_backend_saves_nothing_and_says_why(
    window: SetupWindow, qtbot: QtBot, no_keyring: object
) -> None:
    fill_form(
        qtbot, window, site_id="ams-01", station="bar", host="10.0.0.5", port=61613, password="pw"
    )
    tap(qtbot, window.save_button)
    assert window.status.text().startswith("The password cannot be stored in the keyring: ")
    assert window.status.property("state") == "error"
    assert not window.path.exists()


@pytest.fixture
def dutch(qapp: QApplication) -> Iterator[None]:
    assert i18n.install("nl")
    try:
        yield
    finally:
        i18n.install(i18n.SOURCE_LANGUAGE)


def test_the_setup_screen_speaks_dutch(dutch: None, tmp_path: Path, qtbot: QtBot) -> None:
    screen = SetupWindow(tmp_path / "display.toml")
    qtbot.addWidget(screen)
    assert screen.test_button.text() == "VERBINDING TESTEN"
    assert screen.save_button.text() == "OPSLAAN EN STARTEN"
    assert screen.keypad.button("clear", TEXT).text() == "WISSEN"
    screen.show()
    qtbot.waitExposed(screen)
    tap(qtbot, screen.save_button)
    assert "Vestiging-id: typ de id van de vestiging" in screen.status.text()
    screen.close()


def test_a_saved_config_that_does_not_load_keeps_the_setup_screen(
    tmp_path: Path, qtbot: QtBot, test_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KDS_DISPLAY_FONT_SCALE", "9")  # an override the file cannot fix
    launcher = Launcher(parse_args(["--config", str(tmp_path / "display.toml")]), sound_player=None)
    try:
        launcher.start()
        setup = launcher.setup
        assert setup is not None
        qtbot.waitExposed(setup)
        fill_form(qtbot, setup, site_id="ams-01", station="grill", host="10.0.0.5", port=61613)
        tap(qtbot, setup.save_button)
        assert launcher.display is None and launcher.setup is setup and setup.isVisible()
        assert setup.status.text() == (
            "Saved, but the display cannot start: display.font_scale: must be 0.5..4.0"
        )
    finally:
        launcher.close()
