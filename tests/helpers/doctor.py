"""``edge-agent doctor`` in tests: its checks by name, or the command as an admin runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from edge_agent.doctor import Check, run_checks


def doctor_checks(config: Path, *, timeout: float = 2.0) -> dict[str, Check]:
    """Every check of ``doctor`` on ``config``, run in this process, by name."""
    return {check.name: check for check in run_checks(config, timeout=timeout)}


def doctor_cli(config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``edge-agent doctor --config FILE`` in a process of its own (``env`` added)."""
    return subprocess.run(
        [sys.executable, "-m", "edge_agent", "doctor", "--config", str(config)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=60,
        check=False,
    )
