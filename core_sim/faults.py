"""Injected faults: a small queue of pending failures consumed by API requests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

FAULT_KINDS: tuple[str, ...] = (
    "slow",
    "error500",
    "error503",
    "error429",
    "duplicate",
    "expire_cursor",
    "raw_page",
    "cut_off",
)
ENDPOINTS: tuple[str, ...] = ("feed", "open", "events", "menu", "availability")
_FEED_ONLY = frozenset({"duplicate", "expire_cursor", "raw_page"})
_DEFAULTS: dict[str, dict[str, Any]] = {
    "slow": {"delay": 1.0},
    "error503": {"retry_after": 1},
    "error429": {"retry_after": 1},
    "duplicate": {"back": 10},
    "raw_page": {"body": '{"orders": ['},
}


@dataclass
class Fault:
    """One pending fault: what, how many more requests it hits, and its options."""

    kind: str
    remaining: int
    endpoint: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, kind: str, endpoint: str) -> bool:
        """Whether this fault applies to a request of ``endpoint``."""
        return self.kind == kind and self.endpoint in (None, endpoint)


def make_fault(kind: str, count: int = 1, **kw: Any) -> Fault:
    """Validate the arguments of ``inject_fault`` and build the fault."""
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; one of {', '.join(FAULT_KINDS)}")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ValueError("count must be a positive integer")
    endpoint = kw.pop("endpoint", None)
    if kind in _FEED_ONLY:
        endpoint = "feed"
    if endpoint is not None and endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; one of {', '.join(ENDPOINTS)}")
    options = dict(_DEFAULTS.get(kind, {}))
    unknown = set(kw) - set(options)
    if unknown:
        raise ValueError(f"unknown option(s) for {kind}: {', '.join(sorted(unknown))}")
    options.update(kw)
    return Fault(kind, count, endpoint, options)


class FaultQueue:
    """Thread-safe pending faults; each request takes at most one fault of a kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        """Queue a fault."""
        with self._lock:
            self._faults.append(fault)

    def clear(self) -> None:
        """Forget every pending fault."""
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        """A description of the pending faults."""
        with self._lock:
            return [
                {"kind": f.kind, "remaining": f.remaining, "endpoint": f.endpoint, **f.options}
                for f in self._faults
            ]

    def take(self, kind: str, endpoint: str) -> Fault | None:
        """Consume one use of the oldest matching fault, if any."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(kind, endpoint):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None
