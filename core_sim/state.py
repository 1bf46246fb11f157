"""The simulated core's data: orders, per-site change logs (the feed), menu
availability, recorded kitchen events and stored idempotent responses.

One re-entrant :class:`threading.Condition` guards everything; long polls wait on it
and every append to a feed notifies it.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core_sim import cursors, kitchen_events
from core_sim.cursors import Cursor
from core_sim.errors import ApiError, OrderClosed, OrderNotFound
from core_sim.generator import OrderGenerator, format_time

PAGE_SIZE = 100


@dataclass(frozen=True)
class RawText:
    """A feed entry kept as text, sent as is (a test's poison order)."""

    text: str

    def data(self) -> bytes:
        """The bytes on the wire; lone surrogates become the bytes they escape."""
        return self.text.encode("utf-8", "surrogateescape")


def deep_merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` updated with ``overrides``; nested objects merge, anything else replaces."""
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


class SimState:
    """All mutable state of one simulator instance."""

    def __init__(
        self,
        sites: Mapping[str, str],
        generator: OrderGenerator,
        expire_cursors_after: float | None = None,
    ) -> None:
        if not sites:
            raise ValueError("at least one site is needed")
        self.cond = threading.Condition(threading.RLock())
        self.sites: dict[str, str] = dict(sites)
        self.generator = generator
        self.epoch = uuid.uuid4().hex[:12]
        self.expire_cursors_after = expire_cursors_after
        self.closed = False
        self.waiting_polls = 0
        self._started = time.monotonic()
        self._feeds: dict[str, list[Any]] = {site: [] for site in self.sites}
        self._orders: dict[str, dict[str, Any]] = {}
        self._order_site: dict[str, str] = {}
        self._unavailable: dict[str, set[str]] = {site: set() for site in self.sites}
        self._events: list[dict[str, Any]] = []
        self._responses: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}

    # ----------------------------------------------------------------- lifecycle
    def close(self) -> None:
        """Wake every long poll; they answer at once from now on."""
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def default_site(self) -> str:
        """The first configured site."""
        return next(iter(self.sites))

    def check_site(self, site_id: str) -> None:
        """``ValueError`` unless ``site_id`` is configured."""
        if site_id not in self.sites:
            raise ValueError(f"unknown site {site_id!r}")

    # -------------------------------------------------------------- core changes
    def create_order(self, site_id: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """Generate an order, merge ``overrides`` into it, store it and append it to the feed."""
        self.check_site(site_id)
        with self.cond:
            order = self.generator.order(site_id, unavailable=self._unavailable[site_id])
            while order["id"] in self._orders:
                order["id"] = self.generator.new_id()
            order = deep_merge(order, overrides)
            order_id = order.get("id")
            if not isinstance(order_id, str) or order_id in self._orders:
                raise ValueError(f"order id {order_id!r} is missing or already used")
            self._orders[order_id] = order
            self._order_site[order_id] = site_id
            self._append(site_id, order)
            return copy.deepcopy(order)

    def cancel_order(self, order_id: str) -> dict[str, Any]:
        """The core cancels an open order: new version, appended to the feed."""
        with self.cond:
            order = self._open_order(order_id)
            order["status"] = "cancelled"
            return self._bump(order_id)

    def set_rush(self, order_id: str) -> dict[str, Any]:
        """The core flags an open order as rush: new version (even if it already was)."""
        with self.cond:
            self._open_order(order_id)["priority"] = "rush"
            return self._bump(order_id)

    def edit_order(
        self,
        order_id: str,
        *,
        set_qty: Mapping[str, int] | None = None,
        add_items: Iterable[Mapping[str, Any]] = (),
        remove_lines: Iterable[str] = (),
        fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The core edits an open order (quantities, lines, any field): new version."""
        with self.cond:
            order = self._open_order(order_id)
            items = copy.deepcopy(order.get("items", []))
            add_items, remove_lines = list(add_items), list(remove_lines)
            if not (set_qty or add_items or remove_lines or fields):
                set_qty = {items[0]["line_id"]: int(items[0]["qty"]) + 1} if items else {}
            items = self._edited_items(items, set_qty or {}, add_items, remove_lines)
            order["items"] = items
            order["total_cents"] = self.generator.catalogue.order_total(items)
            self._orders[order_id] = deep_merge(order, fields or {})
            return self._bump(order_id)

    def _edited_items(
        self,
        items: list[dict[str, Any]],
        set_qty: Mapping[str, int],
        add_items: list[Mapping[str, Any]],
        remove_lines: list[str],
    ) -> list[dict[str, Any]]:
        by_line = {line.get("line_id"): line for line in items}
        for line_id, qty in set_qty.items():
            if line_id not in by_line:
                raise ValueError(f"no line {line_id!r}")
            if not isinstance(qty, int) or qty < 1:
                raise ValueError("qty must be a positive integer")
            by_line[line_id]["qty"] = qty
        missing = set(remove_lines) - set(by_line)
        if missing:
            raise ValueError(f"no line(s) {sorted(missing)!r}")
        items = [line for line in items if line.get("line_id") not in remove_lines]
        next_number = len(by_line) + 1
        for add in add_items:
            sku, qty = add.get("sku"), add.get("qty", 1)
            if not isinstance(sku, str) or not self.generator.catalogue.has_sku(sku):
                raise ValueError(f"unknown sku {sku!r}")
            while f"l{next_number}" in by_line:
                next_number += 1
            items.append(self.generator.catalogue.make_line(f"l{next_number}", sku, int(qty)))
            next_number += 1
        if not items:
            raise ValueError("an order needs at least one line")
        return items

    def push_raw(self, site_id: str, obj: Any) -> int:
        """Append an arbitrary JSON value to a site's feed; returns its log position."""
        self.check_site(site_id)
        with self.cond:
            self._append(site_id, obj)
            return len(self._feeds[site_id]) - 1

    def _open_order(self, order_id: str) -> dict[str, Any]:
        order = self._get(order_id)
        if order.get("status") in kitchen_events.FINAL_STATUSES:
            raise OrderClosed(f"order {order_id} is {order.get('status')}")
        return order

    def _bump(self, order_id: str) -> dict[str, Any]:
        order = self._orders[order_id]
        order["version"] = int(order.get("version", 0)) + 1
        self._append(self._order_site[order_id], order)
        return copy.deepcopy(order)

    def _append(self, site_id: str, entry: Any) -> None:
        self._feeds[site_id].append(copy.deepcopy(entry))
        self.cond.notify_all()

    def _get(self, order_id: str, site_id: str | None = None) -> dict[str, Any]:
        order = self._orders.get(order_id)
        if order is None or (site_id is not None and self._order_site[order_id] != site_id):
            raise OrderNotFound(order_id)
        return order

    # ------------------------------------------------------------------- reading
    def order(self, order_id: str) -> dict[str, Any]:
        """A copy of the current state of an order (``OrderNotFound`` when unknown)."""
        with self.cond:
            return copy.deepcopy(self._get(order_id))

    def open_orders(self, site_id: str | None = None) -> list[dict[str, Any]]:
        """Copies of the orders not picked up or cancelled, oldest first."""
        with self.cond:
            return [
                copy.deepcopy(order)
                for order_id, order in self._orders.items()
                if (site_id is None or self._order_site[order_id] == site_id)
                and order.get("status") not in kitchen_events.FINAL_STATUSES
            ]

    def open_snapshot(self, site_id: str) -> tuple[list[dict[str, Any]], str]:
        """Open orders plus a cursor at the current head of the feed, taken atomically."""
        with self.cond:
            return self.open_orders(site_id), self._cursor(site_id, len(self._feeds[site_id]))

    def events(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Copies of the recorded accepted kitchen events, oldest first."""
        with self.cond:
            return [
                copy.deepcopy(e)
                for e in self._events
                if order_id is None or e["order_id"] == order_id
            ]

    # ---------------------------------------------------------------------- feed
    def position_of(self, site_id: str, cursor_text: str | None) -> int:
        """The log position a cursor stands for (0 without one); 400 or 410 when unusable."""
        if not cursor_text:
            return 0
        cursor = cursors.decode(cursor_text)
        if cursor.site_id != site_id:
            raise cursors.bad_cursor("cursor belongs to another site")
        if cursor.epoch != self.epoch:
            raise cursors.expired_cursor("cursor was issued before the server's log was reset")
        if self.expire_cursors_after is not None:
            age = self._now_ms() - cursor.issued_ms
            if age > self.expire_cursors_after * 1000:
                raise cursors.expired_cursor("cursor is too old; resync from orders/open")
        with self.cond:
            if cursor.position > len(self._feeds[site_id]):
                raise cursors.bad_cursor("cursor is past the end of the feed")
        return cursor.position

    def feed_page(self, site_id: str, start: int, wait: float) -> tuple[list[Any], str]:
        """Up to 100 entries from ``start``, waiting up to ``wait`` s for one to appear."""
        deadline = time.monotonic() + wait
        with self.cond:
            feed = self._feeds[site_id]
            self.waiting_polls += 1
            try:
                while len(feed) <= start and not self.closed:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        break
                    self.cond.wait(remaining)
            finally:
                self.waiting_polls -= 1
            page = copy.deepcopy(feed[start : start + PAGE_SIZE])
            return page, self._cursor(site_id, start + len(page))

    def head(self, site_id: str) -> int:
        """Number of entries in a site's change log."""
        with self.cond:
            return len(self._feeds[site_id])

    def _cursor(self, site_id: str, position: int) -> str:
        return Cursor(site_id, position, self.epoch, self._now_ms()).encode()

    def _now_ms(self) -> int:
        return int((time.monotonic() - self._started) * 1000)

    # ------------------------------------------------------------ kitchen events
    def post_event(
        self, site_id: str, order_id: str, key: str, raw: bytes
    ) -> tuple[int, dict[str, Any], bool]:
        """Handle a kitchen event idempotently: ``(status, body, replayed)``."""
        with self.cond:
            stored = self._responses.get((site_id, key))
            if stored is not None:
                return stored[0], copy.deepcopy(stored[1]), True
            body: dict[str, Any]
            try:
                self._accept_event(site_id, order_id, key, raw)
                status, body = 201, {"accepted": True}
            except ApiError as exc:
                status, body = exc.status, exc.body()
            self._responses[(site_id, key)] = (status, body)
            return status, copy.deepcopy(body), False

    def _accept_event(self, site_id: str, order_id: str, key: str, raw: bytes) -> None:
        try:
            order = self._get(order_id, site_id)
        except OrderNotFound as exc:
            raise ApiError(404, "not_found", f"no order {order_id} in site {site_id}") from exc
        body = kitchen_events.parse_body(raw, key)
        kitchen_events.apply(order, body)
        self._events.append(
            {
                **copy.deepcopy(body),
                "idempotency_key": key,
                "site_id": site_id,
                "order_id": order_id,
                "received_at": format_time(datetime.now(UTC)),
            }
        )

    # ---------------------------------------------------------------------- menu
    def menu(self, site_id: str) -> dict[str, Any]:
        """The contract's menu document for a site."""
        with self.cond:
            off = self._unavailable[site_id]
            return {
                "brands": [
                    {
                        "id": brand.id,
                        "name": brand.name,
                        "items": [
                            {
                                "sku": item.sku,
                                "name": item.name,
                                "station": item.station,
                                "prep_seconds": item.prep_seconds,
                                "available": item.sku not in off,
                            }
                            for item in brand.items
                        ],
                    }
                    for brand in self.generator.brands
                ]
            }

    def set_availability(self, site_id: str, sku: str, available: bool) -> dict[str, Any]:
        """86 (or bring back) a SKU for every brand selling it; ``OrderNotFound``-like 404."""
        catalogue = self.generator.catalogue
        if not catalogue.has_sku(sku):
            raise ApiError(404, "not_found", f"no menu item with sku {sku}")
        with self.cond:
            if available:
                self._unavailable[site_id].discard(sku)
            else:
                self._unavailable[site_id].add(sku)
        return {"sku": sku, "available": available, "brands": catalogue.brands_selling(sku)}
