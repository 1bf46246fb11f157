"""Declared allergies (shared.allergy): what stops the line, and what does not."""

from __future__ import annotations

import pytest

from shared.allergy import AllergyRules, declarations
from shared.model import parse_order
from shared.state import merge_order, ticket_from_order
from tests.unit.shared.factories import NOW, item_dict, order_dict

RULES = AllergyRules()


@pytest.mark.parametrize(
    "text",
    [
        "ALLERGY: peanuts",
        "nut allergy, severe",
        "allergic to sesame",
        "Coeliac - no gluten please",
        "has an EpiPen",
        "No peanuts",
        "no tree nuts",
        "No  shellfish",
        "NO PRAWNS",
    ],
)
def test_declarations_are_recognised(text: str) -> None:
    assert RULES.matches(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Ring the bell",
        "well done",
        "No onions",
        "Extra cheese",
        "donut",
        "coconut milk",
        "nutmeg",
        "Gluten-free base",
    ],
)
def test_ordinary_notes_and_modifiers_are_not(text: str) -> None:
    assert not RULES.matches(text)


def test_item_names_and_recipe_allergens_never_declare() -> None:
    order = parse_order(
        order_dict(
            notes="",
            items=[
                item_dict(
                    "l1",
                    "grill",
                    name="Peanut Satay",
                    allergens=["peanuts"],
                    modifiers=[],
                    notes="",
                )
            ],
        )
    )
    assert declarations(order.notes, order.items, RULES) == ()
    assert ticket_from_order(order, NOW, RULES).allergy == ()


def test_where_each_declaration_comes_from() -> None:
    order = parse_order(
        order_dict(
            notes="Nut allergy!",
            items=[
                item_dict("l1", "grill", name="Burger", modifiers=[{"name": "No sesame"}]),
                item_dict("l2", "fry", name="Fries", notes="allergic to gluten", modifiers=[]),
                item_dict("l3", "cold", name="Salad", modifiers=[]),
            ],
        )
    )
    found = declarations(order.notes, order.items, RULES)
    assert [(d.line_id, d.text) for d in found] == [
        ("", "Nut allergy!"),
        ("l1", "Burger: No sesame"),
        ("l2", "Fries: allergic to gluten"),
    ]
    ticket = ticket_from_order(order, NOW, RULES)
    assert ticket.allergy == ("Nut allergy!", "Burger: No sesame", "Fries: allergic to gluten")
    assert [i.allergy for i in ticket.items] == [True, True, False]


def test_the_site_sets_its_own_rules() -> None:
    rules = AllergyRules(patterns=("allergie",), severe=("mustard",))
    assert rules.matches("Allergie: noten") and rules.matches("no mustard")
    assert not rules.matches("No peanuts")


def test_a_long_declaration_is_clipped_for_the_banner() -> None:
    found = declarations("allergy " + "x" * 500, [], RULES)
    assert len(found[0].text) == 120 and found[0].text.endswith("…")


def test_an_edit_keeps_acks_unless_a_new_allergy_appears() -> None:
    from shared.state import ack_allergens

    first = ticket_from_order(parse_order(order_dict(notes="ALLERGY: peanuts")), NOW)
    seen = ack_allergens(first, "grill", NOW, display_id="grill-1").ticket
    same = merge_order(seen, parse_order(order_dict(version=2, notes="ALLERGY: peanuts")), NOW)
    assert [a.station for a in same.ticket.allergy_acks] == ["grill"]
    more = merge_order(
        seen, parse_order(order_dict(version=2, notes="ALLERGY: peanuts and shellfish")), NOW
    )
    assert more.ticket.allergy_acks == ()
