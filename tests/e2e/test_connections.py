"""The kitchen's connections end to end: an order from the core to a bump at expo
prints at its stations, texts the customer exactly once (moto's SNS server), sends
metrics (a DogStatsD UDP socket) and lifecycle events (a Kafka-protocol broker) —
all through the agent's outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from shared.model import TicketStatus
from tests.helpers.fixtures import Site, make_site
from tests.helpers.kafka_broker import KafkaBroker, consume_all
from tests.helpers.moto_server import MotoSns
from tests.helpers.site import line_item, wait_until
from tests.helpers.socket_printer import SocketPrinter
from tests.helpers.udp_listener import UdpListener

pytestmark = [pytest.mark.broker, pytest.mark.slow]

PHONE = "+31612345678"


@pytest.fixture
def printers() -> Iterator[dict[str, SocketPrinter]]:
    made = {name: SocketPrinter() for name in ("grill", "fry", "expo")}
    yield made
    for printer in made.values():
        printer.close()


@pytest.fixture
def statsd() -> Iterator[UdpListener]:
    with UdpListener() as listener:
        yield listener


@pytest.fixture
def connected_site(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    printers: dict[str, SocketPrinter],
    moto_sns: MotoSns,
    statsd: UdpListener,
    kafka_broker: KafkaBroker,
) -> Iterator[tuple[Site, str]]:
    topic = moto_sns.create_topic(f"pickups-{site_id}")
    secrets = {
        "KDS_SNS_AWS_ACCESS_KEY_ID": moto_sns.access_key,
        "KDS_SNS_AWS_SECRET_ACCESS_KEY": moto_sns.secret_key,
    }
    extra = f"""
[printers.grill]
url = "{printers["grill"].url}"
print_on = ["new"]

[printers.fry]
url = "{printers["fry"].url}"
print_on = ["new"]

[printers.expo]
url = "{printers["expo"].url}"
print_on = []
labels = true

[sns]
endpoint_url = "{moto_sns.url}"
region = "{moto_sns.region}"
topic_arn = "{topic}"
sms = true

[statsd]
host = "127.0.0.1"
port = {statsd.port}

[kafka]
bootstrap = "{kafka_broker.bootstrap}"
topic = "kds.lifecycle"
"""
    site = make_site(core_sim, site_id, activemq_url, tmp_path, env=secrets, extra=extra)
    site.start_agent()
    try:
        yield site, topic
    finally:
        site.stop_agent()


def test_order_to_expo_bump_prints_texts_once_and_sends_metrics(
    connected_site: tuple[Site, str],
    printers: dict[str, SocketPrinter],
    moto_sns: MotoSns,
    statsd: UdpListener,
    kafka_broker: KafkaBroker,
) -> None:
    site, topic = connected_site
    with site.peer() as peer:
        order = site.sim.create_order(
            site.site_id,
            customer={"name": "Sam Jones", "phone": PHONE, "notify": True},
            items=[
                line_item(
                    "l1",
                    "Classic Burger",
                    "grill",
                    allergens=["gluten", "milk"],
                    modifiers=[{"name": "No onions", "qty": 1}],
                ),
                line_item("l2", "Fries", "fry"),
            ],
        )
        ticket = peer.latest(order["id"]).ticket

        # new order: a kitchen ticket at each of its stations, nothing at expo yet
        [grill_job] = printers["grill"].wait_for_jobs(1, timeout=15)
        [fry_job] = printers["fry"].wait_for_jobs(1, timeout=15)
        assert "Classic Burger" in grill_job.text and "Fries" not in grill_job.text
        assert "No onions" in grill_job.text
        assert any("GLUTEN" in t.upper() for t in grill_job.inverted_texts)
        assert order["display_number"] in grill_job.text and grill_job.cut
        assert "Fries" in fry_job.text and "Classic Burger" not in fry_job.text
        assert printers["expo"].jobs == []

        for station in ("grill", "fry"):
            assert peer.call("bump", station=station, ticket_id=ticket.id).ok
        bump = peer.send("bump", station="expo", ticket_id=ticket.id)
        assert peer.result(bump).ok
        peer.send("bump", station="expo", ticket_id=ticket.id, command_id=bump)  # a repeat
        wait_until(lambda: peer.latest(order["id"]).ticket.status is TicketStatus.READY)

        # ready: exactly one text to the customer, one courier notification, one label
        wait_until(lambda: moto_sns.sms_messages(), timeout=20)
        [label] = printers["expo"].wait_for_jobs(1, timeout=15)
        assert "Sam" in label.text and "Jones" not in label.text
        assert label.qr_data == [order["id"]]
        [note] = wait_until(lambda: moto_sns.topic_notifications(topic), timeout=20)
        assert note.attributes["order_id"] == order["id"]
        assert note.attributes["kind"] == "ready"
        assert note.attributes["site"] == site.site_id

        # a recall and a second expo bump: ready again, but no second text or label
        assert peer.call("recall", station="expo", ticket_id=ticket.id).ok
        assert peer.call("bump", station="expo", ticket_id=ticket.id).ok
        marker = peer.call("snapshot")
        assert marker.ok
        assert site.agent is not None
        wait_until(
            lambda: (
                site.agent is not None
                and not site.agent.store.outbox_depths().get("notify", (0, None))[0]
                and not site.agent.store.outbox_depths().get("print", (0, None))[0]
            ),
            timeout=20,
        )
        sms = moto_sns.sms_messages()
        assert len(sms) == 1
        assert sms[0]["phone_number"] == PHONE
        expected = f"Your {order['brand']['name']} order {order['display_number']} is ready"
        assert sms[0]["message"].startswith(expected)
        assert len(moto_sns.topic_notifications(topic)) == 1
        assert len(printers["expo"].jobs) == 1
        assert len(printers["grill"].jobs) == 1

    # metrics arrived with their tags
    received = wait_until(lambda: statsd.by_name("kds.tickets.received"), timeout=10)
    assert received[0].tags["site"] == site.site_id
    assert received[0].tags["brand"] == order["brand"]["id"]
    ready = wait_until(lambda: statsd.by_name("kds.tickets.ready"), timeout=10)
    assert ready[0].tags["channel"] == order["channel"]
    assert wait_until(lambda: statsd.by_name("kds.ticket.time_to_ready"), timeout=10)
    assert wait_until(lambda: statsd.by_name("kds.outbox.depth"), timeout=15)
    gauges = wait_until(lambda: statsd.by_name("kds.connection.broker"), timeout=15)
    assert gauges[-1].value == 1

    # the reporting pipeline got each step once, keyed by the order id
    steps = [
        "received",
        "started",
        "station_bumped",
        "station_bumped",
        "ready",
        "recalled",
        "ready",
    ]
    messages = consume_all(kafka_broker.bootstrap, "kds.lifecycle", len(steps), timeout=20)
    events = [json.loads(m.value()) for m in messages]
    assert [e["type"] for e in events] == steps
    assert {m.key().decode() for m in messages} == {order["id"]}
    assert len({e["event_id"] for e in events}) == len(events)
    headers = dict(messages[0].headers() or [])
    assert headers["event_id"].decode() == events[0]["event_id"]
    assert events[4]["station"] == "expo" and events[4]["seconds_since_received"] > 0
