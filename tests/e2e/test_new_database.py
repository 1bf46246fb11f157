"""The agent's database is replaced under a running display: the screen drops what it
had and shows exactly the new database's tickets.

A real ``edge-agent run`` process (core simulator, real ActiveMQ) and a real grill
display window in this process. The new database's ``seq`` starts again at 1 and ends
at the very number the screen was at, so by ``seq`` alone the screen would keep its
five old tickets, miss the five new ones and call itself in step; the database's
``epoch`` tells it otherwise.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core_sim.server import CoreSimulator
from kitchen_display.app import DisplayApp, build_display
from kitchen_display.config import DisplayConfig, DisplaySettings
from shared.mq import MqClient
from shared.settings import MqSettings
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import AgentProcess, line_item, write_agent_config

pytestmark = [pytest.mark.broker, pytest.mark.slow]

WAIT_MS = 30_000


def _stored_epoch(store: Path) -> str:
    """The database's epoch; "" while there is none yet (the agent is still making it)."""
    if not store.exists():
        return ""
    db = sqlite3.connect(store)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'epoch'").fetchone()
    except sqlite3.OperationalError:  # no meta table yet
        return ""
    finally:
        db.close()
    return str(row[0]) if row else ""


def _shown(app: DisplayApp) -> set[str]:
    return {t.id for t in app.model.tickets()}


def _orders(sim: CoreSimulator, site_id: str, name: str) -> set[str]:
    return {
        sim.create_order(site_id, items=[line_item("l1", f"{name} {n}", "grill")])["id"]
        for n in range(5)
    }


def test_a_replaced_database_leaves_no_phantom_ticket_on_a_running_display(
    site_id: str, core_sim: CoreSimulator, activemq_url: str, tmp_path: Path, qtbot: QtBot
) -> None:
    config, store = write_agent_config(
        tmp_path, site_id=site_id, core_url=core_sim.url, mq_url=activemq_url
    )
    agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()
    display = DisplayConfig(
        site_id=site_id,
        display_id="grill-1",
        station="grill",
        mq=MqSettings(url=activemq_url, heartbeat_ms=2000, reconnect_max_seconds=1.0),
        display=DisplaySettings(snapshot_timeout_seconds=2.0, agent_timeout_seconds=4.0),
    )
    app = build_display(
        display, MqClient(activemq_url, heartbeat_ms=2000, backoff_max=1.0, name="grill")
    )
    qtbot.addWidget(app.window)
    app.start(show=True)
    try:
        old = _orders(core_sim, site_id, "Burger")
        qtbot.waitUntil(lambda: _shown(app) == old and app.sync.synced, timeout=WAIT_MS)
        old_epoch = _stored_epoch(store)
        qtbot.waitUntil(lambda: app.sync.epoch == old_epoch, timeout=WAIT_MS)
        old_seq = app.sync.last_seq
        assert old_seq == 5

        # the agent stops; its database is replaced by a new one (the core meanwhile
        # closed the old orders and took new ones); the screen keeps running
        assert agent.stop() == 0, agent.log()[-3000:]
        for order_id in old:
            core_sim.cancel_order(order_id)
        new = _orders(core_sim, site_id, "Wings")
        for path in store.parent.glob(store.name + "*"):
            path.rename(tmp_path / ("replaced-" + path.name))
        agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()

        qtbot.waitUntil(lambda: bool(_stored_epoch(store)), timeout=WAIT_MS)
        new_epoch = _stored_epoch(store)
        assert new_epoch != old_epoch
        qtbot.waitUntil(
            lambda: app.sync.epoch == new_epoch and app.sync.synced and _shown(app) == new,
            timeout=WAIT_MS,
        )
        assert {t.id for t in app.sync.tickets()} == new, "no phantom of the old database"
        assert app.sync.last_seq == old_seq, "the new database is at the very same seq"

        # and it goes on live from there
        later = core_sim.create_order(site_id, items=[line_item("l1", "Ribs", "grill")])["id"]
        qtbot.waitUntil(lambda: _shown(app) == new | {later}, timeout=WAIT_MS)
        assert app.sync.synced and not app.window.offline
    finally:
        app.close()
        code = agent.stop()
        assert code == 0, agent.log()[-3000:]
