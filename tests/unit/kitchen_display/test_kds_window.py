"""The whole display (build_display) against the fake broker and agent: screen, touch, keys."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from pytestqt.qtbot import QtBot

from kitchen_display import card_delegate
from kitchen_display.app import DisplayApp
from kitchen_display.ticket_model import Role
from tests.unit.kitchen_display.fakes import SITE, FakeAgent, FakeBroker, as_fake, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def shown(app: DisplayApp) -> list[str]:
    model = app.model
    return [model.data(model.index(row, 0), Role.IdRole) for row in range(model.rowCount())]


def click_button(qtbot: QtBot, app: DisplayApp, ticket_id: str, action: str) -> None:
    index = app.model.index_of(ticket_id)
    rect = app.delegate.button_rect(app.view.visualRect(index), action)
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_snapshot_on_start_populates_the_screen(
    agent: FakeAgent, make_display: MakeDisplay
) -> None:
    agent.publish(ticket("ord_a", number="41"))
    agent.publish(ticket("ord_b", number="42", lines=[("fry", "Fries")]))
    app = make_display("grill")
    assert shown(app) == ["ord_a"]
    assert app.window.header.count_label.text() == "1 open"
    assert not app.window.offline
    assert app.window.header.station_label.text() == "GRILL"


def test_ticket_updated_adds_a_visible_card(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    app = make_display("grill")
    assert shown(app) == []
    agent.publish(
        ticket(
            "ord_new",
            number="77",
            lines=[{"station": "grill", "name": "Classic Burger", "qty": 2, "allergens": ["milk"]}],
        )
    )
    qtbot.waitUntil(lambda: shown(app) == ["ord_new"])
    index = app.model.index_of("ord_new")
    assert app.model.data(index, Qt.ItemDataRole.DisplayRole) == "#77 Burger Bros"
    rect = app.view.visualRect(index)
    assert rect.width() == app.delegate.card_width
    assert rect.height() > 3 * app.delegate.button_height
    assert app.window.header.count_label.text() == "1 open"
    # The card is really painted: its header is not the background colour.
    image = app.view.viewport().grab().toImage()
    assert image.pixelColor(rect.center().x(), rect.top() + 30) != QColor("#0f1216")


def test_bump_button_sends_bump_for_that_ticket(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    agent.publish(ticket("ord_2"))
    app = make_display("grill")
    click_button(qtbot, app, "ord_2", "bump")
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    [bump] = agent.commands_of("bump")
    assert (bump.ticket_id, bump.station, bump.display_id, bump.site_id) == (
        "ord_2",
        "grill",
        "grill-1",
        SITE,
    )
    assert agent.reply_to[bump.command_id] == app.config.reply_queue
    # The display never changes state by itself: the card stays until the agent says so.
    assert shown(app) == ["ord_1", "ord_2"]
    agent.publish(revise(agent.tickets["ord_2"], item={"status": "done"}, status="in_progress"))
    qtbot.waitUntil(lambda: shown(app) == ["ord_1"])


def test_start_button_sends_start(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    click_button(qtbot, app, "ord_1", "start")
    qtbot.waitUntil(lambda: len(agent.commands_of("start")) == 1)
    assert agent.commands_of("start")[0].ticket_id == "ord_1"
    assert agent.commands_of("bump") == []


def test_tapping_the_card_body_selects_without_sending(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    agent.publish(ticket("ord_2"))
    app = make_display("grill")
    rect = app.view.visualRect(app.model.index_of("ord_2"))
    qtbot.mouseClick(
        app.view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=QPoint(rect.center().x(), rect.top() + 20),
    )
    assert app.window.selected_ticket_id() == "ord_2"
    agent.broker.drain()
    assert [c.type for c in agent.commands] == ["snapshot"]


class _FrozenTime:
    """``time`` for the card delegate with a ``monotonic()`` that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


def test_double_tap_on_bump_sends_one_bump(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    # The taps of a double tap come within the double-click interval: on the delegate's
    # clock they come at once, however slow this machine is right now.
    monkeypatch.setattr(card_delegate, "time", _FrozenTime())
    rect = app.delegate.button_rect(app.view.visualRect(app.model.index(0, 0)), "bump")
    # What a double tap delivers (Qt 6 sends the second press and a double-click).
    viewport = app.view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) >= 1)
    agent.broker.drain()
    assert len(agent.commands_of("bump")) == 1


def test_keyboard_bump_bar(agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot) -> None:
    for ticket_id in ("ord_1", "ord_2", "ord_3"):
        agent.publish(ticket(ticket_id))
    app = make_display("grill")
    view = app.view
    view.setFocus()
    assert app.window.selected_ticket_id() == "ord_1"  # the oldest is selected first
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert app.window.selected_ticket_id() == "ord_2"
    qtbot.keyClick(view, Qt.Key.Key_B)
    qtbot.waitUntil(lambda: [c.ticket_id for c in agent.commands_of("bump")] == ["ord_2"])
    qtbot.keyClick(view, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: [c.ticket_id for c in agent.commands_of("start")] == ["ord_2"])
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.keyClick(view, Qt.Key.Key_Right)  # stays on the last card
    qtbot.keyClick(view, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [c.ticket_id for c in agent.commands_of("bump")] == ["ord_2", "ord_3"])
    qtbot.keyClick(view, Qt.Key.Key_Home)
    assert app.window.selected_ticket_id() == "ord_1"
    qtbot.keyClick(view, Qt.Key.Key_Left)
    qtbot.keyClick(view, Qt.Key.Key_Enter)
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 3)
    assert agent.commands_of("bump")[-1].ticket_id == "ord_1"


def test_recall_sends_the_last_bumped_ticket(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    agent.publish(ticket("ord_2"))
    app = make_display("grill")
    app.view.setFocus()
    qtbot.keyClick(app.view, Qt.Key.Key_R)
    assert "Nothing to recall" in app.window.message.text()
    with qtbot.waitSignal(app.sync.commandResult):
        qtbot.keyClick(app.view, Qt.Key.Key_B)
    qtbot.keyClick(app.view, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: len(agent.commands_of("recall")) == 1)
    recall = agent.commands_of("recall")[0]
    assert (recall.ticket_id, recall.station) == ("ord_1", "grill")


def test_selection_follows_when_the_selected_card_leaves(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    for ticket_id in ("ord_1", "ord_2"):
        agent.publish(ticket(ticket_id))
    app = make_display("grill")
    assert app.window.selected_ticket_id() == "ord_1"
    agent.remove("ord_1")
    qtbot.waitUntil(lambda: shown(app) == ["ord_2"])
    assert app.window.selected_ticket_id() == "ord_2"
    assert app.view.selectionModel().isSelected(app.view.currentIndex())


def test_offline_banner_and_resync_on_reconnect(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    assert app.window.banner.isHidden()
    with qtbot.waitSignal(app.sync.connectionChanged):
        as_fake(app.mq).set_connected(False)
    assert app.window.offline
    text = app.window.banner.text()
    assert text.startswith("OFFLINE — broker or agent unreachable since ")
    assert text.endswith("; showing last known state")
    assert app.window.header.connection_label.text() == "● OFFLINE"
    assert shown(app) == ["ord_1"]  # the last known state stays up
    agent.publish(ticket("ord_2"))  # missed while away
    with qtbot.waitSignal(app.sync.connectionChanged):
        as_fake(app.mq).set_connected(True)
    assert not app.window.offline
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) == 2)
    qtbot.waitUntil(lambda: shown(app) == ["ord_1", "ord_2"])


def test_banner_before_the_first_connection(
    broker: FakeBroker, agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    from kitchen_display.app import build_display
    from tests.unit.kitchen_display.fakes import display_config

    mq = broker.client("late", auto_connect=False)
    app = build_display(display_config("grill"), mq)
    try:
        app.start()
        assert app.window.offline
        assert "no tickets received yet" in app.window.banner.text()
        mq.set_connected(True)
        qtbot.waitUntil(lambda: not app.window.offline)
        qtbot.waitUntil(lambda: app.sync.synced)
    finally:
        app.close()


def test_refused_command_shows_the_message(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_x"))
    app = make_display("grill")
    agent.refuse["bump"] = ("invalid_transition", "ticket ord_x is cancelled")
    click_button(qtbot, app, "ord_x", "bump")
    qtbot.waitUntil(lambda: app.window.message.isVisible())
    assert app.window.message.text() == "Bump refused: ticket ord_x is cancelled"


def test_grill_screen_filters_and_expo_sees_whole_orders(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_fry", lines=[("fry", "Fries")], minutes_ago=3))
    burger_and_fries = ticket(
        "ord_both",
        lines=[
            {"station": "grill", "name": "Classic Burger", "modifiers": [{"name": "no onion"}]},
            ("fry", "Fries"),
        ],
    )
    agent.publish(burger_and_fries)
    grill = make_display("grill")
    expo = make_display("expo")
    assert shown(grill) == ["ord_both"]
    assert shown(expo) == ["ord_fry", "ord_both"]
    index = expo.model.index_of("ord_both")
    assert [i.name for i in expo.model.data(index, Role.StationItemsRole)] == [
        "Classic Burger",
        "Fries",
    ]
    # Grill finishes: the card leaves the grill screen but stays on expo.
    agent.publish(
        revise(burger_and_fries, station="grill", item={"status": "done"}, status="in_progress")
    )
    qtbot.waitUntil(lambda: shown(grill) == [])
    qtbot.waitUntil(lambda: expo.model.data(expo.model.index_of("ord_both"), Role.StartedRole))
    assert shown(expo) == ["ord_fry", "ord_both"]
    assert not expo.window.grab().isNull()


def test_cancelled_ticket_is_void_on_its_station(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = ticket("ord_v")
    agent.publish(t)
    app = make_display("grill")
    agent.publish(revise(t, status="cancelled"))
    qtbot.waitUntil(lambda: app.model.data(app.model.index(0, 0), Role.VoidRole) is True)
    assert not app.window.grab().isNull()
    agent.remove("ord_v")
    qtbot.waitUntil(lambda: shown(app) == [])


def test_p_key_asks_for_a_reprint_of_the_selected_ticket(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    agent.publish(ticket("ord_2"))
    app = make_display("grill")
    app.view.setFocus()
    qtbot.keyClick(app.view, Qt.Key.Key_Right)
    qtbot.keyClick(app.view, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: len(agent.commands_of("reprint")) == 1)
    [command] = agent.commands_of("reprint")
    assert (command.ticket_id, command.kind, command.station) == ("ord_2", "ticket", "grill")
    assert "Reprint" in app.window.message.text()


def test_refused_reprint_says_why(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.refuse["reprint"] = ("bad_request", "no printer for tickets at station 'grill'")
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    app.view.setFocus()
    qtbot.keyClick(app.view, Qt.Key.Key_P)
    qtbot.waitUntil(lambda: "no printer" in app.window.message.text())
