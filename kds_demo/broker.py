"""The demo's embedded STOMP broker: coilmq 1.1, with its frame parser mended.

``python -m kds_demo.broker -b 127.0.0.1 -p PORT`` takes coilmq's own options. The
demo (and ``scripts/screenshots.py``) start it instead of coilmq's ``coilmq`` command
because coilmq 1.1 reads frames with ``coilmq.util.frames.parse_headers``, which runs on
whatever ``recv(4096)`` has gathered so far and is wrong four ways
(each reproduced in tests/unit/kds_demo/test_broker.py):

1. **a frame cut inside a header line.** A burst (the demo's 200 waiting orders) fills
   the socket faster than coilmq reads it; when a 4,096-byte read ends in the middle of
   a header, the unfinished line has no ``:`` and ``dict()`` of it raises
   ``ValueError``: the handler thread dies and the client's connection drops (the agent
   reconnected and re-sent its outbox, so nothing was lost, but the screens flagged the
   outage);
2. **a header value holding a ``:``** (a raw one, from a STOMP 1.0 client that does not
   escape it as ``\\c``) splits into three parts: the same ``ValueError``;
3. **a heart-beat** (a bare end-of-line between frames) reads as an empty frame, so the
   buffer is never advanced past it and every later frame on that connection waits
   behind it forever: the connection stalls (it stops answering RECEIPTs); the demo
   ran with heart-beats off because of it, so a dead broker went unnoticed;
4. **a frame cut before its closing NUL** (``parse_body``) raises ``BodyNotTerminated``,
   which coilmq's buffer does not take as "read more": the connection drops again.

And a client that goes away without a DISCONNECT (a screen killed, a reset) printed a
traceback to the broker's log, as if the broker had failed: :func:`handle_error` says
it in one line, and keeps the traceback for anything else. Heart-beats (a timer
thread) and frames (the publishers' threads) are written under one lock per connection.

:func:`parse_headers` and :func:`parse_body` replace them: they skip heart-beat
end-of-lines, wait for the blank line that ends the headers and for the body's NUL
(``IncompleteFrame``, which coilmq's buffer takes as "read more"), split each header at
its first ``:``, keep the first of a repeated header (STOMP 1.2), and name a malformed
header line or ``content-length`` in a ``ProtocolError``. Header values stay escaped,
as coilmq relays them: the clients unescape what they receive.

Nothing here is used in production: a site's broker is Amazon MQ (ActiveMQ).
"""

from __future__ import annotations

import contextlib
import io
import logging
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence

from coilmq import start
from coilmq.exception import ProtocolError
from coilmq.server import socket_server
from coilmq.util import frames

log = logging.getLogger("kds_demo.broker")

#: the longest content-length taken (10 digits: up to ~10 GB, far past any frame)
MAX_LENGTH_DIGITS = 10
# the blank line that ends a frame's headers (STOMP 1.2 allows CRLF line ends)
_END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")


def parse_headers(buff: io.BytesIO) -> tuple[str, OrderedDict[str, str]]:
    """Read one frame's command and headers from ``buff`` at its position.

    Leaves ``buff`` at the first byte of the body. Raises coilmq's ``EmptyBuffer``
    when only heart-beats are buffered and ``IncompleteFrame`` when the headers have
    not all arrived; both leave coilmq's buffer where it was, to be read again once
    more bytes come in.
    """
    start_at = buff.tell()
    data = buff.read()
    frame = data.lstrip(b"\r\n")  # heart-beats between frames
    if not frame:
        raise frames.EmptyBuffer()
    end = _END_OF_HEADERS.search(frame)
    if end is None:
        raise frames.IncompleteFrame()
    lines = frame[: end.start()].decode("utf-8", errors="replace").split("\n")
    command = lines[0].rstrip("\r")
    headers: OrderedDict[str, str] = OrderedDict()
    for line in lines[1:]:
        name, colon, value = line.rstrip("\r").partition(":")
        if not colon:
            log.warning("malformed STOMP header line %r in a %s frame", line, command)
            raise ProtocolError(f"malformed header line {line!r} in a {command} frame")
        headers.setdefault(name, value)
    buff.seek(start_at + (len(data) - len(frame)) + end.end())
    return command, headers


def parse_body(buff: io.BytesIO, headers: dict[str, str]) -> bytes:
    """Read the body that ``headers`` announce and the NUL after it; leaves ``buff`` at
    the next frame. Raises ``IncompleteFrame`` until the NUL has arrived."""
    start_at = buff.tell()
    length = headers.get("content-length")
    if length is None:
        rest = buff.read()
        body, nul, _ = rest.partition(b"\x00")
        if not nul:
            raise frames.IncompleteFrame()
        buff.seek(start_at + len(body) + 1)
        return body
    digits = length.strip()
    # not int()'s own reading: it takes "-1" (a read to the end: the frame would wait
    # for ever), "1_0" and any number of digits
    if not (digits.isascii() and digits.isdigit() and len(digits) <= MAX_LENGTH_DIGITS):
        raise ProtocolError(f"content-length {length!r} is not a number of bytes")
    size = int(digits)
    body = buff.read(size)
    terminator = buff.read(1)
    if len(body) < size or not terminator:
        raise frames.IncompleteFrame()
    if terminator != b"\x00":
        raise ProtocolError(f"the body runs on past its content-length of {size} bytes")
    return body


def handle_error(server: object, request: object, client_address: tuple[str, int]) -> None:
    """``ThreadedStompServer.handle_error``: called in the ``except`` around a
    connection's handler (coilmq has unbound its subscriptions by then)."""
    exc = sys.exc_info()[1]
    host, port = client_address[:2]
    if isinstance(exc, ConnectionError):  # reset, broken pipe, aborted
        log.info("client %s:%s went away without a DISCONNECT (%s)", host, port, exc)
        return
    if isinstance(exc, ProtocolError):  # a malformed frame (parse_headers says which)
        log.warning("client %s:%s dropped: %s", host, port, exc)
        return
    log.error("connection from %s:%s failed", host, port, exc_info=True)


def _setup(handler: socket_server.StompRequestHandler) -> None:
    """``StompRequestHandler.setup``, and a lock for the connection's writes."""
    _coilmq_setup(handler)
    handler.kds_send_lock = threading.Lock()


def _send_frame(handler: socket_server.StompRequestHandler, frame: frames.Frame) -> None:
    with handler.kds_send_lock:
        _coilmq_send_frame(handler, frame)


def _send_heartbeat(handler: socket_server.StompRequestHandler) -> None:
    with handler.kds_send_lock:
        _coilmq_send_heartbeat(handler)


# coilmq writes a connection's frames from the threads of the publishers and its
# heart-beats from a timer thread, each with its own sendall: two at once on one
# socket could interleave a heart-beat into a frame. One lock per connection orders them.
_coilmq_setup = socket_server.StompRequestHandler.setup
_coilmq_send_frame = socket_server.StompRequestHandler.send_frame
_coilmq_send_heartbeat = socket_server.StompRequestHandler.send_heartbeat


def install() -> None:
    """Make coilmq read frames with :func:`parse_headers` and :func:`parse_body`
    (``Frame.from_buffer`` looks both up in their module on every frame, so rebinding
    them there is enough), report a connection's end with :func:`handle_error`, and
    write each connection's frames and heart-beats one at a time."""
    frames.parse_headers = parse_headers
    frames.parse_body = parse_body
    socket_server.ThreadedStompServer.handle_error = handle_error
    handler = socket_server.StompRequestHandler
    handler.setup, handler.send_frame, handler.send_heartbeat = (
        _setup,
        _send_frame,
        _send_heartbeat,
    )


def main(argv: Sequence[str] | None = None) -> int:
    install()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C on a demo's terminal
        start.main.main(
            args=list(sys.argv[1:] if argv is None else argv),
            prog_name="kds_demo.broker",
            standalone_mode=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
