"""The agent's disk fills up under it: nothing acknowledged is lost, it keeps running,
and once space is freed it catches up.

The agent runs as a real ``edge-agent run`` process whose SQLite store lives on a
small tmpfs of its own (``mount -t tmpfs -o size=...``; skipped, with the reason, when
this is not root or the mount is refused). A filler file takes every free block while
orders keep arriving at the core and a cook bumps a ticket; the fault is held for
:data:`FULL_SECONDS` (``KDS_FAULTS_LONG=1``: :data:`FULL_SECONDS_LONG`), then the filler
is deleted.

Every screen is told meanwhile (``agent.alive``: "kitchen database cannot be written:
disk full"). The alarm's other outlets (metric, ``doctor``) and a disk that fails
read-only are in ``tests/integration/test_store_trouble.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from tests.helpers.fault_tally import long_variant, record
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import AgentProcess, SitePeer, wait_until, write_agent_config
from tests.helpers.small_disk import fill, small_tmpfs

pytestmark = [pytest.mark.broker, pytest.mark.slow]

#: how long the disk stays full (seconds)
FULL_SECONDS = 5.0
FULL_SECONDS_LONG = 60.0
#: the tmpfs: room for the store, its WAL and a few hundred orders (KiB)
TMPFS_KIB = 16 * 1024
FULL = "kitchen database cannot be written: disk full"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of :data:`TMPFS_KIB` on ``tmp_path/disk`` (skipped without root)."""
    with small_tmpfs(tmp_path / "disk", TMPFS_KIB) as disk:
        yield disk


class Orders(threading.Thread):
    """New orders at the core, one every ``interval`` seconds, until stopped."""

    def __init__(self, sim: CoreSimulator, site_id: str, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self._sim, self._site_id, self._interval = sim, site_id, interval
        self._halt = threading.Event()
        self.ids: list[str] = []

    def run(self) -> None:
        while not self._halt.wait(self._interval):
            self.ids.append(self._sim.create_order(self._site_id)["id"])

    def stop(self) -> list[str]:
        self._halt.set()
        self.join(10)
        return list(self.ids)


@pytest.mark.timeout(300)
def test_disk_full_loses_nothing_and_the_agent_catches_up(
    site_id: str, core_sim: CoreSimulator, activemq_url: str, tmp_path: Path, small_disk: Path
) -> None:
    full_seconds = FULL_SECONDS_LONG if long_variant() else FULL_SECONDS
    config, _ = write_agent_config(
        tmp_path,
        site_id=site_id,
        core_url=core_sim.url,
        mq_url=activemq_url,
        store_dir=small_disk,
    )
    log = tmp_path / "agent.log"
    agent = AgentProcess(config, TOKEN, log).start()
    peer = SitePeer(activemq_url, site_id, "recorder")
    try:
        before = [core_sim.create_order(site_id)["id"] for _ in range(10)]
        for order_id in before:  # acknowledged: on the screens
            peer.latest(order_id, timeout=30)
        ticket = peer.latest(before[0]).ticket

        filler = fill(small_disk)
        stream = Orders(core_sim, site_id)
        stream.start()
        # the store cannot be written: the agent says so in its log (and keeps running)
        wait_until(lambda: "disk is full" in agent.log(), timeout=30)
        bump = peer.send("bump", station=ticket.stations()[0], ticket_id=ticket.id)
        held_until = time.monotonic() + full_seconds
        # every screen is told (agent.alive), and the agent keeps saying it while full
        wait_until(lambda: FULL in peer.problems(), timeout=30)
        wait_until(
            lambda: time.monotonic() >= held_until or agent.proc is None or agent.proc.poll(),
            timeout=full_seconds + 10,
        )
        assert agent.proc is not None and agent.proc.poll() is None, (
            "the agent died on a full disk:\n" + agent.log()[-3000:]
        )
        during = stream.stop()

        filler.unlink()
        after = [core_sim.create_order(site_id)["id"] for _ in range(5)]
        created = before + during + after

        def on_board() -> set[str]:
            result = peer.call("snapshot", timeout=30)
            assert result.tickets is not None
            return {t.id for t in result.tickets}

        wait_until(lambda: on_board() >= set(created), timeout=90)
        assert peer.result(bump, timeout=60).ok
        assert agent.proc.poll() is None, "the agent restarted (or died): " + agent.log()[-3000:]

        # the core heard "accepted" once for every order
        def accepted() -> list[str]:
            return [
                e["order_id"]
                for e in core_sim.events()
                if e.get("type") == "status" and e.get("status") == "accepted"
            ]

        wait_until(lambda: set(accepted()) >= set(created), timeout=60)
        heard = accepted()
        assert len(heard) == len(set(heard)) == len(created)
        record(
            "disk_full",
            "tests/e2e/test_store_faults.py::test_disk_full_loses_nothing_and_the_agent_catches_up",
            disk_full_seconds=full_seconds,
            orders_before=len(before),
            orders_during=len(during),
            orders_after=len(after),
            lost=len(set(created) - on_board()),
            duplicated=len(heard) - len(set(heard)),
            agent_restarts=0,
        )
    finally:
        peer.close()
        code = agent.stop()
        assert code == 0, agent.log()[-3000:]
