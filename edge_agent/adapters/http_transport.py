"""The HTTP transport of the agent's HTTP adapters (core API, PoS print API): httpx's
own, with every read made in TCP quick-ACK mode (Linux).

Why: a server that writes a response's headers and body in two writes without
``TCP_NODELAY`` (Python's ``http.server`` does, and many small services behind it) has
Nagle's algorithm hold the body until the headers are acknowledged. On a kept-alive
connection Linux delays that ACK (up to 40 ms, hoping to ride on the next request), so
every answer waited ~40 ms: one order at a time to a screen through the agent took
p50 47 ms against such a core, 3.6 ms with quick-ACK reads (``python -m
bench.bench_spine --naive-core``; docs/bench.md). Setting ``TCP_QUICKACK`` before each
read makes the kernel ACK at once; it is not sticky (the kernel leaves quick-ACK mode
by itself), hence every read.
httpcore already sets ``TCP_NODELAY`` on our side, so our own two-write requests (a
POST's headers and body) are not held.

:func:`quickack_transport` builds it: an :class:`httpx.HTTPTransport` whose connection
pool uses :class:`QuickAckBackend`. Elsewhere (no ``TCP_QUICKACK``: macOS, Windows)
it is httpx's plain transport.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import typing

import httpcore
import httpx

#: socket.TCP_QUICKACK where the platform has it (Linux), else None
TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)


class _QuickAckStream(httpcore.NetworkStream):
    """A network stream that asks for an immediate ACK before every read."""

    def __init__(self, inner: httpcore.NetworkStream, backend: QuickAckBackend) -> None:
        self._inner = inner
        self._backend = backend
        self._sock: socket.socket | None = inner.get_extra_info("socket")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._sock is not None and TCP_QUICKACK is not None:
            with contextlib.suppress(OSError):  # a closed or odd socket: read as usual
                self._sock.setsockopt(socket.IPPROTO_TCP, TCP_QUICKACK, 1)
                self._backend.quickack_reads += 1
        return self._inner.read(max_bytes, timeout)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, timeout)

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _QuickAckStream(
            self._inner.start_tls(ssl_context, server_hostname, timeout), self._backend
        )

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class QuickAckBackend(httpcore.NetworkBackend):
    """httpcore's synchronous backend, its TCP streams reading in quick-ACK mode."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()
        #: reads made after asking for quick ACKs (tests check the transport uses it)
        self.quickack_reads = 0

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _QuickAckStream(stream, self)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        return self._inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def quickack_transport(
    *, verify: ssl.SSLContext | str | bool = True, backend: QuickAckBackend | None = None
) -> httpx.HTTPTransport:
    """httpx's transport (its defaults: HTTP/1.1, 100 connections, 20 kept alive for 5 s)
    reading in quick-ACK mode where the platform has ``TCP_QUICKACK`` (through
    ``backend``, a new one by default)."""
    # one SSL context (loading the CA store is the costly part), for both pools below
    context = httpx.create_ssl_context(verify=verify)
    transport = httpx.HTTPTransport(verify=context)
    if TCP_QUICKACK is None:
        return transport
    limits = httpx.Limits()
    # httpx builds its pool without a way to pass a network backend: the same pool,
    # built here with one (httpx.HTTPTransport.__init__ does exactly this otherwise);
    # the one it built has never connected, and is closed
    transport._pool.close()
    transport._pool = httpcore.ConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        http1=True,
        http2=False,
        network_backend=backend or QuickAckBackend(),
    )
    return transport
