"""``python -m kitchen_display`` with no config (a fresh HOME and XDG_CONFIG_HOME) opens
the setup screen and keeps running until it is stopped: it does not crash or exit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kitchen_display.first_run import LINUX_SITE_CONFIG
from tests.helpers.site import ROOT, wait_until

pytestmark = pytest.mark.skipif(
    LINUX_SITE_CONFIG.exists(), reason=f"{LINUX_SITE_CONFIG} exists on this machine"
)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_no_config_opens_the_setup_screen_and_keeps_running(
    tmp_path: Path, stop: signal.Signals
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env.update(
        HOME=str(tmp_path / "home"),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
    )
    (tmp_path / "home").mkdir()
    log_path = tmp_path / "display.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kitchen_display"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        expected = tmp_path / "config" / "ghost-kds" / "display.toml"

        def log() -> str:
            return log_path.read_text(errors="replace")

        wait_until(lambda: "setup screen open" in log() or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{log()}"
        assert f"no config at {expected}: opening the setup screen" in log()
        assert "Traceback" not in log()
        assert not expected.exists()
        # as Ctrl-C, or a session's end: the app quits from its loop (exit 0, not -15)
        proc.send_signal(stop)
        assert proc.wait(20) == 0, log()
        assert "Traceback" not in log()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
