"""Background traffic and core-side changes of the simulator state (no HTTP)."""

from __future__ import annotations

import pytest

from core_sim.errors import OrderClosed, OrderNotFound
from core_sim.generator import OrderGenerator
from core_sim.state import SimState
from core_sim.traffic import TrafficThread


def _state() -> SimState:
    return SimState({"ams-01": "t"}, OrderGenerator(2))


def test_ticks_create_orders_and_sometimes_change_open_ones() -> None:
    state = _state()
    traffic = TrafficThread(state, rate_per_min=60, seed=2, change_probability=1.0)
    for _ in range(20):
        traffic.tick()
    page, _ = state.feed_page("ams-01", 0, 0)
    assert len({o["id"] for o in page}) == 20
    assert any(o["version"] > 1 for o in page)


def test_closed_orders_cannot_be_changed_by_the_core() -> None:
    state = _state()
    order_id = state.create_order("ams-01", {})["id"]
    state.cancel_order(order_id)
    with pytest.raises(OrderClosed):
        state.set_rush(order_id)
    with pytest.raises(OrderNotFound):
        state.cancel_order("ord_UNKNOWN")


def test_edit_recomputes_total_and_validates() -> None:
    state = _state()
    order = state.create_order("ams-01", {})
    edited = state.edit_order(order["id"], add_items=[{"sku": "PP-MARGHERITA", "qty": 2}])
    assert edited["total_cents"] == order["total_cents"] + 2 * 1195
    assert edited["version"] == 2
    with pytest.raises(ValueError):
        state.edit_order(order["id"], set_qty={"l99": 1})
    with pytest.raises(ValueError):
        state.edit_order(order["id"], add_items=[{"sku": "NOPE"}])


def test_overrides_merge_into_nested_objects() -> None:
    state = _state()
    order = state.create_order("ams-01", {"customer": {"notify": True}, "priority": "rush"})
    assert order["customer"]["notify"] is True and order["customer"]["name"]
    assert order["priority"] == "rush"
    with pytest.raises(ValueError):
        state.create_order("ams-01", {"id": order["id"]})
    with pytest.raises(ValueError):
        state.create_order("nowhere", {})
