"""Bump-bar keys: the default map, a configured [keys] map, bad key names, optional actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp, load_config, main, parse_args
from kitchen_display.config import KeySettings
from tests.unit.kitchen_display.fakes import FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("KDS_SITE_ID", "KDS_STATION", "KDS_DISPLAY_ID", "KDS_DISPLAY_LANGUAGE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")  # never ask the OS keyring in unit tests
    monkeypatch.setenv("KDS_DISPLAY_LEAD_PIN", "")


def selected(app: DisplayApp) -> str | None:
    return app.window.selected_ticket_id()


def test_default_keys_walk_start_and_bump(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    for n, age in enumerate((4, 3, 2, 1)):
        agent.publish(ticket(f"ord_{n}", minutes_ago=age))
    app = start_screen(config_with())
    view = app.view
    assert selected(app) == "ord_0"
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert selected(app) == "ord_2"
    qtbot.keyClick(view, Qt.Key.Key_Left)
    assert selected(app) == "ord_1"
    qtbot.keyClick(view, Qt.Key.Key_End)
    assert selected(app) == "ord_3"
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert selected(app) == "ord_0"
    qtbot.keyClick(view, Qt.Key.Key_S)
    qtbot.keyClick(view, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 2)
    assert [c.ticket_id for c in agent.commands_of("start")] == ["ord_0"]
    # A key with Ctrl is not a bump-bar key.
    qtbot.keyClick(view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    agent.broker.drain()
    assert len(agent.commands_of("bump")) == 2


def test_configured_keys_replace_the_defaults(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_a", minutes_ago=2))
    agent.publish(ticket("ord_b", minutes_ago=1))
    keys = KeySettings(bump=("X",), select_next=("Down",), select_previous=("Up",))
    app = start_screen(config_with(keys=keys))
    qtbot.keyClick(app.view, Qt.Key.Key_Down)
    assert selected(app) == "ord_b"
    qtbot.keyClick(app.view, Qt.Key.Key_B)  # no longer bump
    qtbot.keyClick(app.view, Qt.Key.Key_X)
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    assert agent.commands_of("bump")[0].ticket_id == "ord_b"


def test_page_keys_turn_the_pages_and_undo_keys_recall_the_bump(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    for n in range(30):  # more cards than a 1280x800 window holds
        agent.publish(ticket(f"ord_{n:02d}"))
    app = start_screen(config_with())
    window = app.window
    qtbot.waitUntil(lambda: window.pager.after > 0)
    assert window.pager.before == 0
    qtbot.keyClick(app.view, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: window.pager.before > 0)
    assert window.header.more_label.text().startswith("← ")
    qtbot.keyClick(app.view, Qt.Key.Key_PageUp)
    qtbot.waitUntil(lambda: window.pager.before == 0)

    qtbot.keyClick(app.view, Qt.Key.Key_B)  # bumps the selected card: UNDO shows
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    assert window.undo_bar.isVisible()
    qtbot.keyClick(app.view, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)
    assert agent.commands_of("recall")[0].ticket_id == agent.commands_of("bump")[0].ticket_id
    assert not window.undo_bar.isVisible()


def test_bump_key_on_a_card_that_asks_for_an_acknowledgement_gives_it(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    """A bump bar has no card buttons: on a VOID card B is OK, SEEN, and on a card whose
    declared allergy is not seen yet S and B are ALLERGY SEEN (never a refused bump)."""
    agent.publish(revise(ticket("ord_void"), status="cancelled"))
    app = start_screen(config_with())
    qtbot.waitUntil(lambda: selected(app) == "ord_void")
    qtbot.keyClick(app.view, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: len(agent.commands_of("ack_void")) == 1)
    assert agent.commands_of("ack_void")[0].ticket_id == "ord_void"
    assert agent.commands_of("bump") == []

    agent.publish(revise(ticket("ord_nuts", minutes_ago=30), allergy=["ALLERGY: peanuts"]))
    qtbot.waitUntil(lambda: app.model.index_of("ord_nuts").isValid())
    app.window.select_row(app.model.index_of("ord_nuts").row())
    qtbot.keyClick(app.view, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: len(agent.commands_of("ack_allergens")) == 1)
    assert agent.commands_of("ack_allergens")[0].ticket_id == "ord_nuts"
    assert agent.commands_of("start") == [] and agent.commands_of("bump") == []


def test_reprint_and_recall_keys(agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot) -> None:
    agent.publish(ticket("ord_a"))
    app = start_screen(config_with())
    qtbot.keyClick(app.view, Qt.Key.Key_R)
    assert app.window.message.text().startswith("Nothing to recall")
    qtbot.keyClick(app.view, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: len(agent.commands_of("reprint")) == 1)
    assert app.window.message.text() == "Reprint of the ticket sent to the printer"


def write(tmp_path: Path, keys: str) -> str:
    path = tmp_path / "display.toml"
    path.write_text(
        'site_id = "ams-01"\ndisplay_id = "grill-1"\nstation = "grill"\n\n[keys]\n' + keys
    )
    return str(path)


def test_keys_section_is_parsed(tmp_path: Path) -> None:
    config = load_config(
        parse_args(["--config", write(tmp_path, 'bump = ["B", "Return", "F12"]\nundo = []\n')])
    )
    assert config.keys.bump == ("B", "Return", "F12")
    assert config.keys.undo == ()
    assert config.keys.page_next == ("PgDown",)


def test_keys_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDS_KEYS_START", "F1,Space")
    config = load_config(parse_args(["--config", write(tmp_path, "")]))
    assert config.keys.start == ("F1", "Space")


@pytest.mark.parametrize(
    ("keys", "line"),
    [
        (
            'bump = ["B", "Bmp"]\n',
            "kitchen-display: config error: keys.bump: unknown key 'Bmp' "
            "(use Qt key names: B, Return, PgDown, Left)\n",
        ),
        (
            'start = ["B"]\n',
            "kitchen-display: config error: keys.bump: key 'B' is already used for keys.start\n",
        ),
        (
            'bumb = ["B"]\n',
            "kitchen-display: config error: keys.bumb: unknown setting "
            "(check the spelling; see README)\n",
        ),
    ],
)
def test_a_bad_key_stops_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], keys: str, line: str
) -> None:
    assert main(["--config", write(tmp_path, keys)]) == 2
    assert capsys.readouterr().err == line
