"""The interfaces the agent depends on for its side effects, one small Protocol each.

The agent (:mod:`edge_agent.agent`, :mod:`edge_agent.effects`) calls only these; the
adapters in :mod:`edge_agent.adapters` implement them (structurally: they do not
import this module to inherit from it) and :mod:`edge_agent.wiring` builds them from
the configuration. Tests hand the agent their own implementations.

=============  ===========================================  =========================
port           what the agent does with it                  adapter
=============  ===========================================  =========================
``Printer``    prints a station's ticket or a bag label     ESC/POS, PoS print API
``Notifier``   texts a customer, publishes a pickup         Amazon SNS
``ReportSink`` sends a lifecycle event                      Kafka
``Metrics``    counts, gauges, distributions (best effort)  DogStatsD
=============  ===========================================  =========================

Delivery methods raise :class:`~edge_agent.errors.RetryableError` (try again later) or
:class:`~edge_agent.errors.PermanentError` (dead-letter) subclasses; the outbox
decides. Metrics never raise. ``close`` is called once when the agent stops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from edge_agent.printing import Receipt

#: metric tags (``{"brand": "burger-bros", "channel": "ubereats"}``)
Tags = Mapping[str, str] | None


@runtime_checkable
class Printer(Protocol):
    """Where a station's tickets and labels go.

    ``print`` raises :class:`~edge_agent.errors.PrinterUnavailable` (retry later) or
    :class:`~edge_agent.errors.PrinterRejected` (dead-letter); ``check`` returns a
    short status (``"online, paper ok"``) or raises ``PrinterUnavailable``.
    """

    name: str

    def print(self, receipt: Receipt, *, job_id: str) -> None: ...

    def check(self) -> str: ...

    def close(self) -> None: ...


class Notifier(Protocol):
    """Customer texts and pickup/courier notifications; each returns a message id.

    Raises :class:`~edge_agent.errors.NotifyUnavailable` (retry later) or
    :class:`~edge_agent.errors.NotifyRejected` (dead-letter).
    """

    def send_sms(
        self, phone: str, text: str, *, dedup_id: str, sender_id: str | None = None
    ) -> str: ...

    def publish(
        self,
        topic_arn: str,
        text: str,
        attributes: dict[str, str],
        *,
        dedup_id: str,
        subject: str | None = None,
    ) -> str: ...

    def close(self) -> None: ...


class ReportSink(Protocol):
    """Lifecycle events for reporting, keyed by order id.

    ``send`` returns once the event is stored by the other side; it raises
    :class:`~edge_agent.errors.SinkUnavailable` (retry later) or
    :class:`~edge_agent.errors.SinkRejected` (dead-letter).
    """

    def send(self, key: str, value: bytes, headers: dict[str, str]) -> None: ...

    def close(self) -> None: ...


class Metrics(Protocol):
    """Best-effort metrics: no method raises into the caller."""

    def increment(self, name: str, value: float = 1, tags: Tags = None) -> None: ...

    def gauge(self, name: str, value: float, tags: Tags = None) -> None: ...

    def histogram(self, name: str, value: float, tags: Tags = None) -> None: ...

    def close(self) -> None: ...


class NoMetrics:
    """:class:`Metrics` switched off (no ``[statsd] host``): every call does nothing."""

    def increment(self, name: str, value: float = 1, tags: Tags = None) -> None:
        return None

    def gauge(self, name: str, value: float, tags: Tags = None) -> None:
        return None

    def histogram(self, name: str, value: float, tags: Tags = None) -> None:
        return None

    def close(self) -> None:
        return None
