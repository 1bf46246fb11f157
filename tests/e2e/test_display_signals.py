"""``kitchen-display`` stopped from outside: Ctrl-C (SIGINT) and SIGTERM (systemd
stopping the kiosk unit, a session ending) quit it from the Qt loop with exit status 0,
in kiosk mode too, where a cook's close is refused (only the lead PIN exits)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.net import free_port
from tests.helpers.site import ROOT, wait_until


@pytest.mark.parametrize("kiosk", [False, True], ids=["windowed", "kiosk"])
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_a_signal_quits_the_display_with_status_0(
    tmp_path: Path, stop: signal.Signals, kiosk: bool
) -> None:
    config = tmp_path / "display.toml"
    # a broker that is not there: the display runs (and says so) while it retries
    config.write_text(
        'config_version = 1\nsite_id = "sig-01"\ndisplay_id = "grill-1"\nstation = "grill"\n'
        f'[mq]\nurl = "stomp://127.0.0.1:{free_port()}"\n'
        f"[display]\nkiosk = {'true' if kiosk else 'false'}\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env.update(QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1", HOME=str(tmp_path))
    log_path = tmp_path / "display.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kitchen_display", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def log() -> str:
        return log_path.read_text(errors="replace")

    try:
        wait_until(lambda: "for station grill" in log() or proc.poll() is not None, timeout=60)
        assert proc.poll() is None, f"exited with {proc.returncode}:\n{log()}"
        proc.send_signal(stop)
        assert proc.wait(20) == 0, log()
        assert f"signal {stop.name}: stopping" in log()
        assert "close refused" not in log()
        assert "Traceback" not in log()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
