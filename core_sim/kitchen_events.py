"""Validation of kitchen events (``POST .../orders/{id}/events``) and status rules.

Status rules (the contract leaves them open; see docs/core-sim.md):

* ``picked_up`` and ``cancelled`` are final: any other status afterwards is ``409``.
* Forward moves may skip steps (``placed`` straight to ``ready`` is fine).
* Among ``accepted``, ``in_progress`` and ``ready`` the kitchen may also move back
  (a "recall" of an order bumped by mistake), but never back to ``placed``.
* Repeating the current status is accepted and changes nothing.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from core_sim.errors import ApiError, invalid_body

ORDER_STATUSES: tuple[str, ...] = (
    "placed",
    "accepted",
    "in_progress",
    "ready",
    "picked_up",
    "cancelled",
)
FINAL_STATUSES: frozenset[str] = frozenset({"picked_up", "cancelled"})
EVENT_TYPES: tuple[str, ...] = ("status", "item_status", "unavailable")
#: a line's kitchen status, as the site protocol names it (the contract leaves item
#: statuses open; the kitchen reports the states its lines go through)
ITEM_STATUSES: tuple[str, ...] = ("pending", "in_progress", "done")


def parse_body(raw: bytes, idempotency_key: str) -> dict[str, Any]:
    """Decode and check the shape of an event body; ``422`` naming the bad field."""
    try:
        body = json.loads(raw.decode("utf-8")) if raw else None
    except (UnicodeDecodeError, ValueError) as exc:
        raise invalid_body("body: not valid UTF-8 JSON") from exc
    if not isinstance(body, dict):
        raise invalid_body("body: must be a JSON object")
    event_id = _required_str(body, "event_id")
    if event_id != idempotency_key:
        raise invalid_body("event_id: must equal the Idempotency-Key header")
    kind = _required_str(body, "type")
    if kind not in EVENT_TYPES:
        raise invalid_body(f"type: must be one of {', '.join(EVENT_TYPES)}")
    _check_time(body, "at")
    for name in ("station", "actor"):
        if name in body and not isinstance(body[name], str):
            raise invalid_body(f"{name}: must be a string")
    if kind == "status":
        status = _required_str(body, "status")
        if status not in ORDER_STATUSES:
            raise invalid_body(f"status: must be one of {', '.join(ORDER_STATUSES)}")
    if kind == "item_status":
        status = _required_str(body, "status")
        if status not in ITEM_STATUSES:
            raise invalid_body(f"status: must be one of {', '.join(ITEM_STATUSES)}")
    if kind == "item_status":
        _required_str(body, "line_id")
    if kind == "unavailable":
        _required_str(body, "sku")
    return body


def apply(order: dict[str, Any], body: dict[str, Any]) -> None:
    """Check an event against the order and apply it (only ``status`` changes the order)."""
    kind = body["type"]
    current = order.get("status")
    if kind == "status":
        check_transition(str(current), body["status"])
        order["status"] = body["status"]
        return
    if current in FINAL_STATUSES:
        raise ApiError(409, "invalid_transition", f"order is {current}")
    if kind == "item_status":
        if body["line_id"] not in _line_ids(order):
            raise invalid_body(f"line_id: no line {body['line_id']!r} in this order")
    elif body["sku"] not in {line.get("sku") for line in _lines(order)}:
        raise invalid_body(f"sku: no item {body['sku']!r} in this order")


def check_transition(current: str, target: str) -> None:
    """Raise ``409 invalid_transition`` when ``current -> target`` is not allowed."""
    if target == current:
        return
    if current in FINAL_STATUSES:
        raise ApiError(409, "invalid_transition", f"order is {current}; cannot become {target}")
    if target == "placed":
        raise ApiError(409, "invalid_transition", f"order is {current}; cannot go back to placed")


def _required_str(body: dict[str, Any], name: str) -> str:
    value = body.get(name)
    if name not in body:
        raise invalid_body(f"{name}: required")
    if not isinstance(value, str) or not value:
        raise invalid_body(f"{name}: must be a non-empty string")
    return value


def _check_time(body: dict[str, Any], name: str) -> None:
    value = _required_str(body, name)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise invalid_body(f"{name}: must be an RFC 3339 time") from exc
    if moment.tzinfo is None or "T" not in value.upper():
        raise invalid_body(f"{name}: must be an RFC 3339 time with an offset or Z")


def _lines(order: dict[str, Any]) -> list[dict[str, Any]]:
    items = order.get("items")
    return [line for line in items if isinstance(line, dict)] if isinstance(items, list) else []


def _line_ids(order: dict[str, Any]) -> set[Any]:
    return {line.get("line_id") for line in _lines(order)}
