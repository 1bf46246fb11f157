"""The spine end to end: core simulator -> agent -> ActiveMQ -> two real display windows.

A grill screen and the expo screen run in this process (pytest-qt) with their own
broker connections; the agent runs in-process against the core simulator. The test
clicks as a cook would and asserts what each screen shows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core_sim.server import CoreSimulator
from kitchen_display.app import DisplayApp, build_display
from kitchen_display.config import DisplayConfig, DisplaySettings
from kitchen_display.ticket_model import Role
from shared.model import ItemStatus, Ticket, TicketStatus
from shared.mq import MqClient
from shared.settings import MqSettings
from tests.helpers.activemq import ActiveMQ
from tests.helpers.fault_tally import long_variant, record
from tests.helpers.fixtures import Site
from tests.helpers.site import line_item, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow]

WAIT_MS = 15_000


def _start_displays(
    site: Site, qtbot: QtBot, stations: tuple[str, ...] = ("grill", "expo")
) -> dict[str, DisplayApp]:
    apps: dict[str, DisplayApp] = {}
    for station in stations:
        config = DisplayConfig(
            site_id=site.site_id,
            display_id=f"{station}-1",
            station=station,
            mq=MqSettings(url=site.mq_url, heartbeat_ms=2000, reconnect_max_seconds=1.0),
            display=DisplaySettings(snapshot_timeout_seconds=2.0, agent_timeout_seconds=4.0),
        )
        client = MqClient(config.mq.url, heartbeat_ms=2000, backoff_max=1.0, name=station)
        app = build_display(config, client)
        qtbot.addWidget(app.window)
        app.start(show=True)
        apps[station] = app
    return apps


@pytest.fixture
def displays(site: Site, qtbot: QtBot) -> Iterator[dict[str, DisplayApp]]:
    apps = _start_displays(site, qtbot)
    try:
        for app in apps.values():
            qtbot.waitExposed(app.window, timeout=WAIT_MS)  # taps need a shown window
            qtbot.waitUntil(_synced(app), timeout=WAIT_MS)
        yield apps
    finally:
        for app in apps.values():
            app.close()


def _click(qtbot: QtBot, app: DisplayApp, ticket_id: str, action: str) -> None:
    index = app.model.index_of(ticket_id)
    assert index.isValid(), f"{ticket_id} not on the {app.config.station} screen"
    rect = app.delegate.button_rect(app.view.visualRect(index), action)
    qtbot.mouseClick(app.view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _shown(app: DisplayApp) -> list[str]:
    return [t.id for t in app.model.tickets()]


def _synced(app: DisplayApp) -> Callable[[], bool]:
    return lambda: app.sync.synced


def _ticket(app: DisplayApp, ticket_id: str) -> Ticket:
    ticket = app.sync.ticket(ticket_id)
    assert ticket is not None, f"{ticket_id} not known to the {app.config.station} screen"
    return ticket


def _ready_events(site: Site, order_id: str) -> int:
    return sum(
        1
        for e in site.sim.events(order_id)
        if e.get("type") == "status" and e.get("status") == "ready"
    )


def test_order_to_screens_bumps_across_screens_and_ready_once(
    site: Site, displays: dict[str, DisplayApp], qtbot: QtBot
) -> None:
    grill, expo = displays["grill"], displays["expo"]
    burger = site.sim.create_order(
        site.site_id,
        items=[
            line_item(
                "l1",
                "Classic Burger",
                "grill",
                allergens=["gluten", "milk"],
                modifiers=[{"name": "No onions", "qty": 1}],
            ),
            line_item("l2", "Fries", "fry"),
        ],
        notes="ALLERGY: peanuts",
    )
    shake = site.sim.create_order(
        site.site_id, items=[line_item("l1", "Shake", "cold", allergens=["milk"])], notes=""
    )

    # a new order appears on the right stations' screens
    qtbot.waitUntil(lambda: burger["id"] in _shown(grill), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: {burger["id"], shake["id"]} <= set(_shown(expo)), timeout=WAIT_MS)
    assert shake["id"] not in _shown(grill)
    row = grill.model.index_of(burger["id"])
    assert [i.name for i in grill.model.data(row, Role.StationItemsRole)] == ["Classic Burger"]
    assert grill.model.data(row, Role.OtherStationsRole) == ["fry"]
    assert grill.model.data(row, Role.TicketRole).items[0].allergens == ("gluten", "milk")

    # recipe allergens alone ask for nothing: the shake can be started at once
    assert expo.model.data(expo.model.index_of(shake["id"]), Role.ActionsRole) == (
        "start",
        "bump",
    )
    # the burger's customer declared an allergy: each screen shows ALLERGY SEEN instead
    # of START/BUMP until its cook taps it and the agent publishes the acknowledgement
    assert grill.model.data(row, Role.TicketRole).allergy == ("ALLERGY: peanuts",)
    for app in (grill, expo):
        index = app.model.index_of(burger["id"])
        assert app.model.data(index, Role.ActionsRole) == ("ack_allergens",)
        _click(qtbot, app, burger["id"], "ack_allergens")

        def acknowledged(app: DisplayApp = app) -> bool:
            index = app.model.index_of(burger["id"])
            return bool(app.model.data(index, Role.ActionsRole) == ("start", "bump"))

        qtbot.waitUntil(acknowledged, timeout=WAIT_MS)

    # START on the grill screen shows as started on the expo screen
    _click(qtbot, grill, burger["id"], "start")
    qtbot.waitUntil(
        lambda: _ticket(expo, burger["id"]).status is TicketStatus.IN_PROGRESS,
        timeout=WAIT_MS,
    )
    assert expo.model.data(expo.model.index_of(burger["id"]), Role.StartedRole)

    # BUMP on grill: the card leaves grill, expo shows grill's lines done
    _click(qtbot, grill, burger["id"], "bump")
    qtbot.waitUntil(lambda: burger["id"] not in _shown(grill), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _ticket(expo, burger["id"]).station_done("grill"), timeout=WAIT_MS)
    assert _ticket(expo, burger["id"]).items[1].status is not ItemStatus.DONE

    # BUMP at expo: ready, and the core hears "ready" exactly once
    with qtbot.waitSignal(expo.sync.commandResult, timeout=WAIT_MS) as blocker:
        _click(qtbot, expo, burger["id"], "bump")
    result = blocker.args[0]
    assert result.ok
    qtbot.waitUntil(lambda: burger["id"] not in _shown(expo), timeout=WAIT_MS)
    wait_until(lambda: _ready_events(site, burger["id"]) == 1)

    # the very same command again (a bump bar bouncing, a resend): no second effect
    with site.peer("resender") as peer:
        seq_before = peer.call("snapshot").seq  # the agent's, not what a screen has seen yet
        again = peer.send(
            "bump", command_id=result.command_id, station="expo", ticket_id=burger["id"]
        )
        assert peer.result(again).ok
        marker = peer.call("snapshot")
        assert marker.seq == seq_before
    assert _ready_events(site, burger["id"]) == 1
    assert site.sim.order(burger["id"])["status"] == "ready"


def test_display_catches_up_by_snapshot_after_missing_messages(
    site: Site, displays: dict[str, DisplayApp], qtbot: QtBot
) -> None:
    grill = displays["grill"]
    first = site.sim.create_order(site.site_id, items=[line_item("l1", "Burger", "grill")])
    qtbot.waitUntil(lambda: first["id"] in _shown(grill), timeout=WAIT_MS)
    # the screen loses its broker connection; orders keep coming meanwhile
    grill.mq.close()
    qtbot.waitUntil(lambda: grill.window.offline, timeout=WAIT_MS)
    assert "OFFLINE" in grill.window.banner.text().upper()
    missed = [
        site.sim.create_order(site.site_id, items=[line_item("l1", f"Burger {n}", "grill")])["id"]
        for n in range(3)
    ]
    agent = site.agent
    assert agent is not None
    wait_until(lambda: all(agent.store.ticket_json(i) for i in missed))
    # a new connection (as after a network drop): snapshot, then live again
    client = MqClient(site.mq_url, heartbeat_ms=2000, backoff_max=1.0, name="grill-again")
    replacement = build_display(grill.config, client)
    qtbot.addWidget(replacement.window)
    replacement.start(show=True)
    try:
        qtbot.waitUntil(lambda: set(missed) <= set(_shown(replacement)), timeout=WAIT_MS)
        assert not replacement.window.offline
        later = site.sim.create_order(site.site_id, items=[line_item("l1", "Late", "grill")])
        qtbot.waitUntil(lambda: later["id"] in _shown(replacement), timeout=WAIT_MS)
    finally:
        replacement.close()


#: how long the broker stays down once both screens show offline (seconds); the long
#: variant (KDS_FAULTS_LONG=1, scripts/faults) holds it for 30 s
OUTAGE_SECONDS = 30.0 if long_variant() else 0.0


def _converged(app: DisplayApp, agent_state: dict[str, Ticket]) -> Callable[[], bool]:
    """The screen's replica holds the agent's tickets, each as the agent has it."""

    def check() -> bool:
        mine = {t.id: t for t in app.sync.tickets()}
        return mine == agent_state

    return check


def _shows(app: DisplayApp, *ticket_ids: str) -> Callable[[], bool]:
    return lambda: set(ticket_ids) <= set(_shown(app))


def _offline(app: DisplayApp, offline: bool = True) -> Callable[[], bool]:
    return lambda: app.window.offline is offline


@pytest.mark.timeout(180)
def test_broker_outage_shows_offline_then_screens_catch_up(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_broker: ActiveMQ,
    tmp_path: Path,
    qtbot: QtBot,
) -> None:
    from tests.helpers.fixtures import make_site

    site = make_site(core_sim, site_id, activemq_broker.url, tmp_path)
    site.start_agent()
    apps = _start_displays(site, qtbot)
    grill, expo = apps["grill"], apps["expo"]
    try:
        for app in apps.values():
            qtbot.waitExposed(app.window, timeout=WAIT_MS)
            qtbot.waitUntil(_synced(app), timeout=WAIT_MS)
        first, second = (
            site.sim.create_order(site.site_id, items=[line_item("l1", name, "grill")])
            for name in ("Burger", "Ribs")
        )
        for app in apps.values():
            qtbot.waitUntil(_shows(app, first["id"], second["id"]), timeout=WAIT_MS)

        activemq_broker.stop()
        started = time.monotonic()
        for app in apps.values():
            qtbot.waitUntil(_offline(app), timeout=WAIT_MS)
            assert "OFFLINE" in app.window.banner.text().upper()
            assert first["id"] in _shown(app), "the last known tickets stay on screen"
        # mid-rush: orders keep coming at the core, the cooks keep tapping
        during = [
            site.sim.create_order(site.site_id, items=[line_item("l1", f"Wings {n}", "grill")])
            for n in range(3)
        ]
        _click(qtbot, grill, first["id"], "bump")
        _click(qtbot, grill, second["id"], "start")
        qtbot.waitUntil(lambda: len(grill.sync.pending_commands()) == 2, timeout=WAIT_MS)
        assert grill.sync.pending_for(first["id"]) == ["bump"]
        shown_pending = grill.model.data(grill.model.index_of(first["id"]), Role.PendingRole)
        assert list(shown_pending) == ["bump"], "the card says its BUMP is pending"
        assert site.agent is not None
        wait_until(
            lambda: (
                site.agent is not None
                and all(site.agent.store.ticket_json(o["id"]) for o in during)
            )
        )
        qtbot.waitUntil(lambda: time.monotonic() - started >= OUTAGE_SECONDS, timeout=60_000)
        assert all(app.window.offline for app in apps.values())
        assert len(grill.sync.pending_commands()) == 2, "queued commands are kept"

        activemq_broker.start()
        for app in apps.values():
            qtbot.waitUntil(_offline(app, False), timeout=30_000)
        # the queued taps were applied, once: BUMP took the burger off grill, START shows
        qtbot.waitUntil(lambda: not grill.sync.pending_commands(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: first["id"] not in _shown(grill), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: _ticket(expo, first["id"]).station_done("grill"), timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: _ticket(expo, second["id"]).status is TicketStatus.IN_PROGRESS,
            timeout=WAIT_MS,
        )
        after = site.sim.create_order(site.site_id, items=[line_item("l1", "Late", "grill")])
        for app in apps.values():
            qtbot.waitUntil(_shows(app, after["id"]), timeout=WAIT_MS)
            assert all(_shown(app).count(o["id"]) <= 1 for o in during)
        # both screens converge on the agent's state
        with site.peer("checker") as peer:
            snapshot = peer.call("snapshot")
        assert snapshot.tickets is not None
        agent_state = {t.id: t for t in snapshot.tickets}
        assert {o["id"] for o in during} <= set(agent_state)
        for app in apps.values():
            qtbot.waitUntil(_converged(app, agent_state), timeout=WAIT_MS)
            assert app.sync.last_seq == snapshot.seq
        record(
            "broker_outage",
            "tests/e2e/test_two_displays.py::test_broker_outage_shows_offline_then_screens_catch_up",
            outage_seconds=round(time.monotonic() - started, 1),
            displays=len(apps),
            commands_queued_offline=2,
            orders_during_outage=len(during),
            lost=0,
            duplicated=0,
        )
    finally:
        for app in apps.values():
            app.close()
        site.stop_agent()


def test_agent_down_shows_on_screen_and_recovers(
    site: Site, displays: dict[str, DisplayApp], qtbot: QtBot
) -> None:
    grill = displays["grill"]
    first = site.sim.create_order(site.site_id, items=[line_item("l1", "Burger", "grill")])
    qtbot.waitUntil(lambda: first["id"] in _shown(grill), timeout=WAIT_MS)
    # agent.alive keeps the screen online while nothing happens, past agent_timeout
    with site.peer("listener") as peer:
        qtbot.waitUntil(lambda: len(peer.alive) >= 6, timeout=WAIT_MS)
        assert peer.alive[-1].seq == grill.sync.last_seq
    assert not grill.window.offline

    site.stop_agent()  # the broker stays up; only the agent is gone
    qtbot.waitUntil(lambda: grill.window.offline, timeout=WAIT_MS)
    assert "kitchen agent not responding" in grill.window.banner.text()
    assert first["id"] in _shown(grill), "the last known tickets stay on screen"
    during = site.sim.create_order(site.site_id, items=[line_item("l1", "Wings", "grill")])

    site.start_agent()
    qtbot.waitUntil(lambda: not grill.window.offline, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: during["id"] in _shown(grill), timeout=WAIT_MS)
