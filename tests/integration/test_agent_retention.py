"""The running agent's housekeeping thread prunes by ``[store]`` retention: rows older
than it (written into the real database before the start) go at its first round,
recent ones stay. Real ActiveMQ, the core simulator, the agent built from TOML."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from edge_agent.store import Store
from tests.helpers.fixtures import make_site
from tests.helpers.site import wait_until

pytestmark = pytest.mark.broker

DAY = 86_400.0


def test_housekeeping_prunes_what_is_past_its_retention(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path
) -> None:
    site = make_site(core_sim, site_id, activemq_url, tmp_path)
    config = site.config_path.read_text()
    assert "[store]\n" in config
    site.config_path.write_text(
        config.replace("[store]\n", "[store]\ncommands_retention_days = 3\n")
    )
    ago = time.time()
    with Store(site.store_path, clock=lambda: ago - 4 * DAY) as old:
        old.put_command("c-old", "start", "{}", '{"ok": true}')
        old.dead_letter("commands", "not json", b"x")
    with Store(site.store_path, clock=lambda: ago - 2 * DAY) as recent:
        recent.put_command("c-recent", "start", "{}", '{"ok": true}')
    agent = site.start_agent()
    try:
        store = agent.store
        wait_until(lambda: store.command_result("c-old") is None, timeout=30)
        assert store.command_result("c-recent") is not None, "within 3 days: kept"
        assert len(store.dead_letters()) == 1, "dead letters are kept 30 days"
    finally:
        site.stop_agent()
