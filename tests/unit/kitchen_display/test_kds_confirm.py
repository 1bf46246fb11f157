"""Confirmed commands on the screen (fake broker and agent): a command without a result
in time is marked "not confirmed" and sent again; one the broker never confirmed
before the link went is sent again on reconnect; one unanswered too long expires with
a line on the screen, also one left in the file by the last run. (On the real ActiveMQ:
tests/integration/test_display_confirm.py; the plain logic: test_command_queue.py.)"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.command_queue import CommandQueue
from kitchen_display.config import DisplaySettings
from shared.wire import encode, make_command
from tests.unit.kitchen_display.fakes import SITE, FakeAgent, as_fake, display_config, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def tap(qtbot: QtBot, app: DisplayApp, ticket_id: str, action: str) -> None:
    index = app.model.index_of(ticket_id)
    rect = app.delegate.button_rect(app.view.visualRect(index), action)
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def card(app: DisplayApp, ticket_id: str) -> list[str]:
    index = app.model.index_of(ticket_id)
    return app.delegate.card_texts(index) if index.isValid() else []


def test_an_offline_tap_expires_with_a_notice_and_is_never_sent(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="41"))
    app = make_display("grill", confirm_seconds=0.2, queue_max_age_seconds=1.0)
    with qtbot.waitSignal(app.sync.connectionChanged):
        as_fake(app.mq).set_connected(False)
    tap(qtbot, app, "ord_1", "bump")
    assert "↻ BUMP PENDING" in card(app, "ord_1")
    assert app.window.header.pending_label.text() == "↻ 1 waiting to send"

    qtbot.waitUntil(lambda: app.window.message.isVisible(), timeout=5000)
    assert app.window.message.text() == "1 command expired unsent: bump #41"
    assert "↻ BUMP PENDING" not in card(app, "ord_1")
    assert not app.window.header.pending_label.isVisible()
    # back online: the expired bump does not fire
    snapshots = len(agent.snapshot_requests())
    as_fake(app.mq).set_connected(True)
    qtbot.waitUntil(lambda: len(agent.snapshot_requests()) > snapshots)
    assert agent.commands_of("bump") == []


def test_an_unanswered_command_is_not_confirmed_resent_and_expires_saying_so(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="41"))
    agent.publish(ticket("ord_2", number="42"))
    app = make_display("grill", confirm_seconds=0.2, queue_max_age_seconds=2.0)
    agent.silent.add("bump")
    tap(qtbot, app, "ord_1", "bump")
    tap(qtbot, app, "ord_2", "bump")
    qtbot.waitUntil(lambda: "↻ BUMP NOT CONFIRMED" in card(app, "ord_1"))
    qtbot.waitUntil(lambda: "↻ BUMP NOT CONFIRMED" in card(app, "ord_2"))
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) >= 4)
    ids = {c.command_id for c in agent.commands_of("bump")}
    assert len(ids) == 2  # resends, each with its command_id
    assert not app.window.header.pending_label.isVisible()  # sent, not waiting

    # the second expires a moment after the first: one notice names both
    notice = "2 commands expired without an answer from the kitchen: bump #41, bump #42"
    qtbot.waitUntil(lambda: app.window.message.text() == notice, timeout=5000)
    assert app.window.message.isVisible()
    assert not any("NOT CONFIRMED" in text for text in card(app, "ord_1") + card(app, "ord_2"))


def test_a_refusal_after_a_resend_is_shown_and_clears_the_mark(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="41"))
    app = make_display("grill", confirm_seconds=0.2)
    agent.silent.add("start")
    tap(qtbot, app, "ord_1", "start")
    qtbot.waitUntil(lambda: "↻ START NOT CONFIRMED" in card(app, "ord_1"))
    agent.refuse["start"] = ("invalid_transition", "ticket ord_1 is cancelled")
    agent.silent.clear()  # the next resend is answered: refused
    qtbot.waitUntil(lambda: "↻ START NOT CONFIRMED" not in card(app, "ord_1"))
    assert app.window.message.text() == "Start refused: ticket ord_1 is cancelled"


def test_a_stale_command_from_the_last_run_expires_at_start_and_never_fires(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, display_state: Path
) -> None:
    config = display_config("grill")
    path = config.queue_file()
    assert path == display_state / "ghost-kds" / f"{SITE}.grill-1.commands.json"
    last_run = CommandQueue(path=path, clock=lambda: time.time() - 600)  # 10 minutes ago
    bump = make_command("bump", SITE, ticket_id="ord_1", display_id="grill-1", station="grill")
    headers = {"reply-to": config.reply_queue}
    last_run.add(bump.command_id, "bump", "ord_1", encode(bump), headers, number="41")
    agent.publish(ticket("ord_1", number="41"))

    app = make_display("grill")
    qtbot.waitUntil(lambda: app.window.message.isVisible())
    assert app.window.message.text() == "1 command expired unsent: bump #41"
    assert agent.commands_of("bump") == []
    assert app.sync.pending_commands() == []
    assert CommandQueue(path=path).unanswered() == []


def test_the_queue_file_is_the_configured_one_or_the_users_state_folder(tmp_path: Path) -> None:
    config = display_config("grill")
    env = {"XDG_STATE_HOME": str(tmp_path)}
    assert config.queue_file(env) == tmp_path / "ghost-kds" / "ams-01.grill-1.commands.json"
    assert config.queue_file({}) == (
        Path.home() / ".local" / "state" / "ghost-kds" / "ams-01.grill-1.commands.json"
    )
    mine = display_config("grill", queue_path=str(tmp_path / "q.json"))
    assert mine.queue_file(env) == tmp_path / "q.json"
    assert (DisplaySettings().confirm_seconds, DisplaySettings().queue_max_age_seconds) == (
        5.0,
        120.0,
    )


def test_a_command_lost_in_a_disconnect_is_sent_again_on_reconnect(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1", number="41"))
    app = make_display("grill")
    mq = as_fake(app.mq)
    mq.lose_frames = True  # the link is dying: this frame never reaches the broker
    with qtbot.waitSignal(app.window.commandRequested) as requested:
        tap(qtbot, app, "ord_1", "bump")
    command_id = requested.args[2]
    assert "↻ BUMP PENDING" not in card(app, "ord_1")  # sent, as far as the display knows
    with qtbot.waitSignal(app.sync.connectionChanged):
        mq.set_connected(False)  # the broker never confirmed it: it waits to be sent
    qtbot.waitUntil(lambda: "↻ BUMP PENDING" in card(app, "ord_1"))
    assert app.window.header.pending_label.text() == "↻ 1 waiting to send"
    assert agent.commands_of("bump") == []

    mq.lose_frames = False
    mq.set_connected(True)
    qtbot.waitUntil(lambda: [c.command_id for c in agent.commands_of("bump")] == [command_id])
    qtbot.waitUntil(lambda: "↻ BUMP PENDING" not in card(app, "ord_1"))
    assert app.sync.pending_commands() == [] and app.sync.unconfirmed_commands() == []
    assert not app.window.header.pending_label.isVisible()
