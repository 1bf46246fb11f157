"""ESC/POS network printers (raw TCP, port 9100) through python-escpos.

One TCP connection per job (such printers serve one connection at a time):

1. connect (refused / timed out -> :class:`PrinterUnavailable`);
2. ask the printer's real-time status, ``DLE EOT 1`` (printer), ``DLE EOT 2`` (offline
   cause: cover open, paper end, error) and ``DLE EOT 4`` (paper roll sensor). These
   are answered by the printer even while it is offline, before anything is printed.
   Offline, cover open, out of paper or an error -> :class:`PrinterUnavailable` naming
   it, and nothing is sent. A printer that does not answer within
   ``status_timeout`` (some interfaces never do) is printed to anyway: its status
   is unknown, as with any raw port;
3. send the whole job in one write: it is encoded beforehand (python-escpos on a
   ``Dummy`` printer), so a job that cannot be encoded fails before the printer is
   touched (:class:`PrinterRejected`) and never prints half;
4. close the connection.

Socket errors (reset, broken pipe, timeout) at any step are
:class:`PrinterUnavailable`: the caller's outbox retries the job, so a job cut short
is printed again whole (at least once).
"""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

from edge_agent.errors import PrinterRejected, PrinterUnavailable
from edge_agent.printing import Line, Receipt

log = logging.getLogger("edge.printer")

DLE_EOT = b"\x10\x04"
#: bits that are always 0 / 1 in a real-time status byte: 0xx1xx10
_FIXED_MASK, _FIXED_BITS = 0x93, 0x12
_OFFLINE = 0x08  # DLE EOT 1
_COVER_OPEN, _PAPER_END_STOP, _ERROR = 0x04, 0x20, 0x40  # DLE EOT 2
_PAPER_NEAR_END, _PAPER_END = 0x0C, 0x60  # DLE EOT 4

# python-escpos sends any text containing a CJK ideograph as raw GB18030 without
# selecting a code page, which only Chinese-firmware printers understand.
_CJK = re.compile("[\u4e00-\u9fa5]")

QR_SIZE_LABEL = 8


def _escpos() -> Any:
    # Imported on first use: python-escpos calls logging.basicConfig() and creates a
    # temporary directory when imported; by then the agent has configured logging.
    import escpos.printer

    return escpos.printer


def _text(line: Line) -> str:
    return _CJK.sub("?", line.text)


def encode_receipt(receipt: Receipt) -> bytes:
    """The ESC/POS bytes of one job (no I/O). Raises :class:`PrinterRejected` when
    python-escpos cannot encode it."""
    from escpos.exceptions import Error as EscposError

    printer = _escpos().Dummy()
    try:
        printer.hw("INIT")  # ESC @: default modes and code page
        for line in receipt.lines:
            large = line.size == "large"
            printer.set_with_default(
                align=line.align,
                bold=line.bold,
                double_width=large,
                double_height=large,
            )
            if line.indent:
                printer.text(" " * line.indent)
            if line.invert:
                printer.set(invert=True)
            printer.text(_text(line))
            if line.invert:
                printer.set(invert=False)
            printer.ln()
        printer.set_with_default()
        if receipt.qr:
            # native: the printer draws the code (GS ( k); python-escpos cannot centre a
            # native code itself, so centring is the alignment set just before.
            printer.set(align="center")
            printer.qr(receipt.qr, size=QR_SIZE_LABEL, native=True)
            printer.ln()
            printer.set(align="left")
        if receipt.cut:
            printer.cut()  # feeds 6 lines past the tear bar, then GS V
        data: bytes = printer.output
    except (EscposError, ValueError) as exc:
        raise PrinterRejected(f"cannot encode {receipt.title!r} for ESC/POS: {exc}") from exc
    finally:
        printer.close()
    return data


class EscPosPrinter:
    """An ESC/POS printer on the network (``tcp://host:9100``)."""

    def __init__(
        self,
        name: str,
        host: str,
        port: int = 9100,
        timeout: float = 5.0,
        *,
        status_timeout: float = 2.0,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port
        self.timeout = timeout
        self.status_timeout = min(status_timeout, timeout)

    def __repr__(self) -> str:
        return f"EscPosPrinter({self.name!r}, {self.host!r}, {self.port})"

    @property
    def _where(self) -> str:
        return f"printer {self.name} ({self.host}:{self.port})"

    # --- interface --------------------------------------------------------------------

    def print(self, receipt: Receipt, *, job_id: str) -> None:
        """Print one job, or raise :class:`PrinterUnavailable` (retry later) /
        :class:`PrinterRejected` (cannot be encoded)."""
        data = encode_receipt(receipt)
        with _Connection(self) as conn:
            status = self._status(conn)
            try:
                conn.printer._raw(data)  # python-escpos: sendall on the socket
            except OSError as exc:
                raise self._unavailable("sending the job", exc) from exc
        log.info(
            "printed %s job %s (%s, %d bytes) on %s; status %s",
            receipt.kind,
            job_id,
            receipt.title,
            len(data),
            self._where,
            status,
        )

    def check(self) -> str:
        """``"online, paper ok"`` (or ``"online, paper low"``, or ``"reachable, status
        not reported"``); raises :class:`PrinterUnavailable` naming the problem."""
        with _Connection(self) as conn:
            return self._status(conn)

    def close(self) -> None:
        """Nothing stays open between jobs."""

    def __enter__(self) -> EscPosPrinter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ---------------------------------------------------------------------

    def _unavailable(self, what: str, exc: BaseException | None = None) -> PrinterUnavailable:
        if exc is None:
            return PrinterUnavailable(f"{self._where}: {what}")
        reason = "timed out" if isinstance(exc, TimeoutError) else f"{type(exc).__name__}: {exc}"
        return PrinterUnavailable(f"{self._where}: {what}: {reason}")

    def _query(self, conn: _Connection, n: int) -> int | None:
        """One real-time status byte (``DLE EOT n``), or None if the printer is silent."""
        try:
            answer: bytes = conn.printer.query_status(DLE_EOT + bytes([n]))
        except TimeoutError:
            conn.silent = True
            return None
        except OSError as exc:
            raise self._unavailable("asking its status", exc) from exc
        if not answer:
            raise self._unavailable("closed the connection when asked its status")
        status = answer[-1]
        if status & _FIXED_MASK != _FIXED_BITS:
            log.warning("%s: unexpected status byte %#04x for DLE EOT %d", self._where, status, n)
            return None
        return status

    def _status(self, conn: _Connection) -> str:
        sock = conn.sock
        assert sock is not None
        sock.settimeout(self.status_timeout)
        try:
            online = self._query(conn, 1)
            if online is None:
                # Nothing came back; a late answer would sit unread in our receive
                # buffer, and closing a socket with unread data resets the connection,
                # which can make the printer drop the job: ask nothing more.
                return "reachable, status not reported"
            cause = self._query(conn, 2) or _FIXED_BITS
            paper = (None if conn.silent else self._query(conn, 4)) or _FIXED_BITS
        finally:
            sock.settimeout(self.timeout)
        if paper & _PAPER_END == _PAPER_END or cause & _PAPER_END_STOP:
            raise self._unavailable("out of paper")
        if cause & _COVER_OPEN:
            raise self._unavailable("cover open")
        if cause & _ERROR:
            raise self._unavailable("printer error (cutter jam or mechanical error)")
        if online & _OFFLINE:
            raise self._unavailable("offline")
        if paper & _PAPER_NEAR_END:
            log.warning("%s: paper low", self._where)
            return "online, paper low"
        return "online, paper ok"


class _Connection:
    """One TCP connection to the printer, wrapped in a python-escpos ``Network`` printer."""

    def __init__(self, owner: EscPosPrinter) -> None:
        self._owner = owner
        self.printer: Any = None
        self.sock: socket.socket | None = None
        self.silent = False  # the printer did not answer a status query

    def __enter__(self) -> _Connection:
        owner = self._owner
        # We connect the socket ourselves and hand it to python-escpos: its own
        # Network.open() leaks the socket (ResourceWarning) when connecting fails.
        try:
            sock = socket.create_connection((owner.host, owner.port), timeout=owner.timeout)
        except OSError as exc:
            raise owner._unavailable("cannot connect", exc) from exc
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            printer = _escpos().Network(owner.host, owner.port, owner.timeout)
        except BaseException:
            sock.close()
            raise
        printer.device = sock
        self.printer, self.sock = printer, sock
        return self

    def __exit__(self, *exc: object) -> None:
        if self.silent and self.sock is not None:
            _drain(self.sock)
        self.printer.close()  # shutdown(SHUT_RDWR), close


def _drain(sock: socket.socket) -> None:
    """Read whatever the printer sent that we did not ask for (a late status byte)."""
    try:
        sock.setblocking(False)
        while sock.recv(256):
            pass
    except OSError:
        pass
