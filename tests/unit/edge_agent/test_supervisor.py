"""edge_agent.supervisor: a thread that dies is logged, counted and restarted; one that
keeps dying stops the agent. The outbox worker runs against a real SQLite file that
another connection locks, so its store really fails."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from edge_agent.errors import StoreError
from edge_agent.outbox import Channel, OutboxWorker
from edge_agent.store import OutboxRow, Store
from edge_agent.supervisor import RestartPolicy, Supervisor
from tests.helpers.metrics import RecordingMetrics
from tests.helpers.site import wait_until

FAST = RestartPolicy(max_restarts=3, window=60.0, backoff_initial=0.05, backoff_max=0.1)


class Flaky:
    """A loop that raises ``deaths`` times, then runs until stopped."""

    def __init__(self, deaths: int) -> None:
        self.deaths = deaths
        self.runs = 0
        self.running = threading.Event()
        self.stop = threading.Event()

    def __call__(self) -> None:
        self.runs += 1
        if self.runs <= self.deaths:
            raise StoreError(f"disk I/O error (run {self.runs})")
        self.running.set()
        self.stop.wait()


def test_a_died_thread_is_logged_counted_and_restarted(caplog: pytest.LogCaptureFixture) -> None:
    metrics = RecordingMetrics()
    given_up: list[str] = []
    supervisor = Supervisor(FAST, metrics=metrics, on_give_up=given_up.append)
    loop = Flaky(deaths=2)
    with caplog.at_level(logging.ERROR, logger="edge.supervisor"):
        thread = supervisor.spawn("feed", loop)
        assert loop.running.wait(5)
    assert thread.name == "feed" and thread.is_alive()
    assert loop.runs == 3
    assert metrics.tagged == [("thread.restarts", {"thread": "feed"})] * 2
    assert supervisor.restarts == {"feed": 2}
    died = [r for r in caplog.records if r.getMessage().startswith("thread feed died")]
    assert len(died) == 2 and all(r.exc_info for r in died)
    assert "StoreError: disk I/O error (run 1)" in died[0].getMessage()
    assert supervisor.healthy and not given_up
    loop.stop.set()
    thread.join(5)
    assert not thread.is_alive() and loop.runs == 3  # a loop that returns is not restarted


def test_a_thread_that_keeps_dying_is_given_up_loudly(caplog: pytest.LogCaptureFixture) -> None:
    given_up: list[str] = []
    supervisor = Supervisor(FAST, on_give_up=given_up.append)
    loop = Flaky(deaths=1000)
    with caplog.at_level(logging.ERROR, logger="edge.supervisor"):
        thread = supervisor.spawn("outbox-core", loop)
        thread.join(10)
    assert not thread.is_alive()
    assert loop.runs == FAST.max_restarts + 1
    assert len(given_up) == 1 and given_up[0] == supervisor.failure
    assert given_up[0].startswith("thread outbox-core cannot be kept alive: it died 4 times")
    assert "StoreError: disk I/O error (run 4)" in given_up[0]
    assert not supervisor.healthy
    assert any(r.levelno == logging.CRITICAL for r in caplog.records)


def test_stopping_the_supervisor_stops_restarts() -> None:
    supervisor = Supervisor(RestartPolicy(backoff_initial=30.0, backoff_max=30.0))
    loop = Flaky(deaths=1000)
    thread = supervisor.spawn("housekeeping", loop)
    wait_until(lambda: loop.runs >= 1)
    supervisor.stop()
    thread.join(5)
    assert not thread.is_alive() and loop.runs == 1


def test_an_outbox_worker_whose_store_fails_is_restarted_and_delivers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "edge.sqlite3"
    delivered: list[str] = []

    def deliver(row: OutboxRow) -> None:
        delivered.append(row.key)

    metrics = RecordingMetrics()
    supervisor = Supervisor(FAST, metrics=metrics)
    with Store(path, busy_timeout=0.1) as store:
        assert store.enqueue(Channel.CORE, "event", "ev-1", "ord_1", b'{"type": "status"}')
        # Another process holds the write lock: marking the row done fails (StoreError).
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        worker = OutboxWorker(store, Channel.CORE, deliver, ordered=False, idle_poll=0.05)
        with caplog.at_level(logging.ERROR, logger="edge.supervisor"):
            worker.start(supervisor)
            try:
                wait_until(lambda: supervisor.restarts.get("outbox-core", 0) >= 1, timeout=10)
                assert store.pending(Channel.CORE, limit=10)  # not marked done
            finally:
                other.execute("ROLLBACK")
                other.close()
            wait_until(lambda: not store.pending(Channel.CORE, limit=10), timeout=10)
        worker.close()
    assert delivered and set(delivered) == {"ev-1"}  # at least once, with its key
    assert worker.delivered == 1
    assert ("thread.restarts", {"thread": "outbox-core"}) in metrics.tagged
    died = [r for r in caplog.records if r.getMessage().startswith("thread outbox-core died")]
    assert died and died[0].exc_info and "StoreError" in died[0].getMessage()
    assert supervisor.healthy
