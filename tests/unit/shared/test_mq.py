"""The STOMP client against misbehaving peers on loopback (no broker needed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from shared.errors import ConfigError, MqNotConnected
from shared.mq import MqClient, MqUrl
from tests.helpers.site import wait_until


class SilentServer:
    """Accepts TCP connections and never answers: a broker that is still starting."""

    def __init__(self) -> None:
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(50)
        self.port = self._sock.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        self._sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            conn.setblocking(False)
            self.accepted.append(conn)

    def open_connections(self) -> int:
        """Connections the client has not closed (a closed peer reads as EOF)."""
        alive = 0
        for conn in self.accepted:
            try:
                while conn.recv(65536):  # skip what was sent (CONNECT) up to EOF
                    pass
            except BlockingIOError:
                alive += 1  # nothing more to read, and not closed
            except OSError:
                pass
        return alive

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for conn in self.accepted:
            conn.close()
        self._sock.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def test_connect_timeouts_do_not_leak_sockets(silent: SilentServer) -> None:
    client = MqClient(
        f"stomp://127.0.0.1:{silent.port}",
        connect_timeout=0.3,
        backoff_initial=0.05,
        backoff_max=0.1,
        heartbeat_ms=0,
    ).start()
    try:
        wait_until(lambda: len(silent.accepted) >= 4, timeout=20)
        assert not client.connected
        assert "CONNECTED" in (client.last_error or "")
        # every earlier attempt was closed; at most the one in progress is open
        wait_until(lambda: silent.open_connections() <= 1, timeout=5)
        with pytest.raises(MqNotConnected):
            client.send("/queue/x", b"{}")
    finally:
        client.close()


@pytest.mark.parametrize(
    ("url", "host", "port", "tls"),
    [
        ("stomp://127.0.0.1:61613", "127.0.0.1", 61613, False),
        (
            "stomp+ssl://b-1.mq.eu-west-1.amazonaws.com:61614",
            "b-1.mq.eu-west-1.amazonaws.com",
            61614,
            True,
        ),
        ("stomp+ssl://broker", "broker", 61614, True),
    ],
)
def test_urls(url: str, host: str, port: int, tls: bool) -> None:
    assert MqUrl.parse(url) == MqUrl(host, port, tls)


@pytest.mark.parametrize("url", ["http://x:1", "stomp://", "stomp://x:notaport", "x"])
def test_bad_urls_name_the_key(url: str) -> None:
    with pytest.raises(ConfigError) as info:
        MqUrl.parse(url)
    assert info.value.key == "mq.url"
