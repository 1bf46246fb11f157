"""Small builders of contract-shaped orders and the tickets made from them."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.model import Order, Ticket, parse_order
from shared.state import ticket_from_order

SITE = "ams-01"
NOW = datetime(2026, 11, 24, 18, 5, 0, tzinfo=UTC)
PHONE = "+31612345678"


def later(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def item_dict(line_id: str, station: str, **overrides: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "line_id": line_id,
        "sku": f"SKU-{line_id.upper()}",
        "name": f"Item {line_id}",
        "qty": 1,
        "station": station,
        "prep_seconds": 300,
        "modifiers": [{"name": "No onions", "qty": 1}],
        "allergens": ["gluten"],
        "notes": "",
    }
    item.update(overrides)
    return item


def order_dict(**overrides: Any) -> dict[str, Any]:
    """The contract's example order, with three lines on two stations (grill, fry)."""
    order: dict[str, Any] = {
        "id": "ord_01JD2X8Q4ZK3",
        "version": 1,
        "site_id": SITE,
        "brand": {"id": "burger-bros", "name": "Burger Bros"},
        "channel": "ubereats",
        "display_number": "A-1042",
        "placed_at": "2026-11-24T18:01:55.000Z",
        "promised_at": "2026-11-24T18:20:00.000Z",
        "priority": "normal",
        "status": "placed",
        "customer": {"name": "Sam", "phone": PHONE, "notify": True},
        "notes": "Ring the bell",
        "items": [
            item_dict("l1", "grill", qty=2, allergens=["gluten", "milk"], notes="well done"),
            item_dict("l2", "fry"),
            item_dict("l3", "grill"),
        ],
        "total_cents": 2590,
    }
    order.update(copy.deepcopy(overrides))
    return order


def order(**overrides: Any) -> Order:
    return parse_order(order_dict(**overrides))


def ticket(**overrides: Any) -> Ticket:
    return ticket_from_order(order(**overrides), NOW)
