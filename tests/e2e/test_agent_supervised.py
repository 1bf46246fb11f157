"""A real ``edge-agent run`` whose threads cannot be kept alive exits non-zero.

Another process holds the SQLite write lock, so every order the feed takes fails to
be stored (``StoreError``); the supervisor restarts the feed until ``[threads]
max_restarts`` is spent, then the agent says why and exits 1 (for systemd to restart).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import AgentProcess, wait_until, write_agent_config

pytestmark = [pytest.mark.broker]

THREADS = """
[threads]
max_restarts = 2
restart_window_seconds = 60
restart_backoff_initial_seconds = 0.1
restart_backoff_max_seconds = 0.2
"""


def cursor_stored(store: Path) -> bool:
    """Whether the agent follows the feed (its cursor is stored)."""
    if not store.exists():
        return False
    try:
        with sqlite3.connect(store) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'feed_cursor'").fetchone()
    except sqlite3.OperationalError:
        return False  # the agent is still creating the schema
    return row is not None


def test_a_thread_that_keeps_dying_makes_the_agent_exit_non_zero(
    site_id: str, core_sim: CoreSimulator, activemq_url: str, tmp_path: Path
) -> None:
    config, store = write_agent_config(
        tmp_path, site_id=site_id, core_url=core_sim.url, mq_url=activemq_url, extra=THREADS
    )
    env = {"KDS_STORE_BUSY_TIMEOUT_SECONDS": "0.2"}
    agent = AgentProcess(config, TOKEN, tmp_path / "agent.log", env=env).start()
    assert agent.proc is not None
    try:
        wait_until(lambda: cursor_stored(store), timeout=30)
        assert agent.proc.poll() is None
        lock = sqlite3.connect(store, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        try:
            core_sim.create_order(site_id)
            code = agent.proc.wait(30)
        finally:
            lock.execute("ROLLBACK")
            lock.close()
    finally:
        agent.stop()
    log = agent.log()
    assert code == 1, log
    assert "thread feed died: StoreError" in log
    assert "Traceback" in log
    assert "thread feed cannot be kept alive: it died 3 times within 60s" in log
    assert "exiting 1 so the service manager restarts it" in log
