"""Soak: a whole site as real processes in steady service for 3 minutes.

The core simulator (new orders every ~2 s), the edge agent and two kitchen displays
(grill and expo, offscreen but painting) run as their own processes on the session's
ActiveMQ; the displays' ``--autopilot`` taps the cards as cooks do (allergens seen,
start, bump, expo's bump, picked up). It passes only if every process is alive at the
end, no log holds a traceback, an ERROR line or a dropped connection, neither the agent's
nor a display's RSS grew by 10% or more after the warm-up (the first sample at 60 s; the
simulated core's is reported: it keeps every order by design), both screens painted all
along and tickets kept reaching the courier. The scenario lives in :mod:`tests.helpers.soak`
(``scripts/soak --minutes N [--screen]`` runs it for longer).

``KDS_SOAK_SECONDS`` changes the length (default 180).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.soak import SoakOptions, run_soak

SECONDS = float(os.environ.get("KDS_SOAK_SECONDS", "180"))

pytestmark = [pytest.mark.broker, pytest.mark.slow]


@pytest.mark.timeout(SECONDS + 240)
def test_a_site_runs_steadily_for_minutes(
    activemq_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    progress: list[str] = []
    options = SoakOptions(
        mq_url=activemq_url, run_dir=tmp_path / "soak", seconds=SECONDS, say=progress.append
    )
    report = run_soak(options)
    if not report.ok:
        pytest.fail(report.failure_message() + "\n\nprogress:\n" + "\n".join(progress[-30:]))
    with capsys.disabled():
        print("\n" + report.summary())
