"""Unit tests of kitchen-event validation, status rules and cursors."""

from __future__ import annotations

import json

import pytest

from core_sim import cursors, kitchen_events
from core_sim.errors import ApiError

KEY = "evt-1"


def _body(**fields: object) -> bytes:
    base = {"event_id": KEY, "type": "status", "status": "ready", "at": "2026-11-24T18:14:03.210Z"}
    return json.dumps({**base, **fields}).encode()


def _detail(raw: bytes) -> str:
    with pytest.raises(ApiError) as info:
        kitchen_events.parse_body(raw, KEY)
    assert info.value.status == 422 and info.value.code == "invalid_body"
    return info.value.detail


def test_valid_body_parses() -> None:
    assert kitchen_events.parse_body(_body(extra="ignored"), KEY)["status"] == "ready"


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b"not json", "body"),
        (b"[1]", "body"),
        (_body(type="bump"), "type"),
        (_body(status="done"), "status"),
        (_body(at="yesterday"), "at"),
        (_body(at="2026-11-24T18:14:03"), "at"),
        (_body(event_id="other"), "event_id"),
        (_body(station=3), "station"),
        (_body(type="item_status", status="done"), "line_id"),
        (_body(type="item_status", line_id="l1", status="ready"), "status"),
        (_body(type="unavailable"), "sku"),
    ],
)
def test_bad_bodies_name_the_field(raw: bytes, field: str) -> None:
    assert _detail(raw).startswith(f"{field}:")


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [
        ("placed", "accepted", True),
        ("placed", "ready", True),
        ("ready", "in_progress", True),
        ("ready", "ready", True),
        ("cancelled", "ready", False),
        ("picked_up", "ready", False),
        ("cancelled", "cancelled", True),
        ("in_progress", "placed", False),
    ],
)
def test_transitions(current: str, target: str, ok: bool) -> None:
    if ok:
        kitchen_events.check_transition(current, target)
    else:
        with pytest.raises(ApiError) as info:
            kitchen_events.check_transition(current, target)
        assert (info.value.status, info.value.code) == (409, "invalid_transition")


def test_cursor_round_trip_and_garbage() -> None:
    cursor = cursors.Cursor("ams-01", 42, "abc", 7)
    assert cursors.decode(cursor.encode()) == cursor
    for text in ("!!!", "e30", "bm90IGpzb24", '{"s":1}'):
        with pytest.raises(ApiError) as info:
            cursors.decode(text)
        assert info.value.status == 400
