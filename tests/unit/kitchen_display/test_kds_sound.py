"""Sounds: distinct cues for new, rush, changed and voided tickets, repeated while ignored."""

from __future__ import annotations

import io
import wave
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.sound import (
    Cue,
    Escalator,
    SoundBoard,
    SoundKind,
    audio_server_available,
    classify,
    ensure_sound_files,
    synthesize,
)
from tests.unit.kitchen_display.fakes import FakeAgent, as_fake, present, revise, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture


def kinds(app: DisplayApp) -> list[str]:
    return [cue.kind.value for cue in app.sounds.board.played]


def test_each_cue_is_a_short_distinct_wav(tmp_path: Path) -> None:
    sounds = {kind: synthesize(kind) for kind in SoundKind}
    assert len(set(sounds.values())) == 4
    for data in sounds.values():
        with wave.open(io.BytesIO(data)) as wav:
            assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
            assert 0.2 < wav.getnframes() / wav.getframerate() < 0.8
    files = ensure_sound_files(tmp_path)
    assert {path.name for path in files.values()} == {
        "new.wav",
        "rush.wav",
        "changed.wav",
        "void.wav",
    }
    assert files[SoundKind.VOID].read_bytes() == sounds[SoundKind.VOID]


def test_first_snapshot_is_silent_then_a_live_ticket_chimes(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_old"))
    app = start_screen(config_with(volume=0.5))
    assert app.sounds.board.played == []
    agent.publish(ticket("ord_new"))
    qtbot.waitUntil(lambda: app.sounds.board.played == [Cue(SoundKind.NEW, 0.5)])


def test_rush_changed_and_void_each_have_their_cue(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(config_with())
    first = ticket("ord_1")
    agent.publish(first)
    qtbot.waitUntil(lambda: kinds(app) == ["new"])
    rushed = revise(first, priority="rush")
    agent.publish(rushed)
    qtbot.waitUntil(lambda: kinds(app) == ["new", "rush"])
    edited = revise(rushed, item={"qty": 3, "changed": True})
    agent.publish(edited)
    qtbot.waitUntil(lambda: kinds(app) == ["new", "rush", "changed"])
    agent.publish(revise(edited, status="cancelled"))
    qtbot.waitUntil(lambda: kinds(app) == ["new", "rush", "changed", "void"])
    # The VOID card is on screen, so the cook knows what the falling tone was about.
    qtbot.waitUntil(lambda: present(app.model.ticket_at(0)).status == "cancelled")


def test_a_new_rush_ticket_plays_the_rush_cue(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(config_with())
    agent.publish(ticket("ord_r", priority="rush"))
    qtbot.waitUntil(lambda: kinds(app) == ["rush"])


def test_tickets_for_other_stations_make_no_sound(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(config_with("grill"))
    agent.publish(ticket("ord_fry", lines=[("fry", "Fries")]))
    agent.publish(ticket("ord_grill"))
    qtbot.waitUntil(lambda: app.model.rowCount() == 1)
    assert kinds(app) == ["new"]


def test_status_changes_by_the_kitchen_make_no_sound(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(config_with(sound_repeat_seconds=0))
    first = ticket("ord_1", lines=[("grill", "Burger"), ("fry", "Fries")])
    agent.publish(first)
    qtbot.waitUntil(lambda: kinds(app) == ["new"])
    agent.publish(revise(first, status="in_progress"))
    agent.publish(revise(first, station="fry", item={"status": "done"}, status="in_progress"))
    qtbot.waitUntil(lambda: app.sync.last_seq == agent.seq)  # the screen applied both
    assert kinds(app) == ["new"]


def test_volume_setting_and_sound_off(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    loud = start_screen(config_with(volume=1.0))
    agent.publish(ticket("ord_1"))
    qtbot.waitUntil(lambda: loud.sounds.board.played == [Cue(SoundKind.NEW, 1.0)])
    loud.sounds.board.volume = 0.25
    loud.sounds.board.play("void")
    assert loud.sounds.board.played[-1] == Cue(SoundKind.VOID, 0.25)

    quiet = start_screen(config_with(display_id="grill-2", sound=False))
    agent.publish(ticket("ord_2"))
    qtbot.waitUntil(lambda: quiet.model.rowCount() == 2)
    assert quiet.sounds.board.played == []


def test_an_ignored_new_ticket_chimes_again_louder_until_selected(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(config_with(volume=0.4, sound_repeat_seconds=0.15))
    agent.publish(ticket("ord_a", minutes_ago=3))
    agent.publish(ticket("ord_b", minutes_ago=2))
    qtbot.waitUntil(lambda: len(app.sounds.board.played) >= 4, timeout=3000)
    volumes = [cue.volume for cue in app.sounds.board.played]
    # the two arrivals at the set volume (a repeat may come between them on a slow
    # machine: they arrive in two frames), the repeats louder each time up to full
    assert volumes[0] == 0.4 and volumes.count(0.4) == 2
    repeats = [volume for volume in volumes if volume != 0.4]
    assert 0.4 < repeats[0] < repeats[1] and repeats == sorted(repeats)
    assert all(cue.kind is SoundKind.NEW for cue in app.sounds.board.played)
    # The screen selected ord_a by itself: that is not a cook looking at it.
    assert app.sounds.escalator.pending == {"ord_a", "ord_b"}

    # The cook walks over the cards with the bump bar: both acknowledged.
    qtbot.keyClick(app.view, Qt.Key.Key_Right)
    assert app.sounds.escalator.pending == {"ord_a"}
    qtbot.keyClick(app.view, Qt.Key.Key_Left)
    assert app.sounds.escalator.pending == frozenset()
    count = len(app.sounds.board.played)
    qtbot.wait(400)
    assert len(app.sounds.board.played) == count


def test_a_tap_or_a_start_elsewhere_acknowledges(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    app = start_screen(config_with(sound_repeat_seconds=30))
    agent.publish(ticket("ord_a", minutes_ago=3))
    agent.publish(ticket("ord_b", minutes_ago=2))
    qtbot.waitUntil(lambda: app.sounds.escalator.pending == {"ord_a", "ord_b"})
    rect = app.view.visualRect(app.model.index_of("ord_b"))
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert app.sounds.escalator.pending == {"ord_a"}
    # Another screen started it: someone is on it.
    agent.publish(revise(agent.tickets["ord_a"], status="in_progress"))
    qtbot.waitUntil(lambda: app.sounds.escalator.pending == frozenset())


def test_a_reconnect_snapshot_plays_the_most_urgent_change_once(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    first = ticket("ord_1")
    agent.publish(first)
    app = start_screen(config_with())
    mq = as_fake(app.mq)
    mq.set_connected(False)
    qtbot.waitUntil(lambda: app.window.offline)
    agent.publish(revise(first, status="cancelled"), lose=True)
    agent.publish(ticket("ord_2"), lose=True)
    mq.set_connected(True)
    qtbot.waitUntil(lambda: app.model.rowCount() == 2 and app.sync.synced)
    assert kinds(app) == ["void"]


def test_classify() -> None:
    base = ticket("ord_x")
    assert classify(base, revise(base, status="in_progress")) is None
    assert classify(base, revise(base, priority="rush")) is SoundKind.RUSH
    assert classify(base, revise(base, item={"qty": 2})) is SoundKind.CHANGED
    assert classify(base, revise(base, notes="no salt")) is SoundKind.CHANGED
    assert classify(base, revise(base, status="cancelled")) is SoundKind.VOID
    void = revise(base, status="cancelled")
    assert classify(void, revise(void)) is None


def test_escalator_volume_steps(qtbot: QtBot) -> None:
    board = SoundBoard(volume=0.4, player=None)
    escalator = Escalator(board, 20)
    assert [round(escalator.volume_for(n), 2) for n in range(5)] == [0.4, 0.6, 0.8, 1.0, 1.0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [({"PULSE_SERVER": "tcp:speaker"}, True), ({"XDG_RUNTIME_DIR": "/nonexistent"}, False)],
)
def test_audio_server_detection(env: dict[str, str], expected: bool) -> None:
    assert audio_server_available(env) is expected


def test_a_player_is_given_each_cue(qtbot: QtBot) -> None:
    heard: list[tuple[SoundKind, float]] = []

    class Speaker:
        def play(self, kind: SoundKind, volume: float) -> None:
            heard.append((kind, volume))

    board = SoundBoard(volume=0.7, player=Speaker())
    board.play("rush")
    assert heard == [(SoundKind.RUSH, 0.7)]
