"""The feed follower: follows the core's orders feed by long poll and hands every
order to the kitchen.

The cursor is stored with each page (one transaction: :meth:`Kitchen.apply_page`), so
a restart continues where it stopped; orders seen again (at-least-once delivery) are
de-duplicated by ``(id, version)``. A ``410`` resyncs from ``orders/open``. A store
failure ends the loop, for the :class:`~edge_agent.supervisor.Supervisor` to log, count
and restart; other errors back off (honouring ``Retry-After`` within [1 s, 60 s]) and
never stop the loop.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from edge_agent.adapters.core_http import CoreClient
from edge_agent.adapters.http_util import bounded_retry_after
from edge_agent.errors import (
    CoreAuthError,
    CoreError,
    CoreUnavailable,
    CursorExpired,
    StoreError,
)
from edge_agent.kitchen import Kitchen
from edge_agent.store import TROUBLE_WAIT_INITIAL, TROUBLE_WAIT_MAX, Store
from edge_agent.supervisor import Supervisor

log = logging.getLogger("edge.feed")

CURSOR_KEY = "feed_cursor"
#: a page of one order is a quiet kitchen's: the feed lets the screens' publish go first
#: (in a rush pages hold more, and the feed and the publish overlap)
QUIET_PAGE = 1
#: the longest the feed waits for that publish (a broker that hangs must not stop it)
PUBLISH_WAIT = 0.05
#: how long after a page of more than QUIET_PAGE orders the feed counts as in a rush
RUSH_HOLD = 1.0


class FeedFollower:
    def __init__(
        self,
        core: CoreClient,
        kitchen: Kitchen,
        store: Store,
        *,
        wait_seconds: int = 25,
        backoff_initial: float = 0.5,
        backoff_max: float = 30.0,
        published: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock``: the monotonic time a rush is measured in (tests pass their own)."""
        self._core = core
        self._clock = clock
        #: set when the state topic's outbox finished a pass: after a small page the
        #: feed waits for it (briefly) before it polls again, so the screens' publish
        #: does not share the interpreter with the next poll
        self._published = published
        self._kitchen = kitchen
        self._store = store
        self._wait = wait_seconds
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = False
        self.last_error: str | None = None
        #: the time (on ``clock``) until which the feed is in a rush (see :meth:`in_rush`)
        self._rush_until = 0.0

    def in_rush(self) -> bool:
        """Whether a page of more than :data:`QUIET_PAGE` orders came in the last
        :data:`RUSH_HOLD` seconds: orders arrive faster than one per poll."""
        return self._clock() < self._rush_until

    def start(self, supervisor: Supervisor | None = None) -> FeedFollower:
        """Follow the feed on the ``feed`` thread, supervised (restarted if it dies)."""
        self._thread = (supervisor or Supervisor()).spawn("feed", self._run)
        return self

    def close(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> FeedFollower:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self) -> None:
        delay = self._backoff_initial
        resync_needed = False
        while not self._stop.is_set():
            try:
                if resync_needed:
                    self.resync()
                    resync_needed = False
                else:
                    self.poll_once(self._wait)
                delay = self._backoff_initial
                self._set_state(True, None)
            except CursorExpired as exc:
                log.warning("feed cursor expired (%s); resyncing from orders/open", exc)
                resync_needed = True
            except CoreError as exc:
                delay = self._fail(exc, delay)
            except StoreError as exc:
                if not exc.is_trouble:
                    raise  # the supervisor logs it, restarts the loop, and gives up loudly
                # disk full, read-only, damaged: the store raised the alarm; the page is
                # not acknowledged (the cursor stays), so it is fetched again later
                log.debug("feed waits for the store: %s", exc)
                delay = min(self._sleep(max(delay, TROUBLE_WAIT_INITIAL), None), TROUBLE_WAIT_MAX)
            except Exception:  # a bug on one pass: back off, never let the feed thread die
                log.exception("feed loop failed; retrying")
                delay = self._sleep(delay, None)

    def _fail(self, exc: CoreError, delay: float) -> float:
        self._set_state(False, str(exc))
        # bounded again here: whatever raised it, one answer never makes a busy loop
        # or a day-long sleep (nor an OverflowError in wait())
        retry_after = (
            bounded_retry_after(exc.retry_after) if isinstance(exc, CoreUnavailable) else None
        )
        if isinstance(exc, CoreAuthError):
            log.error("core refused our token (%s): check core.token; retrying slowly", exc)
            retry_after = max(delay, 30.0)
        else:
            log.warning("core feed unavailable: %s", exc)
        return self._sleep(delay, retry_after)

    def _sleep(self, delay: float, retry_after: float | None) -> float:
        wait = retry_after if retry_after is not None else delay * (0.8 + 0.4 * random.random())
        self._stop.wait(wait)
        return min(delay * 2, self._backoff_max)

    def _set_state(self, connected: bool, error: str | None) -> None:
        if connected != self.connected:
            log.info("core feed %s", "connected" if connected else f"lost: {error}")
        self.connected = connected
        self.last_error = error

    def poll_once(self, wait: int = 0) -> int:
        """Fetch and apply one page; returns how many orders it held."""
        cursor = self._store.get_meta(CURSOR_KEY)
        if cursor is None:
            self.resync()
            return 0
        page = self._core.fetch_orders(cursor, wait=wait)

        def advance() -> None:
            if page.cursor != cursor:
                self._store.set_meta(CURSOR_KEY, page.cursor)

        # one transaction for the page and its cursor: one commit however many orders
        if self._published is not None:
            self._published.clear()
        if len(page.orders) > QUIET_PAGE:
            self._rush_until = self._clock() + RUSH_HOLD
        outcomes = self._kitchen.apply_page(page.orders, then=advance)
        if self._published is not None and 0 < len(outcomes) <= QUIET_PAGE:
            self._published.wait(PUBLISH_WAIT)
        return len(page.orders)

    def resync(self) -> None:
        """Start (or restart) from every open order, then follow the feed from there."""
        page = self._core.fetch_open()
        open_ids = set()
        for raw in page.orders:
            self._kitchen.apply_order(raw)
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                open_ids.add(raw["id"])
        closed = self._kitchen.close_missing(open_ids)
        self._store.set_meta(CURSOR_KEY, page.cursor)
        log.info(
            "resynced from orders/open: %d open orders, %d closed by the core meanwhile",
            len(page.orders),
            closed,
        )
