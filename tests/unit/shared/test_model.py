"""Orders from the core (shared.model.parse_order): the contract's shape, strictly."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.errors import WireError
from shared.model import (
    ItemStatus,
    OrderStatus,
    Priority,
    format_time,
    parse_order,
)
from tests.unit.shared.factories import order, order_dict, ticket

# The example order of the core API contract, verbatim.
CONTRACT_EXAMPLE = """
{
  "id": "ord_01JD2X8Q4ZK3",
  "version": 3,
  "site_id": "ams-01",
  "brand": {"id": "burger-bros", "name": "Burger Bros"},
  "channel": "ubereats",
  "display_number": "A-1042",
  "placed_at": "2026-11-24T18:01:55.000Z",
  "promised_at": "2026-11-24T18:20:00.000Z",
  "priority": "normal",
  "status": "placed",
  "customer": {"name": "Sam", "phone": "+31612345678", "notify": true},
  "notes": "Ring the bell",
  "items": [
    {
      "line_id": "l1",
      "sku": "BB-CLASSIC",
      "name": "Classic Burger",
      "qty": 2,
      "station": "grill",
      "prep_seconds": 420,
      "modifiers": [{"name": "No onions", "qty": 1}, {"name": "Extra cheese", "qty": 1}],
      "allergens": ["gluten", "milk"],
      "notes": "well done"
    }
  ],
  "total_cents": 2590
}
"""


def test_contract_example_parses() -> None:
    o = parse_order(json.loads(CONTRACT_EXAMPLE))
    assert o.id == "ord_01JD2X8Q4ZK3" and o.version == 3 and o.site_id == "ams-01"
    assert o.brand.name == "Burger Bros"
    assert o.channel == "ubereats"
    assert o.placed_at == datetime(2026, 11, 24, 18, 1, 55, tzinfo=UTC)
    assert o.priority is Priority.NORMAL and o.status is OrderStatus.PLACED
    assert o.customer.phone == "+31612345678" and o.customer.notify is True
    (item,) = o.items
    assert (item.line_id, item.qty, item.station, item.prep_seconds) == ("l1", 2, "grill", 420)
    assert [m.name for m in item.modifiers] == ["No onions", "Extra cheese"]
    assert item.allergens == ("gluten", "milk")
    assert o.total_cents == 2590


def test_optional_fields_have_defaults() -> None:
    data = order_dict()
    for key in ("promised_at", "priority", "customer", "notes", "total_cents"):
        del data[key]
    for item in data["items"]:
        for key in ("prep_seconds", "modifiers", "allergens", "notes"):
            del item[key]
    o = parse_order(data)
    assert o.promised_at is None and o.priority is Priority.NORMAL and o.notes == ""
    assert o.customer.name == "" and o.customer.phone is None
    assert o.items[0].modifiers == () and o.items[0].prep_seconds == 0


@pytest.mark.parametrize("channel", ["web", "app", "doordash", "justeat", "phone", "kiosk"])
def test_any_lower_case_channel_is_accepted(channel: str) -> None:
    assert order(channel=channel).channel == channel


def test_unknown_fields_are_ignored() -> None:
    data = order_dict(loyalty={"tier": "gold"}, surge=True)
    data["brand"]["logo"] = "x.png"
    data["customer"]["email"] = "sam@example.com"
    data["items"][0]["colour"] = "red"
    data["items"][0]["modifiers"][0]["price"] = 50
    o = parse_order(data)
    assert not hasattr(o, "loyalty")
    assert "email" not in o.customer.model_dump()


def _without(data: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[last]
    return data


@pytest.mark.parametrize(
    "path",
    [
        "id",
        "version",
        "site_id",
        "brand",
        "channel",
        "display_number",
        "placed_at",
        "status",
        "items",
        "brand.id",
        "brand.name",
        "items.0.line_id",
        "items.0.sku",
        "items.0.name",
        "items.0.qty",
        "items.0.station",
        "items.0.modifiers.0.name",
    ],
)
def test_missing_required_field_is_named(path: str) -> None:
    with pytest.raises(WireError) as info:
        parse_order(_without(order_dict(), path))
    assert info.value.field == path
    assert path in str(info.value)


def _set(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    *parents, last = path.split(".")
    target: Any = data
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("items.0.qty", "2"),
        ("items.0.qty", 2.0),
        ("items.0.qty", 0),
        ("items.0.qty", True),
        ("items.1.qty", None),
        ("version", "3"),
        ("version", 0),
        ("version", 1.5),
        ("placed_at", 12345),
        ("placed_at", 1732471315.0),
        ("placed_at", "yesterday"),
        ("placed_at", "2026-11-24T18:01:55"),  # no zone
        ("promised_at", 12345),
        ("id", ""),
        ("id", 42),
        ("site_id", None),
        ("channel", "Uber Eats"),
        ("channel", ""),
        ("priority", "urgent"),
        ("status", "done"),
        ("brand", "burger-bros"),
        ("customer.notify", "yes"),
        ("items.0.prep_seconds", -1),
        ("items.0.prep_seconds", "420"),
        ("items.0.allergens", "gluten"),
        ("items.0.allergens.0", 7),
        ("items.0.modifiers.0.qty", "1"),
        ("total_cents", "2590"),
        ("notes", None),
    ],
)
def test_wrong_type_is_refused_naming_the_field(path: str, value: Any) -> None:
    with pytest.raises(WireError) as info:
        parse_order(_set(order_dict(), path, value))
    assert info.value.field is not None
    assert info.value.field == path or info.value.field.startswith(path + ".")


@pytest.mark.parametrize("items", [[], None, "l1", {}])
def test_items_must_be_a_non_empty_list(items: Any) -> None:
    with pytest.raises(WireError) as info:
        parse_order(order_dict(items=items))
    assert info.value.field == "items"


@pytest.mark.parametrize("data", [None, [], "order", 5, [order_dict()]])
def test_non_object_order_is_refused(data: Any) -> None:
    with pytest.raises(WireError):
        parse_order(data)


def test_refusal_names_the_order_id() -> None:
    with pytest.raises(WireError) as info:
        parse_order(order_dict(version="3"))
    assert "ord_01JD2X8Q4ZK3" in str(info.value)


@pytest.mark.parametrize("phone", ["0612345678", "+0612345678", "+31 6 1234 5678", 31612345678, ""])
def test_bad_phone_is_dropped_with_a_log_line_not_the_order(
    phone: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # the kitchen cooks the order either way; only a text to the customer is lost
    parsed = parse_order(_set(order_dict(), "customer.phone", phone))
    assert parsed.customer.phone is None
    assert "customer.phone ignored" in caplog.text
    assert str(phone) not in caplog.text or phone == ""


def test_valid_phone_is_kept_on_the_order_only() -> None:
    assert order().customer.phone == "+31612345678"
    assert "phone" not in ticket().customer.model_dump()


def test_format_time_is_rfc3339_utc_milliseconds() -> None:
    from datetime import timedelta, timezone

    value = datetime(2026, 11, 24, 19, 2, 11, 532_999, tzinfo=timezone(timedelta(hours=1)))
    assert format_time(value) == "2026-11-24T18:02:11.532Z"


def test_ticket_helpers() -> None:
    t = ticket()
    assert t.stations() == ["grill", "fry"]
    assert [i.line_id for i in t.items_at("grill")] == ["l1", "l3"]
    assert not t.station_done("grill") and not t.station_done("bar")
    assert t.is_open
    assert all(i.status is ItemStatus.PENDING for i in t.items)
