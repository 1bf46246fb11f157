"""Kafka adapter for the reporting sink (event schema: docs/reporting.md).

:class:`KafkaSink` sends one message at a time and blocks until the broker has
acknowledged it (``acks=all``, idempotent producer) or the time is up. It is
called from the agent's outbox, which gives at-least-once delivery: a message is
marked done only after :meth:`KafkaSink.send` returned, and retried after a
:class:`~edge_agent.errors.SinkUnavailable`. Receivers de-duplicate on the
``event_id`` header (also in the JSON value).

Errors are mapped at this boundary from confluent-kafka's :class:`KafkaError`
codes (:data:`REJECTED` is the whole list of permanent ones):

* :class:`SinkRejected` (dead-lettered): message or batch too large, invalid
  record or timestamp, invalid topic name, topic/cluster authorisation failed,
  policy violation, invalid acks, bad arguments.
* :class:`SinkUnavailable` (retried): everything else -- broker down, connection
  refused, delivery timeout, not enough replicas, leader moving, an unknown topic
  (an operator may create it), SASL authentication failed (fix the credentials,
  nothing is lost), a fatal idempotence error, and any code not listed.

After an unavailable or fatal outcome the producer is thrown away and the next
:meth:`~KafkaSink.send` starts a fresh one (new connection, new producer id), so
an idempotent producer whose broker forgot its producer id never stays stuck.
librdkafka's own log lines go to the ``edge.kafka.client`` logger at DEBUG; the
last client error is quoted in the :class:`SinkUnavailable` message instead, with
the one before it when the last is only "all brokers down" (which names no cause).
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType
from typing import Any, Self

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from edge_agent.errors import SinkError, SinkRejected, SinkUnavailable

log = logging.getLogger("edge.kafka")
client_log = logging.getLogger("edge.kafka.client")


def _codes(*names: str) -> frozenset[int]:
    return frozenset(getattr(KafkaError, n) for n in names if hasattr(KafkaError, n))


#: Codes for which retrying cannot help: the event is dead-lettered.
REJECTED: frozenset[int] = _codes(
    "MSG_SIZE_TOO_LARGE",
    "_MSG_SIZE_TOO_LARGE",
    "RECORD_LIST_TOO_LARGE",
    "INVALID_MSG_SIZE",
    "INVALID_MSG",
    "INVALID_RECORD",
    "INVALID_TIMESTAMP",
    "TOPIC_EXCEPTION",
    "TOPIC_AUTHORIZATION_FAILED",
    "CLUSTER_AUTHORIZATION_FAILED",
    "POLICY_VIOLATION",
    "INVALID_REQUIRED_ACKS",
    "UNSUPPORTED_FOR_MESSAGE_FORMAT",
    "_INVALID_ARG",
    "_INVALID_TYPE",
)


def sink_error(err: KafkaError, context: str = "") -> SinkError:
    """The agent's error for a confluent-kafka error (see the module doc)."""
    what = f"kafka: {err.name()}: {err.str()}"
    if context:
        what += f" ({context})"
    if err.code() in REJECTED and not err.fatal():
        return SinkRejected(what)
    return SinkUnavailable(what)


class _ClientLog:
    """librdkafka's log lines, at DEBUG: failures reach the caller as exceptions."""

    def log(self, level: int, msg: str, *args: Any, **kwargs: Any) -> None:
        client_log.debug(msg, *args)


class KafkaSink:
    """Sends reporting events to one topic; thread-safe, one message at a time."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        *,
        client_id: str = "ghost-kds-edge",
        timeout: float = 10.0,
    ) -> None:
        if not bootstrap:
            raise ValueError("bootstrap is empty (the sink is off)")
        if not topic:
            raise ValueError("topic is empty")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout = timeout
        timeout_ms = max(1, int(timeout * 1000))
        self._config: dict[str, Any] = {
            "bootstrap.servers": bootstrap,
            "client.id": client_id,
            "acks": "all",
            "enable.idempotence": True,
            "linger.ms": 0,
            # A delivery report (success or error) comes within this time.
            "message.timeout.ms": timeout_ms,
            "request.timeout.ms": min(30000, timeout_ms),
            "socket.connection.setup.timeout.ms": max(1000, min(30000, timeout_ms)),
            "reconnect.backoff.max.ms": 2000,
            "logger": _ClientLog(),
            "error_cb": self._on_error,
        }
        self._lock = threading.Lock()
        self._producer: Producer | None = None
        self._last_error: KafkaError | None = None
        # the last error that says why (connection refused, ...): librdkafka follows it
        # with a bare "1/1 brokers are down", which alone names no cause
        self._cause: KafkaError | None = None
        self._closed = False

    # --- internals ---------------------------------------------------------------------

    def _on_error(self, err: KafkaError) -> None:
        """librdkafka's global errors (connection refused, all brokers down, fatal)."""
        self._last_error = err
        if err.code() != KafkaError._ALL_BROKERS_DOWN:
            self._cause = err
        if err.fatal():
            log.error("kafka producer fatal error: %s", err.str())
        else:
            client_log.debug("kafka client error: %s", err.str())

    def _producer_now(self) -> Producer:
        if self._closed:
            raise SinkUnavailable("kafka sink is closed")
        if self._producer is None:
            self._last_error = self._cause = None
            try:
                self._producer = Producer(self._config)
            except KafkaException as exc:
                raise self._error(exc.args[0], "creating the producer") from exc
        return self._producer

    def _drop_producer(self) -> None:
        """Throw the producer away (undelivered messages are purged, not sent later)."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.purge(in_queue=True, in_flight=True, blocking=False)
            producer.flush(0)
            producer.close()
        except Exception:  # closing a broken client must not hide the real error
            log.debug("kafka: error while closing the producer", exc_info=True)

    def _context(self) -> str:
        last, cause = self._last_error, self._cause
        if last is None:
            return ""
        if cause is not None and cause is not last:
            return f"last client error: {last.str()}; before it: {cause.str()}"
        return f"last client error: {last.str()}"

    def _error(self, err: Any, context: str = "") -> SinkError:
        if isinstance(err, KafkaError):
            return sink_error(err, context)
        return SinkUnavailable(f"kafka: {err}" + (f" ({context})" if context else ""))

    # --- API ---------------------------------------------------------------------------

    def send(self, key: str, value: bytes, headers: dict[str, str]) -> None:
        """Send one message and wait for the broker's acknowledgement.

        Raises :class:`SinkUnavailable` (retry later) or :class:`SinkRejected`.
        """
        with self._lock:
            producer = self._producer_now()
            reports: list[tuple[KafkaError | None, Message | None]] = []
            try:
                producer.produce(
                    self.topic,
                    value=value,
                    key=key.encode("utf-8"),
                    headers=[(k, v.encode("utf-8")) for k, v in headers.items()],
                    on_delivery=lambda err, msg: reports.append((err, msg)),
                )
            except BufferError as exc:
                self._drop_producer()
                raise SinkUnavailable(f"kafka: local queue full: {exc}") from exc
            except KafkaException as exc:
                error = self._error(exc.args[0] if exc.args else exc)
                if isinstance(error, SinkUnavailable):
                    self._drop_producer()
                raise error from exc
            # The delivery report is due within message.timeout.ms; allow a little more.
            deadline = time.monotonic() + self.timeout + 5.0
            while not reports:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                producer.flush(min(left, 1.0))
            if not reports:
                context = self._context()
                self._drop_producer()
                raise SinkUnavailable(
                    f"kafka: no delivery report within {self.timeout:g}s"
                    + (f" ({context})" if context else "")
                )
            err, _msg = reports[0]
            if err is None:
                return
            error = sink_error(err, self._context() if err.code() not in REJECTED else "")
            if isinstance(error, SinkUnavailable):
                self._drop_producer()
            raise error

    def check(self) -> str:
        """Ask the cluster about the topic; one line per fact, for ``edge-agent doctor``.

        Raises :class:`SinkUnavailable` if no broker answers in time and
        :class:`SinkRejected` if the topic is refused (authorisation, bad name).
        """
        with self._lock:
            producer = self._producer_now()
            try:
                md = producer.list_topics(self.topic, timeout=self.timeout)
            except KafkaException as exc:
                error = self._error(exc.args[0] if exc.args else exc, self._context())
                self._drop_producer()
                raise error from exc
        topic = md.topics.get(self.topic)
        brokers = ", ".join(f"{b.id}@{b.host}:{b.port}" for b in md.brokers.values())
        lines = [
            f"bootstrap {self.bootstrap}: cluster {md.cluster_id or '?'}, "
            f"controller {md.controller_id}, brokers {brokers or 'none'}"
        ]
        if topic is None:
            raise SinkUnavailable(f"kafka: no metadata for topic {self.topic}")
        if topic.error is not None:
            raise sink_error(topic.error, f"topic {self.topic}")
        partitions = sorted(topic.partitions.values(), key=lambda p: p.id)
        lines.append(f"topic {self.topic}: {len(partitions)} partition(s)")
        for p in partitions:
            problem = f", error {p.error.name()}" if p.error is not None else ""
            lines.append(
                f"  partition {p.id}: leader {p.leader}, replicas {list(p.replicas)}, "
                f"in sync {list(p.isrs)}{problem}"
            )
        return "\n".join(lines)

    def close(self) -> None:
        """Close the producer; idempotent. Nothing is pending: every send waited."""
        with self._lock:
            self._closed = True
            self._drop_producer()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
