"""``kds-demo`` as a newcomer runs it: one command starts the embedded broker, the core
simulator, the agent and a display (offscreen here); tickets flow; SIGTERM stops all.

The live tickets are read by a raw stomp.py subscriber on the demo's broker (nothing
of the project's own), from the state topic the site protocol names."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from pathlib import Path

import psutil
import pytest
import stomp
from stomp.utils import Frame

pytestmark = pytest.mark.slow

WAIT = 60.0  # seconds; a loaded CI machine starts five Python processes
LOGS = ("broker", "core-sim", "edge-agent", "display-expo")


class _Tickets(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    def __init__(self) -> None:
        self.ids: set[str] = set()
        self.cond = threading.Condition()

    def on_message(self, frame: Frame) -> None:
        body = json.loads(frame.body)
        if body.get("type") == "ticket.updated":
            with self.cond:
                self.ids.add(body["ticket"]["id"])
                self.cond.notify_all()


def _pids(out: str) -> dict[str, int]:
    """What kds-demo says it started: ``started NAME (pid N, ...``."""
    return {name: int(pid) for name, pid in re.findall(r"started (\S+) \(pid (\d+)", out)}


def _alive(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


def _wait_file(path: Path, pattern: str) -> re.Match[str]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if path.exists() and (match := re.search(pattern, path.read_text(errors="replace"))):
            return match
        time.sleep(0.1)
    tail = path.read_text(errors="replace")[-2000:] if path.exists() else "(no file)"
    raise AssertionError(f"{path.name}: no {pattern!r} within {WAIT}s; its end:\n{tail}")


def test_the_demo_starts_a_kitchen_whose_tickets_flow_and_stops_it(tmp_path: Path) -> None:
    run_dir = tmp_path / "demo"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kds_demo",
            "--stations",
            "expo",
            "--initial-orders",
            "30",
            "--rate",
            "600",
            "--run-dir",
            str(run_dir),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        # the display asked the agent for its snapshot and got one (however many of
        # the waiting orders the agent had taken in by then)
        _wait_file(run_dir / "display-expo.log", r"snapshot: \d+ tickets at seq")
        # and new orders (10 a second) reach a raw subscriber on the demo's broker
        mq = tomllib.loads((run_dir / "agent.toml").read_text())["mq"]
        host, port = mq["url"].removeprefix("stomp://").split(":")
        listener = _Tickets()
        conn = stomp.Connection12([(host, int(port))], heartbeats=(1000, 1000), vhost=mq["vhost"])
        conn.set_listener("test", listener)
        conn.connect(wait=True)
        try:
            conn.subscribe("/topic/kds.demo-01.state", id="1")
            with listener.cond:
                assert listener.cond.wait_for(lambda: len(listener.ids) >= 5, WAIT), (
                    f"{len(listener.ids)} tickets on the state topic within {WAIT}s"
                )
        finally:
            conn.disconnect()
        assert demo.poll() is None, "the demo exited while running"
    finally:
        if demo.poll() is None:
            demo.send_signal(signal.SIGTERM)
        try:
            out, _ = demo.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            out, _ = demo.communicate(timeout=10)
            for pid in _pids(out).values():  # what it started must not outlive the test
                with contextlib.suppress(psutil.NoSuchProcess):
                    psutil.Process(pid).kill()
            raise
    assert demo.returncode == 0, out
    pids = _pids(out)
    assert sorted(pids) == sorted(LOGS), out
    # every process it started has ended (kds-demo says "stopped" after a kill too)
    alive = [name for name, pid in pids.items() if _alive(pid)]
    assert not alive, f"still running after kds-demo stopped: {alive}"
    for name in LOGS:
        log = (run_dir / f"{name}.log").read_text(errors="replace")
        for bad in ("Traceback", " ERROR ", "CRITICAL", "config_version = 0"):
            assert bad not in log, f"{name}.log has {bad!r}:\n{log[-3000:]}"
    # nothing the demo started outlives it: its broker's port is closed
    with pytest.raises(OSError), socket.create_connection((host, int(port)), timeout=1):
        pass
