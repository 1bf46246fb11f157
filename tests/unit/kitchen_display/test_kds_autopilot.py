"""The burn-in autopilot (``kitchen-display --autopilot SECONDS``): taps the oldest card
through the card button's own signal (so the window sends the command as for a cook's
tap), one tap per card until the agent published its new state; on expo it bumps an
order once every station is done and taps PICKED UP on the ready shelf."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from pytestqt.qtbot import QtBot

from kitchen_display.app import attach_autopilot, main, parse_args, tile_geometry
from kitchen_display.autopilot import choose_action
from tests.unit.kitchen_display.fakes import FakeAgent, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


@pytest.mark.parametrize(
    ("actions", "is_expo", "started", "done", "expected"),
    [
        (("start", "bump"), False, False, False, "start"),
        (("start", "bump"), False, True, False, "bump"),
        (("ack_allergens",), False, False, False, "ack_allergens"),
        (("ack_allergens",), True, False, False, "ack_allergens"),
        (("ack_void",), False, True, False, "ack_void"),
        (("ack_void",), True, False, False, "ack_void"),
        (("start", "bump"), True, False, False, None),  # expo waits for the stations
        (("start", "bump"), True, True, True, "bump"),  # and never starts
        (("bump",), False, True, False, "bump"),
        ((), False, False, False, None),
        (("something_new",), False, False, False, "something_new"),  # the card's first button
    ],
)
def test_choose_action_takes_the_cards_first_button(
    actions: tuple[str, ...], is_expo: bool, started: bool, done: bool, expected: str | None
) -> None:
    assert (
        choose_action(actions, is_expo=is_expo, started_here=started, stations_done=done)
        == expected
    )


def test_station_autopilot_starts_then_bumps_the_oldest_card_through_the_tap_path(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    older = ticket("t_old", minutes_ago=5, lines=[("grill", "Burger")])
    newer = ticket("t_new", minutes_ago=1, lines=[("grill", "Slider")])
    agent.publish(older)
    agent.publish(newer)
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.rowCount() == 2)
    pilot = attach_autopilot(app, 60)
    tapped = []
    app.delegate.actionRequested.connect(lambda t, a: tapped.append((t, a)))
    sent = []
    app.window.commandRequested.connect(lambda a, t, _c: sent.append((a, t)))

    assert pilot.step() == "start t_old"
    qtbot.waitUntil(lambda: len(agent.commands_of("start")) == 1)
    [start] = agent.commands_of("start")
    assert (start.ticket_id, start.station, start.display_id) == ("t_old", "grill", "grill-1")
    assert tapped == [("t_old", "start")] and sent == [("start", "t_old")]

    # the agent has not answered: the card is left alone, the next one gets a tap
    assert pilot.step() == "start t_new"
    assert pilot.step() is None
    agent.publish(revise(older, status="in_progress", item={"status": "in_progress"}))
    qtbot.waitUntil(lambda: pilot.step() == "bump t_old")
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    assert agent.commands_of("bump")[0].ticket_id == "t_old"
    assert pilot.counts == {"start": 2, "bump": 1}


def test_a_started_card_is_bumped_once_it_has_cooked(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    now = datetime.now(UTC)
    just = revise(
        ticket("t_just", minutes_ago=5, lines=[("grill", "Burger")]),
        status="in_progress",
        item={"status": "in_progress"},
        started_at=now.isoformat(),
    )
    agent.publish(just)
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.rowCount() == 1)
    pilot = attach_autopilot(app, 60, cook=30)
    assert pilot.step() is None  # still cooking
    cooked = revise(just, started_at=(now - timedelta(seconds=31)).isoformat())
    agent.publish(cooked)
    qtbot.waitUntil(lambda: pilot.step() == "bump t_just")


def test_a_void_card_gets_ok_seen(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("t1", status="cancelled", lines=[("grill", "Burger")]))
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.rowCount() == 1)
    assert attach_autopilot(app, 60).step() == "ack_void t1"
    qtbot.waitUntil(lambda: len(agent.commands_of("ack_void")) == 1)


def test_expo_bumps_when_every_station_is_done_and_picks_up_from_the_shelf(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    cooking = ticket("t_cook", minutes_ago=5, lines=[("grill", "Burger"), ("fry", "Fries")])
    agent.publish(cooking)
    ready = revise(
        ticket("t_ready", minutes_ago=9, lines=[("grill", "Burger")]),
        status="ready",
        item={"status": "done"},
        ready_at=datetime.now(UTC).isoformat(),
    )
    agent.publish(ready)
    app = make_display("expo")
    shelf = app.window.stack.ready_shelf
    assert shelf is not None
    qtbot.waitUntil(lambda: app.model.rowCount() == 1 and list(shelf.buttons) == ["t_ready"])
    pilot = attach_autopilot(app, 60)

    assert pilot.step() is None  # grill and fry still cooking: nothing to bump
    qtbot.waitUntil(lambda: len(agent.commands_of("picked_up")) == 1)
    assert agent.commands_of("picked_up")[0].ticket_id == "t_ready"
    agent.publish(revise(cooking, station="grill", item={"status": "done"}))
    assert pilot.step() is None  # fry is not done yet; the shelf's tap is still unanswered
    agent.publish(revise(cooking, status="in_progress", item={"status": "done"}, version=3))
    qtbot.waitUntil(lambda: pilot.step() == "bump t_cook")
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 1)
    [bump] = agent.commands_of("bump")
    assert (bump.ticket_id, bump.station) == ("t_cook", "expo")
    assert len(agent.commands_of("picked_up")) == 1
    assert pilot.counts == {"picked_up": 1, "bump": 1}


def test_the_autopilot_reports_its_taps_and_the_paints(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, caplog: pytest.LogCaptureFixture
) -> None:
    agent.publish(ticket("t1", lines=[("grill", "Burger")]))
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.rowCount() == 1)
    pilot = attach_autopilot(app, 0.05)
    pilot._report.setInterval(200)
    with caplog.at_level("INFO", logger="kds.autopilot"):
        pilot.start()
        app.view.viewport().update()
        qtbot.waitUntil(lambda: "paints of the cards" in caplog.text, timeout=5000)
        pilot.stop()
    assert "autopilot: 1 taps (start 1); 1 cards shown;" in caplog.text
    assert len(agent.commands_of("start")) == 1


def test_command_line_autopilot_and_tile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse_args(["--config", "x.toml", "--autopilot", "1.5", "--tile", "2/2"])
    assert args.autopilot == 1.5 and args.tile == (2, 2)
    assert main(["--config", "x.toml", "--autopilot", "0"]) == 2
    assert "--autopilot: SECONDS must be > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--config", "x.toml", "--tile", "3/2"])


def test_tiles_split_the_available_screen_into_columns() -> None:
    available = QRect(0, 30, 1366, 738)
    left, right = tile_geometry(available, 1, 2), tile_geometry(available, 2, 2)
    assert (left.x(), left.y(), left.width(), left.height()) == (0, 30, 683, 738)
    assert (right.x(), right.width()) == (683, 683)
    thirds = [tile_geometry(QRect(0, 0, 1920, 1080), i, 3) for i in (1, 2, 3)]
    assert [(r.x(), r.width()) for r in thirds] == [(0, 640), (640, 640), (1280, 640)]
