"""Translations: the window in Dutch, --language, and the shipped catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kitchen_display import i18n
from kitchen_display.app import load_config, parse_args
from tests.unit.kitchen_display.fakes import FakeAgent, as_fake, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture


@pytest.fixture
def dutch(qapp: QApplication) -> Iterator[None]:
    assert i18n.install("nl")
    try:
        yield
    finally:
        i18n.install("en")


def test_the_window_speaks_dutch(
    dutch: None, agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_a"))
    app = start_screen(config_with(language="nl"))
    window = app.window
    assert window.header.count_label.text() == "1 bon open"
    assert window.header.connection_label.text() == "● VERBONDEN"
    agent.publish(ticket("ord_b"))
    qtbot.waitUntil(lambda: window.header.count_label.text() == "2 bonnen open")

    qtbot.keyClick(app.view, Qt.Key.Key_R)
    assert window.message.text() == "Niets terug te halen: dit scherm heeft nog geen bon afgemeld"

    as_fake(app.mq).set_connected(False)
    qtbot.waitUntil(lambda: window.offline)
    assert window.banner.text().startswith("OFFLINE — broker of agent onbereikbaar sinds ")
    assert window.banner.text().endswith("; laatst bekende stand wordt getoond")
    assert window.header.connection_label.text() == "● OFFLINE"


def test_english_is_the_default(agent: FakeAgent, start_screen: StartScreen) -> None:
    assert i18n.current_language() == "en"
    agent.publish(ticket("ord_a"))
    app = start_screen(config_with())
    assert app.window.header.count_label.text() == "1 open"
    assert app.window.header.connection_label.text() == "● ONLINE"


def test_language_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")
    monkeypatch.setenv("KDS_DISPLAY_LEAD_PIN", "")
    monkeypatch.delenv("KDS_DISPLAY_LANGUAGE", raising=False)
    path = tmp_path / "display.toml"
    path.write_text('site_id = "a"\ndisplay_id = "g"\nstation = "grill"\n')
    assert load_config(parse_args(["--config", str(path)])).display.language == "en"
    config = load_config(parse_args(["--config", str(path), "--language", "nl"]))
    assert config.display.language == "nl"
    with pytest.raises(SystemExit):
        parse_args(["--config", str(path), "--language", "fr"])


def test_the_dutch_catalogue_is_complete_and_compiled() -> None:
    assert sorted(p.name for p in i18n.TRANSLATIONS_DIR.glob("kds_*.qm")) == ["kds_nl.qm"]
    ts = (i18n.TRANSLATIONS_DIR / "kds_nl.ts").read_text(encoding="utf-8")
    assert 'type="unfinished"' not in ts
    assert (i18n.TRANSLATIONS_DIR / "kds_nl.qm").stat().st_size > 0


def test_an_unknown_language_is_refused(qapp: QApplication) -> None:
    assert not i18n.install("xx")
    assert i18n.current_language() == "en"
