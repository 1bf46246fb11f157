"""The ``core-sim`` console script: starts, serves, logs without tokens, stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[3]
SECRET = "s3cret-token-value"


def test_cli_serves_and_stops_on_sigterm() -> None:
    env = {**os.environ, "KDS_CORE_TOKEN": SECRET, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "core_sim", "--port", "0", "--rate", "0", "--site", "x-1"]
    with subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            match = re.search(r"http://127\.0\.0\.1:\d+", proc.stdout.readline())
            assert match, "no URL printed"
            url = match.group(0)
            headers = {"Authorization": f"Bearer {SECRET}"}
            response = httpx.get(f"{url}/api/v1/sites/x-1/orders", headers=headers)
            assert response.status_code == 200
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0
    assert "GET /api/v1/sites/x-1/orders" in err
    assert SECRET not in out + err
