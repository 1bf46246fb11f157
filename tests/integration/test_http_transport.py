"""The agent's HTTP transport against a server that writes headers and body in two
writes without TCP_NODELAY (Python's http.server, as a core written from the contract
alone may be): every read asks for an immediate ACK, and the answers are whole.

The time it saves (~40 ms per answer on a kept-alive connection) is measured in
bench/bench_spine.py (``--naive-core``), not asserted here.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from edge_agent.adapters import http_transport
from edge_agent.adapters.core_http import CoreClient
from edge_agent.adapters.http_transport import QuickAckBackend, quickack_transport


class _TwoWrites(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # kept alive, as the agent's client keeps it

    def do_GET(self) -> None:
        body = json.dumps({"path": self.path, "pad": "x" * 200}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()  # one write (headers) ...
        self.wfile.write(body)  # ... and another (body): Nagle holds it until an ACK

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def naive_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _TwoWrites)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.mark.skipif(http_transport.TCP_QUICKACK is None, reason="no TCP_QUICKACK here")
def test_every_read_asks_for_an_immediate_ack(naive_server: str) -> None:
    backend = QuickAckBackend()
    with httpx.Client(base_url=naive_server, transport=quickack_transport(backend=backend)) as c:
        for i in range(20):
            response = c.get(f"/n/{i}")
            assert response.status_code == 200
            assert response.json()["path"] == f"/n/{i}"
        # one kept-alive connection served all twenty, with TCP_NODELAY on our side too
        [connection] = c._transport._pool.connections  # type: ignore[attr-defined]
        sock = connection._connection._network_stream.get_extra_info("socket")
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    assert backend.quickack_reads >= 20


def test_without_tcp_quickack_it_is_httpxs_plain_transport(
    monkeypatch: pytest.MonkeyPatch, naive_server: str
) -> None:
    monkeypatch.setattr(http_transport, "TCP_QUICKACK", None)
    transport = quickack_transport()
    assert not isinstance(getattr(transport._pool, "_network_backend", None), QuickAckBackend)
    with httpx.Client(base_url=naive_server, transport=transport) as c:
        assert c.get("/plain").json()["path"] == "/plain"


@pytest.mark.skipif(http_transport.TCP_QUICKACK is None, reason="no TCP_QUICKACK here")
def test_the_core_client_uses_it_by_default() -> None:
    with CoreClient("http://127.0.0.1:9", "ams-01", "token-not-secret") as core:
        transport = core._http._transport
        assert isinstance(transport, httpx.HTTPTransport)
        assert isinstance(getattr(transport._pool, "_network_backend", None), QuickAckBackend)
