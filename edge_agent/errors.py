"""Errors of the edge agent's adapters, each raised at its adapter's boundary.

::

    KdsError (shared.errors)
    +-- AgentError
        +-- RetryableError             try again later (``retry_after`` seconds if known)
        +-- PermanentError             retrying cannot help: dead-letter with the reason
        +-- CoreError                  the core server did not do what we asked
        |   +-- CoreUnavailable        (Retryable) network error, timeout, 5xx, 429
        |   +-- CoreRejected           (Permanent) a 4xx other than 408/429 (``status``, ``code``)
        |   |   +-- CoreAuthError      401 / 403: the site token is wrong (retried slowly)
        |   +-- CursorExpired          410: the feed cursor is gone, resync from orders/open
        +-- PrinterError               a printer or the PoS print API
        |   +-- PrinterUnavailable     (Retryable) offline, out of paper, cover open, timeout
        |   +-- PrinterRejected        (Permanent) the PoS refused the job for good
        +-- NotifyError                SNS
        |   +-- NotifyUnavailable      (Retryable) throttled, 5xx, network
        |   +-- NotifyRejected         (Permanent) bad number, no such topic, opted out
        +-- SinkError                  the reporting sink (Kafka)
        |   +-- SinkUnavailable        (Retryable) broker down, timeout
        |   +-- SinkRejected           (Permanent) message too large, topic refused
        +-- StoreError                 the local SQLite database failed (``kind``: disk_full,
                                       read_only, corrupt, io, busy, error)

The outbox retries :class:`RetryableError` (and ``MqError``) with backoff and
dead-letters :class:`PermanentError` with its message. Each adapter raises these
from its library's own exceptions at its boundary (``raise PrinterUnavailable(...)
from exc``).
"""

from __future__ import annotations

from shared.errors import KdsError


class AgentError(KdsError):
    """Base of the agent's own errors."""


class RetryableError(AgentError):
    """A transient failure: retry later (after ``retry_after`` seconds if given)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(AgentError):
    """Retrying cannot help; the side effect is dead-lettered with this message."""


class CoreError(AgentError):
    """The core server did not do what was asked."""


class CoreUnavailable(CoreError, RetryableError):
    """A transient failure of the core: retry later."""


class CoreRejected(CoreError, PermanentError):
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


class PrinterError(AgentError):
    """A printer (ESC/POS over TCP) or the PoS print API failed."""


class PrinterUnavailable(PrinterError, RetryableError):
    """Offline, out of paper, cover open, timed out: the job waits and is retried."""


class PrinterRejected(PrinterError, PermanentError):
    """The PoS print API refused the job for good (a 4xx)."""


class NotifyError(AgentError):
    """Amazon SNS did not take a notification."""


class NotifyUnavailable(NotifyError, RetryableError):
    """Throttled, a 5xx or a network error: retried with backoff."""


class NotifyRejected(NotifyError, PermanentError):
    """Invalid number or topic, opted out, not authorised: dead-lettered."""


class SinkError(AgentError):
    """The reporting sink (Kafka) did not take an event."""


class SinkUnavailable(SinkError, RetryableError):
    """The sink is down or timed out: retried."""


class SinkRejected(SinkError, PermanentError):
    """The sink refused the event for good (too large, topic refused)."""


#: store failures of the machine, not of the agent: restarting the process cannot fix
#: them, so loops wait and retry while the screens show the alarm (``Store.trouble``)
STORE_TROUBLE_KINDS = frozenset({"disk_full", "read_only", "corrupt", "io"})


class StoreError(AgentError):
    """The local database failed.

    ``kind`` says how, from SQLite's result code: ``disk_full``, ``read_only``,
    ``corrupt``, ``io`` (the machine's trouble, see :attr:`is_trouble`), ``busy``
    (another process holds the lock) or ``error`` (anything else).
    """

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind

    @property
    def is_trouble(self) -> bool:
        """Disk full, read-only, damaged or failing storage: wait for a fix, alarm."""
        return self.kind in STORE_TROUBLE_KINDS
