"""The core HTTP adapter (edge_agent.adapters.core_http.CoreClient).

Each case checks that httpx's exceptions and the core's status codes come out of
the adapter as edge_agent.errors, against the real core simulator on loopback.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from core_sim.server import CoreSimulator
from edge_agent.adapters.core_http import CoreClient
from edge_agent.errors import (
    CoreAuthError,
    CoreError,
    CoreRejected,
    CoreUnavailable,
    CursorExpired,
)
from tests.helpers.net import free_port

SITE = "ams-01"
TOKEN = "tok-ams-01-secret"
OTHER_SITE = "rot-02"
OTHER_TOKEN = "tok-rot-02-secret"


@pytest.fixture
def sim() -> Iterator[CoreSimulator]:
    simulator = CoreSimulator(sites={SITE: TOKEN, OTHER_SITE: OTHER_TOKEN}, seed=3).start()
    try:
        yield simulator
    finally:
        simulator.close()


@pytest.fixture
def make_client(sim: CoreSimulator) -> Iterator[Callable[..., CoreClient]]:
    clients: list[CoreClient] = []

    def make(token: str = TOKEN, site: str = SITE, url: str | None = None, **kw: Any) -> CoreClient:
        client = CoreClient(url or sim.url, site, token, **kw)
        clients.append(client)
        return client

    try:
        yield make
    finally:
        for client in clients:
            client.close()


@pytest.fixture
def client(make_client: Callable[..., CoreClient]) -> CoreClient:
    return make_client()


def event(status: str = "accepted", key: str | None = None) -> tuple[dict[str, Any], str]:
    key = key or uuid.uuid4().hex
    body = {
        "event_id": key,
        "type": "status",
        "status": status,
        "at": "2026-11-24T18:14:03.210Z",
        "actor": "agent",
    }
    return body, key


# --- calls that work -----------------------------------------------------------------------


def test_health(client: CoreClient, make_client: Callable[..., CoreClient]) -> None:
    assert client.health() is True
    assert make_client(token="wrong").health() is True  # no auth on health


def test_fetch_open(sim: CoreSimulator, client: CoreClient) -> None:
    a = sim.create_order()
    b = sim.create_order()
    sim.cancel_order(b["id"])
    page = client.fetch_open()
    assert [o["id"] for o in page.orders] == [a["id"]]
    assert isinstance(page.cursor, str) and page.cursor
    assert client.fetch_orders(page.cursor).orders == []


def test_fetch_orders_pages_through_the_feed(sim: CoreSimulator, client: CoreClient) -> None:
    created = [sim.create_order()["id"] for _ in range(105)]
    first = client.fetch_orders(None)
    assert len(first.orders) == 100
    second = client.fetch_orders(first.cursor)
    assert len(second.orders) == 5
    assert [o["id"] for o in first.orders + second.orders] == created
    third = client.fetch_orders(second.cursor, wait=0)
    assert third.orders == []
    sim.cancel_order(created[0])
    changed = client.fetch_orders(third.cursor)
    assert [(o["id"], o["status"]) for o in changed.orders] == [(created[0], "cancelled")]


def test_post_event_is_idempotent(sim: CoreSimulator, client: CoreClient) -> None:
    order = sim.create_order()
    body, key = event("accepted")
    assert client.post_event(order["id"], body, key) == {"accepted": True}
    assert client.post_event(order["id"], body, key) == {"accepted": True}
    events = sim.events(order["id"])
    assert len(events) == 1
    assert events[0]["idempotency_key"] == key and events[0]["status"] == "accepted"
    assert sim.order(order["id"])["status"] == "accepted"


def test_menu_and_availability(sim: CoreSimulator, client: CoreClient) -> None:
    menu = client.menu()
    sku = menu["brands"][0]["items"][0]["sku"]
    client.set_availability(sku, False)
    items = {i["sku"]: i for b in client.menu()["brands"] for i in b["items"]}
    assert items[sku]["available"] is False
    client.set_availability(sku, True)
    items = {i["sku"]: i for b in client.menu()["brands"] for i in b["items"]}
    assert items[sku]["available"] is True


# --- the error mapping ---------------------------------------------------------------------


def test_wrong_token_is_auth_error(make_client: Callable[..., CoreClient]) -> None:
    client = make_client(token="not-the-token")
    with pytest.raises(CoreAuthError) as info:
        client.fetch_open()
    assert (info.value.status, info.value.code) == (401, "unauthorized")
    assert "not-the-token" not in str(info.value)
    assert isinstance(info.value, CoreRejected)


def test_token_of_another_site_is_auth_error(make_client: Callable[..., CoreClient]) -> None:
    client = make_client(token=OTHER_TOKEN, site=SITE)
    with pytest.raises(CoreAuthError) as info:
        client.fetch_orders(None)
    assert info.value.status == 403


def test_expired_cursor(sim: CoreSimulator, client: CoreClient) -> None:
    sim.create_order()
    cursor = client.fetch_orders(None).cursor
    sim.inject_fault("expire_cursor")
    with pytest.raises(CursorExpired):
        client.fetch_orders(cursor)
    # resync from orders/open works
    assert len(client.fetch_open().orders) == 1


@pytest.mark.parametrize(("kind", "status"), [("error503", 503), ("error429", 429)])
def test_unavailable_with_retry_after(
    sim: CoreSimulator, client: CoreClient, kind: str, status: int
) -> None:
    sim.inject_fault(kind, retry_after=7)
    with pytest.raises(CoreUnavailable) as info:
        client.fetch_open()
    assert info.value.retry_after == 7.0
    assert str(status) in str(info.value)
    assert client.fetch_open().orders == []  # the fault is used up


def test_500_is_unavailable(sim: CoreSimulator, client: CoreClient) -> None:
    sim.inject_fault("error500")
    with pytest.raises(CoreUnavailable) as info:
        client.fetch_orders(None)
    assert info.value.retry_after is None
    assert "500" in str(info.value)


def test_500_on_post_event(sim: CoreSimulator, client: CoreClient) -> None:
    order = sim.create_order()
    sim.inject_fault("error500", endpoint="events")
    body, key = event()
    with pytest.raises(CoreUnavailable):
        client.post_event(order["id"], body, key)
    assert client.post_event(order["id"], body, key) == {"accepted": True}
    assert len(sim.events(order["id"])) == 1


def test_connection_refused_is_unavailable(make_client: Callable[..., CoreClient]) -> None:
    client = make_client(url=f"http://127.0.0.1:{free_port()}", timeout=2.0)
    with pytest.raises(CoreUnavailable) as info:
        client.fetch_open()
    assert "ConnectError" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.HTTPError)


def test_timeout_is_unavailable(sim: CoreSimulator, make_client: Callable[..., CoreClient]) -> None:
    sim.inject_fault("slow", delay=5.0, endpoint="open")
    client = make_client(timeout=0.2)
    with pytest.raises(CoreUnavailable) as info:
        client.fetch_open()
    assert "timed out" in str(info.value)


def test_unknown_order_is_rejected_404(client: CoreClient) -> None:
    body, key = event()
    with pytest.raises(CoreRejected) as info:
        client.post_event("ord_NOPE", body, key)
    assert (info.value.status, info.value.code) == (404, "not_found")
    assert not isinstance(info.value, CoreAuthError)


def test_invalid_transition_is_rejected_409(sim: CoreSimulator, client: CoreClient) -> None:
    order = sim.create_order()
    sim.cancel_order(order["id"])
    body, key = event("ready")
    with pytest.raises(CoreRejected) as info:
        client.post_event(order["id"], body, key)
    assert (info.value.status, info.value.code) == (409, "invalid_transition")
    # repeating the same event id gets the same answer
    with pytest.raises(CoreRejected) as again:
        client.post_event(order["id"], body, key)
    assert again.value.status == 409


def test_malformed_event_is_rejected_422(sim: CoreSimulator, client: CoreClient) -> None:
    order = sim.create_order()
    body, key = event()
    body["status"] = "done-ish"
    with pytest.raises(CoreRejected) as info:
        client.post_event(order["id"], body, key)
    assert info.value.status == 422
    assert info.value.detail


# --- responses only a non-simulator core would send (httpx.MockTransport) ----------------


def mock_client(handler: Callable[[httpx.Request], httpx.Response]) -> CoreClient:
    return CoreClient("http://core.test", SITE, TOKEN, transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(200, text="<html>oops</html>"), CoreUnavailable),
        (httpx.Response(200, json=[1, 2]), CoreUnavailable),
        (httpx.Response(200, json={"orders": "x", "cursor": "c"}), CoreUnavailable),
        (httpx.Response(200, json={"orders": [], "cursor": 5}), CoreUnavailable),
        (httpx.Response(502, text="Bad Gateway"), CoreUnavailable),
        (httpx.Response(408, json={"error": "timeout"}), CoreUnavailable),
        (httpx.Response(400, json={"error": "bad_wait", "detail": "x"}), CoreRejected),
        (httpx.Response(418, text="teapot"), CoreRejected),
        (httpx.Response(410, json=[]), CursorExpired),
    ],
)
def test_odd_responses_are_mapped(response: httpx.Response, expected: type[CoreError]) -> None:
    with mock_client(lambda request: response) as client:
        with pytest.raises(CoreError) as info:
            client.fetch_orders("cursor")
        assert type(info.value) is expected


def test_a_core_that_quotes_the_token_back_has_it_masked() -> None:
    """The token in a core's error answer (a proxy's, say) is masked in the error."""
    answers = iter(
        [
            httpx.Response(401, json={"error": "unauthorized", "detail": f"bad token {TOKEN}"}),
            httpx.Response(400, json={"error": f"no site for {TOKEN}"}),
            httpx.Response(403, text=f"<html>Bearer {TOKEN} refused</html>"),
        ]
    )
    with mock_client(lambda request: next(answers)) as client:
        for _ in range(3):
            with pytest.raises(CoreRejected) as info:
                client.fetch_orders("cursor")
            error = info.value
            text = f"{error} {error.code} {error.detail}"
            assert TOKEN not in text and "********" in text, text


def test_retry_after_as_http_date_and_garbage() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        value = request.url.params.get("cursor") or ""
        return httpx.Response(503, headers={"Retry-After": value}, json={"error": "busy"})

    with mock_client(handler) as client:
        with pytest.raises(CoreUnavailable) as info:
            client.fetch_orders("Wed, 21 Oct 2015 07:28:00 GMT")  # in the past: now
        assert info.value.retry_after == 1.0
        with pytest.raises(CoreUnavailable) as info:
            client.fetch_orders("soon")
        assert info.value.retry_after is None
        with pytest.raises(CoreUnavailable) as info:
            client.fetch_orders("-3")  # no advice: the caller's own backoff
        assert info.value.retry_after is None
        with pytest.raises(CoreUnavailable) as info:
            client.fetch_orders("86400")
        assert info.value.retry_after == 60.0


def test_bearer_token_and_idempotency_key_are_sent() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"accepted": True})

    with mock_client(handler) as client:
        client.post_event("ord/1", {"event_id": "k"}, "k")
    (request,) = seen
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Idempotency-Key"] == "k"
    assert request.url.raw_path == b"/api/v1/sites/ams-01/orders/ord%2F1/events"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, json=[]),
        httpx.Response(200, json="ok"),
        httpx.Response(200, json={"status": "degraded"}),
        httpx.Response(200, json={}),
    ],
)
def test_health_with_odd_json_body_is_not_healthy(response: httpx.Response) -> None:
    with mock_client(lambda request: response) as client:
        assert client.health() is False


def test_health_with_non_json_body_is_core_unavailable() -> None:
    with (
        mock_client(lambda request: httpx.Response(200, text="OK")) as client,
        pytest.raises(CoreUnavailable, match="non-JSON"),
    ):
        client.health()
