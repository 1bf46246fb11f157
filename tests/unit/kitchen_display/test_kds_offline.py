"""The offline command queue: a cook's taps while the broker is down are kept (with their
command_id) and sent in order on reconnect; snapshots are never queued."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kitchen_display import sync as sync_module
from kitchen_display.app import DisplayApp
from kitchen_display.ticket_model import Role
from tests.unit.kitchen_display.fakes import FakeAgent, as_fake, present, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def click_button(qtbot: QtBot, app: DisplayApp, ticket_id: str, action: str) -> None:
    index = app.model.index_of(ticket_id)
    rect = app.delegate.button_rect(app.view.visualRect(index), action)
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def go_offline(qtbot: QtBot, app: DisplayApp) -> None:
    with qtbot.waitSignal(app.sync.connectionChanged):
        as_fake(app.mq).set_connected(False)
    qtbot.waitUntil(lambda: app.window.offline)


def test_taps_while_offline_are_queued_shown_and_sent_in_order_on_reconnect(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="41"))
    agent.publish(ticket("ord_2", number="42"))
    app = make_display("grill")
    go_offline(qtbot, app)

    click_button(qtbot, app, "ord_1", "start")
    click_button(qtbot, app, "ord_1", "bump")
    click_button(qtbot, app, "ord_2", "bump")
    queued = app.sync.pending_commands()
    assert [(p.kind, p.ticket_id) for p in queued] == [
        ("start", "ord_1"),
        ("bump", "ord_1"),
        ("bump", "ord_2"),
    ]
    assert app.sync.pending_for("ord_1") == ["start", "bump"]
    assert app.sync.pending_for("ord_2") == ["bump"]
    # The screen says something is waiting, and nothing was refused.
    pending = app.window.findChild(type(app.window.header.count_label), "pendingLabel")
    assert pending is not None and pending.isVisible()
    assert pending.text() == "↻ 3 waiting to send"
    assert not agent.commands_of("bump")

    with qtbot.waitSignal(app.sync.pendingChanged):
        as_fake(app.mq).set_connected(True)
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 2)
    sent = [c for c in agent.commands if c.type != "snapshot"]
    assert [(c.type, c.ticket_id, c.command_id) for c in sent] == [
        (p.kind, p.ticket_id, p.command_id) for p in queued
    ]
    # The queued commands went before the reconnect's snapshot request (the fake
    # broker delivers on its own thread: wait until that request has arrived too).
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) >= 2)
    kinds = [c.type for c in agent.commands]
    assert kinds.index("bump") < len(kinds) - 1 - kinds[::-1].index("snapshot")
    assert app.sync.pending_commands() == []
    assert app.sync.pending_for("ord_1") == []
    qtbot.waitUntil(lambda: not pending.isVisible())
    # Results of the queued bumps still count: R recalls the last one.
    qtbot.waitUntil(lambda: app.sync.recall_candidate() == "ord_2")


def test_a_failing_send_is_queued_too(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.publish(ticket("ord_1"))
    app = make_display("grill")
    from shared.errors import MqNotConnected

    def broken(*args: object, **kwargs: object) -> None:
        raise MqNotConnected("socket closed")

    monkeypatch.setattr(app.mq, "send", broken)
    click_button(qtbot, app, "ord_1", "bump")
    assert app.sync.pending_for("ord_1") == ["bump"]
    monkeypatch.undo()
    # The link stayed up: the next tap first sends what is waiting, then itself, in order.
    click_button(qtbot, app, "ord_1", "start")
    assert app.sync.pending_for("ord_1") == []
    qtbot.waitUntil(
        lambda: (
            [c.type for c in agent.commands if c.type != "snapshot"]
            == [
                "bump",
                "start",
            ]
        )
    )


def test_snapshots_are_not_queued(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    app = make_display("grill")
    go_offline(qtbot, app)
    app.sync.request_snapshot()
    assert app.sync.pending_commands() == []


def test_queue_keeps_the_newest_and_says_the_oldest_was_dropped(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sync_module, "MAX_QUEUED_COMMANDS", 3)
    app = make_display("grill")
    go_offline(qtbot, app)
    ids = [app.sync.send_command("bump", ticket_id=f"ord_{i}") for i in range(3)]
    with qtbot.waitSignal(app.sync.commandFailed) as failed:
        ids.append(app.sync.send_command("bump", ticket_id="ord_3"))
    assert failed.args[0] == "Bump dropped: more than 3 commands waiting for the kitchen"
    assert [p.command_id for p in app.sync.pending_commands()] == ids[1:]
    assert app.window.message.isVisible()
    assert app.window.message.text().startswith("Bump dropped")


def test_card_marks_each_action_waiting_to_be_sent(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    from kitchen_display.card_content import card_content, card_state

    agent.publish(ticket("ord_p"))
    display = make_display("grill")
    as_fake(display.mq).set_connected(False)
    qtbot.waitUntil(lambda: display.window.offline)
    display.window.request("bump", "ord_p")
    index = display.model.index_of("ord_p")
    qtbot.waitUntil(
        lambda: (
            "↻ BUMP PENDING"
            in [
                c.text
                for c in card_content(
                    present(display.model.ticket_at(index.row())), card_state(index, "grill", False)
                ).chips
            ]
        )
    )
    as_fake(display.mq).set_connected(True)
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    qtbot.waitUntil(lambda: not display.model.data(index, Role.PendingRole))
