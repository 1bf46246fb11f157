"""A huge order arrives cut to fit its message: the card says how many lines it leaves out."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from shared.model import Ticket
from shared.wire_form import wire_ticket
from tests.unit.kitchen_display.fakes import FakeAgent, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def _huge() -> Ticket:
    """3000 grill lines with long notes and one fry line, as the agent sends it."""
    lines: list[tuple[str, str] | dict[str, object]] = [
        {"station": "grill", "name": f"Burger {n}", "notes": "no onions please " * 50}
        for n in range(3000)
    ]
    lines.append(("fry", "Fries"))
    sent = wire_ticket(ticket("t_huge", lines=lines, number="777"))
    assert sent.more_lines and "fry" not in sent.more_lines
    return sent


@pytest.mark.parametrize("station", ["grill", "expo"])
def test_a_card_shows_the_lines_left_out(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, station: str
) -> None:
    sent = _huge()
    agent.publish(sent)
    agent.publish(ticket("t_small", number="778"))
    app = make_display(station)
    qtbot.waitUntil(lambda: app.model.index_of("t_huge").isValid())
    left_out = sent.more_lines["grill"]
    texts = app.delegate.card_texts(app.model.index_of("t_huge"))
    assert f"+{left_out} more lines" in texts
    assert "#777" in texts and any(t.startswith("1× Burger 0") for t in texts)
    small = app.delegate.card_texts(app.model.index_of("t_small"))
    assert not any("more lines" in t for t in small)


def test_a_station_without_left_out_lines_shows_no_marker(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(_huge())
    app = make_display("fry")
    qtbot.waitUntil(lambda: app.model.index_of("t_huge").isValid())
    texts = app.delegate.card_texts(app.model.index_of("t_huge"))
    assert "1× Fries" in texts and not any("more lines" in t for t in texts)
