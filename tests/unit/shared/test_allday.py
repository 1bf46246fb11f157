"""All-day counts: per station, merged across brands, done lines and voids left out."""

from __future__ import annotations

import random
from typing import Any

import pytest

from shared.allday import (
    ALL,
    TIMES,
    AllDayCount,
    all_day,
    all_day_by_station,
    board_tally,
    format_count,
    item_key,
    station_tally,
)
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


# --- the live tally -----------------------------------------------------------------


def _random_ticket(rng: random.Random, ticket_id: str) -> Ticket:
    names = ["Classic Burger", "classic  BURGER", "Fries", "Caesar", "Cola"]
    lines = [
        {
            "name": rng.choice(names),
            "qty": rng.randint(1, 3),
            "station": rng.choice(["grill", "fry", "cold"]),
            "status": rng.choice(["pending", "in_progress", "done"]),
            "modifiers": [{"name": "no onion"}] if rng.random() < 0.3 else [],
        }
        for _ in range(rng.randint(1, 4))
    ]
    brand = rng.choice([("b_burger", "Burger Bros"), SMASH])
    ticket = make(lines, status=rng.choice(["accepted", "in_progress", "ready"]), brand=brand)
    return ticket.model_copy(update={"id": ticket_id})


def _same(tally: list[AllDayCount], counted: list[AllDayCount]) -> None:
    # the name is "as first seen": the order tickets were counted in may differ
    assert [(c.key, c.qty, c.tickets, c.brands, c.stations, c.skus) for c in tally] == [
        (c.key, c.qty, c.tickets, c.brands, c.stations, c.skus) for c in counted
    ]


@pytest.mark.parametrize("seed", range(20))
def test_tally_kept_ticket_by_ticket_equals_counting_from_scratch(seed: int) -> None:
    rng = random.Random(seed)
    folds = {"fry": "grill"} if seed % 2 else {}
    station = station_tally("grill", folds=folds)
    expo = station_tally("expo", expo_station="expo")
    board = board_tally(folds)
    tickets: dict[str, Ticket] = {}
    for step in range(120):
        ticket_id = f"ord_{rng.randint(0, 25)}"
        if ticket_id in tickets and rng.random() < 0.25:
            del tickets[ticket_id]
            for tally in (station, expo, board):
                tally.remove(ticket_id)
        else:
            tickets[ticket_id] = _random_ticket(rng, ticket_id)
            changed = {tally.update(tickets[ticket_id]) for tally in (station, expo, board)}
            assert changed  # it answers
        now = list(tickets.values())
        _same(station.counts(ALL), all_day(now, "grill", folds=folds))
        _same(expo.counts(ALL), all_day(now, "expo", expo_station="expo"))
        by_station = all_day_by_station(now, folds=folds)
        assert board.groups() == list(by_station), step
        for group, counts in by_station.items():
            _same(board.counts(group), counts)


def test_tally_says_when_nothing_it_counts_changed() -> None:
    tally = station_tally("grill")
    first = make([{"name": "Classic Burger"}, {"name": "Fries", "station": "fry"}])
    assert tally.update(first) is True
    # the line started: still to make, the count is the same
    started = first.model_copy(
        update={
            "items": [first.items[0].model_copy(update={"status": "in_progress"}), first.items[1]]
        }
    )
    assert tally.update(started) is False
    # the fry line done: not grill's count
    fried = started.model_copy(
        update={"items": [started.items[0], started.items[1].model_copy(update={"status": "done"})]}
    )
    assert tally.update(fried) is False
    assert tally.remove("ord_nothing") is False
    assert tally.remove(first.id) is True
    assert tally.counts(ALL) == []
    assert tally.groups() == []
