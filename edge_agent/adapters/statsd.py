"""Metrics to a DogStatsD agent over UDP (the names are listed in docs/reporting.md).

:class:`StatsdMetrics` wraps ``datadog``'s :class:`~datadog.dogstatsd.base.DogStatsd`
with buffering, aggregation, the background sender, client telemetry and origin
detection all off: every call is one UDP datagram sent right away, so nothing
waits in the client and nothing is lost on exit. Tags are ``dict[str, str]``;
``constant_tags`` (site, station, ...) are added to every metric by the client.

Metrics are best effort: no method ever raises into the caller. A failure (no
agent, bad host, a bug in the client) is logged at WARNING at most once a minute,
by this module and by the library's own ``datadog.dogstatsd`` logger alike.
It implements :class:`edge_agent.ports.Metrics`; with no
``[statsd] host`` the agent uses :class:`edge_agent.ports.NoMetrics`.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Any, Self

from edge_agent.ports import Tags

log = logging.getLogger("edge.statsd")

#: At most one WARNING per this many seconds about failing metrics.
LOG_EVERY_SECONDS = 60.0


def _tag_list(tags: Tags) -> list[str] | None:
    if not tags:
        return None
    return [f"{key}:{value}" for key, value in tags.items()]


class _RateLimit(logging.Filter):
    """Lets a WARNING-or-worse record through at most once per ``every`` seconds."""

    def __init__(self, every: float = LOG_EVERY_SECONDS) -> None:
        super().__init__("")
        self.every = every
        self._last: float | None = None
        self._lock = threading.Lock()

    def allow(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if self._last is not None and now - self._last < self.every:
                return False
            self._last = now
            return True

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.WARNING or self.allow()


_library_filter_lock = threading.Lock()


def _limit_library_logging() -> None:
    """The client logs every dropped packet at WARNING; keep one a minute."""
    library = logging.getLogger("datadog.dogstatsd")
    with _library_filter_lock:
        if not any(isinstance(f, _RateLimit) for f in library.filters):
            library.addFilter(_RateLimit())


class StatsdMetrics:
    """DogStatsD metrics with a namespace (``kds``) and constant tags."""

    def __init__(
        self,
        host: str,
        port: int = 8125,
        *,
        namespace: str = "kds",
        constant_tags: dict[str, str] | None = None,
    ) -> None:
        self._limit = _RateLimit()
        self._closed = False
        self._client: Any = None
        _limit_library_logging()
        try:
            from datadog.dogstatsd.base import DogStatsd

            self._client = DogStatsd(
                host=host,
                port=port,
                namespace=namespace or None,
                constant_tags=_tag_list(constant_tags) or [],
                disable_telemetry=True,
                disable_buffering=True,
                disable_aggregation=True,
                disable_background_sender=True,
                origin_detection_enabled=False,
                track_instance=False,
            )
        except Exception as exc:  # a bad host must not stop the agent
            self._failed("cannot set up DogStatsD client", exc)

    def _failed(self, what: str, exc: BaseException) -> None:
        if self._limit.allow():
            log.warning("metrics: %s: %s (repeats are not logged for a minute)", what, exc)

    def _call(self, method: str, name: str, value: float, tags: Tags) -> None:
        client = self._client
        if client is None or self._closed:
            return
        try:
            getattr(client, method)(name, value, tags=_tag_list(tags))
        except Exception as exc:
            self._failed(f"{method} {name}", exc)

    def increment(self, name: str, value: float = 1, tags: Tags = None) -> None:
        """A count (``|c``)."""
        self._call("increment", name, value, tags)

    def gauge(self, name: str, value: float, tags: Tags = None) -> None:
        """The current value (``|g``)."""
        self._call("gauge", name, value, tags)

    def histogram(self, name: str, value: float, tags: Tags = None) -> None:
        """One sample of a distribution computed by the agent (``|h``)."""
        self._call("histogram", name, value, tags)

    def close(self) -> None:
        """Flush (nothing is buffered, but cheap) and close the socket. Idempotent."""
        if self._closed:
            return
        self._closed = True
        client = self._client
        if client is None:
            return
        try:
            client.flush()
        except Exception as exc:
            self._failed("flush", exc)
        try:
            client.close_socket()
        except Exception as exc:
            self._failed("close", exc)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
