"""Kafka adapter for the reporting sink (event schema: docs/reporting.md).

:class:`KafkaSink` sends one message at a time and blocks until the broker has
acknowledged it (``acks=all``, idempotent producer) or the time is up. It is
called from the agent's outbox, which gives at-least-once delivery: a message is
marked done only after :meth:`KafkaSink.send` returned, and retried after a
:class:`~edge_agent.errors.SinkUnavailable`. Receivers de-duplicate on the
``event_id`` header (also in the JSON value).

The client is kafka-python (pure Python): one acknowledged message at a time needs
no more, and librdkafka (confluent-kafka) was 10.6 MB of the frozen agent's 45
(packaging/pyinstaller/README.md). Errors are mapped at this boundary from
kafka-python's exception classes (:data:`REJECTED` is the whole list of permanent
ones):

* :class:`SinkRejected` (dead-lettered): message or batch too large, invalid or
  corrupt record, invalid timestamp, invalid topic name, topic/cluster
  authorisation failed, policy violation, invalid acks, unsupported message format,
  and a key, value or header the client refuses (``TypeError``/``ValueError``).
* :class:`SinkUnavailable` (retried): everything else -- broker down, connection
  refused, delivery timeout, not enough replicas, leader moving, an unknown topic
  (an operator may create it), SASL authentication failed (fix the credentials,
  nothing is lost), the idempotent producer's sequence or id errors, and any error
  not listed.

After an unavailable outcome the producer is thrown away and the next
:meth:`~KafkaSink.send` starts a fresh one (new connection, new producer id), so an
idempotent producer whose broker forgot its producer id never stays stuck.
kafka-python's own log lines (the ``kafka`` logger) go to the ``edge.kafka.client``
logger at DEBUG, not to the agent's log: a broker that is down would log every
reconnect. The last warning or error among them (``connection refused``, ...) is
quoted in the :class:`SinkUnavailable` message instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self, TypeVar

from kafka import KafkaAdminClient, KafkaProducer
from kafka import errors as kerr
from kafka.net.compat import KafkaNetClient

from edge_agent.errors import SinkError, SinkRejected, SinkUnavailable

log = logging.getLogger("edge.kafka")
client_log = logging.getLogger("edge.kafka.client")
_T = TypeVar("_T")

#: kafka-python's errors for which retrying cannot help: the event is dead-lettered.
REJECTED: tuple[type[Exception], ...] = (
    kerr.MessageSizeTooLargeError,
    kerr.RecordListTooLargeError,
    kerr.InvalidRecordError,
    kerr.CorruptRecordError,
    kerr.InvalidTimestampError,
    kerr.InvalidTopicError,
    kerr.TopicAuthorizationFailedError,
    kerr.ClusterAuthorizationFailedError,
    kerr.PolicyViolationError,
    kerr.InvalidRequiredAcksError,
    kerr.UnsupportedForMessageFormatError,
    TypeError,  # the client refuses a key, value or header of the wrong type
    ValueError,
)


def error_name(exc: BaseException) -> str:
    """The Kafka protocol's name for a broker error (``MESSAGE_SIZE_TOO_LARGE``), else
    the exception's class name (``KafkaTimeoutError``)."""
    name = getattr(exc, "message", None)
    return name if isinstance(name, str) and name else type(exc).__name__


def sink_error(exc: BaseException, context: str = "") -> SinkError:
    """The agent's error for a kafka-python error (see the module doc)."""
    detail = " ".join(str(arg) for arg in exc.args)
    what = f"kafka: {error_name(exc)}" + (f": {detail}" if detail else "")
    if context:
        what += f" ({context})"
    if isinstance(exc, REJECTED):
        return SinkRejected(what)
    return SinkUnavailable(what)


def _built(factory: Callable[..., _T], **config: Any) -> _T:
    """``factory(**config)`` (a producer or an admin client). If it raises (no broker
    answered), the network client it made is closed here: kafka-python 3.0.12 leaves it,
    with its wake-up socket pair, to the garbage collector."""
    made: list[KafkaNetClient] = []

    def client(**kwargs: Any) -> KafkaNetClient:
        made.append(KafkaNetClient(**kwargs))
        return made[-1]

    try:
        return factory(**config, kafka_client=client)
    except Exception:
        for each in made:
            try:
                each.close()
            except Exception:  # closing a broken client must not hide the real error
                log.debug("kafka: error while closing a client", exc_info=True)
        raise


class _ClientLog(logging.Handler):
    """kafka-python's log lines, re-logged at DEBUG. Keeps the last warning or error,
    and the last one about a connection (``Connection failed: ... ECONNREFUSED``): the
    last alone often names no cause (``Bootstrap failed: ... Unable to bootstrap``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.last_problem: str | None = None
        self.last_connection_problem: str | None = None

    def forget(self) -> None:
        self.last_problem = self.last_connection_problem = None

    def context(self) -> str:
        last, connection = self.last_problem, self.last_connection_problem
        if last is None:
            return ""
        if connection is not None and connection != last:
            return f"last client error: {last}; connection: {connection}"
        return f"last client error: {last}"

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a broken log call in the library must not break sending
            message = str(record.msg)
        if record.levelno >= logging.WARNING:
            self.last_problem = message
            if record.name.startswith("kafka.net.") and "onnection" in message:
                self.last_connection_problem = message
        client_log.debug("%s: %s", record.name, message)


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
            "bootstrap_servers": bootstrap.split(","),
            "client_id": client_id,
            "acks": "all",
            "enable_idempotence": True,
            "linger_ms": 0,
            # the metadata wait inside send(), and the delivery report (success or
            # error) after it: each within the timeout
            "max_block_ms": timeout_ms,
            "request_timeout_ms": timeout_ms,
            "delivery_timeout_ms": timeout_ms,
            # the first connection (and the broker's API versions), in the constructor
            "bootstrap_timeout_ms": timeout_ms,
            "reconnect_backoff_max_ms": 2000,
        }
        self._lock = threading.Lock()
        self._producer: KafkaProducer | None = None
        self._client_log = _ClientLog()
        # (whether they also propagate to the root is the composition root's choice:
        # edge_agent.wiring.report_sink)
        logging.getLogger("kafka").addHandler(self._client_log)
        self._closed = False

    # --- internals ---------------------------------------------------------------------

    def _unavailable(self, exc: BaseException, doing: str) -> SinkError:
        """``exc`` mapped, the client's last problem quoted when it is not a rejection."""
        if isinstance(exc, REJECTED):
            return sink_error(exc, doing)
        context = "; ".join(part for part in (doing, self._client_log.context()) if part)
        return sink_error(exc, context)

    def _producer_now(self) -> KafkaProducer:
        if self._closed:
            raise SinkUnavailable("kafka sink is closed")
        if self._producer is None:
            self._client_log.forget()
            try:
                self._producer = _built(KafkaProducer, **self._config)
            except Exception as exc:  # NoBrokersAvailable, a bad setting, ...
                raise self._unavailable(exc, "creating the producer") from exc
        return self._producer

    def _drop_producer(self) -> None:
        """Throw the producer away (undelivered messages are abandoned, not sent later)."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        try:
            producer.close(timeout=0)
        except Exception:  # closing a broken client must not hide the real error
            log.debug("kafka: error while closing the producer", exc_info=True)

    # --- API ---------------------------------------------------------------------------

    def send(self, key: str, value: bytes, headers: dict[str, str]) -> None:
        """Send one message and wait for the broker's acknowledgement.

        Raises :class:`SinkUnavailable` (retry later) or :class:`SinkRejected`.
        """
        with self._lock:
            producer = self._producer_now()
            try:
                future = producer.send(
                    self.topic,
                    value=value,
                    key=key.encode("utf-8"),
                    headers=[(k, v.encode("utf-8")) for k, v in headers.items()],
                )
                # the delivery report is due within delivery_timeout_ms; a little more
                future.get(timeout=self.timeout + 5.0)
            except Exception as exc:
                error = self._unavailable(exc, "")
                if isinstance(error, SinkUnavailable):
                    self._drop_producer()
                raise error from exc

    def check(self) -> str:
        """Ask the cluster about the topic; one line per fact, for ``edge-agent doctor``.

        Raises :class:`SinkUnavailable` if no broker answers in time and
        :class:`SinkRejected` if the topic is refused (authorisation, bad name).
        """
        with self._lock:
            if self._closed:
                raise SinkUnavailable("kafka sink is closed")
            self._client_log.forget()
            timeout_ms = max(1, int(self.timeout * 1000))
            try:
                admin = _built(
                    KafkaAdminClient,
                    bootstrap_servers=self._config["bootstrap_servers"],
                    client_id=self._config["client_id"],
                    request_timeout_ms=timeout_ms,
                    bootstrap_timeout_ms=timeout_ms,
                    reconnect_backoff_max_ms=2000,
                )
                try:
                    cluster = admin.describe_cluster()
                    topics = admin.describe_topics([self.topic])
                finally:
                    admin.close()
            except Exception as exc:
                raise self._unavailable(exc, f"describing topic {self.topic}") from exc
        brokers = ", ".join(
            f"{b['broker_id']}@{b['host']}:{b['port']}" for b in cluster.get("brokers", [])
        )
        lines = [
            f"bootstrap {self.bootstrap}: cluster {cluster.get('cluster_id') or '?'}, "
            f"controller {cluster.get('controller_id')}, brokers {brokers or 'none'}"
        ]
        topic = next((t for t in topics if t.get("name", t.get("topic")) == self.topic), None)
        if topic is None:
            raise SinkUnavailable(f"kafka: no metadata for topic {self.topic}")
        if topic.get("error_code"):
            raise sink_error(kerr.for_code(topic["error_code"])(), f"topic {self.topic}")
        partitions = sorted(topic.get("partitions", []), key=lambda p: p["partition_index"])
        lines.append(f"topic {self.topic}: {len(partitions)} partition(s)")
        for p in partitions:
            code = p.get("error_code")
            problem = f", error {error_name(kerr.for_code(code)())}" if code else ""
            lines.append(
                f"  partition {p['partition_index']}: leader {p['leader_id']}, "
                f"replicas {list(p['replica_nodes'])}, in sync {list(p['isr_nodes'])}{problem}"
            )
        return "\n".join(lines)

    def close(self) -> None:
        """Close the producer; idempotent. Nothing is pending: every send waited."""
        with self._lock:
            self._closed = True
            self._drop_producer()
            logging.getLogger("kafka").removeHandler(self._client_log)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
