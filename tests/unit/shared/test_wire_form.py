"""The wire form of tickets (shared.wire_form): bounded copies that are still v1 tickets."""

from __future__ import annotations

import json
from typing import Any

from shared import wire
from shared.model import ItemStatus, Ticket
from shared.state import ticket_from_order
from shared.wire_form import (
    DISPLAY_MESSAGE_BYTES,
    ELLIPSIS,
    SETTINGS_BYTES,
    TICKET_MESSAGE_BYTES,
    encoded_size,
    wire_settings,
    wire_ticket,
    wire_tickets,
)
from tests.unit.shared.factories import NOW, SITE, item_dict, order, ticket

# the fields a v1 client reads from every ticket and line (the contract's list)
V1_TICKET = ("id", "version", "brand", "channel", "display_number", "placed_at", "items", "status")
V1_LINE = ("line_id", "sku", "name", "qty", "station", "modifiers", "allergens", "notes", "status")


def big(items: list[dict[str, Any]], **overrides: Any) -> Ticket:
    return ticket_from_order(order(items=items, **overrides), NOW)


def on_the_wire(t: Ticket) -> tuple[int, Ticket]:
    """The encoded ``ticket.updated`` of ``t``'s wire form: its size and what a receiver
    parses, after checking what a v1 client needs is there."""
    message = wire.TicketUpdated(site_id=SITE, seq=1, ticket=wire_ticket(t), epoch="0" * 16)
    body = wire.encode(message)
    data = json.loads(body)["ticket"]
    assert all(key in data for key in V1_TICKET)
    assert all(key in line for line in data["items"] for key in V1_LINE)
    parsed = wire.parse_state_message(body)
    assert isinstance(parsed, wire.TicketUpdated)
    return len(body), parsed.ticket


def test_a_ticket_that_fits_is_sent_as_it_is() -> None:
    t = ticket()
    assert wire_ticket(t) is t
    assert on_the_wire(t)[1] == t and t.more_lines == {}


def test_a_megabyte_of_notes_is_cut_with_an_ellipsis_and_the_lines_counted() -> None:
    note = "extra crispy, " * 70  # 980 characters: under the order's own cut
    t = big([item_dict(f"l{i}", "grill", notes=note) for i in range(1100)], notes="x" * 1000)
    assert encoded_size(t) > 1_000_000
    size, sent = on_the_wire(t)
    assert size <= TICKET_MESSAGE_BYTES
    assert sent.notes.endswith(ELLIPSIS) and len(sent.notes) < 1000
    assert all(item.notes.endswith(ELLIPSIS) for item in sent.items)
    assert len(sent.items) + sent.more_lines["grill"] == 1100
    assert [i.line_id for i in sent.items] == [f"l{i}" for i in range(len(sent.items))]


def test_ten_thousand_lines_every_station_keeps_lines_of_its_own() -> None:
    items = [item_dict(f"g{i}", "grill") for i in range(9998)]
    items += [item_dict("f1", "fry"), item_dict("d1", "drinks")]
    size, sent = on_the_wire(big(items))
    assert size <= TICKET_MESSAGE_BYTES
    assert set(sent.stations()) == {"grill", "fry", "drinks"}
    assert sent.more_lines == {"grill": 9998 - len(sent.items_at("grill"))}


def test_lines_still_to_make_are_kept_before_done_ones() -> None:
    items = [item_dict(f"l{i}", "grill") for i in range(5000)]
    t = big(items)
    done = {f"l{i}" for i in range(100)}
    t = t.model_copy(
        update={
            "items": tuple(
                i.model_copy(update={"status": ItemStatus.DONE}) if i.line_id in done else i
                for i in t.items
            )
        }
    )
    _size, sent = on_the_wire(t)
    assert all(item.status is not ItemStatus.DONE for item in sent.items)


def test_pathological_lines_modifiers_allergens_and_texts_stay_under_the_budget() -> None:
    control = "\u0001" * 1000  # six bytes each in JSON
    emoji = "\U0001f354" * 200  # four bytes each
    line = item_dict(
        "l1",
        "grill",
        name=emoji,
        notes=control,
        modifiers=[{"name": emoji, "qty": 2} for _ in range(10_000)],
        allergens=[f"allergen {n} {emoji}" for n in range(1000)],
    )
    t = big([line, *(item_dict(f"l{i}", "fry", notes=control) for i in range(2, 300))])
    t = t.model_copy(update={"allergy": tuple(f"ALLERGY {n}: {control}" for n in range(1000))})
    size, sent = on_the_wire(t)
    assert size <= TICKET_MESSAGE_BYTES
    first = sent.items[0]
    assert first.line_id == "l1" and first.name.endswith(ELLIPSIS)
    assert first.modifiers[-1].name.startswith(f"{ELLIPSIS} (+")
    assert first.allergens[-1].startswith(f"{ELLIPSIS} (+")
    assert sent.allergy[-1].startswith(f"{ELLIPSIS} (+")
    assert sent.more_lines["fry"] == 298 - len(sent.items_at("fry"))


def test_a_snapshot_of_many_big_tickets_fits_and_keeps_every_ticket_and_marker() -> None:
    lines = [item_dict(f"l{i}", "grill", notes="n" * 900) for i in range(200)]
    tickets = [big(lines, id=f"ord_{n:04d}") for n in range(150)] + [ticket(id="ord_small")]
    budget = DISPLAY_MESSAGE_BYTES - 4096
    sent = wire_tickets(tickets, budget)
    assert [t.id for t in sent] == [t.id for t in tickets]
    assert sum(encoded_size(t) for t in sent) + len(sent) <= budget
    assert sent[-1] == tickets[-1]  # the small one, whole
    for t in sent[:-1]:
        assert t.items and len(t.items) + t.more_lines["grill"] == 200


def test_tickets_that_fit_together_are_only_their_ticket_updated_forms() -> None:
    tickets = [ticket(id=f"ord_{n}") for n in range(10)]
    assert wire_tickets(tickets, DISPLAY_MESSAGE_BYTES) == tuple(tickets)


def test_settings_with_thousands_of_86d_items_keep_the_newest_within_the_budget() -> None:
    many = tuple(
        wire.OutOfStock(sku=f"SKU-{n}", name="Very long item name " * 10, since=NOW)
        for n in range(10_000)
    )
    settings = wire.SiteSettings(out_of_stock=many)
    small = wire_settings(settings)
    assert len(small.model_dump_json().encode()) <= SETTINGS_BYTES
    assert small.out_of_stock and small.out_of_stock[-1].sku == "SKU-9999"
    assert wire_settings(wire.SiteSettings()) == wire.SiteSettings()


def test_a_refusal_detail_is_cut() -> None:
    result = wire.error_result(SITE, "c1", "invalid_transition", "x" * 100_000)
    assert result.detail is not None and len(result.detail) == wire.DETAIL_CHARS
