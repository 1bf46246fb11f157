"""edge_agent.sd_notify against real unix datagram sockets (a path and an abstract one)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import uuid
from pathlib import Path

import pytest

from edge_agent.sd_notify import Watchdog, notify, watchdog_interval


def test_notify_to_a_socket_path_and_an_abstract_socket() -> None:
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:  # short: sun_path is 108 bytes
        path = str(Path(tmp) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
            server.bind(path)
            assert notify("READY=1", {"NOTIFY_SOCKET": path})
            assert server.recv(100) == b"READY=1"
    name = f"kds-unit-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        assert notify("WATCHDOG=1", {"NOTIFY_SOCKET": "@" + name})
        assert server.recv(100) == b"WATCHDOG=1"


def test_no_socket_or_a_dead_one_sends_nothing_and_never_raises() -> None:
    assert not notify("READY=1", {})
    assert not notify("READY=1", {"NOTIFY_SOCKET": "/nonexistent/notify"})
    assert not notify("READY=1", {"NOTIFY_SOCKET": f"@kds-nobody-{uuid.uuid4().hex}"})


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),  # another process's
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
        ({}, None),
    ],
)
def test_watchdog_interval_is_half_of_watchdog_usec(
    env: dict[str, str], expected: float | None
) -> None:
    assert watchdog_interval(env) == expected


def test_the_watchdog_pings_only_while_healthy(monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"kds-unit-{uuid.uuid4().hex}"
    monkeypatch.setenv("NOTIFY_SOCKET", "@" + name)
    healthy = threading.Event()
    healthy.set()
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        server.settimeout(5)
        dog = Watchdog(healthy.is_set, lambda: "thread feed cannot be kept alive", 0.01)
        thread = threading.Thread(target=dog.run)
        thread.start()
        assert server.recv(100) == b"WATCHDOG=1"
        assert server.recv(100) == b"WATCHDOG=1"
        healthy.clear()
        thread.join(5)
        assert not thread.is_alive()
        rest = []
        server.settimeout(0.2)
        while True:
            try:
                rest.append(server.recv(100))
            except TimeoutError:
                break
        dog.close()
    status = [r for r in rest if r != b"WATCHDOG=1"]
    assert status == [b"STATUS=thread feed cannot be kept alive"]
    assert rest[-1] == status[0]  # nothing after it
