"""A fake ESC/POS network printer: a real TCP server that keeps and decodes every job.

``SocketPrinter`` listens on 127.0.0.1 (a free port). Each connection is one job; its
bytes are parsed as ESC/POS as they arrive, so real-time status queries
(``DLE EOT 1..4``) are answered at once, according to :attr:`SocketPrinter.state`
(``online``, ``paper_low``, ``paper_out``, ``cover_open``), unless
:attr:`SocketPrinter.answers_status` is False (a printer whose interface never
answers). ``go_offline("refuse")`` closes the port (connection refused),
``go_offline("drop")`` accepts and resets every connection; ``go_online()`` reopens
the same port.

``jobs`` decodes the connections that printed something back to text with styles
(:class:`DecodedJob`); ``wait_for_jobs(n)`` waits for the n-th to be complete (the
client closed it). Everything runs on one selector thread; ``close()`` stops it and
closes every socket.

The decoder knows the commands python-escpos emits (and the other common ones by
their lengths); anything else is listed in ``DecodedJob.unknown``.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

State = Literal["online", "paper_low", "paper_out", "cover_open"]
STATES = ("online", "paper_low", "paper_out", "cover_open")

ESC, GS, DLE, FS = 0x1B, 0x1D, 0x10, 0x1C

# ESC t n -> Python codec (the code pages of python-escpos's default profile that
# Python knows).
CODE_PAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    4: "cp863",
    5: "cp865",
    13: "cp857",
    14: "cp737",
    15: "iso8859_7",
    16: "cp1252",
    17: "cp866",
    18: "cp852",
    19: "cp858",
    33: "cp775",
    34: "cp855",
    35: "cp861",
    36: "cp862",
    37: "cp864",
    38: "cp869",
    39: "iso8859_2",
    40: "iso8859_15",
    44: "cp1125",
    45: "cp1250",
    46: "cp1251",
    47: "cp1253",
    48: "cp1254",
    49: "cp1255",
    50: "cp1256",
    51: "cp1257",
    52: "cp1258",
}

# Fixed argument counts of the commands without a length field.
_ESC_ARGS = {
    b"@": 0, b"E": 1, b"G": 1, b"!": 1, b"-": 1, b"M": 1, b"a": 1, b"t": 1, b"d": 1,
    b"J": 1, b"{": 1, b"2": 0, b"3": 1, b"R": 1, b"V": 1, b"r": 1, b" ": 1, b"$": 2,
    b"\\": 2, b"i": 0, b"m": 0, b"=": 1, b"%": 1, b"c": 2, b"p": 3, b"e": 1, b"U": 1,
    b"L": 0, b"S": 0, b"T": 1, b"W": 8, b"K": 1,
}  # fmt: skip
_GS_ARGS = {
    b"B": 1, b"!": 1, b"b": 1, b"a": 1, b"r": 1, b"I": 1, b"H": 1, b"f": 1, b"h": 1,
    b"w": 1, b"L": 2, b"W": 2, b"P": 2, b"$": 2, b"\\": 2, b"^": 3, b":": 0, b"/": 1,
    b"|": 1, b"E": 1,
}  # fmt: skip
_FS_ARGS = {b".": 0, b"&": 0, b"C": 1, b"!": 1, b"-": 1, b"p": 2}

Event = tuple[Any, ...]


def parse_one(buf: bytes | bytearray, i: int) -> tuple[int, Event] | None:
    """The command (or text run) at ``buf[i]``: ``(next index, event)``, or None when
    ``buf`` ends before the command does."""
    n = len(buf)

    def need(count: int) -> bool:
        return i + count <= n

    b = buf[i]
    if b == 0x0A:
        return i + 1, ("lf", 1)
    if b in (0x0D, 0x00):
        return i + 1, ("skip", bytes(buf[i : i + 1]))
    if b == DLE:
        if not need(2):
            return None
        cmd = buf[i + 1]
        if cmd in (0x04, 0x05):  # DLE EOT n (real-time status), DLE ENQ n
            if not need(3):
                return None
            if cmd == 0x04:
                return i + 3, ("status", buf[i + 2])
            return i + 3, ("skip", bytes(buf[i : i + 3]))
        if cmd == 0x14:  # DLE DC4 fn m t
            return (i + 5, ("skip", bytes(buf[i : i + 5]))) if need(5) else None
        return i + 2, ("unknown", bytes(buf[i : i + 2]))
    if b == ESC:
        return _parse_esc(buf, i)
    if b == GS:
        return _parse_gs(buf, i)
    if b == FS:
        if not need(2):
            return None
        args = _FS_ARGS.get(bytes(buf[i + 1 : i + 2]))
        if args is None:
            return i + 2, ("unknown", bytes(buf[i : i + 2]))
        return (i + 2 + args, ("skip", bytes(buf[i : i + 2 + args]))) if need(2 + args) else None
    if b < 0x20 and b != 0x09:
        return i + 1, ("unknown", bytes(buf[i : i + 1]))
    j = i
    while j < n and (buf[j] >= 0x20 or buf[j] == 0x09):
        j += 1
    return j, ("text", bytes(buf[i:j]))


def _parse_esc(buf: bytes | bytearray, i: int) -> tuple[int, Event] | None:
    n = len(buf)
    if i + 2 > n:
        return None
    cmd = bytes(buf[i + 1 : i + 2])
    if cmd == b"*":  # ESC * m nL nH data: bit image
        if i + 5 > n:
            return None
        m, count = buf[i + 2], buf[i + 3] + 256 * buf[i + 4]
        end = i + 5 + count * (1 if m in (0, 1) else 3)
        return (end, ("skip", b"\x1b*")) if end <= n else None
    if cmd == b"D":  # ESC D n1 .. nk NUL: tab stops
        end = bytes(buf).find(b"\x00", i + 2)
        return (end + 1, ("skip", b"\x1bD")) if end >= 0 else None
    args = _ESC_ARGS.get(cmd)
    if args is None:
        return i + 2, ("unknown", bytes(buf[i : i + 2]))
    end = i + 2 + args
    if end > n:
        return None
    arg = buf[i + 2] if args else 0
    event: Event
    if cmd == b"@":
        event = ("init",)
    elif cmd in (b"E", b"G"):
        event = ("bold", bool(arg & 1))
    elif cmd == b"!":
        event = ("mode", arg)
    elif cmd == b"a":
        event = ("align", {0: "left", 1: "center", 2: "right"}.get(arg % 48, "left"))
    elif cmd == b"t":
        event = ("codepage", arg)
    elif cmd == b"d":
        event = ("lf", arg)
    else:
        event = ("skip", bytes(buf[i:end]))
    return end, event


def _parse_gs(buf: bytes | bytearray, i: int) -> tuple[int, Event] | None:
    n = len(buf)
    if i + 2 > n:
        return None
    cmd = bytes(buf[i + 1 : i + 2])
    if cmd == b"(":  # GS ( X pL pH data
        if i + 5 > n:
            return None
        end = i + 5 + buf[i + 3] + 256 * buf[i + 4]
        if end > n:
            return None
        if buf[i + 2 : i + 3] != b"k":
            return end, ("skip", bytes(buf[i : i + 3]))
        cn, fn = buf[i + 5 : i + 6], buf[i + 6 : i + 7]
        if cn == b"1" and fn == b"P":  # store QR data (after the m byte)
            return end, ("qr_store", bytes(buf[i + 8 : end]))
        if cn == b"1" and fn == b"Q":
            return end, ("qr_print",)
        return end, ("skip", bytes(buf[i:end]))
    if cmd == b"8":  # GS 8 L p1..p4 data
        if i + 7 > n:
            return None
        (length,) = struct.unpack_from("<I", bytes(buf[i + 3 : i + 7]))
        end = i + 7 + length
        return (end, ("skip", b"\x1d8L")) if end <= n else None
    if cmd == b"v":  # GS v 0 m xL xH yL yH data: raster image
        if i + 8 > n:
            return None
        width, height = buf[i + 4] + 256 * buf[i + 5], buf[i + 6] + 256 * buf[i + 7]
        end = i + 8 + width * height
        return (end, ("skip", b"\x1dv0")) if end <= n else None
    if cmd == b"*":  # GS * x y data
        if i + 4 > n:
            return None
        end = i + 4 + buf[i + 2] * buf[i + 3] * 8
        return (end, ("skip", b"\x1d*")) if end <= n else None
    if cmd == b"k":  # GS k m ...: barcode
        if i + 3 > n:
            return None
        m = buf[i + 2]
        if m <= 6:
            end = bytes(buf).find(b"\x00", i + 3)
            return (end + 1, ("skip", b"\x1dk")) if end >= 0 else None
        if i + 4 > n:
            return None
        end = i + 4 + buf[i + 3]
        return (end, ("skip", b"\x1dk")) if end <= n else None
    if cmd == b"V":  # GS V m [n]: cut
        if i + 3 > n:
            return None
        end = i + 3 if buf[i + 2] in (0, 1, 48, 49) else i + 4
        return (end, ("cut",)) if end <= n else None
    args = _GS_ARGS.get(cmd)
    if args is None:
        return i + 2, ("unknown", bytes(buf[i : i + 2]))
    end = i + 2 + args
    if end > n:
        return None
    if cmd == b"B":
        return end, ("invert", bool(buf[i + 2] & 1))
    if cmd == b"!":
        return end, ("size", buf[i + 2])
    return end, ("skip", bytes(buf[i:end]))


def parse(data: bytes) -> list[Event]:
    """Every command of a complete job (a truncated last command is ``unknown``)."""
    events, i = [], 0
    while i < len(data):
        got = parse_one(data, i)
        if got is None:
            events.append(("unknown", data[i:]))
            break
        i, event = got
        events.append(event)
    return events


@dataclass
class DecodedJob:
    """One job as it came out of the printer."""

    text: str
    bold_texts: list[str]
    inverted_texts: list[str]
    qr_data: list[str]
    cut: bool
    large_texts: list[str] = field(default_factory=list)
    status_queries: list[int] = field(default_factory=list)
    unknown: list[bytes] = field(default_factory=list)
    raw: bytes = b""

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")


def _runs(line: list[tuple[str, bool, bool, bool]], index: int) -> list[str]:
    runs, current = [], ""
    for seg in line:
        if seg[index]:
            current += seg[0]
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return [run.strip() for run in runs if run.strip()]


def decode(data: bytes) -> DecodedJob:
    """Decode one job's bytes: text (one line per LF, trailing blank lines dropped),
    the runs printed bold / inverted / large (per line, stripped), QR codes, cut."""
    bold = invert = False
    width = height = 1
    codec = "cp437"
    lines: list[list[tuple[str, bool, bool, bool]]] = [[]]
    qr_store, qr_data, cut = "", [], False
    queries: list[int] = []
    unknown: list[bytes] = []
    for event in parse(data):
        kind = event[0]
        if kind == "text":
            large = width > 1 or height > 1
            text = event[1].decode(codec, errors="replace")
            lines[-1].append((text, bold, invert, large))
        elif kind == "lf":
            lines.extend([] for _ in range(event[1]))
        elif kind == "init":
            bold = invert = False
            width = height = 1
            codec = "cp437"
        elif kind == "bold":
            bold = event[1]
        elif kind == "invert":
            invert = event[1]
        elif kind == "mode":
            bold = bool(event[1] & 0x08)
            height = 2 if event[1] & 0x10 else 1
            width = 2 if event[1] & 0x20 else 1
        elif kind == "size":
            width, height = (event[1] >> 4) + 1, (event[1] & 0x0F) + 1
        elif kind == "codepage":
            codec = CODE_PAGES.get(event[1], "cp437")
        elif kind == "qr_store":
            qr_store = event[1].decode("utf-8", errors="replace")
        elif kind == "qr_print":
            qr_data.append(qr_store)
        elif kind == "cut":
            cut = True
        elif kind == "status":
            queries.append(event[1])
        elif kind == "unknown":
            unknown.append(event[1])
    texts = ["".join(seg[0] for seg in line).rstrip() for line in lines]
    while texts and not texts[-1]:
        texts.pop()
    return DecodedJob(
        text="\n".join(texts),
        bold_texts=[run for line in lines for run in _runs(line, 1)],
        inverted_texts=[run for line in lines for run in _runs(line, 2)],
        qr_data=qr_data,
        cut=cut,
        large_texts=[run for line in lines for run in _runs(line, 3)],
        status_queries=queries,
        unknown=unknown,
        raw=data,
    )


def status_byte(state: str, n: int) -> int:
    """The printer's answer to ``DLE EOT n`` in ``state``."""
    value = 0x12  # the fixed bits
    if n == 1 and state in ("paper_out", "cover_open"):
        value |= 0x08  # offline
    elif n == 2 and state == "cover_open":
        value |= 0x04
    elif n == 2 and state == "paper_out":
        value |= 0x20  # stopped by paper end
    elif n == 4 and state == "paper_out":
        value |= 0x0C | 0x60  # near end and end
    elif n == 4 and state == "paper_low":
        value |= 0x0C
    return value


class _Conn:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()
        self.pos = 0


class SocketPrinter:
    """A real TCP ESC/POS printer on 127.0.0.1; see the module docstring."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, state: State = "online"):
        self.host = host
        self.state: str = state
        self.answers_status = True
        self._mode = "online"  # online | refuse | drop
        self._cond = threading.Condition()
        self._finished: list[bytes] = []
        self._refused_or_dropped = 0
        self._pending: list[tuple[Callable[[], None], threading.Event]] = []
        self._stopping = False
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._listener: socket.socket | None = None
        self._open_listener(port)
        assert self._listener is not None
        self.port: int = self._listener.getsockname()[1]
        self._conns: dict[int, _Conn] = {}
        self._thread: threading.Thread = threading.Thread(
            target=self._run, name="socket-printer", daemon=True
        )
        self._thread.start()

    # --- control ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def set_state(self, state: State) -> None:
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {state!r}")
        self.state = state

    def go_offline(self, how: Literal["refuse", "drop"] = "refuse") -> None:
        """``refuse``: close the port (and open connections); ``drop``: accept and reset."""

        def offline() -> None:
            self._mode = how
            if how == "refuse":
                self._close_listener()
                for conn in list(self._conns.values()):
                    self._finish(conn, reset=True)

        self._call(offline)

    def go_online(self) -> None:
        def online() -> None:
            self._mode = "online"
            if self._listener is None:
                self._open_listener(self.port)

        self._call(online)

    # --- results ----------------------------------------------------------------------

    @property
    def connections(self) -> list[bytes]:
        """The raw bytes of every finished connection, status-only ones included."""
        with self._cond:
            return list(self._finished)

    @property
    def jobs(self) -> list[DecodedJob]:
        """The finished connections that printed something, decoded."""
        decoded = [decode(raw) for raw in self.connections]
        return [job for job in decoded if job.text or job.qr_data or job.cut]

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[DecodedJob]:
        with self._cond:
            done = self._cond.wait_for(
                lambda: sum(1 for raw in self._finished if _prints(raw)) >= count, timeout
            )
        if not done:
            raise AssertionError(f"expected {count} printed jobs, got {len(self.jobs)}")
        return self.jobs

    def wait_for_connections(self, count: int, timeout: float = 5.0) -> list[bytes]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._finished) >= count, timeout):
                raise AssertionError(f"expected {count} connections, got {len(self._finished)}")
            return list(self._finished)

    # --- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        if self._stopping:
            return
        self._stopping = True
        self._wake_w.send(b"x")
        self._thread.join(timeout=10)
        for conn in list(self._conns.values()):
            self._finish(conn)
        self._close_listener()
        self._sel.unregister(self._wake_r)
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> SocketPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the server thread ------------------------------------------------------------

    def _call(self, fn: Callable[[], None]) -> None:
        done = threading.Event()
        with self._cond:
            self._pending.append((fn, done))
        self._wake_w.send(b"x")
        if not done.wait(timeout=10):
            raise RuntimeError("socket printer thread did not answer")

    def _open_listener(self, port: int) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, port))
            sock.listen(8)
            sock.setblocking(False)
            self._sel.register(sock, selectors.EVENT_READ, "listen")
        except BaseException:
            sock.close()
            raise
        self._listener = sock

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._sel.unregister(self._listener)
            self._listener.close()
            self._listener = None

    def _run(self) -> None:
        while not self._stopping:
            for key, _ in self._sel.select():
                if key.data == "wake":
                    self._wake_r.recv(4096)
                    with self._cond:
                        pending, self._pending = self._pending, []
                    for fn, done in pending:
                        try:
                            fn()
                        finally:
                            done.set()
                elif key.data == "listen":
                    self._accept()
                elif isinstance(key.data, _Conn):
                    self._read(key.data)

    def _accept(self) -> None:
        assert self._listener is not None
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        if self._mode == "drop":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # RST
            with self._cond:
                self._refused_or_dropped += 1
            return
        sock.setblocking(False)
        conn = _Conn(sock)
        self._conns[sock.fileno()] = conn
        self._sel.register(sock, selectors.EVENT_READ, conn)

    def _read(self, conn: _Conn) -> None:
        try:
            data = conn.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._finish(conn)
            return
        conn.buf += data
        while conn.pos < len(conn.buf):
            got = parse_one(conn.buf, conn.pos)
            if got is None:
                break  # the rest of this command has not arrived yet
            conn.pos, event = got
            if event[0] == "status" and self.answers_status:
                with contextlib.suppress(OSError):
                    conn.sock.send(bytes([status_byte(self.state, event[1])]))

    def _finish(self, conn: _Conn, *, reset: bool = False) -> None:
        self._conns.pop(conn.sock.fileno(), None)
        self._sel.unregister(conn.sock)
        if reset:
            conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()
        with self._cond:
            self._finished.append(bytes(conn.buf))
            self._cond.notify_all()


def _prints(raw: bytes) -> bool:
    job = decode(raw)
    return bool(job.text or job.qr_data or job.cut)
