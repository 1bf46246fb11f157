"""Expo: whole orders with each station's progress, and READY FOR PICKUP with a
PICKED UP button per ticket for the courier handoff."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication, QEvent, Qt
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.ready_shelf import ReadyShelf
from shared.model import Ticket
from tests.unit.kitchen_display.fakes import FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def ready_shelf(app: DisplayApp) -> ReadyShelf:
    """The expo screen's shelf of ready tickets."""
    shelf = app.window.stack.ready_shelf
    assert isinstance(shelf, ReadyShelf), shelf
    return shelf


def ready(ticket_id: str, number: str) -> Ticket:
    base = ticket(ticket_id, number=number, lines=[("grill", "Burger"), ("fry", "Fries")])
    return revise(
        base, status="ready", item={"status": "done"}, ready_at=datetime.now(UTC).isoformat()
    )


def test_expo_shows_ready_tickets_and_picked_up_sends_the_command(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_cooking", number="10", lines=[("grill", "Burger")]))
    agent.publish(ready("ord_ready", "11"))
    app = make_display("expo")
    shelf = ready_shelf(app)
    qtbot.waitExposed(shelf)
    assert shelf.title.text() == "READY FOR PICKUP (1)"
    assert list(shelf.buttons) == ["ord_ready"]
    # a button added to the shown shelf is shown on the next turn of the event loop
    button = shelf.buttons["ord_ready"]
    qtbot.waitUntil(button.isVisible)
    assert button.text() == "#11 Burger Bros\nPICKED UP"
    # the card wall still shows the order being cooked
    assert [t.id for t in app.model.tickets()] == ["ord_cooking"]

    agent.publish(ready("ord_ready2", "12"))
    qtbot.waitUntil(lambda: list(shelf.buttons) == ["ord_ready", "ord_ready2"])
    button = shelf.buttons["ord_ready"]
    qtbot.waitUntil(button.isVisible)
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(agent.commands_of("picked_up")) == 1)
    [picked] = agent.commands_of("picked_up")
    assert (picked.ticket_id, picked.station) == ("ord_ready", "expo")
    # it stays until the agent says it is gone
    assert "ord_ready" in shelf.buttons
    agent.remove("ord_ready")
    qtbot.waitUntil(lambda: list(shelf.buttons) == ["ord_ready2"])
    assert shelf.title.text() == "READY FOR PICKUP (1)"


def test_a_recalled_ready_ticket_leaves_the_shelf_and_comes_back_as_a_card(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ready("ord_1", "1"))
    app = make_display("expo")
    shelf = ready_shelf(app)
    assert list(shelf.buttons) == ["ord_1"]
    agent.publish(revise(agent.tickets["ord_1"], status="in_progress"))
    qtbot.waitUntil(lambda: shelf.buttons == {})
    qtbot.waitUntil(lambda: [t.id for t in app.model.tickets()] == ["ord_1"])


def test_a_station_screen_has_no_shelf_until_a_lead_shows_expo(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="5", lines=[("grill", "Burger"), ("fry", "Fries")]))
    agent.publish(ready("ord_2", "6"))
    app = make_display("grill")
    stack = app.window.stack
    assert stack.ready_shelf is None and stack.expo is None
    assert app.window.views.switch_view("expo")  # no lead PIN set: switches at once
    assert stack.current == "expo"
    page = stack.expo
    assert page is not None and page.isVisible()
    assert [t.id for t in page.model.tickets()] == ["ord_1"]
    assert stack.ready_shelf is page.ready_shelf
    assert list(page.ready_shelf.buttons) == ["ord_2"]
    # expo's BUMP from this screen is expo's bump
    index = page.model.index_of("ord_1")
    rect = page.delegate.button_rect(page.cards.visualRect(index), "bump")
    qtbot.mouseClick(page.cards.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    assert agent.commands_of("bump")[0].station == "expo"
    assert app.window.undo_bar.isVisible()


def test_picked_up_survives_other_tickets_changing_mid_tap(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    cooking = ticket("ord_cooking", lines=[("grill", "Burger")])
    agent.publish(ready("ord_ready", "11"))
    agent.publish(cooking)
    app = make_display("expo")
    shelf = ready_shelf(app)
    button = shelf.buttons["ord_ready"]
    qtbot.waitUntil(button.isVisible)
    qtbot.mousePress(button, Qt.MouseButton.LeftButton)
    # while the courier's finger is down, the kitchen works on another order
    agent.publish(revise(cooking, status="in_progress"))
    qtbot.waitUntil(lambda: app.sync.last_seq == agent.seq)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # any deleteLater
    assert shelf.buttons["ord_ready"] is button  # the same button, still under the finger
    qtbot.mouseRelease(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(agent.commands_of("picked_up")) == 1)
