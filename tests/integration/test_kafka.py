"""KafkaSink against a real Kafka-compatible broker (tansu), plus its error table.

The broker tests consume back with another client library than the sink's
(confluent-kafka, librdkafka: an independent reader), assigning partitions
directly: a consumer group join takes ~20 s on tansu and is not what is under test.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

import pytest
from kafka import errors as kerr

from edge_agent.adapters import kafka as kafka_adapter
from edge_agent.adapters.kafka import REJECTED, KafkaSink, sink_error
from edge_agent.errors import PermanentError, RetryableError, SinkRejected, SinkUnavailable
from tests.helpers.kafka_broker import TANSU_SHA256, BrokerError, KafkaBroker, consume_all


def _event(order_id: str, kind: str = "ready") -> tuple[str, bytes, dict[str, str]]:
    event_id = str(uuid.uuid4())
    body = {
        "v": 1,
        "event_id": event_id,
        "type": kind,
        "order_id": order_id,
        "site_id": "ams-01",
        "brand": "burger-bros",
        "channel": "ubereats",
        "station": "",
        "at": "2026-11-24T12:00:00Z",
        "seconds_since_received": 312.5,
    }
    headers = {"event_id": event_id, "type": kind, "content-type": "application/json"}
    return order_id, json.dumps(body).encode(), headers


# --- against the broker ---------------------------------------------------------------


def test_send_is_consumed_back_with_key_value_and_headers(kafka_broker: KafkaBroker) -> None:
    topic = f"kds.lifecycle.{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, partitions=1)
    key, value, headers = _event("order-123")
    with KafkaSink(kafka_broker.bootstrap, topic, timeout=5) as sink:
        sink.send(key, value, headers)
        report = sink.check()
    [msg] = consume_all(kafka_broker.bootstrap, topic, 1)
    assert msg.key() == b"order-123"
    assert json.loads(msg.value()) == json.loads(value)
    got_headers = {k: v.decode() for k, v in msg.headers()}
    assert got_headers == headers
    assert got_headers["event_id"] == json.loads(value)["event_id"]
    assert f"topic {topic}: 1 partition(s)" in report
    assert kafka_broker.bootstrap in report


def test_same_order_keeps_its_partition_and_order(kafka_broker: KafkaBroker) -> None:
    topic = f"kds.lifecycle.{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, partitions=3)
    kinds = ["received", "started", "station_bumped", "ready", "picked_up"]
    with KafkaSink(kafka_broker.bootstrap, topic, timeout=5) as sink:
        for kind in kinds:
            sink.send(*_event("order-7", kind))
    messages = consume_all(kafka_broker.bootstrap, topic, len(kinds))
    assert [json.loads(m.value())["type"] for m in messages] == kinds
    assert len({m.partition() for m in messages}) == 1


def test_broker_down_is_unavailable_then_delivered_once_after_restart(
    kafka_broker: KafkaBroker,
) -> None:
    topic = f"kds.lifecycle.{uuid.uuid4().hex[:8]}"
    with KafkaSink(kafka_broker.bootstrap, topic, timeout=2) as sink:
        sink.send(*_event("order-1", "received"))  # a live producer, then the broker goes
        kafka_broker.stop()
        event = _event("order-1", "ready")
        started = time.monotonic()
        with pytest.raises(SinkUnavailable) as caught:
            sink.send(*event)
        assert time.monotonic() - started < 2 + 6
        assert isinstance(caught.value, RetryableError)
        assert "ECONNREFUSED" in str(caught.value)
        with pytest.raises(SinkUnavailable):
            sink.check()

        kafka_broker.restart()  # memory-only: it forgot the topic and the producer id
        sink.send(*event)  # what the outbox does: the same event again
    messages = consume_all(kafka_broker.bootstrap, topic, 1)
    assert [json.loads(m.value())["event_id"] for m in messages] == [event[2]["event_id"]]


def test_broker_restarted_while_idle_the_outbox_retry_is_delivered_once(
    kafka_broker: KafkaBroker,
) -> None:
    # tansu (memory-only) forgets the idempotent producer's id on restart and answers
    # UNKNOWN_PRODUCER_ID until the message times out; a real Kafka keeps producer
    # state. Either way the event must arrive exactly once within a retry.
    topic = f"kds.lifecycle.{uuid.uuid4().hex[:8]}"
    event = _event("order-2", "picked_up")
    with KafkaSink(kafka_broker.bootstrap, topic, timeout=2) as sink:
        sink.send(*_event("order-2", "received"))
        kafka_broker.restart()
        attempts = 0
        while True:
            attempts += 1
            try:
                sink.send(*event)
                break
            except SinkUnavailable:
                assert attempts < 2
    messages = consume_all(kafka_broker.bootstrap, topic, 1)
    assert [json.loads(m.value())["event_id"] for m in messages] == [event[2]["event_id"]]


def test_message_too_large_is_rejected(kafka_broker: KafkaBroker) -> None:
    topic = f"kds.lifecycle.{uuid.uuid4().hex[:8]}"
    with KafkaSink(kafka_broker.bootstrap, topic, timeout=5) as sink:
        with pytest.raises(SinkRejected) as caught:
            sink.send("order-1", b"x" * 2_000_000, {"event_id": "e1"})
        assert isinstance(caught.value, PermanentError)
        assert "MESSAGE_SIZE_TOO_LARGE" in str(caught.value)
        sink.send(*_event("order-1"))  # the sink is still usable
    assert len(consume_all(kafka_broker.bootstrap, topic, 1)) == 1


def test_nobody_listening_is_unavailable() -> None:
    broker = KafkaBroker()  # never started: its port is free
    with (
        KafkaSink(broker.bootstrap, "t", timeout=1) as sink,
        pytest.raises(SinkUnavailable, match="ECONNREFUSED"),
    ):
        sink.send(*_event("order-1"))


def test_closed_sink_refuses(kafka_broker: KafkaBroker) -> None:
    sink = KafkaSink(kafka_broker.bootstrap, "t", timeout=2)
    sink.close()
    sink.close()
    with pytest.raises(SinkUnavailable, match="closed"):
        sink.send(*_event("order-1"))


def test_broker_helper_refuses_a_binary_that_does_not_match(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "tansu"
    fake.write_bytes(b"#!/bin/sh\nexit 0\n")
    fake.chmod(0o755)
    monkeypatch.setenv("KDS_TEST_TANSU_BIN", str(fake))
    broker = KafkaBroker()
    with pytest.raises(BrokerError, match="refusing to run"):
        broker.start()
    assert not broker.running
    assert len(TANSU_SHA256) == 64


# --- the error table (library boundary mocked: no broker) ------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (kerr.KafkaTimeoutError("batch expired"), SinkUnavailable),
        (kerr.KafkaConnectionError("refused"), SinkUnavailable),
        (kerr.RequestTimedOutError(), SinkUnavailable),
        (kerr.NotEnoughReplicasError(), SinkUnavailable),
        (kerr.LeaderNotAvailableError(), SinkUnavailable),
        (kerr.UnknownTopicOrPartitionError(), SinkUnavailable),
        (kerr.SaslAuthenticationFailedError(), SinkUnavailable),
        (kerr.UnknownProducerIdError(), SinkUnavailable),
        (kerr.OutOfOrderSequenceNumberError(), SinkUnavailable),
        (kerr.IllegalStateError("closed"), SinkUnavailable),
        (kerr.MessageSizeTooLargeError(), SinkRejected),
        (kerr.RecordListTooLargeError(), SinkRejected),
        (kerr.InvalidRecordError(), SinkRejected),
        (kerr.CorruptRecordError(), SinkRejected),
        (kerr.TopicAuthorizationFailedError(), SinkRejected),
        (kerr.ClusterAuthorizationFailedError(), SinkRejected),
        (kerr.InvalidTopicError(), SinkRejected),
        (kerr.PolicyViolationError(), SinkRejected),
        (TypeError("headers must be list-type"), SinkRejected),
    ],
)
def test_error_table(error: Exception, expected: type[Exception]) -> None:
    mapped = sink_error(error)
    assert type(mapped) is expected
    assert kafka_adapter.error_name(error) in str(mapped)


def test_error_names_are_the_protocols() -> None:
    assert kafka_adapter.error_name(kerr.MessageSizeTooLargeError()) == "MESSAGE_SIZE_TOO_LARGE"
    assert kafka_adapter.error_name(kerr.KafkaTimeoutError("x")) == "KafkaTimeoutError"
    assert all(isinstance(cls, type) for cls in REJECTED)


class FakeFuture:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome

    def get(self, timeout: float | None = None) -> None:
        if isinstance(self.outcome, BaseException):
            raise self.outcome


class FakeProducer:
    """Stands in for kafka.KafkaProducer: one scripted outcome per send."""

    instances: list[FakeProducer] = []
    #: an exception to raise from send(), ("report", exc) for the future, None for ok
    outcome: Any = None
    calls: list[dict[str, Any]] = []

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.closed = False
        FakeProducer.instances.append(self)

    def send(self, topic: str, **kwargs: Any) -> FakeFuture:
        FakeProducer.calls.append({"topic": topic, **kwargs})
        if isinstance(FakeProducer.outcome, BaseException):
            raise FakeProducer.outcome
        if isinstance(FakeProducer.outcome, tuple):
            return FakeFuture(FakeProducer.outcome[1])
        return FakeFuture(None)

    def close(self, timeout: float | None = None) -> None:
        self.closed = True


@pytest.fixture
def fake_producer(monkeypatch: pytest.MonkeyPatch) -> type[FakeProducer]:
    FakeProducer.instances = []
    FakeProducer.calls = []
    FakeProducer.outcome = None
    monkeypatch.setattr(kafka_adapter, "KafkaProducer", FakeProducer)
    return FakeProducer


def test_config_asks_for_acks_all_idempotence_and_the_timeout(
    fake_producer: type[FakeProducer],
) -> None:
    with KafkaSink("127.0.0.1:9", "t", client_id="edge-ams-01", timeout=2.5) as sink:
        sink.send("order-1", b"{}", {"event_id": "e1"})
    [producer] = fake_producer.instances
    assert producer.config["acks"] == "all"
    assert producer.config["enable_idempotence"] is True
    assert producer.config["delivery_timeout_ms"] == 2500
    assert producer.config["max_block_ms"] == 2500
    assert producer.config["client_id"] == "edge-ams-01"
    assert producer.config["bootstrap_servers"] == ["127.0.0.1:9"]
    assert producer.closed


def test_delivery_errors_map_and_a_failed_producer_is_replaced(
    fake_producer: type[FakeProducer],
) -> None:
    with KafkaSink("127.0.0.1:9", "t", timeout=1) as sink:
        fake_producer.outcome = ("report", kerr.TopicAuthorizationFailedError())
        with pytest.raises(SinkRejected, match="TOPIC_AUTHORIZATION_FAILED"):
            sink.send("o", b"{}", {})
        assert len(fake_producer.instances) == 1  # a rejection keeps the producer

        fake_producer.outcome = ("report", kerr.KafkaTimeoutError("Batch expired"))
        with pytest.raises(SinkUnavailable, match="KafkaTimeoutError: Batch expired"):
            sink.send("o", b"{}", {})
        assert fake_producer.instances[0].closed

        fake_producer.outcome = None
        sink.send("o", b"{}", {"event_id": "e"})
        assert len(fake_producer.instances) == 2


def test_send_time_errors_map(fake_producer: type[FakeProducer]) -> None:
    with KafkaSink("127.0.0.1:9", "t", timeout=1) as sink:
        fake_producer.outcome = kerr.KafkaTimeoutError("Failed to update metadata after 1.0 secs.")
        with pytest.raises(SinkUnavailable, match="Failed to update metadata"):
            sink.send("o", b"{}", {})
        fake_producer.outcome = kerr.MessageSizeTooLargeError("The message is 2000000 bytes")
        with pytest.raises(SinkRejected, match="MESSAGE_SIZE_TOO_LARGE"):
            sink.send("o", b"{}", {})


def test_the_clients_last_problem_is_quoted(fake_producer: type[FakeProducer]) -> None:
    with KafkaSink("127.0.0.1:9", "t", timeout=1) as sink:
        sink.send("o", b"{}", {})  # the producer exists: what it logs next is kept
        logging.getLogger("kafka.net.manager").error("Connection failed: [Errno 111] refused")
        fake_producer.outcome = ("report", kerr.KafkaTimeoutError("Batch expired"))
        with pytest.raises(
            SinkUnavailable, match=r"last client error: Connection failed: \[Errno 111\]"
        ):
            sink.send("o", b"{}", {})
    # closed: its handler is gone from kafka-python's logger
    assert not any(
        isinstance(h, kafka_adapter._ClientLog) for h in logging.getLogger("kafka").handlers
    )


def test_headers_and_key_are_encoded(fake_producer: type[FakeProducer]) -> None:
    with KafkaSink("127.0.0.1:9", "topic-x", timeout=1) as sink:
        sink.send("order-ü", b'{"a":1}', {"event_id": "e-1", "type": "ready"})
    [call] = fake_producer.calls
    assert call["topic"] == "topic-x"
    assert call["key"] == "order-ü".encode()
    assert call["value"] == b'{"a":1}'
    assert call["headers"] == [("event_id", b"e-1"), ("type", b"ready")]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="bootstrap"):
        KafkaSink("", "t")
    with pytest.raises(ValueError, match="topic"):
        KafkaSink("127.0.0.1:9", "")
