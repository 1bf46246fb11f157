"""A UDP socket on 127.0.0.1 that collects DogStatsD datagrams, for tests.

::

    with UdpListener() as udp:
        metrics = StatsdMetrics("127.0.0.1", udp.port)
        metrics.increment("tickets.received", tags={"brand": "b1"})
        [record] = udp.wait_for(1)
        assert record.name == "kds.tickets.received" and record.tags["brand"] == "b1"

A datagram may hold several lines (``\\n``); each metric line
``name:value|type[|@rate][|#tag:v,tag2:v][|c:...][|T...]`` becomes one
:class:`StatsdRecord`. Events (``_e{``) and service checks (``_sc|``) are kept as
raw lines only.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self


@dataclass(frozen=True)
class StatsdRecord:
    name: str
    value: float
    type: str  # c, g, h, ms, d, s
    tags: dict[str, str] = field(default_factory=dict)
    sample_rate: float = 1.0
    raw: str = ""


def parse_line(line: str) -> StatsdRecord:
    """One DogStatsD metric line; ``ValueError`` if it is not one."""
    head, sep, rest = line.partition("|")
    name, colon, value = head.rpartition(":")
    if not sep or not colon or not name:
        raise ValueError(f"not a DogStatsD metric line: {line!r}")
    parts = rest.split("|")
    kind = parts[0]
    tags: dict[str, str] = {}
    rate = 1.0
    for part in parts[1:]:
        if part.startswith("@"):
            rate = float(part[1:])
        elif part.startswith("#"):
            for tag in part[1:].split(","):
                if tag:
                    key, _, tag_value = tag.partition(":")
                    tags[key] = tag_value
    return StatsdRecord(name, float(value), kind, tags, rate, line)


class UdpListener:
    """Binds 127.0.0.1:0 and collects datagrams on a thread until closed."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((host, 0))
        self._sock.settimeout(0.05)
        self.host = host
        self.port: int = self._sock.getsockname()[1]
        self.lines: list[str] = []
        self.records: list[StatsdRecord] = []
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-listener", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            lines = [line for line in data.decode("utf-8").split("\n") if line]
            with self._cond:
                for line in lines:
                    self.lines.append(line)
                    if not line.startswith(("_e{", "_sc|")):
                        self.records.append(parse_line(line))
                self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[StatsdRecord]:
        """The first ``count`` records, waiting for them; ``AssertionError`` on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.records) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} DogStatsD records within {timeout}s, "
                        f"got {len(self.records)}: {self.lines}"
                    )
                self._cond.wait(left)
            return list(self.records[:count])

    def by_name(self, name: str) -> list[StatsdRecord]:
        with self._cond:
            return [r for r in self.records if r.name == name]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
