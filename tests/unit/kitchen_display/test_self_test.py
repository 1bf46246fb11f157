"""``kitchen-display --self-test``: each check on the offscreen platform, and the whole
command in a real process (no config; one line per check; exit 1 when one fails)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kitchen_display import self_test


def test_platform_render_translation_and_fonts_pass_offscreen(qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert app is not None
    platform = self_test.check_platform()
    assert platform.ok and "'offscreen'" in platform.line()
    render = self_test.check_render(app)
    assert render.ok, render.line()
    translation = self_test.check_translation()
    assert translation.ok and "niets te maken" in translation.detail
    assert self_test.check_fonts().ok


def test_result_lines_say_pass_or_fail() -> None:
    assert self_test.Result("x", True, "fine").line() == "PASS x: fine"
    assert self_test.Result("x", False, "broken").line() == "FAIL x: broken"


def test_command_without_an_audio_server_fails_the_sound_check_plainly(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        # nowhere to play: no server socket, and none the default paths would find
        "PULSE_SERVER": f"unix:{tmp_path / 'no-such-socket'}",
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PIPEWIRE_RUNTIME_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "kitchen_display", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.splitlines()
    assert done.returncode == 1, done.stdout + done.stderr
    assert [line.split(":")[0] for line in lines] == [
        "PASS platform",
        "PASS render",
        "PASS translation",
        "PASS fonts",
        "FAIL sound",
    ], done.stdout
    assert lines[-1].startswith("FAIL sound: no audio output:"), lines[-1]
