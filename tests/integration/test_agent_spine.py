"""The edge agent against real peers: the core simulator (HTTP) and ActiveMQ (STOMP)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core_sim.server import CoreSimulator
from shared.model import ItemStatus, TicketStatus
from tests.helpers.activemq import ActiveMQ
from tests.helpers.fixtures import Site
from tests.helpers.site import wait_until

pytestmark = pytest.mark.broker


def _order(site: Site, **overrides: object) -> dict[str, Any]:
    return site.sim.create_order(site.site_id, **overrides)


def _events(site: Site, order_id: str, kind: str = "status") -> list[tuple[str, str | None]]:
    return [(kind, e.get("status")) for e in site.sim.events(order_id) if e.get("type") == kind]


def test_order_flows_to_topic_and_core_hears_accepted(site: Site) -> None:
    with site.peer() as peer:
        order = _order(site)
        update = peer.latest(order["id"])
        ticket = update.ticket
        assert ticket.status is TicketStatus.ACCEPTED
        assert ticket.display_number == order["display_number"]
        assert [i.line_id for i in ticket.items] == [i["line_id"] for i in order["items"]]
        # the phone number never reaches the displays
        assert "phone" not in json.dumps(update.model_dump(mode="json"))
        wait_until(lambda: ("status", "accepted") in _events(site, order["id"]))


def test_bumps_at_every_station_then_expo_make_ready_exactly_once(site: Site) -> None:
    with site.peer() as peer:
        order = _order(site)
        ticket = peer.latest(order["id"]).ticket
        for station in ticket.stations():
            result = peer.call("bump", station=station, ticket_id=ticket.id)
            assert result.ok, result
        bumped = peer.latest(order["id"]).ticket
        assert all(i.status is ItemStatus.DONE for i in bumped.items)
        assert bumped.status is TicketStatus.IN_PROGRESS

        expo = peer.send("bump", station="expo", ticket_id=ticket.id)
        assert peer.result(expo).ok
        # the same command again: same answer, no second effect
        peer.send("bump", station="expo", ticket_id=ticket.id, command_id=expo)
        wait_until(lambda: peer.latest(order["id"]).ticket.status is TicketStatus.READY)
        wait_until(lambda: ("status", "ready") in _events(site, order["id"]))
        # a different bump at expo is refused (the ticket is ready already)
        again = peer.call("bump", station="expo", ticket_id=ticket.id)
        assert not again.ok and again.error == "invalid_transition"
        snapshot_seq = peer.call("snapshot").seq
        assert snapshot_seq is not None
        wait_until(lambda: peer.seqs() and peer.seqs()[-1] == snapshot_seq)
        assert _events(site, order["id"]).count(("status", "ready")) == 1
        readies = [
            u for u in peer.updates_for(order["id"]) if u.ticket.status is TicketStatus.READY
        ]
        assert len(readies) == 1


def test_refusals_carry_the_protocol_error_codes(site: Site) -> None:
    with site.peer() as peer:
        order = _order(site)
        ticket = peer.latest(order["id"]).ticket
        assert peer.call("bump", station="grill", ticket_id="ord_nope").error == "unknown_ticket"
        assert peer.call("item_done", ticket_id=ticket.id, line_id="nope").error == "unknown_line"
        assert peer.call("picked_up", ticket_id=ticket.id).error == "invalid_transition"
        # a frame that is not a valid command but carries a command_id gets bad_request
        peer.send_raw(
            json.dumps(
                {"v": 1, "type": "bump", "site_id": site.site_id, "command_id": "cmd-bad-1"}
            ).encode()
        )
        assert peer.result("cmd-bad-1").error == "bad_request"
        peer.send_raw(json.dumps({"v": 9, "type": "bump", "command_id": "cmd-v9"}).encode())
        assert peer.result("cmd-v9").error == "unsupported_version"
        # junk without an id is dead-lettered locally and the agent keeps working
        peer.send_raw(b"\xff\xfe not json")
        assert peer.call(
            "start",
            station="grill" if "grill" in ticket.stations() else ticket.stations()[0],
            ticket_id=ticket.id,
        ).ok
        assert site.agent is not None
        assert any("not UTF-8" in d["error"] for d in site.agent.store.dead_letters())


def test_snapshot_has_every_open_ticket_and_current_seq(site: Site) -> None:
    with site.peer() as peer:
        ids = [_order(site)["id"] for _ in range(5)]
        wait_until(lambda: all(peer.updates_for(i) for i in ids))
        result = peer.call("snapshot")
        assert result.ok and result.tickets is not None
        assert {t.id for t in result.tickets} >= set(ids)
        assert result.seq == max(peer.seqs())


def test_malformed_order_is_quarantined_and_feed_goes_on(
    site: Site, caplog: pytest.LogCaptureFixture
) -> None:
    with site.peer() as peer:
        site.sim.push_raw(site.site_id, {"id": "ord_BAD", "version": 1, "items": "nope"})
        good = _order(site)
        peer.latest(good["id"])
        assert site.agent is not None
        bad = site.agent.store.quarantined()
        assert [q["order_id"] for q in bad] == ["ord_BAD"]
        assert bad[0]["field"]
    assert any("quarantined order ord_BAD" in r.getMessage() for r in caplog.records)


def test_core_edits_and_cancellations_reach_the_screens(site: Site) -> None:
    with site.peer() as peer:
        order = _order(site)
        peer.latest(order["id"])
        site.sim.set_rush(order["id"])
        wait_until(lambda: peer.latest(order["id"]).ticket.priority.value == "rush")
        site.sim.cancel_order(order["id"])
        wait_until(lambda: peer.latest(order["id"]).ticket.status is TicketStatus.CANCELLED)
        refused = peer.call("bump", station="expo", ticket_id=order["id"])
        assert refused.error == "invalid_transition"


def test_core_outage_delays_events_but_loses_none(site: Site) -> None:
    with site.peer() as peer:
        order = _order(site)
        ticket = peer.latest(order["id"]).ticket
        wait_until(lambda: ("status", "accepted") in _events(site, order["id"]))
        site.sim.inject_fault("error503", count=3, retry_after=0.2)
        site.sim.inject_fault("error500", count=2)
        result = peer.call("start", station=ticket.stations()[0], ticket_id=ticket.id)
        assert result.ok
        wait_until(lambda: ("status", "in_progress") in _events(site, order["id"]), timeout=30)
        assert _events(site, order["id"]).count(("status", "in_progress")) == 1


def test_expired_cursor_resyncs_from_open_orders(site: Site) -> None:
    with site.peer() as peer:
        first = _order(site)
        peer.latest(first["id"])
        site.sim.inject_fault("expire_cursor")
        second = _order(site)
        peer.latest(second["id"])
        assert site.agent is not None
        wait_until(lambda: site.agent is not None and site.agent.feed.connected)
        # nothing duplicated by the resync
        assert len([u for u in peer.updates_for(first["id"])]) == 1


def test_agent_reconnects_after_broker_restart(
    core_sim: CoreSimulator, site_id: str, activemq_broker: ActiveMQ, tmp_path: Path
) -> None:
    from tests.helpers.fixtures import make_site

    site = make_site(core_sim, site_id, activemq_broker.url, tmp_path)
    site.start_agent()
    try:
        with site.peer() as peer:
            first = _order(site)
            peer.latest(first["id"])
            activemq_broker.stop()
            second = _order(site)
            # stored and waiting in the outbox while the broker is down
            agent = site.agent
            assert agent is not None
            wait_until(lambda: agent.store.ticket_json(second["id"]))
            activemq_broker.start()
            wait_until(lambda: peer.client.connected and agent.relay.connected, timeout=30)
            # a screen that reconnects catches up by snapshot
            snapshot = peer.call("snapshot")
            assert snapshot.tickets is not None
            assert {first["id"], second["id"]} <= {t.id for t in snapshot.tickets}
            third = _order(site)
            update = peer.latest(third["id"])
            assert snapshot.seq is not None and update.seq == snapshot.seq + 1
    finally:
        site.stop_agent()


def test_repeated_availability_command_calls_core_once(site: Site) -> None:
    with site.peer() as peer:
        sku = site.sim.create_order(site.site_id)["items"][0]["sku"]
        cid = peer.send("set_availability", sku=sku, available=False)
        assert peer.result(cid).ok
        peer.send("set_availability", sku=sku, available=False, command_id=cid)
        assert site.agent is not None

        def availability_calls() -> int:
            assert site.agent is not None
            return sum(1 for r in site.agent.store.outbox_rows() if r["kind"] == "availability")

        def flags() -> list[bool]:
            assert site.agent is not None
            menu = site.agent.core.menu()
            return [i["available"] for b in menu["brands"] for i in b["items"] if i["sku"] == sku]

        wait_until(lambda: availability_calls() == 1)
        wait_until(lambda: flags() and not any(flags()))


def test_independent_client_with_temp_queue_reply_to(site: Site) -> None:
    """A client written from the protocol text alone: raw stomp.py, /temp-queue reply-to."""
    import threading

    import stomp

    from shared.mq import MqUrl

    url = MqUrl.parse(site.mq_url)
    results: list[dict[str, Any]] = []
    got = threading.Event()

    class Listener(stomp.ConnectionListener):  # type: ignore[misc]  # stomp.py is untyped
        def on_message(self, frame: stomp.utils.Frame) -> None:
            body = json.loads(frame.body)
            if body.get("type") == "command.result":
                results.append(body)
                got.set()

    conn = stomp.Connection12([(url.host, url.port)], heartbeats=(0, 0))
    conn.set_listener("l", Listener())
    conn.connect(wait=True)
    try:
        conn.subscribe("/temp-queue/answers", id="answers", ack="auto")
        with site.peer() as peer:
            order = _order(site)
            peer.latest(order["id"])
        conn.send(
            f"/queue/kds.{site.site_id}.commands",
            json.dumps(
                {"v": 1, "type": "snapshot", "site_id": site.site_id, "command_id": "indep-1"}
            ),
            content_type="application/json",
            headers={"reply-to": "/temp-queue/answers", "persistent": "true"},
        )
        assert got.wait(15), "no answer on the temp queue"
        assert results[0]["command_id"] == "indep-1" and results[0]["ok"] is True
        assert order["id"] in {t["id"] for t in results[0]["tickets"]}
        assert all("phone" not in t.get("customer", {}) for t in results[0]["tickets"])
    finally:
        conn.disconnect()
