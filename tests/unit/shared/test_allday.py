"""All-day counts: per station, merged across brands, done lines and voids left out."""

from __future__ import annotations

from typing import Any

from shared.allday import TIMES, all_day, all_day_by_station, format_count, item_key
from shared.model import Ticket

_n = 0


def make(
    lines: list[dict[str, Any]],
    *,
    status: str = "accepted",
    brand: tuple[str, str] = ("b_burger", "Burger Bros"),
) -> Ticket:
    global _n
    _n += 1
    items = [
        {
            "line_id": f"l{i}",
            "sku": line.get("sku", line["name"].lower().replace(" ", "-")),
            "qty": 1,
            "station": "grill",
            **line,
        }
        for i, line in enumerate(lines)
    ]
    return Ticket.model_validate(
        {
            "id": f"ord_{_n}",
            "version": 1,
            "brand": {"id": brand[0], "name": brand[1]},
            "channel": "ubereats",
            "display_number": str(_n),
            "placed_at": "2026-11-24T18:00:00Z",
            "items": items,
            "status": status,
        }
    )


SMASH = ("b_smash", "Smash Co")


def test_same_item_across_brands_is_one_count() -> None:
    tickets = [
        make([{"name": "Classic Burger", "qty": 2, "sku": "BB-CLASSIC"}]),
        make([{"name": "classic  burger ", "qty": 3, "sku": "SC-CLASSIC"}], brand=SMASH),
    ]
    [count] = all_day(tickets, "grill")
    assert count.qty == 5
    assert count.tickets == 2
    assert count.brands == ("Burger Bros", "Smash Co")
    assert count.skus == ("BB-CLASSIC", "SC-CLASSIC")
    assert format_count(count) == f"5{TIMES} Classic Burger"


def test_modifiers_make_a_different_item_whatever_their_order() -> None:
    a = {"name": "Classic Burger", "modifiers": [{"name": "no onion"}, {"name": "Bacon", "qty": 2}]}
    b = {"name": "Classic Burger", "modifiers": [{"name": "bacon", "qty": 2}, {"name": "No Onion"}]}
    plain = {"name": "Classic Burger"}
    counts = all_day([make([a, plain]), make([b], brand=SMASH)], "grill")
    assert [(c.qty, format_count(c)) for c in counts] == [
        (2, f"2{TIMES} Classic Burger + 2{TIMES} Bacon, no onion"),
        (1, f"1{TIMES} Classic Burger"),
    ]
    assert item_key(make([a]).items[0]) == item_key(make([b]).items[0])


def test_done_lines_cancelled_ready_and_other_stations_do_not_count() -> None:
    tickets = [
        make([{"name": "Fries", "station": "fry"}, {"name": "Burger", "status": "done"}]),
        make([{"name": "Burger"}], status="cancelled"),
        make([{"name": "Burger"}], status="ready"),
        make([{"name": "Burger", "unavailable": True}]),
        make([{"name": "Burger", "status": "in_progress", "qty": 4}], status="in_progress"),
    ]
    assert [(c.name, c.qty) for c in all_day(tickets, "grill")] == [("Burger", 4)]
    assert [(c.name, c.qty) for c in all_day(tickets, "fry")] == [("Fries", 1)]


def test_folds_add_the_folded_station_and_expo_counts_everything() -> None:
    tickets = [make([{"name": "Fries", "station": "fry", "qty": 3}, {"name": "Burger"}])]
    assert [c.name for c in all_day(tickets, "grill")] == ["Burger"]
    folded = all_day(tickets, "grill", folds={"fry": "grill"})
    assert [(c.name, c.qty, c.stations) for c in folded] == [
        ("Fries", 3, ("fry",)),
        ("Burger", 1, ("grill",)),
    ]
    assert len(all_day(tickets, "expo", expo_station="expo")) == 2
    assert len(all_day(tickets)) == 2


def test_by_station_groups_folded_stations_into_their_target() -> None:
    tickets = [
        make(
            [
                {"name": "Fries", "station": "fry"},
                {"name": "Burger"},
                {"name": "Cola", "station": "bar"},
            ]
        )
    ]
    by_station = all_day_by_station(tickets, folds={"fry": "grill"})
    assert {s: [c.name for c in counts] for s, counts in by_station.items()} == {
        "bar": ["Cola"],
        "grill": ["Burger", "Fries"],
    }


def test_sorted_most_first_then_by_name() -> None:
    tickets = [make([{"name": "B"}, {"name": "A"}, {"name": "C", "qty": 5}])]
    assert [c.name for c in all_day(tickets, "grill")] == ["C", "A", "B"]
