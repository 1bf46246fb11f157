"""The database's epoch (edge_agent.store.Store.epoch) on a real SQLite file, and the
kitchen stamping it on what it publishes: state messages and snapshot results."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from edge_agent.kitchen import Kitchen
from edge_agent.outbox import Channel
from edge_agent.store import Store
from shared import wire
from tests.unit.shared.factories import NOW, SITE, order_dict

HEX16 = re.compile(r"^[0-9a-f]{16}$")


def test_a_new_database_gets_an_epoch_that_survives_reopening(store_path: Path) -> None:
    with Store(store_path) as db:
        epoch = db.epoch
    assert HEX16.match(epoch)
    with Store(store_path) as db:
        assert db.epoch == epoch


def test_a_replaced_database_has_another_epoch(tmp_path: Path) -> None:
    with Store(tmp_path / "a.sqlite3") as a, Store(tmp_path / "b.sqlite3") as b:
        assert a.epoch != b.epoch


def test_a_database_from_before_epochs_gets_one_once(store_path: Path) -> None:
    with Store(store_path) as db:
        db.next_seq()
    with sqlite3.connect(store_path) as conn:  # as an older release left it
        conn.execute("DELETE FROM meta WHERE key = 'epoch'")
    conn.close()
    with Store(store_path) as db:
        given = db.epoch
        assert HEX16.match(given) and db.current_seq() == 1
    with Store(store_path) as db:
        assert db.epoch == given


def test_state_messages_and_snapshots_carry_the_epoch(store: Store) -> None:
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)
    kitchen.apply_order(order_dict())
    [row] = [r for r in store.pending(Channel.MQ) if r.kind == "state"]
    message = wire.parse_state_message(row.body)
    assert message.epoch == store.epoch and message.seq == 1
    snapshot = kitchen.snapshot("snap")
    assert snapshot.epoch == store.epoch
    assert wire.parse_result(wire.encode(snapshot)).epoch == store.epoch


def test_a_message_without_an_epoch_encodes_and_parses_as_before() -> None:
    message = wire.AgentAlive(site_id=SITE, seq=4, at=NOW)
    assert b"epoch" not in wire.encode(message)
    assert wire.parse_state_message(wire.encode(message)) == message
