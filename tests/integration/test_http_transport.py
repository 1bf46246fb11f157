"""The agent's HTTP transport (http.client under httpx) against real servers on
127.0.0.1: a server that writes headers and body in two writes without TCP_NODELAY
(Python's http.server, as a core written from the contract alone may be), one over TLS
with a test CA, and servers that misbehave. Every read asks for an immediate ACK,
kept-alive connections are reused (and not once the server closed them), the answers
are whole, and each failure is the httpx exception the adapters map.

The time it saves (~40 ms per answer on a kept-alive connection, and the Python of
httpx's own transport) is measured in bench/ (``bench_spine --naive-core``,
``bench_ingest``), not asserted here.
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from edge_agent.adapters import http_transport
from edge_agent.adapters.core_http import CoreClient
from edge_agent.adapters.http_transport import QuickAckTransport, quickack_transport
from edge_agent.adapters.printer_http import PosPrintApi
from edge_agent.errors import CoreUnavailable
from tests.helpers.tls import CertAuthority


class _TwoWrites(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive, as the agent's client keeps it

    def do_GET(self) -> None:
        if self.path.startswith("/gzip"):
            body = gzip.compress(json.dumps({"path": self.path}).encode())
            extra = {"Content-Encoding": "gzip"}
        else:
            body = json.dumps({"path": self.path, "pad": "x" * 200}).encode()
            extra = {}
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()  # one write (headers) ...
        self.wfile.write(body)  # ... and another (body): Nagle holds it until an ACK
        if self.path.startswith("/then-close"):
            self.close_connection = True  # without saying so: the client finds out

    def do_POST(self) -> None:
        got = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.dumps(
            {"body": got.decode(), "key": self.headers.get("Idempotency-Key")}
        ).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def _serve(server: ThreadingHTTPServer) -> Iterator[ThreadingHTTPServer]:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def naive_server() -> Iterator[str]:
    for server in _serve(ThreadingHTTPServer(("127.0.0.1", 0), _TwoWrites)):
        yield f"http://127.0.0.1:{server.server_address[1]}"


@pytest.fixture
def transport() -> Iterator[QuickAckTransport]:
    with quickack_transport() as t:
        yield t


@pytest.mark.skipif(http_transport.TCP_QUICKACK is None, reason="no TCP_QUICKACK here")
def test_every_read_asks_for_an_immediate_ack_on_one_kept_alive_connection(
    naive_server: str, transport: QuickAckTransport
) -> None:
    with httpx.Client(base_url=naive_server, transport=transport) as c:
        for i in range(20):
            response = c.get(f"/n/{i}")
            assert response.status_code == 200
            assert response.json()["path"] == f"/n/{i}"
        [[(_, connection)]] = transport._idle.values()
        assert connection.sock is not None
        assert connection.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert transport.connections_opened == 1
    assert transport.quickack_reads >= 20


def test_without_tcp_quickack_it_reads_as_usual(
    monkeypatch: pytest.MonkeyPatch, naive_server: str, transport: QuickAckTransport
) -> None:
    monkeypatch.setattr(http_transport, "TCP_QUICKACK", None)
    with httpx.Client(base_url=naive_server, transport=transport) as c:
        assert c.get("/plain").json()["path"] == "/plain"
    assert transport.quickack_reads == 0


def test_a_post_arrives_whole_and_a_gzipped_answer_is_decoded(
    naive_server: str, transport: QuickAckTransport
) -> None:
    with httpx.Client(base_url=naive_server, transport=transport) as c:
        posted = c.post("/e", json={"status": "accepted"}, headers={"Idempotency-Key": "k1"})
        assert posted.status_code == 201
        assert posted.json() == {"body": '{"status":"accepted"}', "key": "k1"}
        assert c.get("/gzip/a?x=1").json() == {"path": "/gzip/a?x=1"}


def test_a_connection_the_server_closed_while_idle_is_not_reused(
    naive_server: str, transport: QuickAckTransport
) -> None:
    with httpx.Client(base_url=naive_server, transport=transport) as c:
        assert c.get("/then-close").status_code == 200
        [[(_, idle)]] = transport._idle.values()
        # until the server has hung up (the idle connection reads EOF) ...
        deadline = time.monotonic() + 5
        while not http_transport._closed_by_peer(idle):
            assert time.monotonic() < deadline, "the server never closed the connection"
            time.sleep(0.005)
        # ... then the next request opens a new connection, without an error
        assert c.get("/after").json()["path"] == "/after"
    assert transport.connections_opened == 2


def test_the_core_and_printer_clients_use_it_by_default() -> None:
    with CoreClient("http://127.0.0.1:9", "ams-01", "token-not-secret") as core:
        assert isinstance(core.transport, QuickAckTransport)
    with PosPrintApi("grill", "http://127.0.0.1:9/print", api_key=None) as printer:
        assert isinstance(printer._http._transport, QuickAckTransport)


# --- failures: httpx's exceptions, as the adapters map them ----------------------------


def _listener(on_accept: str) -> Iterator[str]:
    """A TCP server that accepts and then either says nothing (``silent``) or hangs
    up at once (``hangup``)."""
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.05)  # accept() wakes to see ``stop``
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            if on_accept == "hangup":
                conn.recv(65536)
                conn.close()
            else:
                accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        stop.set()
        sock.close()
        for conn in accepted:
            conn.close()
        thread.join(5)


def _refused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again: nothing listens there


def test_a_refused_connection_is_a_connect_error(transport: QuickAckTransport) -> None:
    with (
        httpx.Client(transport=transport) as c,
        pytest.raises(httpx.ConnectError, match=r"connecting to 127\.0\.0\.1"),
    ):
        c.get(f"http://127.0.0.1:{_refused_port()}/x")


def test_a_server_that_never_answers_is_a_read_timeout(transport: QuickAckTransport) -> None:
    for url in _listener("silent"):
        with httpx.Client(transport=transport, timeout=0.3) as c, pytest.raises(httpx.ReadTimeout):
            c.get(f"{url}/x")


def test_a_server_that_hangs_up_without_an_answer_is_a_protocol_error(
    transport: QuickAckTransport,
) -> None:
    for url in _listener("hangup"):
        with httpx.Client(transport=transport) as c, pytest.raises(httpx.RemoteProtocolError):
            c.get(f"{url}/x")


def test_the_core_client_maps_them_to_core_unavailable() -> None:
    with (
        CoreClient(f"http://127.0.0.1:{_refused_port()}", "ams-01", "t") as core,
        pytest.raises(CoreUnavailable, match="ConnectError"),
    ):
        core.fetch_orders(None)
    for url in _listener("silent"):
        with (
            CoreClient(url, "ams-01", "t", timeout=0.3) as core,
            pytest.raises(CoreUnavailable, match="timed out"),
        ):
            core.fetch_orders(None)


def test_a_scheme_it_does_not_speak_is_refused(transport: QuickAckTransport) -> None:
    request = httpx.Request("GET", "ftp://127.0.0.1/x")
    with pytest.raises(httpx.UnsupportedProtocol):
        transport.handle_request(request)


# --- TLS ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    ca = CertAuthority.create(tmp_path_factory.mktemp("http-ca"), "kds-test-http-ca")
    cert = ca.issue("core", ["127.0.0.1"])
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TwoWrites)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert.cert), str(cert.key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    for served in _serve(server):
        yield f"https://127.0.0.1:{served.server_address[1]}", ca.cert


def test_tls_with_the_ca_verifies_and_keeps_the_connection(
    tls_server: tuple[str, Path],
) -> None:
    url, ca_file = tls_server
    context = ssl.create_default_context(cafile=str(ca_file))
    with quickack_transport(verify=context) as t, httpx.Client(base_url=url, transport=t) as c:
        for i in range(3):
            assert c.get(f"/tls/{i}").json()["path"] == f"/tls/{i}"
        assert c.post("/e", json={"a": 1}).json()["body"] == '{"a":1}'
        assert t.connections_opened == 1


def test_tls_with_a_certificate_no_trusted_ca_signed_is_a_connect_error(
    tls_server: tuple[str, Path],
) -> None:
    url, _ = tls_server
    with (
        quickack_transport() as t,
        httpx.Client(base_url=url, transport=t) as c,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        c.get("/tls")
