"""Retention (edge_agent.retention) on a real SQLite file with a clock the test moves:
old finished rows go, recent ones and everything an open ticket needs stay, and a
command resent within its retention still gets its stored result."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig
from edge_agent.kitchen import Kitchen
from edge_agent.outbox import Channel
from edge_agent.retention import DAY, Retention, RetentionPolicy
from edge_agent.store import Store
from shared import wire
from shared.config import load
from shared.errors import ConfigError
from tests.unit.shared.factories import NOW, SITE, order_dict

POLICY = RetentionPolicy(
    finished_seconds=14 * DAY,
    commands_seconds=14 * DAY,
    dead_letters_seconds=14 * DAY,
    quarantine_seconds=14 * DAY,
)


class Clock:
    """The store's clock: starts 20 days ago, so "day 20" is about now (quarantined rows
    are stamped with the real time)."""

    def __init__(self) -> None:
        self.t = time.time() - 20 * DAY

    def __call__(self) -> float:
        return self.t

    def advance(self, days: float) -> None:
        self.t += days * DAY


def command(kind: str, command_id: str, ticket_id: str, **fields: object) -> bytes:
    return wire.encode(
        wire.make_command(
            kind, SITE, command_id=command_id, ticket_id=ticket_id, display_id="expo-1", **fields
        )
    )


def close(kitchen: Kitchen, ticket_id: str) -> None:
    """Expo bump, then picked up: the ticket is cleared (it left every screen)."""
    for kind in ("bump", "picked_up"):
        result = kitchen.handle_command(
            command(kind, f"{kind}-{ticket_id}", ticket_id, station="expo"), None
        )
        assert result is not None and result.ok, result
    assert kitchen.store.ticket_status(ticket_id) == "cleared"


def count(path: Path, sql: str, *args: object) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute(sql, args).fetchone()[0])
    finally:
        db.close()


def ids(path: Path, table: str, column: str = "id") -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {row[0] for row in db.execute(f"SELECT {column} FROM {table}")}
    finally:
        db.close()


def test_old_finished_rows_go_recent_ones_and_open_tickets_stay(store_path: Path) -> None:
    clock = Clock()
    store = Store(store_path, clock=clock)
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)
    try:
        # day 0: one order picked up, one still open, one that arrived cancelled
        kitchen.apply_order(order_dict(id="ord_old_done"))
        close(kitchen, "ord_old_done")
        kitchen.apply_order(order_dict(id="ord_old_open"))
        prioritized = command("prioritize", "c-old", "ord_old_open", priority="rush")
        assert kitchen.handle_command(prioritized, None) is not None
        kitchen.apply_order(order_dict(id="ord_arrived_closed", status="cancelled"))
        kitchen.handle_command(b"not json", None)  # a dead letter
        kitchen.apply_order({"id": "ord_bad_old"})  # quarantined (at the real time)
        store.enqueue(Channel.PRINT, "ticket", "print:old", "grill", b"{}")
        [dead] = store.pending(Channel.PRINT)
        store.mark_dead(dead.id, "printer gone")
        with sqlite3.connect(store_path) as db:  # quarantined 20 days ago
            db.execute("UPDATE quarantine SET at = ?", (clock.t,))
        db.close()

        # day 20: a recent order closed, a recent command, recent bad input
        clock.advance(20)
        kitchen.apply_order(order_dict(id="ord_new_done"))
        close(kitchen, "ord_new_done")
        kitchen.handle_command(b"\xff", None)
        kitchen.apply_order({"id": "ord_bad_new"})
        seq = store.current_seq()

        pruned, more = Retention(store, POLICY).prune(clock.t)
        assert not more
        assert pruned.pop("customer_data") > 0  # the open order's (tests: test_privacy.py)
        assert pruned == {
            "tickets": 1,
            "orders": 1,
            "commands": 3,  # c-old and the old order's bump and picked_up
            "outbox": 1,
            "dead_letters": 1,
            "quarantine": 1,
        }
        # the old closed order went with its ticket; the open one stays, however old
        assert ids(store_path, "tickets") == {"ord_old_open", "ord_new_done"}
        assert ids(store_path, "orders") == {"ord_old_open", "ord_new_done"}
        assert ids(store_path, "commands", "command_id") == {
            "bump-ord_new_done",
            "picked_up-ord_new_done",
        }
        assert [q["order_id"] for q in store.quarantined()] == ["ord_bad_new"]
        # what the screens said of the pruned one went with it (it refers to its row)
        assert count(store_path, "SELECT COUNT(*) FROM quarantine_notes") == 1
        assert len(store.dead_letters()) == 1 and store.outbox_rows("dead") == []
        # what the open ticket still needs: its pending core events, its state
        assert count(store_path, "SELECT COUNT(*) FROM outbox WHERE dest = 'ord_old_open'") > 0
        snapshot = kitchen.snapshot("s")
        assert [t.id for t in snapshot.tickets or ()] == ["ord_old_open"]
        assert (snapshot.tickets or ())[0].priority == "rush"
        # the open ticket's commands still work
        assert kitchen.handle_command(
            command("start", "c-start", "ord_old_open", station="grill"), None
        )
        # a command resent within its retention: the stored result, no second effect
        resent = kitchen.handle_command(
            command("picked_up", "picked_up-ord_new_done", "ord_new_done"), None
        )
        assert resent is not None and resent.ok
        assert store.current_seq() == seq + 1  # only the start
    finally:
        store.close()


def test_pruning_goes_in_batches_and_says_when_rows_are_left(store_path: Path) -> None:
    clock = Clock()
    store = Store(store_path, clock=clock)
    try:
        for n in range(7):
            store.put_command(f"c{n}", "start", "{}", json.dumps({"ok": True}))
        clock.advance(15)
        policy = RetentionPolicy(commands_seconds=14 * DAY, batch_rows=2, max_batches=2)
        retention = Retention(store, policy, interval=600)
        assert retention.maybe_prune()["commands"] == 4  # two batches of two: more left
        assert retention.maybe_prune()["commands"] == 3  # at once, the next tick
        assert retention.maybe_prune() == {}  # then not before the interval
        clock.t += 601
        assert retention.maybe_prune()["commands"] == 0
        assert count(store_path, "SELECT COUNT(*) FROM commands") == 0
    finally:
        store.close()


def test_retention_comes_from_store_settings_with_env_overrides(tmp_path: Path) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(
        f'site_id = "{SITE}"\n[core]\nurl = "http://127.0.0.1:1"\n'
        f'[store]\npath = "{tmp_path / "edge.sqlite3"}"\nquarantine_retention_days = 60\n'
    )
    env = {"KDS_CORE_TOKEN": "t", "KDS_STORE_RETENTION_DAYS": "7"}
    settings = load(AgentConfig, config, env=env, secrets=None).store
    assert (settings.retention_days, settings.commands_retention_days) == (7.0, 14.0)
    policy = RetentionPolicy.from_settings(settings)
    assert policy.finished_seconds == 7 * DAY and policy.quarantine_seconds == 60 * DAY
    assert policy.dead_letters_seconds == 30 * DAY and policy.batch_rows == 200
    with pytest.raises(ConfigError, match=r"store\.commands_retention_days"):
        load(
            AgentConfig,
            config,
            env={**env, "KDS_STORE_COMMANDS_RETENTION_DAYS": "0.5"},
            secrets=None,
        )
