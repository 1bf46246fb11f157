"""What the HTTP adapters (core API, PoS print API) share: how ``Retry-After`` is read.

A server's ``Retry-After`` is advice, honoured within bounds: at least
:data:`RETRY_AFTER_MIN` (a ``0`` must not turn the agent into a busy loop) and at most
the configured maximum (:data:`RETRY_AFTER_MAX` by default: one answer must not stop
the kitchen's orders for a day). A value that is not advice at all (negative, NaN,
beyond :data:`RETRY_AFTER_IMPLAUSIBLE`, a date in year 9999, unparseable) is ignored,
so the caller's own backoff applies; nothing here raises.
"""

from __future__ import annotations

import math
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

#: the shortest wait a ``Retry-After`` can ask for (seconds)
RETRY_AFTER_MIN = 1.0
#: the longest wait honoured (seconds); ``retry_after_max_seconds`` in the agent config
RETRY_AFTER_MAX = 60.0
#: beyond this (seconds from now) a ``Retry-After`` is a broken header, not advice
RETRY_AFTER_IMPLAUSIBLE = 86_400.0


def bounded_retry_after(seconds: float | None, maximum: float = RETRY_AFTER_MAX) -> float | None:
    """``seconds`` within ``[RETRY_AFTER_MIN, maximum]``; ``None`` when it is no advice."""
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return None
    if seconds > RETRY_AFTER_IMPLAUSIBLE:
        return None
    return min(max(seconds, RETRY_AFTER_MIN), max(maximum, RETRY_AFTER_MIN))


def parse_retry_after(
    value: str | None, *, maximum: float = RETRY_AFTER_MAX, now: float | None = None
) -> float | None:
    """A ``Retry-After`` value (delay-seconds or an HTTP date) as bounded seconds.

    ``None`` (use your own backoff) for a missing, negative, NaN, huge, far-future or
    unparseable value. A date in the past means "now", so the minimum.
    """
    text = (value or "").strip()
    if not text:
        return None
    try:
        return bounded_retry_after(float(text), maximum)
    except (ValueError, OverflowError):
        pass
    try:
        when = parsedate_to_datetime(text)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    except (TypeError, ValueError, OverflowError, IndexError, OSError):
        return None
    return bounded_retry_after(max(0.0, seconds), maximum)


def retry_after(response: httpx.Response, *, maximum: float = RETRY_AFTER_MAX) -> float | None:
    """The response's ``Retry-After`` (see :func:`parse_retry_after`)."""
    return parse_retry_after(response.headers.get("Retry-After"), maximum=maximum)
