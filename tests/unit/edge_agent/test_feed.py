"""edge_agent.feed: the feed follower, against a scripted core (no HTTP).

The whole loop against the core simulator is in tests/integration/test_agent_spine.py.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, cast

import pytest

from edge_agent.adapters.core_http import CoreClient, FeedPage
from edge_agent.errors import CoreAuthError, CoreUnavailable, CursorExpired
from edge_agent.feed import CURSOR_KEY, PUBLISH_WAIT, QUIET_PAGE, RUSH_HOLD, FeedFollower
from edge_agent.kitchen import SHOWN, Kitchen
from edge_agent.store import Store
from shared.model import Ticket
from tests.helpers.site import wait_until
from tests.unit.shared.factories import NOW, SITE, order_dict


class ScriptedCore:
    """``fetch_orders`` answers from a script (a page, or an exception to raise)."""

    def __init__(self, open_orders: list[dict[str, Any]], cursor: str = "c1") -> None:
        self.open_orders = open_orders
        self.open_cursor = cursor
        self.pages: list[FeedPage | Exception] = []
        self.asked: list[str | None] = []

    def fetch_open(self) -> FeedPage:
        self.asked.append("open")
        return FeedPage(list(self.open_orders), self.open_cursor)

    def fetch_orders(self, cursor: str | None, wait: int = 0) -> FeedPage:
        self.asked.append(cursor)
        if not self.pages:
            return FeedPage([], cursor or "")
        page = self.pages.pop(0)
        if isinstance(page, Exception):
            raise page
        return page


@pytest.fixture
def kitchen(store: Store) -> Kitchen:
    return Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)


def follower(core: ScriptedCore, kitchen: Kitchen, store: Store) -> FeedFollower:
    return FeedFollower(
        cast(CoreClient, core), kitchen, store, wait_seconds=0, backoff_initial=0.01
    )


def shown(store: Store) -> set[str]:
    return {Ticket.model_validate_json(body).id for body in store.tickets_json(SHOWN)}


def test_first_poll_resyncs_from_the_open_orders(store: Store, kitchen: Kitchen) -> None:
    core = ScriptedCore([order_dict(id="ord_1"), order_dict(id="ord_2")])
    feed = follower(core, kitchen, store)
    assert feed.poll_once() == 0  # no cursor yet: orders/open instead
    assert core.asked == ["open"]
    assert store.get_meta(CURSOR_KEY) == "c1"
    assert shown(store) == {"ord_1", "ord_2"}


def test_pages_are_applied_and_the_cursor_kept(store: Store, kitchen: Kitchen) -> None:
    core = ScriptedCore([])
    feed = follower(core, kitchen, store)
    feed.resync()
    core.pages = [FeedPage([order_dict(id="ord_3")], "c2"), FeedPage([], "c2")]
    assert feed.poll_once() == 1
    assert store.get_meta(CURSOR_KEY) == "c2"
    assert feed.poll_once() == 0
    assert core.asked == ["open", "c1", "c2"]
    assert shown(store) == {"ord_3"}


def test_a_resync_closes_what_the_core_no_longer_lists(store: Store, kitchen: Kitchen) -> None:
    core = ScriptedCore([order_dict(id="ord_1"), order_dict(id="ord_2")])
    feed = follower(core, kitchen, store)
    feed.resync()
    core.open_orders = [order_dict(id="ord_2")]
    feed.resync()
    assert shown(store) == {"ord_2"}


@pytest.mark.parametrize(
    ("error", "connected"),
    [
        (CursorExpired("410"), True),  # resynced: the feed is fine
        (CoreUnavailable("503"), True),  # retried: it comes back
        (CoreAuthError(401, "unauthorized"), False),  # retried slowly: still down
    ],
)
def test_the_loop_survives_core_errors(
    store: Store, kitchen: Kitchen, error: Exception, connected: bool
) -> None:
    core = ScriptedCore([order_dict(id="ord_1")])
    feed = follower(core, kitchen, store)
    feed.resync()
    core.pages = [error, FeedPage([order_dict(id="ord_4")], "c9")]
    condition: Callable[[], bool] = (
        (lambda: "ord_4" in shown(store)) if connected else (lambda: feed.last_error is not None)
    )
    with feed:
        wait_until(condition, timeout=10)
    assert feed.connected is connected
    if isinstance(error, CursorExpired):
        assert core.asked.count("open") == 2


class RecordingEvent(threading.Event):
    """An event that records each wait (and answers at once, as if set)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        return True


@pytest.mark.parametrize(
    ("orders", "waits"), [(0, 0), (1, 1), (QUIET_PAGE, 1), (QUIET_PAGE + 1, 0)]
)
def test_after_a_quiet_page_the_feed_lets_the_screens_publish_go_first(
    store: Store, kitchen: Kitchen, orders: int, waits: int
) -> None:
    # a page of a few orders: the feed waits (at most PUBLISH_WAIT) for the state
    # topic's pass before it polls again; a rush's pages of many orders do not wait
    published = RecordingEvent()
    core = ScriptedCore([])
    feed = FeedFollower(cast(CoreClient, core), kitchen, store, wait_seconds=0, published=published)
    feed.resync()
    core.pages = [FeedPage([order_dict(id=f"ord_{n}") for n in range(orders)], "c2")]
    assert feed.poll_once() == orders
    assert published.waits == [PUBLISH_WAIT] * waits


def test_a_page_of_more_than_one_order_is_a_rush_for_a_while(
    store: Store, kitchen: Kitchen
) -> None:
    now = [1000.0]
    core = ScriptedCore([])
    feed = FeedFollower(
        cast(CoreClient, core), kitchen, store, wait_seconds=0, clock=lambda: now[0]
    )
    feed.resync()
    core.pages = [
        FeedPage([order_dict(id="ord_4")], "c2"),
        FeedPage([order_dict(id="ord_5"), order_dict(id="ord_6")], "c3"),
    ]
    feed.poll_once()
    assert not feed.in_rush()  # one order a poll: a quiet kitchen
    feed.poll_once()
    assert feed.in_rush()
    now[0] += RUSH_HOLD - 0.01
    assert feed.in_rush()
    now[0] += 0.02
    assert not feed.in_rush()
