"""Ticket behaviour on the cards, driven as a cook would: taps on card regions, messages
from the (fake) agent, and what the cards then say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.ticket_model import Role
from shared.aging import AgeState
from shared.model import format_time
from shared.wire import AgingRule, SiteSettings
from tests.unit.kitchen_display.fakes import FakeAgent, present, revise, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def _tap(qtbot: QtBot, app: DisplayApp, rect: QRect) -> None:
    assert not rect.isEmpty()
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _card(app: DisplayApp, ticket_id: str) -> tuple[QModelIndex, QRect]:
    index = app.model.index_of(ticket_id)
    assert index.isValid(), f"{ticket_id} not shown"
    return index, app.view.visualRect(index)


def _texts(app: DisplayApp, ticket_id: str) -> list[str]:
    index, _rect = _card(app, ticket_id)
    return app.delegate.card_texts(index)


def _shown(app: DisplayApp) -> list[str]:
    return [t.id for t in app.model.tickets()]


# --- aging -----------------------------------------------------------------------------


def test_aging_uses_display_thresholds_until_the_site_sends_rules(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("t1", minutes_ago=6))
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    index, _ = _card(app, "t1")
    assert app.model.data(index, Role.AgeStateRole) is AgeState.WARN
    assert any(text.startswith("WARN 6:0") for text in _texts(app, "t1"))

    # the site says grill warns at 10 and is late at 4 minutes for this brand
    agent.publish_settings(
        SiteSettings(aging_brands={"b_burger": AgingRule(warn_minutes=3, late_minutes=4)})
    )
    qtbot.waitUntil(lambda: app.model.data(index, Role.AgeStateRole) is AgeState.LATE)
    assert any(text.startswith("LATE +2:0") for text in _texts(app, "t1"))


def test_promised_time_warns_then_is_late(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    due = datetime.now(UTC) + timedelta(minutes=2, seconds=30)
    agent.publish(revise(ticket("t1", minutes_ago=1), promised_at=due.isoformat()))
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    index, _ = _card(app, "t1")
    assert app.model.data(index, Role.AgeStateRole) is AgeState.OK  # no promise rule yet
    agent.publish_settings(SiteSettings(aging=AgingRule(promised_warn_minutes=5)))
    qtbot.waitUntil(lambda: app.model.site_settings is not None)
    assert app.model.data(index, Role.AgeStateRole) is AgeState.WARN
    result = app.model.data(index, Role.AgingRole)
    assert result.promise_near and 120 < result.due_in_seconds <= 150
    assert any(text.startswith("DUE IN 2:") for text in _texts(app, "t1"))

    agent.publish(
        revise(
            present(app.sync.ticket("t1")),
            promised_at=(datetime.now(UTC) - timedelta(minutes=3, seconds=12)).isoformat(),
        )
    )
    qtbot.waitUntil(lambda: app.model.data(index, Role.AgeStateRole) is AgeState.LATE)
    assert 3 * 60 + 12 <= app.model.data(index, Role.AgingRole).overdue_seconds < 3 * 60 + 20
    assert any(text.startswith("LATE +3:1") for text in _texts(app, "t1"))


# --- pacing ----------------------------------------------------------------------------


def test_a_paced_line_shows_fire_at_until_its_time(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    promised = datetime.now(UTC) + timedelta(minutes=20)
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Brisket", "prep_seconds": 1500},  # fire now
            {"station": "grill", "name": "Slider", "prep_seconds": 300},  # in 15 minutes
        ],
    )
    agent.publish(revise(t, promised_at=promised.isoformat()))
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    fire = (promised - timedelta(seconds=300)).astimezone().strftime("%H:%M")
    texts = _texts(app, "t1")
    assert f"fire at {fire}" in texts
    assert texts.count(f"fire at {fire}") == 1  # only the slider waits
    index, _ = _card(app, "t1")
    waiting = [v.item.name for v in app.model.data(index, Role.LinesRole) if v.waiting]
    assert waiting == ["Slider"]

    # its time comes: the hint goes and the line shows normally
    app.model._clock = lambda: promised - timedelta(seconds=299)
    app.model.tick()
    assert not any(text.startswith("fire at") for text in _texts(app, "t1"))
    blocks = app.delegate.content(index).blocks
    assert [b.kind for b in blocks if b.text.endswith("Slider")] == ["line"]


# --- allergens and declared allergies ----------------------------------------------------

ACK_LABEL = "ALLERGY SEEN ✓"


def test_recipe_allergens_are_one_neutral_line_and_never_a_gate(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Burger", "allergens": ["gluten", "milk"]},
            {"station": "grill", "name": "Slider", "allergens": ["gluten", "egg"]},
            {"station": "fry", "name": "Fries", "allergens": ["celery"]},
        ],
    )
    agent.publish(t)
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    index, _rect = _card(app, "t1")
    assert app.model.data(index, Role.ActionsRole) == ("start", "bump")
    texts = _texts(app, "t1")
    assert "START" in texts and "BUMP" in texts and ACK_LABEL not in texts
    # once per card, this station's lines only, in the neutral (dim) style
    assert [x for x in texts if "gluten" in x] == ["contains: gluten, milk, egg"]
    kinds = {b.kind for b in app.delegate.content(index).blocks}
    assert "contains" in kinds and "allergy" not in kinds


def test_declared_allergy_banner_and_ack_until_the_agent_says_seen(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = revise(
        ticket(
            "t1",
            lines=[
                {"station": "grill", "name": "Burger", "allergens": ["gluten"]},
                {"station": "fry", "name": "Fries"},
            ],
        ),
        allergy=["ALLERGY: peanuts"],
    )
    agent.publish(t)
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    index, rect = _card(app, "t1")
    assert app.model.data(index, Role.ActionsRole) == ("ack_allergens",)
    texts = _texts(app, "t1")
    assert ACK_LABEL in texts and "START" not in texts and "BUMP" not in texts
    assert "⚠ ALLERGY\nALLERGY: peanuts" in texts

    _tap(qtbot, app, app.delegate.button_rect(rect, "ack_allergens"))
    qtbot.waitUntil(lambda: len(agent.commands_of("ack_allergens")) == 1)
    [ack] = agent.commands_of("ack_allergens")
    assert (ack.ticket_id, ack.station, ack.display_id) == ("t1", "grill", "grill-1")
    # nothing changes until the agent publishes it
    assert ACK_LABEL in _texts(app, "t1")

    seen_at = datetime.now(UTC)
    seen = {"station": "grill", "display_id": "grill-1", "at": format_time(seen_at)}
    agent.publish(revise(t, allergy_acks=[seen]))
    qtbot.waitUntil(lambda: "START" in _texts(app, "t1"))
    texts = _texts(app, "t1")
    assert "BUMP" in texts and ACK_LABEL not in texts
    hhmm = seen_at.astimezone().strftime("%H:%M")
    assert f"⚠ ALLERGY  ✓ SEEN {hhmm}\nALLERGY: peanuts" in texts
    _tap(qtbot, app, app.delegate.button_rect(_card(app, "t1")[1], "start"))
    qtbot.waitUntil(lambda: len(agent.commands_of("start")) == 1)


def test_expo_acknowledges_for_itself(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = revise(
        ticket("t1", lines=[{"station": "grill", "name": "Burger"}]),
        allergy=["Nut allergy, severe"],
        allergy_acks=[{"station": "grill", "at": format_time(datetime.now(UTC))}],
    )
    agent.publish(t)
    grill = make_display("grill")
    expo = make_display("expo")
    qtbot.waitUntil(lambda: "t1" in _shown(expo) and "t1" in _shown(grill))
    assert "START" in _texts(grill, "t1")  # grill saw it
    assert ACK_LABEL in _texts(expo, "t1")
    assert "⚠ ALLERGY\nNut allergy, severe" in _texts(expo, "t1")


def test_no_ack_step_when_the_site_turned_it_off(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(revise(ticket("t1", lines=[("grill", "B")]), allergy=["ALLERGY: shellfish"]))
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    assert ACK_LABEL in _texts(app, "t1")
    agent.publish_settings(SiteSettings(allergy_gate="off"))
    qtbot.waitUntil(lambda: "START" in _texts(app, "t1"))
    assert "⚠ ALLERGY\nALLERGY: shellfish" in _texts(app, "t1")  # the banner stays


# --- item-level done ---------------------------------------------------------------------


def test_tapping_a_line_marks_it_done_and_again_undoes(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = ticket(
        "t1",
        lines=[
            {"station": "grill", "name": "Burger", "modifiers": [{"name": "no onion"}]},
            {"station": "grill", "name": "Hot Dog"},
        ],
    )
    agent.publish(t)
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    index, rect = _card(app, "t1")
    line2 = app.delegate.line_rect(rect, index, "l2")
    line1 = app.delegate.line_rect(rect, index, "l1")
    assert line1.bottom() < line2.top()  # the modifier belongs to line 1's target
    _tap(qtbot, app, line2)
    qtbot.waitUntil(lambda: len(agent.commands_of("item_done")) == 1)
    [done] = agent.commands_of("item_done")
    assert (done.ticket_id, done.line_id) == ("t1", "l2")

    agent.publish(
        revise(t, items=[t.items[0].model_dump(), {**t.items[1].model_dump(), "status": "done"}])
    )
    qtbot.waitUntil(lambda: "✓ 1× Hot Dog" in _texts(app, "t1"))
    index, rect = _card(app, "t1")
    assert [b.kind for b in app.delegate.content(index).blocks if "Hot Dog" in b.text] == ["done"]
    assert app.delegate.button_height >= 48
    qtbot.wait(QGuiApplication.styleHints().mouseDoubleClickInterval() + 50)  # not a double tap
    _tap(qtbot, app, app.delegate.line_rect(rect, index, "l2"))
    qtbot.waitUntil(lambda: len(agent.commands_of("item_undo")) == 1)
    assert agent.commands_of("item_undo")[0].line_id == "l2"


def test_modifier_tap_is_a_tap_on_its_line(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = ticket("t1", lines=[{"station": "grill", "name": "Burger", "modifiers": [{"name": "x"}]}])
    agent.publish(t)
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    index, rect = _card(app, "t1")
    geometry = app.delegate.card_geometry(index, rect)
    [modifier] = [r for b, r in geometry.blocks if b.kind == "modifier"]
    _tap(qtbot, app, modifier)
    qtbot.waitUntil(lambda: len(agent.commands_of("item_done")) == 1)


# --- VOID --------------------------------------------------------------------------------


def test_void_stays_until_acknowledged_here(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    t = ticket("t1")
    agent.publish(t)
    app = make_display("grill")
    qtbot.waitUntil(lambda: "t1" in _shown(app))
    agent.publish(revise(t, status="cancelled"))
    qtbot.waitUntil(lambda: "VOID" in _texts(app, "t1"))
    texts = _texts(app, "t1")
    assert "OK, SEEN" in texts and "BUMP" not in texts
    _tap(qtbot, app, app.delegate.button_rect(_card(app, "t1")[1], "ack_void"))
    qtbot.waitUntil(lambda: len(agent.commands_of("ack_void")) == 1)
    assert "t1" in _shown(app)  # until the agent says so
    agent.publish(revise(agent.tickets["t1"], void_acked=["expo"]))  # another station's ack
    qtbot.waitUntil(lambda: app.sync.last_seq == agent.seq)  # the screen has it
    assert "t1" in _shown(app)
    agent.publish(revise(agent.tickets["t1"], void_acked=["expo", "grill"]))
    qtbot.waitUntil(lambda: "t1" not in _shown(app))


# --- order changes -----------------------------------------------------------------------


def test_rush_upgrade_moves_to_front_and_says_so_for_a_while(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    old = ticket("old", minutes_ago=5)
    young = ticket("young", minutes_ago=1)
    agent.publish(old)
    agent.publish(young)
    app = make_display("grill")
    qtbot.waitUntil(lambda: _shown(app) == ["old", "young"])
    agent.publish(revise(young, priority="rush"))
    qtbot.waitUntil(lambda: _shown(app) == ["young", "old"])
    assert "RUSH ↑" in _texts(app, "young")
    _index, _ = _card(app, "young")
    real = app.model._clock
    app.model._clock = lambda: real() + timedelta(seconds=31)
    with qtbot.waitSignal(app.model.dataChanged):
        app.model.tick()
    texts = _texts(app, "young")
    assert "RUSH ↑" not in texts and "RUSH" in texts


# --- folds -------------------------------------------------------------------------------


def test_folded_station_lines_show_with_a_chip(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(ticket("fries", lines=[("fry", "Fries")]))
    agent.publish(ticket("both", lines=[("grill", "Burger"), ("fry", "Onion Rings")]))
    app = make_display("grill")
    qtbot.waitUntil(lambda: _shown(app) == ["both"] or set(_shown(app)) == {"both"})
    assert "also at: fry" in _texts(app, "both")

    agent.publish_settings(SiteSettings(folds={"fry": "grill"}))
    qtbot.waitUntil(lambda: set(_shown(app)) == {"fries", "both"})
    texts = _texts(app, "both")
    assert "+fry" in texts and "1× Onion Rings" in texts
    assert not any(text.startswith("also at") for text in texts)
    assert "1× Fries" in _texts(app, "fries")

    agent.publish_settings(SiteSettings())
    qtbot.waitUntil(lambda: _shown(app) == ["both"])
