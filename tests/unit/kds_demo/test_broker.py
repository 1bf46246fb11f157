"""The demo broker's frame parser (kds_demo/broker.py), on coilmq's own frame buffer,
fed the way a socket feeds it: cut at every byte, one byte at a time, heart-beats
between frames."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator

import pytest
from coilmq.exception import ProtocolError
from coilmq.server import socket_server
from coilmq.util import frames

from kds_demo import broker

# two frames with a content-length (bodies holding a blank line, a colon and a NUL),
# one without, one with CRLF line ends and a raw colon in a header value, and
# heart-beats (LF, CRLF) before, between and after them
STREAM = (
    b"\n"
    b"SEND\ndestination:/topic/kds.demo-01.events\ncontent-type:application/json\n"
    b"content-length:15\nreceipt:r-1\n\n"
    b'{"a":"b\n\nc\x00d"}\n\x00'
    b"\r\n\n"
    b"SEND\ndestination:/queue/q\n\nno length here\x00"
    b"\n"
    b"SEND\r\ndestination:/topic/t\r\nx-sent-at:2026-12-07T22:53:22+00:00\r\n"
    b"content-length:2\r\n\r\nok\x00"
    b"\n\n"
)
EXPECTED = [
    (
        "SEND",
        {
            "destination": "/topic/kds.demo-01.events",
            "content-type": "application/json",
            "content-length": "15",
            "receipt": "r-1",
        },
        b'{"a":"b\n\nc\x00d"}\n',
    ),
    ("SEND", {"destination": "/queue/q"}, b"no length here"),
    (
        "SEND",
        {
            "destination": "/topic/t",
            "x-sent-at": "2026-12-07T22:53:22+00:00",
            "content-length": "2",
        },
        b"ok",
    ),
]


@pytest.fixture(autouse=True)
def mended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frames, "parse_headers", broker.parse_headers)
    monkeypatch.setattr(frames, "parse_body", broker.parse_body)


def _drain(buffer: frames.FrameBuffer) -> Iterator[tuple[str, dict[str, str], bytes]]:
    for frame in buffer:
        body = frame.body  # coilmq gives "" for an empty body
        yield frame.cmd, dict(frame.headers), body if isinstance(body, bytes) else body.encode()


def test_a_stream_cut_at_every_byte_gives_every_frame_once_in_order() -> None:
    for cut in range(len(STREAM) + 1):
        buffer = frames.FrameBuffer()
        buffer.append(STREAM[:cut])
        got = list(_drain(buffer))
        buffer.append(STREAM[cut:])
        got += list(_drain(buffer))
        assert got == EXPECTED, f"cut at byte {cut}"


def test_a_stream_fed_one_byte_at_a_time_gives_every_frame() -> None:
    buffer = frames.FrameBuffer()
    got = []
    for byte in STREAM:
        buffer.append(bytes([byte]))
        got += list(_drain(buffer))
    assert got == EXPECTED


def test_heart_beats_alone_are_no_frame_and_do_not_hold_back_the_next() -> None:
    buffer = frames.FrameBuffer()
    buffer.append(b"\n\r\n\n")
    assert list(_drain(buffer)) == []
    buffer.append(b"DISCONNECT\nreceipt:bye\n\n\x00")
    assert list(_drain(buffer)) == [("DISCONNECT", {"receipt": "bye"}, b"")]


def test_the_first_of_a_repeated_header_wins() -> None:
    buff = io.BytesIO(b"MESSAGE\nfoo:first\nfoo:second\n\n\x00")
    assert broker.parse_headers(buff) == ("MESSAGE", {"foo": "first"})
    assert buff.read() == b"\x00"


def test_a_header_line_without_a_colon_is_a_protocol_error_naming_it() -> None:
    with pytest.raises(ProtocolError, match="'no-colon-here' in a SEND frame"):
        broker.parse_headers(io.BytesIO(b"SEND\ndestination:/q/a\nno-colon-here\n\nx\x00"))


def test_a_body_past_its_content_length_is_a_protocol_error() -> None:
    buffer = frames.FrameBuffer()
    buffer.append(b"SEND\ndestination:/q/a\ncontent-length:2\n\nabc\x00")
    with pytest.raises(ProtocolError, match="past its content-length of 2 bytes"):
        buffer.extract_frame()


@pytest.mark.parametrize("length", ["two", "-1", "1_0", "+2", "99999999999999999999", ""])
def test_a_content_length_that_is_no_number_of_bytes_is_a_protocol_error(length: str) -> None:
    """-1 would read to the end of the buffer and wait there for ever; int() also takes
    "1_0" and "+2"; 20 digits overflowed the read."""
    buffer = frames.FrameBuffer()
    buffer.append(f"SEND\ndestination:/q/a\ncontent-length:{length}\n\nab\x00".encode())
    with pytest.raises(ProtocolError, match=re.escape(f"content-length {length!r} is not a")):
        buffer.extract_frame()


def test_a_content_length_may_have_spaces_around_it() -> None:
    buffer = frames.FrameBuffer()
    buffer.append(b"SEND\ndestination:/q/a\ncontent-length: 2 \n\nab\x00")
    frame = buffer.extract_frame()
    assert frame is not None and frame.body == b"ab"


class _Socket:
    def __init__(self, lock: threading.Lock) -> None:
        self.lock = lock
        self.held: list[bool] = []

    def sendall(self, data: bytes) -> None:
        self.held.append(self.lock.locked())


def test_a_connections_frames_and_heart_beats_are_written_under_its_lock() -> None:
    handler = object.__new__(socket_server.StompRequestHandler)
    handler.debug = False
    handler.kds_send_lock = threading.Lock()
    handler.request = sock = _Socket(handler.kds_send_lock)
    broker._send_frame(handler, frames.Frame("MESSAGE", {"destination": "/q/a"}, b"x"))
    broker._send_heartbeat(handler)
    assert sock.held == [True, True]


@pytest.mark.parametrize(
    ("cut", "error"),
    [
        (b"SEND\ndestination:/queue/q\ncontent-le", ValueError),
        (b"SEND\ndestination:/queue/q\ncontent-length:2\n\nok", frames.BodyNotTerminated),
    ],
    ids=["inside-a-header", "before-the-nul"],
)
def test_coilmqs_own_parser_still_fails_on_a_cut_frame(
    monkeypatch: pytest.MonkeyPatch, cut: bytes, error: type[Exception]
) -> None:
    """Why the mend exists: when these fail, coilmq reads cut frames itself and
    kds_demo.broker can go."""
    monkeypatch.undo()
    buffer = frames.FrameBuffer()
    buffer.append(cut)
    with pytest.raises(error):
        buffer.extract_frame()


def test_install_puts_the_mended_parser_in_coilmq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    # restored after the test
    monkeypatch.setattr(frames, "parse_headers", frames.parse_headers)
    monkeypatch.setattr(frames, "parse_body", frames.parse_body)
    server, handler = socket_server.ThreadedStompServer, socket_server.StompRequestHandler
    monkeypatch.setattr(server, "handle_error", server.handle_error)
    for name in ("setup", "send_frame", "send_heartbeat"):
        monkeypatch.setattr(handler, name, getattr(handler, name))
    broker.install()
    assert frames.parse_headers is broker.parse_headers
    assert frames.parse_body is broker.parse_body
    assert server.handle_error is broker.handle_error
    assert handler.setup is broker._setup
    assert handler.send_frame is broker._send_frame
    assert handler.send_heartbeat is broker._send_heartbeat
