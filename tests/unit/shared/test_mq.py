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


# --- one client from the [mq] settings, for both programs and the doctor ---------------------


def test_client_from_settings_takes_every_mq_setting() -> None:
    from shared.config import Secret
    from shared.mq import mq_client_from_settings
    from shared.settings import MqSettings

    settings = MqSettings(
        url="stomp+ssl://b-1.mq.example.com:61614",
        user="kds-ams-01",
        password=Secret("pw", "the keyring"),
        heartbeat_ms=4000,
        vhost="b-1",
        reconnect_max_seconds=3.0,
    )
    client = mq_client_from_settings(settings, name="display-grill-1")
    assert client._url == MqUrl("b-1.mq.example.com", 61614, True)
    assert (client._user, client._password, client._vhost) == ("kds-ams-01", "pw", "b-1")
    assert (client._heartbeat_ms, client._backoff_max, client._client_id) == (4000, 3.0, None)
    assert client._name == "display-grill-1"
    probe = mq_client_from_settings(
        MqSettings(), name="doctor", client_id="x", heartbeat_ms=0, connect_timeout=2.0
    )
    assert (probe._user, probe._password, probe._vhost) == (None, None, None)
    assert (probe._heartbeat_ms, probe._connect_timeout, probe._client_id) == (0, 2.0, "x")


# --- the broker password never reaches stomp.py's log ----------------------------------------


def _stomp_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n").replace(":", "\\c")


@pytest.mark.parametrize(
    "password",
    ["mq-pw-5d0c", "it's got:colons", 'a "quoted" one', "sp ace", "back\\slash\\", "nl\nin", "ünï"],
)
@pytest.mark.parametrize("as_bytes", [True, False])
def test_stomp_frame_log_hides_the_passcode(
    password: str, as_bytes: bool, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    import stomp.utils

    import shared.mq  # noqa: F401  (installs the filter)

    header = f"passcode:{_stomp_escape(password)}\n"
    lines: list[str] | list[bytes] = ["STOMP\n", "accept-version:1.2\n", header, "host:h\n"]
    if as_bytes:
        lines = [line.encode() for line in lines]  # type: ignore[union-attr]
    with caplog.at_level(logging.DEBUG, logger="stomp.py"):
        # exactly what stomp.py 9 logs for each frame it sends
        logging.getLogger("stomp.py").debug("sending frame: %s", stomp.utils.clean_lines(lines))
    [record] = caplog.records
    text = record.getMessage()
    assert "passcode:********" in text and "host:h" in text and "accept-version" in text
    escaped = _stomp_escape(password)
    for form in {password, escaped, repr(escaped)[1:-1], repr(escaped.encode())[2:-1]}:
        assert form not in text


def test_stomp_lines_without_a_passcode_are_left_alone(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.DEBUG, logger="stomp.py"):
        logging.getLogger("stomp.py").debug("received frame: %r", {"receipt-id": "r1"})
    assert caplog.records[0].getMessage() == "received frame: {'receipt-id': 'r1'}"
