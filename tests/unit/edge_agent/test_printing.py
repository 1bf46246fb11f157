"""Rendering of kitchen tickets and bag labels (edge_agent.printing): no I/O."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from edge_agent.printing import (
    LARGE_WIDTH,
    WIDTH,
    Line,
    Receipt,
    first_name,
    receipt_to_text,
    render_label,
    render_ticket,
    wrap,
)
from tests.unit.shared.factories import item_dict, ticket

AMS = ZoneInfo("Europe/Amsterdam")


def texts(receipt: Receipt) -> list[str]:
    return [line.text for line in receipt.lines]


def lines_with(receipt: Receipt, fragment: str) -> list[Line]:
    return [line for line in receipt.lines if fragment in line.text]


def test_ticket_header_brand_number_channel_station_times() -> None:
    receipt = render_ticket(ticket(), "grill", placed_tz=AMS)
    assert receipt.kind == "ticket"
    assert receipt.title == "A-1042 grill"
    brand, number = receipt.lines[0], receipt.lines[1]
    assert (brand.text, brand.size, brand.bold, brand.align) == (
        "Burger Bros",
        "large",
        True,
        "center",
    )
    assert (number.text, number.size) == ("A-1042", "large")
    assert receipt.lines[2].text.startswith("UBEREATS") and receipt.lines[2].text.endswith("GRILL")
    # 18:01:55Z placed, 18:20Z promised: 19:01 / 19:20 in Amsterdam (CET)
    times = lines_with(receipt, "Placed")[0].text
    assert times.startswith("Placed 19:01") and times.endswith("Due 19:20")
    assert receipt.cut and receipt.qr is None


def test_times_in_the_given_zone() -> None:
    text = receipt_to_text(render_ticket(ticket(), "grill", placed_tz=UTC))
    assert "Placed 18:01" in text and "Due 18:20" in text


def test_only_that_stations_items_and_also_at() -> None:
    receipt = render_ticket(ticket(), "grill", placed_tz=UTC)
    heads = [line.text for line in receipt.lines if " x Item" in line.text]
    assert heads == ["2 x Item l1", "1 x Item l3"]
    assert "Item l2" not in receipt_to_text(receipt)
    assert texts(receipt).count("also at: fry") == 1

    fry = render_ticket(ticket(), "fry", placed_tz=UTC)
    assert [t for t in texts(fry) if " x Item" in t] == ["1 x Item l2"]
    assert "also at: grill" in texts(fry)


def test_a_station_without_lines_gets_the_whole_order_by_station() -> None:
    receipt = render_ticket(ticket(), "expo", placed_tz=UTC)
    body = texts(receipt)
    assert body.index("[GRILL]") < body.index("2 x Item l1") < body.index("[FRY]")
    assert body.index("[FRY]") < body.index("1 x Item l2")
    assert not any(t.startswith("also at") for t in body)


def test_modifiers_indented_notes_bold_allergens_inverted() -> None:
    t = ticket(
        items=[
            item_dict(
                "l1",
                "grill",
                qty=2,
                name="Smash Burger",
                modifiers=[{"name": "No onions"}, {"name": "Extra cheese", "qty": 2}],
                allergens=["gluten", "milk"],
                notes="well done",
            )
        ]
    )
    receipt = render_ticket(t, "grill", placed_tz=UTC)
    head = lines_with(receipt, "Smash Burger")[0]
    assert (head.text, head.indent, head.bold) == ("2 x Smash Burger", 0, True)
    mods = [line for line in receipt.lines if line.text.startswith("- ")]
    assert [(m.text, m.indent) for m in mods] == [("- No onions", 4), ("- 2 x Extra cheese", 4)]
    note = lines_with(receipt, "NOTE: well done")[0]
    assert note.bold and note.indent == 4 and not note.invert
    allergens = lines_with(receipt, "ALLERGENS")[0]
    assert allergens.text == "ALLERGENS: GLUTEN, MILK"
    assert allergens.invert and allergens.bold and allergens.indent == 4
    text = receipt_to_text(receipt)
    assert "\n    - No onions\n" in text and "\n    ALLERGENS: GLUTEN, MILK\n" in text


def test_order_note_rush_void_and_updated_markers() -> None:
    receipt = render_ticket(ticket(priority="rush", version=3), "grill", placed_tz=UTC)
    rush = lines_with(receipt, "RUSH")[0]
    assert rush.invert and rush.size == "large"
    assert lines_with(receipt, "UPDATED ORDER (v3)")
    assert lines_with(receipt, "ORDER NOTE: Ring the bell")[0].bold
    assert not lines_with(render_ticket(ticket(), "grill"), "RUSH")


def test_long_text_wraps_at_42_with_hanging_indent() -> None:
    long_name = "Triple Smash Burger with caramelised onions and smoked cheddar sauce"
    note = "please cut in half and wrap each half separately, " * 3
    t = ticket(items=[item_dict("l1", "grill", name=long_name, notes=note.strip())])
    receipt = render_ticket(t, "grill", placed_tz=UTC)
    for line in receipt.lines:
        assert line.indent + len(line.text) <= line.width, line
        assert line.width == (LARGE_WIDTH if line.size == "large" else WIDTH)
    name_lines = [line for line in receipt.lines if line.bold and line.indent in (0, 4)][3:6]
    joined = " ".join(line.text for line in name_lines)
    assert joined.startswith("1 x Triple Smash Burger")
    assert name_lines[1].indent == 4  # continuation of the item name is indented
    text = receipt_to_text(receipt)
    assert max(len(row) for row in text.splitlines()) <= WIDTH
    assert "separately," in text


def test_wrap_breaks_words_longer_than_a_line() -> None:
    lines = wrap("x" * 100)
    assert [len(line.text) for line in lines] == [42, 42, 16]
    assert wrap("")[0].text == ""
    large = wrap("A very long brand name indeed", size="large", align="center")
    assert all(len(line.text) <= LARGE_WIDTH for line in large) and len(large) == 2


def test_non_ascii_is_kept() -> None:
    t = ticket(
        brand={"id": "b", "name": "Crêperie Zoë"},
        items=[item_dict("l1", "grill", name="Crème brûlée", modifiers=[{"name": "Łódź 🔥"}])],
    )
    text = receipt_to_text(render_ticket(t, "grill", placed_tz=UTC))
    assert "Crêperie Zoë" in text and "1 x Crème brûlée" in text and "- Łódź 🔥" in text


def test_label_brand_number_first_name_channel_and_qr_of_the_order_id() -> None:
    t = ticket(customer={"name": "Zoë van der Berg"})
    receipt = render_label(t, first_name(t.customer.name))
    assert receipt.kind == "label" and receipt.cut
    assert receipt.qr == "ord_01JD2X8Q4ZK3"
    assert texts(receipt)[:4] == ["Burger Bros", "A-1042", "Zoë", "UBEREATS"]
    assert all(line.align == "center" for line in receipt.lines)
    assert "4 items" in texts(receipt)  # 2 + 1 + 1
    text = receipt_to_text(receipt)
    assert "[QR: ord_01JD2X8Q4ZK3]" in text
    # no phone number, no line items on a bag
    assert "+31" not in text and "Item l1" not in text


def test_label_without_a_name() -> None:
    receipt = render_label(ticket(customer={"name": ""}), "")
    assert texts(receipt)[:3] == ["Burger Bros", "A-1042", "UBEREATS"]


@pytest.mark.parametrize(
    ("name", "first"), [("Sam de Vries", "Sam"), ("  Zoë ", "Zoë"), ("", ""), ("Ng", "Ng")]
)
def test_first_name(name: str, first: str) -> None:
    assert first_name(name) == first


def test_receipt_to_text_layout() -> None:
    receipt = Receipt(
        kind="label",
        title="t",
        lines=(Line("mid", align="center"), Line("r", align="right"), Line("x", indent=4)),
        qr="q",
    )
    rows = receipt_to_text(receipt).splitlines()
    assert rows[0] == " " * 19 + "mid"
    assert rows[1] == " " * 41 + "r"
    assert rows[2] == "    x"
    assert rows[3].strip() == "[QR: q]"
    assert rows[4].endswith("cut")


def test_a_declared_allergy_heads_the_ticket_inverted() -> None:
    t = ticket(notes="ALLERGY: peanuts")
    receipt = render_ticket(t, "grill", placed_tz=UTC)
    texts = [line.text for line in receipt.lines]
    banner = texts.index("*** ALLERGY ***")
    assert texts[banner + 1] == "ALLERGY: peanuts"
    assert banner < texts.index("-" * 42)  # above the lines, with the header
    assert all(line.invert for line in receipt.lines[banner : banner + 2])
