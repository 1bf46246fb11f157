"""A huge order arrives cut to fit its message: the card says how many lines it leaves out."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from PySide6.QtCore import QRect
from pytestqt.qtbot import QtBot

from kitchen_display.card_delegate import TicketCardDelegate
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


def test_a_card_that_grows_or_shrinks_moves_the_cards_below(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    """The wall lays its cards out again when one changes size: a card given three more
    lines pushes the line of cards below it down (never paints over them), and shrinks
    back when they go."""
    for n in range(12):  # more than one line of cards in the window
        agent.publish(ticket(f"ord_{n:02d}", number=str(100 + n), minutes_ago=30 - n))
    app = make_display("grill")
    view, model = app.view, app.model
    qtbot.waitUntil(lambda: model.rowCount() == 12)

    def rect(ticket_id: str) -> QRect:
        return view.visualRect(model.index_of(ticket_id))

    below = [
        f"ord_{n:02d}" for n in range(12) if rect(f"ord_{n:02d}").top() > rect("ord_00").bottom()
    ]
    assert below, "the cards did not wrap"
    first_below = below[0]
    top_before = rect(first_below).top()

    first = next(t for t in app.sync.tickets() if t.id == "ord_00")
    lines = [("grill", "Classic Burger")] + [("grill", f"Side {k}") for k in range(3)]
    grown = ticket("ord_00", number="100", lines=lines, placed_at=first.placed_at, version=2)
    agent.publish(grown)
    qtbot.waitUntil(lambda: rect("ord_00").height() > 0 and rect(first_below).top() > top_before)
    assert rect(first_below).top() > rect("ord_00").bottom()  # below it, not under it

    shrunk = ticket("ord_00", number="100", placed_at=first.placed_at, version=3)
    agent.publish(shrunk)
    qtbot.waitUntil(lambda: rect(first_below).top() == top_before)


def test_the_wall_stays_laid_out_through_many_changes(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    """Cards growing, shrinking, starting and leaving in any order: every line of cards
    shares one top, and no card overlaps another."""
    rng = random.Random(4)
    for n in range(14):
        agent.publish(ticket(f"ord_{n:02d}", number=str(100 + n), minutes_ago=30 - n))
    app = make_display("grill")
    view, model = app.view, app.model
    qtbot.waitUntil(lambda: model.rowCount() == 14)
    version = 1
    for _step in range(60):
        version += 1
        current = {t.id: t for t in app.sync.tickets()}
        tid = rng.choice(sorted(current))
        lines = [("grill", f"Dish {k}") for k in range(rng.randint(1, 5))]
        agent.publish(ticket(tid, lines=lines, placed_at=current[tid].placed_at, version=version))

    def laid_out() -> bool:
        rects = [view.visualRect(model.index(r, 0)) for r in range(model.rowCount())]
        for a, b in itertools.combinations(rects, 2):
            if a.intersects(b):
                return False
        rows: dict[int, list[QRect]] = {}
        for r in rects:
            rows.setdefault(r.top(), []).append(r)
        tops = sorted(rows)
        # a line's cards start where the tallest card of the line above ends
        return all(
            top > max(r.bottom() for r in rows[above]) for above, top in itertools.pairwise(tops)
        )

    qtbot.waitUntil(laid_out)
    assert model.rowCount() == 14


def test_a_card_that_leaves_is_painted_once_with_the_cards_in_their_new_places(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the first card leaves, every card after it moves up one place: one repaint
    shows each card in its new place, at its own size. (A QListView relaid out on a zero
    timer, which ran after the window's repaint: every card was painted twice.)"""
    for n in range(12):  # cards of 1 to 4 lines: each slot has its own height
        lines = [("grill", f"Dish {k}") for k in range(1 + n % 4)]
        agent.publish(ticket(f"ord_{n:02d}", number=str(100 + n), lines=lines, minutes_ago=30 - n))
    app = make_display("grill")
    view, model = app.view, app.model
    qtbot.waitUntil(lambda: model.rowCount() == 12)
    painted: list[tuple[str, QRect]] = []
    for name in ("_paint_cached", "_paint_card"):  # every card is painted by one of them
        original = getattr(TicketCardDelegate, name)

        def spy(
            self: TicketCardDelegate,
            painter: object,
            rect: QRect,
            index: object,
            ticket: Ticket,
            *rest: object,
            _original: Any = original,
        ) -> None:
            painted.append((ticket.id, QRect(rect)))
            _original(self, painter, rect, index, ticket, *rest)

        monkeypatch.setattr(TicketCardDelegate, name, spy)
    model.rowsRemoved.connect(lambda *_: painted.clear())  # what is painted from then on
    agent.remove("ord_00")
    qtbot.waitUntil(lambda: model.rowCount() == 11 and any(t == "ord_01" for t, _ in painted))
    final = {f"ord_{n:02d}": view.visualRect(model.index_of(f"ord_{n:02d}")) for n in range(1, 12)}
    wrong = [(tid, rect, final[tid]) for tid, rect in painted if rect != final[tid]]
    assert not wrong, f"painted in the old layout (card, painted at, its place): {wrong}"
    times = {tid: sum(1 for t, _ in painted if t == tid) for tid in final}
    assert max(times.values()) == 1, f"painted more than once: {times}"
