"""Recall: the list of this station's bumps of the last 15 minutes, and the 5-second UNDO
bar after this screen bumps a ticket."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.recall import UNDO_SECONDS, RecallListDialog, recent_bumps
from shared.model import Ticket
from tests.unit.kitchen_display.fakes import FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def click_button(qtbot: QtBot, app: DisplayApp, ticket_id: str, action: str) -> None:
    index = app.model.index_of(ticket_id)
    rect = app.delegate.button_rect(app.view.visualRect(index), action)
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def bumped(ticket_id: str, number: str, minutes_ago: float, station: str = "grill") -> Ticket:
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    base = ticket(ticket_id, number=number, lines=[(station, "Burger"), ("fry", "Fries")])
    return revise(
        base,
        station=station,
        item={"status": "done"},
        status="in_progress",
        bumped_at={station: at.isoformat()},
    )


def test_recall_list_shows_this_stations_recent_bumps_and_recalls_the_tapped_one(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(bumped("ord_1", "41", minutes_ago=2))
    agent.publish(bumped("ord_2", "42", minutes_ago=1))
    agent.publish(bumped("ord_old", "40", minutes_ago=20))  # too long ago
    agent.publish(bumped("ord_fry", "43", minutes_ago=1, station="fry"))  # another station
    app = make_display("grill")
    qtbot.mouseClick(app.window.header.recall_button, Qt.MouseButton.LeftButton)
    dialog = app.window.views.dialog
    assert isinstance(dialog, RecallListDialog) and dialog.isVisible()
    assert dialog.ticket_ids() == ["ord_2", "ord_1"]  # newest first
    assert dialog.texts()[0].startswith("#42  Burger Bros   bumped ")
    assert dialog.texts()[0].endswith(" ago)")

    item = dialog.list.item(1)
    qtbot.mouseClick(
        dialog.list.viewport(),
        Qt.MouseButton.LeftButton,
        pos=dialog.list.visualItemRect(item).center(),
    )
    qtbot.mouseClick(dialog.recall_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)
    [recall] = agent.commands_of("recall")
    assert (recall.ticket_id, recall.station) == ("ord_1", "grill")
    assert app.window.views.dialog is None


def test_open_recall_list_for_the_keys_and_an_empty_list(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    app = make_display("grill")
    app.window.views.open_recall_list()
    dialog = app.window.views.dialog
    assert isinstance(dialog, RecallListDialog)
    assert dialog.texts() == ["Nothing bumped here in the last 15 minutes"]
    assert not dialog.recall_button.isEnabled()


def test_recent_bumps_keeps_the_last_50() -> None:
    now = datetime.now(UTC)
    tickets = [bumped(f"ord_{i}", str(i), minutes_ago=i * 0.1) for i in range(60)]
    bumps = recent_bumps(tickets, "grill", now)
    assert len(bumps) == 50
    assert bumps[0][0].id == "ord_0"


def test_undo_bar_after_a_bump_recalls_it(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="1042"))
    app = make_display("grill")
    bar = app.window.undo_bar
    assert not bar.isVisible()
    click_button(qtbot, app, "ord_1", "bump")
    assert bar.isVisible()
    assert bar.label.text() == "Bumped #1042"
    assert bar.button.text() == "UNDO"
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    qtbot.mouseClick(bar.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)
    [recall] = agent.commands_of("recall")
    assert (recall.ticket_id, recall.station) == ("ord_1", "grill")
    assert not bar.isVisible()


def test_undo_bar_goes_away_after_a_few_seconds(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    bar = app.window.undo_bar
    assert bar._timer.interval() == UNDO_SECONDS * 1000 == 5000
    bar._timer.setInterval(200)  # not 5 s in a test
    app.window.request("bump", "ord_1")
    assert bar.isVisible()
    qtbot.waitUntil(lambda: not bar.isVisible(), timeout=2000)
    # after it went, undo_last_bump recalls the last accepted bump (like R)
    qtbot.waitUntil(lambda: app.sync.recall_candidate() == "ord_1")
    app.window.undo_last_bump()
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)


def test_undo_key_while_the_bar_shows(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    app.view.setFocus()
    qtbot.keyClick(app.view, Qt.Key.Key_B)
    assert app.window.undo_bar.isVisible()
    qtbot.keyClick(app.view, Qt.Key.Key_U)
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)
    assert agent.commands_of("recall")[0].ticket_id == "ord_1"
    assert len(agent.commands_of("recall")) == 1


def test_a_refused_bump_takes_the_undo_away(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.refuse["bump"] = ("invalid_transition", "ticket ord_1 is cancelled")
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    app.window.request("bump", "ord_1")
    qtbot.waitUntil(lambda: not app.window.undo_bar.isVisible())


def test_a_and_l_keys_open_all_day_and_the_recall_list(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_k"))
    display = make_display("grill")
    display.view.setFocus()
    before = display.window.views.toggle_all_day()
    qtbot.keyClick(display.view, Qt.Key.Key_A)  # toggles it back
    assert display.window.views.toggle_all_day() == before
    qtbot.keyClick(display.view, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: any(w.isVisible() for w in display.window.findChildren(QDialog)))
    for dialog in display.window.findChildren(QDialog):
        dialog.reject()
