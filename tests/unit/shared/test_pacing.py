"""Pacing by promised time: fire_at per line, cook_by per order."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.model import Ticket
from shared.pacing import cook_by, fire_at

PROMISED = datetime(2026, 11, 24, 18, 20, 0, tzinfo=UTC)


def _ticket(prep: list[int], *, promised: datetime | None = PROMISED) -> Ticket:
    return Ticket.model_validate(
        {
            "id": "ord_1",
            "version": 1,
            "brand": {"id": "b", "name": "B"},
            "channel": "ubereats",
            "display_number": "1",
            "placed_at": "2026-11-24T18:00:00Z",
            "promised_at": promised.isoformat() if promised else None,
            "status": "accepted",
            "items": [
                {
                    "line_id": f"l{i}",
                    "sku": f"s{i}",
                    "name": f"Item {i}",
                    "qty": 1,
                    "station": "grill",
                    "prep_seconds": seconds,
                }
                for i, seconds in enumerate(prep)
            ],
        }
    )


def test_each_line_fires_its_prep_time_before_the_promise() -> None:
    ticket = _ticket([600, 240])
    assert fire_at(ticket, ticket.items[0]) == datetime(2026, 11, 24, 18, 10, tzinfo=UTC)
    assert fire_at(ticket, ticket.items[1]) == datetime(2026, 11, 24, 18, 16, tzinfo=UTC)


def test_cook_by_is_the_longest_line() -> None:
    ticket = _ticket([240, 600, 90])
    assert cook_by(ticket) == datetime(2026, 11, 24, 18, 10, tzinfo=UTC)


def test_no_promise_means_no_pacing() -> None:
    ticket = _ticket([600], promised=None)
    assert fire_at(ticket, ticket.items[0]) is None
    assert cook_by(ticket) is None


def test_a_line_without_prep_time_fires_at_once() -> None:
    ticket = _ticket([0, 300])
    assert fire_at(ticket, ticket.items[0]) is None
    # the order still has to start by its longest line
    assert cook_by(ticket) == datetime(2026, 11, 24, 18, 15, tzinfo=UTC)


def test_cook_by_without_prep_times_is_the_promise() -> None:
    ticket = _ticket([0, 0])
    assert cook_by(ticket) == PROMISED
