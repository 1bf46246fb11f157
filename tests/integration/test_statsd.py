"""StatsdMetrics against a real UDP socket: what a DogStatsD agent would receive."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from edge_agent.adapters.statsd import StatsdMetrics
from edge_agent.ports import Metrics, NoMetrics
from tests.helpers.udp_listener import UdpListener, parse_line

SITE_TAGS = {"site": "ams-01", "station": "grill"}
CALL_TAGS = {"brand": "burger-bros", "channel": "ubereats"}
MERGED = {**SITE_TAGS, **CALL_TAGS}


@pytest.fixture
def udp() -> Iterator[UdpListener]:
    with UdpListener() as listener:
        yield listener


@pytest.fixture(autouse=True)
def _no_dd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # The client adds these to every metric; the tests want only their own tags.
    for var in ("DATADOG_TAGS", "DD_ENV", "DD_SERVICE", "DD_VERSION", "DD_ENTITY_ID"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize(
    ("method", "value", "name", "kind"),
    [
        ("increment", 3, "kds.tickets.received", "c"),
        ("gauge", 7, "kds.outbox.depth", "g"),
        ("histogram", 312.5, "kds.ticket.time_to_ready", "h"),
    ],
)
def test_each_method_arrives_with_namespace_and_merged_tags(
    udp: UdpListener, method: str, value: float, name: str, kind: str
) -> None:
    with StatsdMetrics("127.0.0.1", udp.port, constant_tags=SITE_TAGS) as metrics:
        getattr(metrics, method)(name.removeprefix("kds."), value, tags=CALL_TAGS)
        [record] = udp.wait_for(1)
    assert record.name == name
    assert record.type == kind
    assert record.value == value
    assert record.tags == MERGED
    assert record.sample_rate == 1.0


def test_increment_defaults_to_one_and_tags_are_optional(udp: UdpListener) -> None:
    with StatsdMetrics("127.0.0.1", udp.port, namespace="x", constant_tags=SITE_TAGS) as m:
        m.increment("print.failures")
        m.gauge("connection.broker", 0)
        first, second = udp.wait_for(2)
    assert (first.name, first.value, first.type, first.tags) == (
        "x.print.failures",
        1,
        "c",
        SITE_TAGS,
    )
    assert (second.name, second.value, second.type) == ("x.connection.broker", 0, "g")


def test_every_call_is_sent_at_once_without_close(udp: UdpListener) -> None:
    metrics = StatsdMetrics("127.0.0.1", udp.port)
    try:
        for i in range(20):
            metrics.gauge("outbox.depth", i, tags={"channel": "mq"})
        records = udp.wait_for(20)
        assert [r.value for r in records] == list(range(20))
        assert {r.raw for r in records} >= {"kds.outbox.depth:19|g|#channel:mq"}
    finally:
        metrics.close()


def test_no_background_threads(udp: UdpListener) -> None:
    before = set(threading.enumerate())
    with StatsdMetrics("127.0.0.1", udp.port) as metrics:
        metrics.increment("tickets.ready")
        udp.wait_for(1)
        assert set(threading.enumerate()) == before


def test_nobody_listening_never_raises_and_logs_at_most_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    caplog.set_level(logging.DEBUG)
    with StatsdMetrics("127.0.0.1", closed_port) as metrics:
        for _ in range(50):  # ICMP port unreachable makes every other send fail
            metrics.increment("tickets.received")
            metrics.gauge("outbox.depth", 1)
            metrics.histogram("ticket.time_to_ready", 1.0)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) <= 1, [r.getMessage() for r in warnings]


def test_a_failing_client_is_swallowed_and_rate_limited(
    udp: UdpListener, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = StatsdMetrics("127.0.0.1", udp.port)

    class Broken:
        def increment(self, *args: object, **kwargs: object) -> None:
            raise RuntimeError("boom")

        def flush(self) -> None:
            raise RuntimeError("boom")

        def close_socket(self) -> None:
            raise RuntimeError("boom")

    real = metrics._client
    metrics._client = Broken()
    try:
        with caplog.at_level(logging.WARNING, logger="edge.statsd"):
            for _ in range(10):
                metrics.increment("tickets.received")
            metrics.close()
        messages = [r.getMessage() for r in caplog.records if r.name == "edge.statsd"]
        assert len(messages) == 1
        assert "increment tickets.received: boom" in messages[0]
    finally:
        real.close_socket()


def test_calls_after_close_are_ignored(udp: UdpListener) -> None:
    metrics = StatsdMetrics("127.0.0.1", udp.port)
    metrics.increment("tickets.late")
    udp.wait_for(1)
    metrics.close()
    metrics.close()
    metrics.increment("tickets.late")  # no error, nothing sent
    assert len(udp.records) == 1


def test_statsd_and_no_metrics_have_the_metrics_port() -> None:
    port = {n for n in dir(Metrics) if not n.startswith("_")}
    assert port == {"increment", "gauge", "histogram", "close"}
    assert port <= {n for n in dir(StatsdMetrics) if not n.startswith("_")}
    assert port <= {n for n in dir(NoMetrics) if not n.startswith("_")}
    metrics = NoMetrics()
    metrics.increment("a")
    metrics.increment("a", 2, tags={"k": "v"})
    metrics.gauge("b", 1, tags=None)
    metrics.histogram("c", 1.5)
    metrics.close()


def test_parse_line() -> None:
    record = parse_line("kds.tickets.late:2|c|@0.5|#site:a,brand:b|c:ci-1")
    assert (record.name, record.value, record.type, record.sample_rate) == (
        "kds.tickets.late",
        2,
        "c",
        0.5,
    )
    assert record.tags == {"site": "a", "brand": "b"}
    with pytest.raises(ValueError):
        parse_line("garbage")
