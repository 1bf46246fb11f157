"""A feed page decoded order by order (edge_agent.adapters.feed_json), and the core
client reading poison pages from the real core simulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from core_sim.server import CoreSimulator
from edge_agent.adapters.core_http import CoreClient
from edge_agent.adapters.feed_json import PageUndecodable, decode_order, decode_page
from edge_agent.errors import CoreUnavailable
from shared.errors import WireError
from shared.model import UndecodedOrder, parse_order

SITE = "ams-01"
TOKEN = "tok-feed-json"
DEEP = (
    '{"id": "ord_D", "version": 3, "display_number": "D-1", "x": ' + "[" * 1000 + "]" * 1000 + "}"
)


@pytest.fixture
def sim() -> Iterator[CoreSimulator]:
    with CoreSimulator(sites={SITE: TOKEN}, seed=3) as simulator:
        yield simulator


@pytest.fixture
def client(sim: CoreSimulator) -> Iterator[CoreClient]:
    with CoreClient(sim.url, SITE, TOKEN) as core:
        yield core


def test_a_good_page_decodes_whole() -> None:
    assert decode_page(b'{"orders": [{"id": "a"}], "cursor": "c"}') == ([{"id": "a"}], "c")


def test_each_entry_of_a_poison_page_stands_alone() -> None:
    text = '{"cursor": "c9", "orders": [{"id": "a", "s": "x,]}\\""}, ' + DEEP + ", 7, {}]}"
    orders, cursor = decode_page(text.encode())
    assert cursor == "c9"
    assert orders[0] == {"id": "a", "s": 'x,]}"'}
    deep = orders[1]
    assert isinstance(deep, UndecodedOrder)
    assert (deep.order_id, deep.version, deep.display_number, deep.field) == (
        "ord_D",
        3,
        "D-1",
        "x",
    )
    assert deep.text == DEEP
    assert orders[2:] == [7, {}]
    with pytest.raises(WireError, match="x: nested too deep to decode") as caught:
        parse_order(deep)
    assert caught.value.field == "x"


def test_an_entry_that_is_not_json_is_undecoded_without_a_field() -> None:
    bad = decode_order("nope")
    assert isinstance(bad, UndecodedOrder) and bad.field is None
    assert bad.reason.startswith("not valid JSON")


@pytest.mark.parametrize(
    ("page", "reason"),
    [
        (b'{"orders": [{"id": "a"', "truncated"),
        (b'{"orders": [{"id": "a}]}', "in a string"),
        (b"<html>502</html>", "not a JSON object"),
        (b'{"orders": [1 2], "cursor": "c"}', "',' or ']' expected"),
        (b'{"orders": [], "cursor": "c}', "truncated"),
        (b"[]", "not a JSON object"),
        (b'{"orders": [', "truncated"),
        (b'{"orders": [{"a": 1}, 7', "truncated"),
    ],
)
def test_a_broken_frame_is_undecodable(page: bytes, reason: str) -> None:
    with pytest.raises(PageUndecodable, match=reason):
        decode_page(page)


def test_poison_orders_over_http_leave_the_others_readable(
    sim: CoreSimulator, client: CoreClient
) -> None:
    first = sim.create_order(SITE)
    sim.push_raw_text(SITE, DEEP)
    sim.push_raw_text(SITE, '{"id": "ord_U", "name": "\udcff"}')  # the byte 0xff
    last = sim.create_order(SITE)
    page = client.fetch_orders(None)
    assert [o["id"] for o in (page.orders[0], page.orders[3])] == [first["id"], last["id"]]
    assert isinstance(page.orders[1], UndecodedOrder)
    assert page.orders[2] == {"id": "ord_U", "name": "\udcff"}
    with pytest.raises(WireError, match="name: not valid Unicode"):
        parse_order(page.orders[2])


def test_a_raw_page_fault_is_core_unavailable_once(sim: CoreSimulator, client: CoreClient) -> None:
    order = sim.create_order(SITE)
    sim.inject_fault("raw_page")  # the default body: '{"orders": ['

    with pytest.raises(CoreUnavailable, match="feed page undecodable: truncated"):
        client.fetch_orders(None)
    assert [o["id"] for o in client.fetch_orders(None).orders] == [order["id"]]


def test_the_raw_text_hook_over_http(sim: CoreSimulator) -> None:
    answer = httpx.post(f"{sim.url}/_sim/raw", json={"text": '{"id": "ord_T", "n": 1e999999}'})
    assert answer.status_code == 201 and answer.json() == {"position": 0}
    feed = httpx.get(
        f"{sim.url}/api/v1/sites/{SITE}/orders", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert b'"n": 1e999999' in feed.content
    assert httpx.post(f"{sim.url}/_sim/raw", json={}).status_code == 422
