"""Paging counts: "+N more" from two bisections equals counting every card."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from kitchen_display.card_wall import CardWall
from tests.unit.kitchen_display.fakes import FakeAgent, ticket
from tests.unit.kitchen_display.screens import StartScreen, config_with, start_screen

__all__ = ["start_screen"]  # the fixture


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")  # never ask the OS keyring in unit tests
    monkeypatch.setenv("KDS_DISPLAY_LEAD_PIN", "")


def counted_one_by_one(view: CardWall) -> tuple[int, int]:
    area = view.viewport().rect()
    model = view.model()
    before = after = 0
    for row in range(model.rowCount()):
        rect = view.visualRect(model.index(row, 0))
        if rect.isEmpty() or area.contains(rect):
            continue
        if rect.top() < area.top():
            before += 1
        else:
            after += 1
    return before, after


def test_counts_match_a_card_by_card_count_wherever_the_wall_is_scrolled(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot
) -> None:
    for n in range(60):  # cards of 1 to 6 lines: lines of cards of uneven heights
        lines = [("grill", f"Burger {k}") for k in range(1 + n % 6)]
        agent.publish(ticket(f"ord_{n:02d}", lines=lines, minutes_ago=60 - n))
    app = start_screen(config_with())
    pager = app.window.pager
    qtbot.waitUntil(lambda: app.model.rowCount() == 60)
    qtbot.waitUntil(lambda: pager.after > 0)
    bar = app.view.verticalScrollBar()
    assert bar.maximum() > 0
    seen = set()
    for step in range(11):
        bar.setValue(bar.maximum() * step // 10)
        counts = pager.counts()
        assert counts == counted_one_by_one(app.view), step
        seen.add(counts)
    assert len(seen) > 3  # the positions differ
    assert (0, 0) not in seen


def test_a_hidden_wall_is_not_counted_and_is_counted_again_when_shown(
    agent: FakeAgent, start_screen: StartScreen, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting asks where every card on screen is, which lays a hidden wall out
    whole on every change; while the board is shown the wall's count waits."""
    for n in range(40):
        agent.publish(ticket(f"ord_{n:02d}", lines=[("grill", "Burger")] * (1 + n % 4)))
    app = start_screen(config_with())
    pager = app.window.pager
    qtbot.waitUntil(lambda: app.model.rowCount() == 40)
    qtbot.waitUntil(lambda: pager.after > 0)
    app.window.views.show_view("board")
    qtbot.waitUntil(lambda: not app.view.isVisible())
    counted: list[tuple[int, int]] = []
    counts = pager.counts

    def counting() -> tuple[int, int]:
        counted.append(counts())
        return counted[-1]

    monkeypatch.setattr(pager, "counts", counting)
    for n in range(40, 50):
        agent.publish(ticket(f"ord_{n:02d}", lines=[("grill", "Fries")]))
    qtbot.waitUntil(lambda: app.model.rowCount() == 50)
    board = app.window.board.table
    qtbot.waitUntil(lambda: board.model().rowCount() == 50)
    pager.update_counts()  # what its timer does after a change
    assert counted == []
    assert not app.window.header.more_label.isVisible()
    app.window.views.show_view("station")
    qtbot.waitUntil(lambda: app.view.isVisible())
    qtbot.waitUntil(lambda: (pager.before, pager.after) == counted_one_by_one(app.view))
    assert pager.after > 0
    qtbot.waitUntil(lambda: app.window.header.more_label.isVisible())
    assert f"+{pager.after} more" in app.window.header.more_label.text()
