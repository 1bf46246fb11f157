"""Card sizes and pages: "+N more →" in the header, page_next() / page_previous()."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp
from kitchen_display.ticket_model import Role
from tests.unit.kitchen_display.fakes import FakeAgent, present, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def _fully_visible(app: DisplayApp) -> list[int]:
    area = app.view.viewport().rect()
    return [
        row
        for row in range(app.model.rowCount())
        if area.contains(app.view.visualRect(app.model.index(row, 0)))
    ]


def test_header_counts_cards_off_screen_and_pages_through(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    for n in range(14):
        agent.publish(ticket(f"t{n:02d}", minutes_ago=20 - n))
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.rowCount() == 14)
    window = app.window
    qtbot.waitUntil(lambda: window.header.more_label.isVisible())
    visible = _fully_visible(app)
    hidden = 14 - len(visible)
    assert hidden > 0
    assert window.header.more_label.text() == f"+{hidden} more →"

    window.page_next()
    qtbot.waitUntil(lambda: window.header.more_label.text().startswith("←"))
    now_visible = _fully_visible(app)
    # the cards that did not fit are on screen now (the last page may overlap)
    assert set(range(visible[-1] + 1, 14)) <= set(now_visible)
    assert window.header.more_label.text() == f"← {now_visible[0]} more"
    assert window.selected_ticket_id() == present(app.model.ticket_at(now_visible[0])).id

    window.page_previous()
    qtbot.waitUntil(lambda: not window.header.more_label.text().startswith("←"))
    assert _fully_visible(app)[0] == 0


def test_compact_cards_fit_more(agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot) -> None:
    for n in range(14):
        agent.publish(ticket(f"t{n:02d}"))
    large = make_display("grill", "grill-large")
    compact = make_display("grill", "grill-compact", card_size="compact")
    qtbot.waitUntil(lambda: large.model.rowCount() == compact.model.rowCount() == 14)
    assert compact.delegate.card_width < large.delegate.card_width
    assert len(_fully_visible(compact)) > len(_fully_visible(large))
    # buttons stay a finger wide (12 mm, never under 48 px)
    assert compact.delegate.button_height >= max(48, compact.window.min_touch_px())
    index = compact.model.index(0, 0)
    rect = compact.delegate.button_rect(compact.view.visualRect(index), "bump")
    assert rect.height() >= 48
    assert compact.model.data(index, Role.ActionsRole) == ("start", "bump")
