"""The demo's embedded broker (``python -m kds_demo.broker``: coilmq with its frame
parser mended), as a real process on a real socket: a burst of frames that coilmq's
4,096-byte reads cut anywhere, and a stomp.py client with heart-beats on."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import stomp
from stomp.utils import Frame

from tests.helpers.net import free_port, port_in_use
from tests.helpers.site import wait_until

WAIT = 15.0  # seconds; generous for a loaded CI machine
BURST = 400


@pytest.fixture
def demo_broker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    port = free_port()
    log = tmp_path / "broker.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "kds_demo.broker", "-b", "127.0.0.1", "-p", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )

    def listening() -> bool:
        assert proc.poll() is None, log.read_text()
        return port_in_use(port)

    try:
        wait_until(listening, timeout=WAIT)
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


class _Reader:
    """Frames (without their NUL) read off a raw socket; bytes past the last whole
    frame are kept for the next read."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.data = b""
        sock.settimeout(WAIT)

    def until(self, start: bytes) -> list[bytes]:
        """Frames up to and with the first one that begins with ``start``."""
        got: list[bytes] = []
        while True:
            while b"\x00" in self.data:
                frame, _, self.data = self.data.partition(b"\x00")
                got.append(frame.lstrip(b"\r\n"))
                if got[-1].startswith(start):
                    return got
            chunk = self.sock.recv(65536)
            assert chunk, f"the broker closed the connection after {len(got)} frames"
            self.data += chunk


def test_a_burst_cut_anywhere_reaches_the_subscriber_whole(
    demo_broker: tuple[int, Path],
) -> None:
    port, log = demo_broker
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        reader = _Reader(sock)
        host = socket.getfqdn().encode()  # coilmq takes only its own host name
        sock.sendall(b"CONNECT\naccept-version:1.2\nhost:" + host + b"\n\n\x00")
        reader.until(b"CONNECTED")
        sock.sendall(b"SUBSCRIBE\nid:s1\ndestination:/topic/kds.burst\nreceipt:sub\n\n\x00")
        reader.until(b"RECEIPT")

        # one write of 400 frames of growing size with heart-beats between them: the
        # broker's reads end inside headers, bodies and NULs
        burst = bytearray()
        for n in range(BURST):
            body = (f'{{"n":{n},"pad":"' + "x" * (n * 7 % 611) + '"}').encode()
            burst += (
                (
                    f"SEND\ndestination:/topic/kds.burst\ncontent-type:application/json\n"
                    f"x-n:{n}\ncontent-length:{len(body)}\n\n"
                ).encode()
                + body
                + b"\x00"
                + b"\n" * (n % 3)
            )
        burst += b"SEND\ndestination:/topic/kds.burst\nreceipt:last\n\nend\x00"
        assert len(burst) > 30 * 4096  # 39 reads or more
        sock.sendall(bytes(burst))

        got = reader.until(b"RECEIPT")
    messages = [f for f in got if f.startswith(b"MESSAGE")]
    bodies = [f.partition(b"\n\n")[2] for f in messages]
    assert len(bodies) == BURST + 1
    for n, body in enumerate(bodies[:BURST]):
        assert body.startswith(f'{{"n":{n},'.encode()), f"message {n}: {body[:40]!r}"
    assert bodies[-1] == b"end"
    assert b"Traceback" not in log.read_bytes()


class _Listener(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.heartbeats = 0
        self.cond = threading.Condition()

    def on_message(self, frame: Frame) -> None:
        with self.cond:
            self.messages.append(frame.body)
            self.cond.notify_all()

    def on_heartbeat(self) -> None:
        with self.cond:
            self.heartbeats += 1
            self.cond.notify_all()

    def wait_heartbeats(self, count: int) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: self.heartbeats >= count, WAIT)
            assert ok, f"{self.heartbeats} of {count} heart-beats within {WAIT}s"

    def wait_messages(self, count: int) -> None:
        with self.cond:
            ok = self.cond.wait_for(lambda: len(self.messages) >= count, WAIT)
            assert ok, f"{len(self.messages)} of {count} messages within {WAIT}s"


def test_heart_beats_both_ways_do_not_stall_the_connection(
    demo_broker: tuple[int, Path],
) -> None:
    """coilmq's own parser stops at the first heart-beat it reads: nothing after it is
    ever delivered (seen: 12 sends, 1 message)."""
    port, log = demo_broker
    listener = _Listener()
    conn = stomp.Connection12([("127.0.0.1", port)], heartbeats=(500, 500), vhost=socket.getfqdn())
    conn.set_listener("test", listener)
    conn.connect(wait=True)
    try:
        conn.subscribe("/topic/kds.hb", id="1")
        for n in range(3):
            # idle for two beats (the client sends its own all the while), then send;
            # 500 ms, so a loaded machine's stall does not pass for a dead peer
            listener.wait_heartbeats(listener.heartbeats + 2)
            conn.send("/topic/kds.hb", f"after beats {n}")
            listener.wait_messages(n + 1)
        assert listener.messages == [f"after beats {n}" for n in range(3)]
        assert conn.is_connected()
    finally:
        conn.disconnect()
    assert b"Traceback" not in log.read_bytes()


def test_a_client_that_resets_its_connection_is_one_line_and_the_broker_goes_on(
    demo_broker: tuple[int, Path],
) -> None:
    port, log = demo_broker
    host = socket.getfqdn().encode()
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as gone:
        reader = _Reader(gone)
        gone.sendall(b"CONNECT\naccept-version:1.2\nhost:" + host + b"\n\n\x00")
        reader.until(b"CONNECTED")
        gone.sendall(b"SUBSCRIBE\nid:s1\ndestination:/topic/kds.reset\nreceipt:sub\n\n\x00")
        reader.until(b"RECEIPT")
        # a screen killed mid-stream: close with a reset (SO_LINGER 0), no DISCONNECT
        gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    wait_until(lambda: b"went away without a DISCONNECT" in log.read_bytes(), timeout=WAIT)
    # the broker goes on: a new client subscribes and gets what is sent
    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock:
        reader = _Reader(sock)
        sock.sendall(b"CONNECT\naccept-version:1.2\nhost:" + host + b"\n\n\x00")
        reader.until(b"CONNECTED")
        sock.sendall(
            b"SUBSCRIBE\nid:s2\ndestination:/topic/kds.reset\nreceipt:sub\n\n\x00"
            b"SEND\ndestination:/topic/kds.reset\n\nstill here\x00"
        )
        got = reader.until(b"MESSAGE")
    assert any(f.startswith(b"MESSAGE") and f.endswith(b"still here") for f in got)
    assert b"Traceback" not in log.read_bytes()
