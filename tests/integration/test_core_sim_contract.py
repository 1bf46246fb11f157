"""Contract tests of the core simulator over real HTTP (httpx against a started server)."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from core_sim.server import CoreSimulator

TOKEN = "dev-token"
OTHER_TOKEN = "other-token"
SITE = "ams-01"
FEED = f"/api/v1/sites/{SITE}/orders"
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def sim() -> Iterator[CoreSimulator]:
    with CoreSimulator(sites={SITE: TOKEN, "rtm-02": OTHER_TOKEN}, seed=4) as simulator:
        yield simulator


@pytest.fixture
def client(sim: CoreSimulator) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=sim.url, headers=headers, timeout=10) as http:
        yield http


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll ``predicate`` until true or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def post_event(
    client: httpx.Client, order_id: str, key: str | None = None, **fields: Any
) -> httpx.Response:
    key = key or uuid.uuid4().hex
    body = {"event_id": key, "type": "status", "status": "ready", "at": "2026-11-24T18:14:03.210Z"}
    body.update(fields)
    return client.post(
        f"/api/v1/sites/{SITE}/orders/{order_id}/events",
        headers={"Idempotency-Key": key},
        json={k: v for k, v in body.items() if v is not None},
    )


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["error"] == code and isinstance(body["detail"], str)
    return body


# ------------------------------------------------------------------ auth, health
def test_health_needs_no_auth(sim: CoreSimulator) -> None:
    response = httpx.get(f"{sim.url}/api/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_missing_or_wrong_token_is_401(sim: CoreSimulator) -> None:
    assert_error(httpx.get(f"{sim.url}{FEED}"), 401, "unauthorized")
    wrong = httpx.get(f"{sim.url}{FEED}", headers={"Authorization": "Bearer nope"})
    assert_error(wrong, 401, "unauthorized")


def test_token_of_another_site_is_403(client: httpx.Client) -> None:
    assert_error(client.get("/api/v1/sites/rtm-02/orders"), 403, "forbidden")
    assert_error(client.get("/api/v1/sites/unknown/menu"), 403, "forbidden")


# -------------------------------------------------------------------------- feed
def test_feed_pages_oldest_first(sim: CoreSimulator, client: httpx.Client) -> None:
    created = [sim.create_order()["id"] for _ in range(130)]
    first = client.get(FEED).json()
    assert [o["id"] for o in first["orders"]] == created[:100]
    second = client.get(FEED, params={"cursor": first["cursor"]}).json()
    assert [o["id"] for o in second["orders"]] == created[100:]
    third = client.get(FEED, params={"cursor": second["cursor"], "wait": 0}).json()
    assert third["orders"] == []
    order = first["orders"][0]
    assert TIME_RE.match(order["placed_at"]) and TIME_RE.match(order["promised_at"])


def test_long_poll_returns_when_an_order_arrives(sim: CoreSimulator, client: httpx.Client) -> None:
    result: dict[str, Any] = {}

    def poll() -> None:
        result["response"] = client.get(FEED, params={"wait": 10})

    poller = threading.Thread(target=poll)
    started = time.monotonic()
    poller.start()
    wait_until(lambda: sim.waiting_polls == 1)
    order = sim.create_order()
    poller.join(5)
    assert not poller.is_alive() and time.monotonic() - started < 5
    assert [o["id"] for o in result["response"].json()["orders"]] == [order["id"]]


def test_long_poll_returns_empty_after_wait(client: httpx.Client) -> None:
    started = time.monotonic()
    body = client.get(FEED, params={"wait": 0.5}).json()
    assert body["orders"] == [] and time.monotonic() - started >= 0.45
    assert isinstance(body["cursor"], str)


@pytest.mark.parametrize("wait", ["31", "-1", "soon", "nan"])
def test_wait_out_of_range_is_400(client: httpx.Client, wait: str) -> None:
    assert_error(client.get(FEED, params={"wait": wait}), 400, "bad_wait")


def test_bad_cursor_is_400(sim: CoreSimulator, client: httpx.Client) -> None:
    assert_error(client.get(FEED, params={"cursor": "garbage!"}), 400, "bad_cursor")
    other = httpx.get(
        f"{sim.url}/api/v1/sites/rtm-02/orders", headers={"Authorization": f"Bearer {OTHER_TOKEN}"}
    ).json()["cursor"]
    assert_error(client.get(FEED, params={"cursor": other}), 400, "bad_cursor")


def test_expired_cursor_fault_is_410_once(sim: CoreSimulator, client: httpx.Client) -> None:
    cursor = client.get(FEED).json()["cursor"]
    sim.inject_fault("expire_cursor")
    assert_error(client.get(FEED, params={"cursor": cursor}), 410, "cursor_expired")
    assert client.get(FEED, params={"cursor": cursor}).status_code == 200


def test_cursors_expire_with_age() -> None:
    with (
        CoreSimulator(expire_cursors_after=0.05) as sim,
        httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http,
    ):
        cursor = http.get(FEED).json()["cursor"]
        wait_until(lambda: http.get(FEED, params={"cursor": cursor}).status_code == 410)


def test_core_changes_arrive_as_new_versions(sim: CoreSimulator, client: httpx.Client) -> None:
    order = sim.create_order()
    sim.set_rush(order["id"])
    sim.edit_order(order["id"], set_qty={"l1": 5}, add_items=[{"sku": "BB-CLASSIC"}])
    sim.cancel_order(order["id"])
    versions = client.get(FEED).json()["orders"]
    assert [(o["id"], o["version"]) for o in versions] == [(order["id"], v) for v in (1, 2, 3, 4)]
    assert versions[1]["priority"] == "rush"
    assert versions[2]["items"][0]["qty"] == 5 and versions[2]["items"][-1]["sku"] == "BB-CLASSIC"
    assert versions[3]["status"] == "cancelled"


def test_open_orders_and_resync_cursor(sim: CoreSimulator, client: httpx.Client) -> None:
    keep, cancelled, collected = (sim.create_order()["id"] for _ in range(3))
    sim.cancel_order(cancelled)
    assert post_event(client, collected, status="picked_up").status_code == 201
    body = client.get(f"{FEED}/open").json()
    assert [o["id"] for o in body["orders"]] == [keep]
    assert client.get(FEED, params={"cursor": body["cursor"]}).json()["orders"] == []
    new = sim.create_order()["id"]
    page = client.get(FEED, params={"cursor": body["cursor"]}).json()["orders"]
    assert [o["id"] for o in page] == [new]


# ------------------------------------------------------------------------ events
def test_status_event_is_accepted_without_a_feed_echo(
    sim: CoreSimulator, client: httpx.Client
) -> None:
    order_id = sim.create_order()["id"]
    cursor = client.get(FEED).json()["cursor"]
    response = post_event(client, order_id, status="in_progress", station="grill")
    assert response.status_code in (200, 201) and response.json() == {"accepted": True}
    assert sim.order(order_id)["status"] == "in_progress"
    assert sim.order(order_id)["version"] == 1
    assert client.get(FEED, params={"cursor": cursor}).json()["orders"] == []


def test_same_idempotency_key_records_once(sim: CoreSimulator, client: httpx.Client) -> None:
    order_id = sim.create_order()["id"]
    first = post_event(client, order_id, key="evt-42", status="ready")
    again = post_event(client, order_id, key="evt-42", status="ready")
    assert (first.status_code, first.json()) == (again.status_code, again.json())
    events = sim.events(order_id)
    assert len(events) == 1 and events[0]["idempotency_key"] == "evt-42"
    assert events[0]["status"] == "ready"


def test_a_request_cut_off_mid_body_is_not_answered_or_remembered(
    sim: CoreSimulator, client: httpx.Client
) -> None:
    # An agent killed while posting an event: the headers arrived, the body did not.
    # Its retry (same Idempotency-Key) must be handled, not answered with a stored 422.
    order_id = sim.create_order()["id"]
    key = "evt-cut"
    body = json.dumps(
        {"event_id": key, "type": "status", "status": "ready", "at": "2026-11-24T18:14:03.210Z"}
    ).encode()
    head = (
        f"POST /api/v1/sites/{SITE}/orders/{order_id}/events HTTP/1.1\r\n"
        f"Host: {sim.host}\r\nAuthorization: Bearer {TOKEN}\r\n"
        f"Idempotency-Key: {key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    before = sim.open_connections
    with socket.create_connection((sim.host, sim.port), timeout=5) as raw:
        raw.sendall(head + body[: len(body) // 2])
        wait_until(lambda: sim.open_connections == before + 1)
    wait_until(lambda: sim.open_connections == before)  # the server is done with it
    assert sim.events(order_id) == []
    retry = post_event(client, order_id, key=key, status="ready")
    assert retry.status_code == 201, retry.text
    assert "Idempotent-Replayed" not in retry.headers
    assert [e["idempotency_key"] for e in sim.events(order_id)] == [key]


def test_unknown_order_is_404(client: httpx.Client) -> None:
    assert_error(post_event(client, "ord_NOPE00000000"), 404, "not_found")


def test_ready_on_cancelled_order_is_409(sim: CoreSimulator, client: httpx.Client) -> None:
    order_id = sim.create_order()["id"]
    sim.cancel_order(order_id)
    assert_error(post_event(client, order_id, status="ready"), 409, "invalid_transition")
    assert sim.events(order_id) == []


def test_malformed_body_is_422_naming_the_field(sim: CoreSimulator, client: httpx.Client) -> None:
    order_id = sim.create_order()["id"]
    body = assert_error(post_event(client, order_id, status="done"), 422, "invalid_body")
    assert body["detail"].startswith("status")
    body = assert_error(
        post_event(client, order_id, type="item_status", line_id="l99", status="done"),
        422,
        "invalid_body",
    )
    assert body["detail"].startswith("line_id")


def test_item_status_and_unavailable_events(sim: CoreSimulator, client: httpx.Client) -> None:
    order = sim.create_order()
    line = order["items"][0]
    item = post_event(
        client, order["id"], type="item_status", line_id=line["line_id"], status="done"
    )
    gone = post_event(client, order["id"], type="unavailable", sku=line["sku"], status=None)
    assert item.status_code == gone.status_code == 201
    assert [e["type"] for e in sim.events(order["id"])] == ["item_status", "unavailable"]


def test_missing_idempotency_key_is_400(sim: CoreSimulator, client: httpx.Client) -> None:
    order_id = sim.create_order()["id"]
    response = client.post(f"/api/v1/sites/{SITE}/orders/{order_id}/events", json={})
    assert_error(response, 400, "missing_idempotency_key")


# -------------------------------------------------------------------------- menu
def test_menu_and_availability(client: httpx.Client) -> None:
    def fries() -> list[bool]:
        brands = client.get(f"/api/v1/sites/{SITE}/menu").json()["brands"]
        return [i["available"] for b in brands for i in b["items"] if i["sku"] == "SIDE-FRIES"]

    assert fries() == [True, True]
    url = f"/api/v1/sites/{SITE}/menu/items/SIDE-FRIES/availability"
    response = client.put(url, json={"available": False})
    assert response.status_code == 200 and len(response.json()["brands"]) == 2
    assert fries() == [False, False]
    client.put(url, json={"available": True})
    assert fries() == [True, True]
    assert_error(client.put(url, json={"available": "no"}), 422, "invalid_body")
    missing = client.put(f"/api/v1/sites/{SITE}/menu/items/NOPE/availability", json={})
    assert missing.status_code in (404, 422)


# ------------------------------------------------------------------------ faults
def test_duplicate_fault_repeats_delivered_orders(sim: CoreSimulator, client: httpx.Client) -> None:
    ids = [sim.create_order()["id"] for _ in range(3)]
    cursor = client.get(FEED).json()["cursor"]
    sim.inject_fault("duplicate")
    repeated = client.get(FEED, params={"cursor": cursor}).json()
    assert [o["id"] for o in repeated["orders"]] == ids
    assert client.get(FEED, params={"cursor": repeated["cursor"]}).json()["orders"] == []


def test_cut_off_fault_sends_half_the_promised_body_then_hangs_up(
    sim: CoreSimulator, client: httpx.Client
) -> None:
    sim.create_order()
    whole = client.get(FEED).json()["orders"]
    sim.inject_fault("cut_off", endpoint="feed")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(FEED)
    # the feed did not move: the retry gets the same orders, whole
    assert client.get(FEED).json()["orders"] == whole
    assert sim.faults.pending() == []


def test_error_faults(sim: CoreSimulator, client: httpx.Client) -> None:
    sim.inject_fault("error500")
    sim.inject_fault("error503", retry_after=2)
    assert client.get(FEED).status_code == 500
    unavailable = client.get(FEED)
    assert_error(unavailable, 503, "unavailable")
    assert unavailable.headers["Retry-After"] == "2"
    assert client.get(FEED).status_code == 200


def test_slow_fault_delays_one_request(sim: CoreSimulator, client: httpx.Client) -> None:
    sim.inject_fault("slow", delay=0.3, endpoint="menu")
    started = time.monotonic()
    assert client.get(FEED).status_code == 200
    assert time.monotonic() - started < 0.3
    assert client.get(f"/api/v1/sites/{SITE}/menu").status_code == 200
    assert time.monotonic() - started >= 0.3


# ---------------------------------------------------------------- /_sim over HTTP
def test_sim_http_helpers(sim: CoreSimulator, client: httpx.Client) -> None:
    created = httpx.post(f"{sim.url}/_sim/orders", json={"notes": "Ring twice"})
    assert created.status_code == 201 and created.json()["notes"] == "Ring twice"
    order_id = created.json()["id"]
    rushed = httpx.post(f"{sim.url}/_sim/orders/{order_id}/rush").json()
    assert rushed["priority"] == "rush" and rushed["version"] == 2
    edited = httpx.post(f"{sim.url}/_sim/orders/{order_id}/edit", json={"set_qty": {"l1": 4}})
    assert edited.json()["items"][0]["qty"] == 4
    assert httpx.post(f"{sim.url}/_sim/orders/{order_id}/cancel").json()["status"] == "cancelled"
    assert httpx.post(f"{sim.url}/_sim/orders/{order_id}/cancel").status_code == 409
    raw = httpx.post(f"{sim.url}/_sim/raw", json={"object": {"id": 5, "junk": True}})
    assert raw.status_code == 201
    assert httpx.post(f"{sim.url}/_sim/faults", json={"kind": "error503"}).status_code == 201
    assert client.get(FEED).status_code == 503
    feed = client.get(FEED).json()["orders"]
    assert [o.get("version") for o in feed] == [1, 2, 3, 4, None]
    post_event(client, sim.create_order()["id"], key="k-1")
    events = httpx.get(f"{sim.url}/_sim/events").json()["events"]
    assert [e["idempotency_key"] for e in events] == ["k-1"]


# --------------------------------------------------------------- lifecycle, rate
def test_background_rate_creates_orders() -> None:
    with (
        CoreSimulator(rate_per_min=3000, seed=8) as sim,
        httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http,
    ):
        wait_until(lambda: len(http.get(FEED).json()["orders"]) >= 3)


def test_close_ends_long_polls_and_idle_connections() -> None:
    sim = CoreSimulator().start()
    outcome: list[object] = []
    with httpx.Client(base_url=sim.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        assert http.get("/api/v1/health").status_code == 200  # leaves an idle keep-alive

        def poll() -> None:
            try:
                outcome.append(http.get(FEED, params={"wait": 30}).status_code)
            except httpx.TransportError as exc:
                outcome.append(exc)

        poller = threading.Thread(target=poll)
        poller.start()
        wait_until(lambda: sim.waiting_polls == 1)
        started = time.monotonic()
        sim.close()
        poller.join(5)
        assert not poller.is_alive() and time.monotonic() - started < 3
    assert outcome
