"""Kill -9 the edge agent mid-stream and restart it: nothing lost, nothing doubled.

The agent runs as a real ``edge-agent run`` process against the core simulator and
the real ActiveMQ; orders keep arriving at the core while the agent is dead, and a
cook's bumps sent meanwhile wait in the broker's command queue.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from shared import wire
from shared.model import ItemStatus, TicketStatus
from tests.helpers.fixtures import TOKEN
from tests.helpers.site import AgentProcess, SitePeer, wait_until, write_agent_config

pytestmark = [pytest.mark.broker, pytest.mark.slow]


class OrderStream:
    """Creates orders at the core at a steady pace from a thread, like a Friday rush."""

    def __init__(self, sim: CoreSimulator, site_id: str, interval: float = 0.05) -> None:
        self._sim = sim
        self._site_id = site_id
        self._interval = interval
        self._stop = threading.Event()
        self.ids: list[str] = []
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.ids.append(self._sim.create_order(self._site_id)["id"])

    def __enter__(self) -> OrderStream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def _stored_ticket_ids(store: Path) -> list[str]:
    with sqlite3.connect(store) as db:
        return [row[0] for row in db.execute("SELECT id FROM tickets")]


def test_sigkill_mid_stream_loses_and_duplicates_nothing(
    site_id: str, core_sim: CoreSimulator, activemq_url: str, tmp_path: Path
) -> None:
    config, store = write_agent_config(
        tmp_path, site_id=site_id, core_url=core_sim.url, mq_url=activemq_url
    )
    agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()
    peer = SitePeer(activemq_url, site_id, "recorder")
    try:
        with OrderStream(core_sim, site_id) as stream:
            wait_until(lambda: len(peer.seqs()) >= 15, timeout=30)
            agent.kill()
            killed_at = len(stream.ids)
            # While the agent is dead: the core takes more orders, a cook bumps one.
            first = peer.states[0]
            assert isinstance(first, wire.TicketUpdated)
            station = first.ticket.stations()[0]
            bump_id = peer.send("bump", station=station, ticket_id=first.ticket.id)
            wait_until(lambda: len(stream.ids) >= killed_at + 10)
            agent = AgentProcess(config, TOKEN, tmp_path / "agent.log").start()
            wait_until(lambda: len(stream.ids) >= killed_at + 25, timeout=30)
        created = list(stream.ids)

        # every order the core took is on the screens, once
        def snapshot_ids() -> set[str]:
            result = peer.call("snapshot", timeout=30)
            assert result.tickets is not None
            return {t.id for t in result.tickets}

        wait_until(lambda: snapshot_ids() >= set(created), timeout=60)
        stored = _stored_ticket_ids(store)
        assert sorted(stored) == sorted(set(created)), "lost or unknown tickets"
        assert len(stored) == len(set(stored))

        # the bump made while the agent was dead was applied exactly once
        assert peer.result(bump_id).ok
        # the result and the state update travel on different destinations: wait for both
        wait_until(
            lambda: all(
                i.status is ItemStatus.DONE
                for i in peer.latest(first.ticket.id).ticket.items_at(station)
            )
        )

        # seq continued without a gap; a repeated seq (republished after the crash)
        # always carries the same message
        final_seq = peer.call("snapshot").seq
        assert final_seq is not None
        wait_until(lambda: max(peer.seqs()) >= final_seq)
        by_seq: dict[int, set[bytes]] = {}
        for message in list(peer.states):
            by_seq.setdefault(message.seq, set()).add(message.model_dump_json().encode())
        assert sorted(by_seq) == list(range(1, final_seq + 1))
        assert all(len(bodies) == 1 for bodies in by_seq.values())

        # the core heard "accepted" exactly once per order
        wait_until(
            lambda: (
                {
                    e["order_id"]
                    for e in core_sim.events()
                    if e.get("type") == "status" and e.get("status") == "accepted"
                }
                >= set(created)
            ),
            timeout=30,
        )
        accepted = Counter(
            e["order_id"]
            for e in core_sim.events()
            if e.get("type") == "status" and e.get("status") == "accepted"
        )
        assert max(accepted.values()) == 1
        statuses = {u.ticket.status for u in peer.updates_for(first.ticket.id)}
        assert TicketStatus.ACCEPTED in statuses
    finally:
        peer.close()
        code = agent.stop()
        assert code == 0, agent.log()[-3000:]
