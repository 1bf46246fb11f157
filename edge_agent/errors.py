"""Errors of the edge agent's adapters, each raised at its adapter's boundary.

::

    KdsError (shared.errors)
    +-- AgentError
        +-- CoreError                  the core server did not do what we asked
        |   +-- CoreUnavailable        network error, timeout, 5xx, 429: retry later
        |   |                          (``retry_after`` seconds when the core said so)
        |   +-- CoreRejected           a 4xx that retrying cannot fix (``status``, ``code``)
        |   |   +-- CoreAuthError      401 / 403: the site token is wrong
        |   +-- CursorExpired          410: the feed cursor is gone, resync from orders/open
        +-- StoreError                 the local SQLite database failed

The outbox treats :class:`CoreUnavailable` (and ``MqError``) as "try again with
backoff" and :class:`CoreRejected` as "dead-letter with this reason".
"""

from __future__ import annotations

from shared.errors import KdsError


class AgentError(KdsError):
    """Base of the agent's own errors."""


class CoreError(AgentError):
    """The core server did not do what was asked."""


class CoreUnavailable(CoreError):
    """A transient failure: retry later (after ``retry_after`` seconds if given)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CoreRejected(CoreError):
    """The core refused the request for good (a 4xx other than 408/429)."""

    def __init__(self, status: int, code: str, detail: str = "") -> None:
        super().__init__(f"core answered {status} {code}" + (f": {detail}" if detail else ""))
        self.status = status
        self.code = code
        self.detail = detail


class CoreAuthError(CoreRejected):
    """401 or 403: the token is missing, wrong, or for another site."""


class CursorExpired(CoreError):
    """410 Gone on the orders feed: restart from ``orders/open``."""


class StoreError(AgentError):
    """The local database failed (disk full, corrupt file, locked)."""
