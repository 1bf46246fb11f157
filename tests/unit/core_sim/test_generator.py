"""Unit tests of the core simulator's order generator."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core_sim.generator import (
    CHANNELS,
    DEFAULT_BRANDS,
    STATIONS,
    OrderGenerator,
    format_time,
    resolve_brands,
)

NOW = datetime(2026, 11, 24, 18, 1, 55, 123456, tzinfo=UTC)
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ID_RE = re.compile(r"^ord_[0-9A-Z]{12}$")
E164_RE = re.compile(r"^\+[1-9]\d{6,14}$")


def _orders(seed: int, count: int) -> list[dict[str, Any]]:
    generator = OrderGenerator(seed)
    return [generator.order("ams-01", now=NOW) for _ in range(count)]


def test_same_seed_gives_same_orders() -> None:
    assert _orders(7, 20) == _orders(7, 20)


def test_different_seeds_give_different_orders() -> None:
    assert _orders(1, 5) != _orders(2, 5)


def test_format_time_is_rfc3339_utc_with_millis() -> None:
    assert format_time(NOW) == "2026-11-24T18:01:55.123Z"


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32))
def test_generated_orders_are_valid(seed: int) -> None:
    for order in _orders(seed, 10):
        _check_order(order)


def _check_order(order: dict[str, Any]) -> None:
    assert ID_RE.match(order["id"])
    assert order["version"] == 1
    assert order["site_id"] == "ams-01"
    assert order["status"] == "placed"
    assert order["priority"] in ("normal", "rush")
    assert order["channel"] in CHANNELS
    assert set(order["brand"]) == {"id", "name"}
    assert re.match(r"^[A-Z]-\d{4,}$", order["display_number"])
    assert TIME_RE.match(order["placed_at"]) and TIME_RE.match(order["promised_at"])
    promised = datetime.fromisoformat(order["promised_at"])
    assert timedelta(minutes=15) <= promised - datetime.fromisoformat(order["placed_at"])
    assert promised - datetime.fromisoformat(order["placed_at"]) <= timedelta(minutes=35)
    customer = order["customer"]
    assert isinstance(customer["name"], str) and isinstance(customer["notify"], bool)
    assert "phone" not in customer or E164_RE.match(customer["phone"])
    assert isinstance(order["notes"], str)
    assert 1 <= len(order["items"]) <= 8
    assert isinstance(order["total_cents"], int) and order["total_cents"] > 0
    for line in order["items"]:
        assert line["station"] in STATIONS
        assert isinstance(line["qty"], int) and line["qty"] >= 1
        assert isinstance(line["prep_seconds"], int) and line["prep_seconds"] > 0
        assert all(set(m) == {"name", "qty"} for m in line["modifiers"])
        assert all(isinstance(a, str) for a in line["allergens"])
    assert len({line["line_id"] for line in order["items"]}) == len(order["items"])


def test_display_numbers_run_per_brand() -> None:
    orders = _orders(3, 40)
    by_brand: dict[str, list[int]] = {}
    for order in orders:
        letter, number = order["display_number"].split("-")
        by_brand.setdefault(order["brand"]["id"], []).append(int(number))
        assert len(letter) == 1
    for numbers in by_brand.values():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))


def test_ids_are_unique_and_rush_is_occasional() -> None:
    orders = _orders(5, 300)
    assert len({o["id"] for o in orders}) == 300
    rush = sum(o["priority"] == "rush" for o in orders)
    assert 10 <= rush <= 60
    assert {o["brand"]["id"] for o in orders} == {b.id for b in DEFAULT_BRANDS}


def test_an_item_name_is_shared_across_brands() -> None:
    names: dict[str, set[str]] = {}
    skus: dict[str, set[str]] = {}
    for brand in DEFAULT_BRANDS:
        for item in brand.items:
            names.setdefault(item.name, set()).add(brand.id)
            skus.setdefault(item.sku, set()).add(brand.id)
    assert names["Classic Burger"] == {"burger-bros", "pizza-planet"}
    assert len(skus["SIDE-FRIES"]) == 2


def test_expo_has_no_items() -> None:
    stations = {item.station for brand in DEFAULT_BRANDS for item in brand.items}
    assert stations <= set(STATIONS) and "expo" not in stations


def test_unavailable_skus_are_not_ordered() -> None:
    generator = OrderGenerator(9)
    off = {"SIDE-FRIES", "BB-CLASSIC", "DRINK-COLA"}
    for _ in range(100):
        order = generator.order("ams-01", now=NOW, unavailable=off)
        assert not {line["sku"] for line in order["items"]} & off


def test_brand_selection() -> None:
    generator = OrderGenerator(1, brands=["Burger Bros", "taco-loco"])
    assert [b.id for b in generator.brands] == ["burger-bros", "taco-loco"]
    with pytest.raises(ValueError):
        resolve_brands(["Nope"])
