"""Smoke test: the real ActiveMQ broker speaks STOMP 1.2 the way ghost-kds needs."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
import stomp
from stomp.utils import Frame

from tests.helpers.activemq import ActiveMQ

pytestmark = pytest.mark.broker

WAIT = 10.0  # seconds; generous for a loaded CI machine


class Collector(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    """Collects MESSAGE frames; ``wait_for(n)`` blocks until n arrived."""

    def __init__(self) -> None:
        self.frames: list[Frame] = []
        self._cond = threading.Condition()

    def on_message(self, frame: Frame) -> None:
        with self._cond:
            self.frames.append(frame)
            self._cond.notify_all()

    def wait_for(self, count: int, timeout: float = WAIT) -> list[Frame]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.frames) >= count, timeout):
                raise AssertionError(f"got {len(self.frames)} of {count} messages in {timeout}s")
            return list(self.frames)

    def bodies(self) -> list[str]:
        with self._cond:
            return [f.body for f in self.frames]


class ReceiptWaiter(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
    def __init__(self) -> None:
        self._events: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def event(self, receipt: str) -> threading.Event:
        with self._lock:
            return self._events.setdefault(receipt, threading.Event())

    def on_receipt(self, frame: Frame) -> None:
        self.event(frame.headers["receipt-id"]).set()


def _connect(url: str) -> tuple[stomp.Connection12, Collector, ReceiptWaiter]:
    parsed = urlparse(url)
    assert parsed.hostname is not None and parsed.port is not None
    conn = stomp.Connection12([(parsed.hostname, parsed.port)], heartbeats=(0, 0))
    collector, receipts = Collector(), ReceiptWaiter()
    conn.set_listener("collector", collector)
    conn.set_listener("receipts", receipts)
    conn.connect(wait=True)
    return conn, collector, receipts


def _sync(conn: stomp.Connection12, receipts: ReceiptWaiter) -> None:
    """Round-trip a receipt so every frame sent so far was processed by the broker."""
    receipt = f"sync-{uuid.uuid4().hex}"
    event = receipts.event(receipt)
    conn.send_frame("SEND", {"destination": "/topic/kds.smoke.sync", "receipt": receipt}, "")
    assert event.wait(WAIT), "no RECEIPT from broker"


def _close(conn: stomp.Connection12) -> None:
    if conn.is_connected():
        conn.disconnect(receipt=f"bye-{uuid.uuid4().hex}")


@pytest.fixture
def names() -> Iterator[tuple[str, str]]:
    tag = uuid.uuid4().hex
    yield f"/topic/kds.smoke.{tag}", f"/queue/kds.smoke.{tag}"


def test_topic_and_queue_roundtrip(activemq_url: str, names: tuple[str, str]) -> None:
    topic, queue = names
    conn, collector, receipts = _connect(activemq_url)
    try:
        conn.subscribe(topic, id="t", ack="client-individual")
        conn.subscribe(queue, id="q", ack="client-individual")
        _sync(conn, receipts)  # subscriptions are in place before we publish

        conn.send(topic, "to-topic", headers={"persistent": "true"})
        conn.send(queue, "to-queue", headers={"persistent": "true"})
        frames = collector.wait_for(2)

        by_dest = {f.headers["destination"]: f for f in frames}
        assert by_dest[topic].body == "to-topic"
        assert by_dest[queue].body == "to-queue"
        assert by_dest[queue].headers["persistent"] == "true"
        for frame in frames:
            conn.ack(frame.headers["ack"])
        _sync(conn, receipts)
    finally:
        _close(conn)


def test_client_individual_ack(activemq_url: str, names: tuple[str, str]) -> None:
    """Acking one message of two leaves only the other one for redelivery."""
    _, queue = names
    conn, collector, receipts = _connect(activemq_url)
    try:
        conn.subscribe(queue, id="q", ack="client-individual")
        _sync(conn, receipts)
        conn.send(queue, "first", headers={"persistent": "true"})
        conn.send(queue, "second", headers={"persistent": "true"})
        frames = collector.wait_for(2)
        assert [f.body for f in frames] == ["first", "second"]

        second = next(f for f in frames if f.body == "second")
        conn.ack(second.headers["ack"])  # individual: does NOT ack "first"
        _sync(conn, receipts)
    finally:
        _close(conn)

    # A new consumer gets back only the unacknowledged message.
    conn, collector, receipts = _connect(activemq_url)
    try:
        conn.subscribe(queue, id="q2", ack="client-individual")
        frames = collector.wait_for(1)
        assert frames[0].body == "first"
        assert frames[0].headers.get("redelivered") == "true"
        conn.ack(frames[0].headers["ack"])
        _sync(conn, receipts)
        assert collector.bodies() == ["first"]
    finally:
        _close(conn)


def test_persistent_message_survives_restart(activemq_broker: ActiveMQ) -> None:
    queue = f"/queue/kds.smoke.restart.{uuid.uuid4().hex}"
    conn, _, receipts = _connect(activemq_broker.url)
    try:
        conn.send(queue, "kept", headers={"persistent": "true"})
        _sync(conn, receipts)
    finally:
        _close(conn)

    activemq_broker.restart()

    conn, collector, receipts = _connect(activemq_broker.url)
    try:
        conn.subscribe(queue, id="q", ack="client-individual")
        frames = collector.wait_for(1)
        assert frames[0].body == "kept"
        conn.ack(frames[0].headers["ack"])
        _sync(conn, receipts)
    finally:
        _close(conn)
