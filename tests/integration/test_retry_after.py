"""``Retry-After`` within [1 s, max]: the feed against the real core simulator.

The simulator answers ``429``/``503`` with odd ``Retry-After`` values; the feed must
neither hammer the core (``0``) nor stop taking orders for a day (``86400``, ``1e12``, a
far-future date). The maximum is compressed to :data:`RETRY_MAX` seconds (the agent's
``retry_after_max_seconds``; 60 by default) so the test is quick.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from edge_agent.adapters.core_http import CoreClient
from edge_agent.feed import CURSOR_KEY, FeedFollower
from edge_agent.kitchen import SHOWN, Kitchen
from edge_agent.store import Store
from shared.model import Ticket
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import wait_until

RETRY_MAX = 2.0
POLL_WAIT = 1
FAR_FUTURE = "Fri, 31 Dec 9999 23:59:59 GMT"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "edge.sqlite3") as store:
        yield store


@pytest.fixture
def feed(core_sim: CoreSimulator, site_id: str, store: Store) -> Iterator[FeedFollower]:
    core = CoreClient(core_sim.url, site_id, TOKEN, retry_after_max=RETRY_MAX)
    kitchen = Kitchen(store, site_id, expo_station=None)
    # a short long poll, so an injected fault is met soon
    follower = FeedFollower(core, kitchen, store, wait_seconds=POLL_WAIT)
    follower.start()
    try:
        wait_until(lambda: store.get_meta(CURSOR_KEY) is not None and follower.connected)
        yield follower
    finally:
        follower.close()
        core.close()


def _used(sim: CoreSimulator, total: int) -> int:
    return total - sum(int(f["remaining"]) for f in sim.faults.pending())


def _shown(store: Store) -> set[str]:
    return {Ticket.model_validate_json(body).id for body in store.tickets_json(SHOWN)}


@pytest.mark.parametrize(
    ("kind", "value"),
    [("error429", "0"), ("error503", "0"), ("error429", "-1"), ("error429", "nan")],
)
def test_a_zero_or_bad_retry_after_does_not_hammer_the_core(
    core_sim: CoreSimulator, feed: FeedFollower, kind: str, value: str
) -> None:
    total = 1000
    core_sim.inject_fault(kind, count=total, endpoint="feed", retry_after=value)
    wait_until(lambda: _used(core_sim, total) >= 1, timeout=POLL_WAIT + 5)
    first = time.monotonic()
    wait_until(lambda: _used(core_sim, total) >= 5, timeout=30)
    elapsed = time.monotonic() - first
    # 4 more requests: at least 1 s apart ("0"), or the feed's own backoff (0.4 s, then
    # doubling) for a value that is no advice. Unbounded, it was ~560 requests a second.
    assert elapsed >= 4 * 0.9, f"{_used(core_sim, total)} requests in {elapsed:.2f}s"
    assert not feed.connected


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("error429", "86400"),
        ("error503", "86400"),
        ("error429", "1e12"),
        ("error503", "1e400"),
        ("error429", FAR_FUTURE),
        ("error503", "Sat, 01 Jan 2100 00:00:00 GMT"),
    ],
)
def test_a_huge_retry_after_does_not_stop_the_orders(
    core_sim: CoreSimulator,
    feed: FeedFollower,
    store: Store,
    site_id: str,
    kind: str,
    value: str,
) -> None:
    core_sim.inject_fault(kind, count=1, endpoint="feed", retry_after=value)
    wait_until(lambda: not core_sim.faults.pending(), timeout=POLL_WAIT + 5)
    order = core_sim.create_order(site_id)
    # at most RETRY_MAX (the clamp) + one long poll, not a day; no OverflowError either
    started = time.monotonic()
    wait_until(lambda: order["id"] in _shown(store), timeout=RETRY_MAX + POLL_WAIT + 5)
    assert time.monotonic() - started < RETRY_MAX + POLL_WAIT + 5
    wait_until(lambda: feed.connected)
