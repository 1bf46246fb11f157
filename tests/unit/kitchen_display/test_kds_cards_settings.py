"""Site settings reach the display: ``site.settings`` messages and snapshot settings."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from kitchen_display.sync import TicketSync
from shared.wire import AgingRule, SiteSettings
from tests.unit.kitchen_display.fakes import FakeAgent, FakeBroker, display_config, ticket
from tests.unit.kitchen_display.screens import MakeDisplay


def _sync(broker: FakeBroker, qtbot: QtBot) -> TicketSync:
    sync = TicketSync(display_config("grill"), broker.client("sync-grill"))
    sync.start()
    return sync


def test_settings_message_updates_property_and_signal(
    broker: FakeBroker, agent: FakeAgent, qtbot: QtBot
) -> None:
    sync = _sync(broker, qtbot)
    try:
        qtbot.waitUntil(lambda: sync.synced)
        assert sync.settings is None
        settings = SiteSettings(
            folds={"fry": "grill"}, aging=AgingRule(warn_minutes=3, late_minutes=6)
        )
        with qtbot.waitSignal(sync.settingsChanged) as blocker:
            seq = agent.publish_settings(settings)
        assert blocker.args == [settings]
        assert sync.settings == settings
        assert sync.last_seq == seq
    finally:
        sync.close()


def test_same_settings_twice_emit_once(broker: FakeBroker, agent: FakeAgent, qtbot: QtBot) -> None:
    sync = _sync(broker, qtbot)
    try:
        qtbot.waitUntil(lambda: sync.synced)
        seen: list[SiteSettings] = []
        sync.settingsChanged.connect(seen.append)
        agent.publish_settings(SiteSettings(folds={"fry": "grill"}))
        seq = agent.publish_settings(SiteSettings(folds={"fry": "grill"}))
        qtbot.waitUntil(lambda: sync.last_seq == seq)
        assert len(seen) == 1
    finally:
        sync.close()


def test_snapshot_settings_apply_before_tickets(
    broker: FakeBroker, agent: FakeAgent, qtbot: QtBot
) -> None:
    agent.answer_snapshots = False
    sync = _sync(broker, qtbot)
    order: list[str] = []
    sync.settingsChanged.connect(lambda _s: order.append("settings"))
    sync.ticketsReset.connect(lambda _t: order.append("tickets"))
    try:
        qtbot.waitUntil(lambda: len(agent.snapshot_requests()) == 1)
        agent.release_snapshots_with(SiteSettings(allergy_gate="off"))
        qtbot.waitUntil(lambda: sync.synced)
        assert sync.settings is not None and sync.settings.allergy_gate == "off"
        assert order == ["settings", "tickets"]
    finally:
        sync.close()


def test_bump_on_a_folded_screen_finishes_every_shown_station(
    agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:

    display = make_display("grill")
    agent.publish_settings(SiteSettings(folds={"fry": "grill"}))
    agent.publish(ticket("ord_f", lines=[("grill", "Burger"), ("fry", "Fries")]))
    qtbot.waitUntil(lambda: display.model.row_of("ord_f") >= 0)
    qtbot.waitUntil(lambda: display.model.shown_stations == ("grill", "fry"))
    display.window.request("bump", "ord_f")
    qtbot.waitUntil(lambda: len(agent.commands_of("bump")) == 2)
    assert sorted(c.station for c in agent.commands_of("bump")) == ["fry", "grill"]
