"""What a card says (kitchen_display.card_content): pure, no painting, no display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kitchen_display.card_content import (
    Block,
    CardContent,
    CardState,
    aging_cue,
    brand_letter,
    card_content,
    card_state,
    channel_badge,
    minsec,
    pending_text,
)
from kitchen_display.ticket_model import LineView, Role, StationProgress, TicketListModel
from shared.aging import AgeState, Aging
from shared.model import Ticket
from shared.wire import AgingRule, SiteSettings
from tests.unit.kitchen_display.fakes import NOW, revise, ticket


def content(t: Ticket, **state: object) -> CardContent:
    """``t``'s card on grill (every line of ``t`` shown unless ``lines`` is given)."""
    state.setdefault("lines", tuple(LineView(item) for item in t.items))
    return card_content(t, CardState(station="grill", is_expo=False, **state))  # type: ignore[arg-type]


def kinds(card: CardContent, text: str) -> list[str]:
    return [block.kind for block in card.blocks if text in block.text]


# --- the aging cue: from the typed result, not from text ----------------------------------


@pytest.mark.parametrize(
    ("aging", "cue"),
    [
        (Aging(AgeState.OK, 100), ""),
        (Aging(AgeState.WARN, 5 * 60 + 12), "WARN 5:12"),
        (Aging(AgeState.WARN, 60, due_in_seconds=150, promise_near=True), "DUE IN 2:30"),
        # warning by time while the promise is still far: the time since placed
        (Aging(AgeState.WARN, 6 * 60, due_in_seconds=900), "WARN 6:00"),
        (Aging(AgeState.LATE, 900, overdue_seconds=3 * 60 + 12), "LATE +3:12"),
        (Aging(AgeState.LATE, 9000, overdue_seconds=75 * 60 + 2), "LATE +75:02"),
    ],
)
def test_the_aging_cue(aging: Aging, cue: str) -> None:
    assert aging_cue(aging) == cue
    chips = [(chip.kind, chip.text) for chip in content(ticket("t1"), aging=aging).chips]
    assert chips == ([("cue", cue)] if cue else [])


def test_minsec_counts_minutes_past_the_hour() -> None:
    texts = [minsec(s) for s in (-5, 0, 59, 61, 3600 + 2)]
    assert texts == ["0:00", "0:00", "0:59", "1:01", "60:02"]


def test_card_state_reads_the_models_typed_aging(qapp: object) -> None:
    model = TicketListModel("grill", is_expo=False, clock=lambda: NOW)
    model.set_site_settings(SiteSettings(aging=AgingRule(warn_minutes=5, late_minutes=8)))
    model.upsert(ticket("t1", placed_at=NOW - timedelta(minutes=11, seconds=12)))
    index = model.index_of("t1")
    state = card_state(index, "grill", False)
    assert state.aging == model.data(index, Role.AgingRole)
    assert (state.age, state.aging.overdue_seconds, state.elapsed) == (AgeState.LATE, 192, 672)
    assert aging_cue(state.aging) == "LATE +3:12"
    model.deleteLater()


# --- header ---------------------------------------------------------------------------------


def test_brand_letter_and_channel_badge() -> None:
    t = ticket("t1", brand=("b_taco", "taco town"), channel="door_dash", number="A-7")
    card = content(t, elapsed=75)
    assert card.texts()[:5] == ["#A-7", "01:15", "T", "taco town", "DOORDASH"]
    assert brand_letter("  9 bar") == "9" and brand_letter("--") == "?"
    assert channel_badge("uber_eats") == "UBEREATS" and channel_badge("__") == "?"


def test_chips_in_order() -> None:
    card = content(
        ticket("t1"),
        void=True,
        started=True,
        rush=True,
        folded=("fry",),
        pending=("bump", "item_done"),
        unconfirmed=("start",),
    )
    assert [(c.kind, c.text) for c in card.chips] == [
        ("void", "VOID"),
        ("rush", "RUSH"),
        ("fold", "+fry"),
        ("pending", "↻ BUMP PENDING"),
        ("pending", "↻ ITEM DONE PENDING"),
        ("pending", "↻ START NOT CONFIRMED"),
    ]  # a VOID is not "STARTED"
    assert card.veil == "VOID"
    assert [c.text for c in content(ticket("t1"), rush=True, rush_up=True).chips] == ["RUSH ↑"]
    assert content(ticket("t1")).veil == ""
    assert pending_text("start") == "↻ START PENDING"


# --- body -----------------------------------------------------------------------------------


def test_changed_unavailable_done_and_paced_lines() -> None:
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Burger", "changed": True},
            {"station": "grill", "name": "Hot Dog", "status": "done"},
            {"station": "grill", "name": "Ribs", "unavailable": True},
            {"station": "grill", "name": "Slider", "modifiers": [{"name": "cheese", "qty": 2}]},
        ],
    )
    fire = datetime(2026, 11, 24, 18, 7, tzinfo=UTC)
    lines = tuple(LineView(item, fire if item.name == "Slider" else None) for item in t.items)
    card = content(t, lines=lines)
    assert kinds(card, "Burger") == ["changed"] and "1× Burger  CHANGED" in card.texts()
    assert kinds(card, "Hot Dog") == ["done"] and "✓ 1× Hot Dog" in card.texts()
    assert kinds(card, "Ribs") == ["unavailable"]
    hhmm = fire.astimezone().strftime("%H:%M")
    slider = [(b.kind, b.text, b.indent) for b in card.blocks if b.line_id == "l4"]
    assert slider == [
        ("waiting", "1× Slider", False),
        ("fire", f"fire at {hhmm}", True),
        ("modifier", "+ 2× cheese", True),
    ]
    assert card.done_lines == frozenset({"l2"})


def test_a_line_that_declares_the_allergy_is_marked() -> None:
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Burger", "notes": "allergic to sesame", "allergy": True},
            {"station": "grill", "name": "Slider"},
        ],
    )
    card = content(revise(t, allergy=["Burger: allergic to sesame"]))
    assert [b.text for b in card.blocks if b.allergy] == ["1× Burger", "NOTE: allergic to sesame"]
    assert card.blocks[0] == Block("allergy", "⚠ ALLERGY\nBurger: allergic to sesame")


def test_the_allergy_banner_says_when_it_was_seen_here() -> None:
    seen = datetime(2026, 11, 24, 18, 3, tzinfo=UTC)
    card = content(revise(ticket("t1"), allergy=["Nut allergy, severe"]), allergy_seen=seen)
    hhmm = seen.astimezone().strftime("%H:%M")
    assert card.blocks[0].text == f"⚠ ALLERGY  ✓ SEEN {hhmm}\nNut allergy, severe"


def test_an_order_note_that_is_the_declared_allergy_is_not_shown_twice() -> None:
    t1 = revise(ticket("t1", notes="ALLERGY:  peanuts"), allergy=["ALLERGY: peanuts"])
    assert not any(x.startswith("ORDER NOTE") for x in content(t1).texts())
    t2 = revise(ticket("t2", notes="Ring the bell"), allergy=["Burger: No sesame"])
    assert "ORDER NOTE: Ring the bell" in content(t2).texts()


def test_contains_once_and_other_stations() -> None:
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Burger", "allergens": ["gluten", "milk"]},
            {"station": "grill", "name": "Slider", "allergens": ["gluten", "egg"]},
        ],
    )
    card = content(t, other_stations=("fry", "cold"))
    assert card.texts()[-4:] == [
        "contains: gluten, milk, egg",
        "also at: fry, cold",
        "START",
        "BUMP",
    ]
    assert content(t, lines=()).blocks == (Block("also", "(no lines)"),)


def test_expo_groups_lines_by_station_with_progress() -> None:
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Burger", "status": "done"},
            {"station": "fry", "name": "Fries", "status": "in_progress"},
            {"station": "cold", "name": "Shake"},
        ],
    )
    lines = tuple(LineView(item) for item in t.items)
    card = card_content(t, CardState(station="expo", is_expo=True, lines=lines))
    headings = [(b.text, b.progress) for b in card.blocks if b.kind == "heading"]
    assert headings == [
        ("GRILL — ✓ done", StationProgress.DONE),
        ("FRY — in progress", StationProgress.IN_PROGRESS),
        ("COLD — waiting", StationProgress.PENDING),
    ]
    assert [b.kind for b in card.blocks].count("gap") == 2


def test_a_folded_station_gets_a_heading_on_the_prep_screen() -> None:
    t = ticket("t1", lines=[("grill", "Burger"), ("fry", "Onion Rings")])
    card = content(t, folded=("fry",))
    assert [(b.kind, b.text) for b in card.blocks if b.kind == "heading"] == [
        ("heading", "GRILL"),
        ("heading", "FRY"),
    ]
    assert all(b.progress is None for b in card.blocks)


def test_buttons_are_the_states_actions() -> None:
    assert content(ticket("t1")).buttons == (("start", "START"), ("bump", "BUMP"))
    assert content(ticket("t1"), actions=("ack_void",)).buttons == (("ack_void", "OK, SEEN"),)
    allergy = content(ticket("t1"), actions=("ack_allergens",))
    assert allergy.texts()[-1] == "ALLERGY SEEN ✓"
