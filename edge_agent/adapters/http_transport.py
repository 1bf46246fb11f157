"""The transport of the agent's HTTP adapters (core API, PoS print API): an
:class:`httpx.BaseTransport` on the standard library's :mod:`http.client`, its
connections kept alive and every read made in TCP quick-ACK mode (Linux).

Why http.client under httpx: the adapters keep httpx's API (its requests, responses,
timeouts, content decoding and exception types, which they map at their boundary;
the core adapter hands its requests to this transport directly, without
:class:`httpx.Client`), but httpx's own transport (httpcore and h11, pure Python) was most of a
request's cost: one core request 1.67 ms with it, 1.27 ms on this one, a bare
http.client request 0.71 ms (docs/bench.md, "The transport on http.client"): one long
poll per order, one status POST per step of a ticket, on the one interpreter the
screens' publish also needs.

Why quick-ACK: a server that writes a response's headers and body in two writes
without ``TCP_NODELAY`` (Python's ``http.server`` does, and many small services behind
it) has Nagle's algorithm hold the body until the headers are acknowledged. On a
kept-alive connection Linux delays that ACK (up to 40 ms, hoping to ride on the next
request), so every answer waited ~40 ms: one order at a time to a screen through the
agent took p50 47 ms against such a core, 3.6 ms with quick-ACK reads (``python -m
bench.bench_spine --naive-core``; docs/bench.md). Setting ``TCP_QUICKACK`` before each
read makes the kernel ACK at once; it is not sticky (the kernel leaves quick-ACK mode
by itself), hence every read. http.client sets ``TCP_NODELAY`` on our side and sends
a request's headers and body in one write.

The library's errors become httpx's (:class:`httpx.ConnectError`,
:class:`httpx.ReadTimeout`, ...), so the adapters' mapping of httpx's exceptions holds
for this transport as for httpx's own.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import io
import select
import socket
import ssl
import threading
import time
from typing import Any

import httpx

#: socket.TCP_QUICKACK where the platform has it (Linux), else None
TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)

#: idle kept-alive connections per transport, and how long one is kept (httpx's own)
MAX_KEEPALIVE = 20
KEEPALIVE_SECONDS = 5.0

_Key = tuple[str, str, int]


class _QuickAckReader(io.RawIOBase):
    """A socket's reads, each after asking the kernel for an immediate ACK (through the
    socket's own raw reader: it holds the socket open until the answer is read, as
    http.client's ``makefile`` reader does when the connection closes first)."""

    def __init__(self, sock: socket.socket, transport: QuickAckTransport) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._transport = transport

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        if TCP_QUICKACK is not None:
            with contextlib.suppress(OSError):  # a closed or odd socket: read as usual
                self._sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
                self._transport.quickack_reads += 1
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()


class _QuickAckResponse(http.client.HTTPResponse):
    def __init__(
        self,
        sock: socket.socket,
        debuglevel: int = 0,
        method: str | None = None,
        url: str | None = None,
        *,
        transport: QuickAckTransport,
    ) -> None:
        super().__init__(sock, debuglevel, method, url)
        self.fp.close()  # http.client's own reader, for one reading in quick-ACK mode
        self.fp = io.BufferedReader(_QuickAckReader(sock, transport))


class QuickAckTransport(httpx.BaseTransport):
    """HTTP/1.1 over :mod:`http.client`, thread-safe (one connection per request in
    flight, up to :data:`MAX_KEEPALIVE` idle ones kept :data:`KEEPALIVE_SECONDS`)."""

    def __init__(self, *, verify: ssl.SSLContext | str | bool = True) -> None:
        # one SSL context (loading the CA store is the costly part)
        self._ssl = httpx.create_ssl_context(verify=verify)
        self._idle: dict[_Key, list[tuple[float, http.client.HTTPConnection]]] = {}
        self._lock = threading.Lock()
        self._closed = False
        #: reads made after asking for quick ACKs (tests check the transport uses it)
        self.quickack_reads = 0
        #: connections opened (tests check one kept-alive connection serves many)
        self.connections_opened = 0

    # --- httpx.BaseTransport ------------------------------------------------------------

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("http", "https"):
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {scheme!r}", request=request)
        port = url.port or (443 if scheme == "https" else 80)
        key: _Key = (scheme, url.host, port)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        body = request.read()
        conn = self._checkout(key, timeouts.get("connect"), request)
        try:
            self._send(conn, request, body, timeouts.get("write"))
            status, headers, content, version, reason = self._receive(
                conn, request, timeouts.get("read")
            )
        except BaseException:
            conn.close()
            raise
        self._checkin(key, conn)
        return httpx.Response(
            status,
            headers=headers,
            stream=httpx.ByteStream(content),
            extensions={"http_version": version, "reason_phrase": reason},
        )

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for _, conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()

    # --- plumbing -----------------------------------------------------------------------

    def _checkout(
        self, key: _Key, timeout: float | None, request: httpx.Request
    ) -> http.client.HTTPConnection:
        now = time.monotonic()
        stale: list[http.client.HTTPConnection] = []
        found: http.client.HTTPConnection | None = None
        with self._lock:
            conns = self._idle.get(key, [])
            while conns and found is None:
                since, conn = conns.pop()
                if now - since > KEEPALIVE_SECONDS or _closed_by_peer(conn):
                    stale.append(conn)
                else:
                    found = conn
        for conn in stale:
            conn.close()
        if found is not None:
            return found
        scheme, host, port = key
        conn = (
            http.client.HTTPSConnection(host, port, timeout=timeout, context=self._ssl)
            if scheme == "https"
            else http.client.HTTPConnection(host, port, timeout=timeout)
        )
        conn.response_class = functools.partial(  # type: ignore[assignment]
            _QuickAckResponse, transport=self
        )
        try:
            conn.connect()
        except TimeoutError as exc:
            conn.close()
            raise httpx.ConnectTimeout(
                f"connecting to {host}:{port}: {exc}", request=request
            ) from exc
        except OSError as exc:  # refused, unreachable, name unknown, TLS failed
            conn.close()
            raise httpx.ConnectError(
                f"connecting to {host}:{port}: {exc}", request=request
            ) from exc
        self.connections_opened += 1
        return conn

    def _checkin(self, key: _Key, conn: http.client.HTTPConnection) -> None:
        if conn.sock is None:  # the server said it closes, or http.client did
            return
        with self._lock:
            conns = self._idle.setdefault(key, [])
            if not self._closed and len(conns) < MAX_KEEPALIVE:
                conns.append((time.monotonic(), conn))
                return
        conn.close()

    @staticmethod
    def _send(
        conn: http.client.HTTPConnection,
        request: httpx.Request,
        body: bytes,
        timeout: float | None,
    ) -> None:
        assert conn.sock is not None
        conn.sock.settimeout(timeout)
        try:
            conn.putrequest(
                request.method,
                request.url.raw_path.decode("ascii"),
                skip_host=True,  # httpx's request carries its Host header
                skip_accept_encoding=True,
            )
            for name, value in request.headers.raw:
                conn.putheader(name, value)
            conn.endheaders(body or None)  # headers and a bytes body: one write
        except TimeoutError as exc:
            raise httpx.WriteTimeout(f"sending the request: {exc}", request=request) from exc
        except (ValueError, http.client.HTTPException) as exc:  # an illegal header or URL
            raise httpx.LocalProtocolError(f"the request: {exc}", request=request) from exc
        except OSError as exc:
            raise httpx.WriteError(f"sending the request: {exc}", request=request) from exc

    @staticmethod
    def _receive(
        conn: http.client.HTTPConnection, request: httpx.Request, timeout: float | None
    ) -> tuple[int, list[tuple[str, str]], bytes, bytes, bytes]:
        assert conn.sock is not None
        conn.sock.settimeout(timeout)
        try:
            response = conn.getresponse()
            content = response.read()
        except TimeoutError as exc:
            raise httpx.ReadTimeout(f"waiting for the answer: {exc}", request=request) from exc
        except http.client.HTTPException as exc:  # closed without an answer, a bad one
            raise httpx.RemoteProtocolError(
                f"the answer: {type(exc).__name__}: {exc}", request=request
            ) from exc
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer: {exc}", request=request) from exc
        version = b"HTTP/1.0" if response.version == 10 else b"HTTP/1.1"
        reason = response.reason.encode("ascii", "replace")
        return response.status, response.getheaders(), content, version, reason


def _closed_by_peer(conn: http.client.HTTPConnection) -> bool:
    """An idle connection with something to read has been closed by the server (or
    holds garbage): not reused."""
    sock = conn.sock
    if sock is None:
        return True
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


def quickack_transport(*, verify: ssl.SSLContext | str | bool = True) -> QuickAckTransport:
    """The adapters' transport (see the module's docstring)."""
    return QuickAckTransport(verify=verify)
