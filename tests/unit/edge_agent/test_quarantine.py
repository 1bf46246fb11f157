"""Refused orders are counted and labelled for the screens (edge_agent.kitchen)."""

from __future__ import annotations

from edge_agent.kitchen import Kitchen
from edge_agent.store import Store
from tests.helpers.metrics import RecordingMetrics
from tests.unit.shared.factories import NOW, SITE, item_dict, order_dict


def test_each_refusal_is_counted_and_labelled_by_display_number_or_id(store: Store) -> None:
    metrics = RecordingMetrics()
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW, metrics=metrics)
    bad_qty = order_dict(items=[item_dict("l1", "grill"), item_dict("l2", "fry", qty=0)])
    assert kitchen.apply_order(bad_qty).action == "quarantined"
    no_number = order_dict(id="ord_NONUM")
    del no_number["display_number"]
    assert kitchen.apply_order(no_number).action == "quarantined"
    assert kitchen.apply_order(["not", "an", "order"]).action == "quarantined"
    assert metrics.counted == ["orders.quarantined"] * 3
    first, second, third = store.quarantined()
    assert first["label"] == bad_qty["display_number"]
    assert first["summary"] == "items.1.qty: Input should be greater than or equal to 1"
    assert second["label"] == "ord_NONUM" and second["summary"].startswith("display_number")
    assert third["label"] == f"#{third['id']}"
    assert store.quarantined(unresolved_since=0.0) == [first, second, third]
    store.resolve_quarantine(first["id"], "dismissed")
    assert [q["id"] for q in store.quarantined(unresolved_since=0.0)] == [
        second["id"],
        third["id"],
    ]
    assert store.quarantined(unresolved_since=second["at"] + 3600) == []
