"""The agent's SQLite store (edge_agent.store.Store) in a temporary directory."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from edge_agent.errors import StoreError
from edge_agent.store import SCHEMA_VERSION, Store
from shared.config import Secret


def enqueue(store: Store, key: str, channel: str = "mq", *, delay: float = 0.0) -> bool:
    return store.enqueue(
        channel, "state", key, "/topic/kds.ams-01.state", key.encode(), delay=delay
    )


def test_wal_mode_is_on(store: Store, store_path: Path) -> None:
    conn = sqlite3.connect(store_path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()


def test_creates_missing_parent_directories(tmp_path: Path) -> None:
    with Store(tmp_path / "a" / "b" / "edge.sqlite3") as db:
        assert db.current_seq() == 0
    assert (tmp_path / "a" / "b" / "edge.sqlite3").exists()


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        Store(tmp_path)  # a directory


def test_seq_is_monotonic_and_survives_reopen(store_path: Path) -> None:
    with Store(store_path) as db:
        assert db.current_seq() == 0
        assert [db.next_seq() for _ in range(5)] == [1, 2, 3, 4, 5]
        assert db.current_seq() == 5
    with Store(store_path) as db:
        assert db.current_seq() == 5
        assert db.next_seq() == 6
        assert db.get_meta("schema") == str(SCHEMA_VERSION)


def test_meta(store: Store) -> None:
    assert store.get_meta("cursor") is None
    store.set_meta("cursor", "abc")
    store.set_meta("cursor", "def")
    assert store.get_meta("cursor") == "def"


# --- outbox --------------------------------------------------------------------------------


def test_enqueue_is_idempotent_by_key(store: Store) -> None:
    assert store.enqueue("core", "event", "evt-1", "ord_1", b"first", {"h": "1"})
    assert not store.enqueue("core", "event", "evt-1", "ord_1", b"second")
    rows = store.due("core")
    assert len(rows) == 1
    row = rows[0]
    assert (row.channel, row.kind, row.key, row.dest) == ("core", "event", "evt-1", "ord_1")
    assert row.body == b"first" and row.headers == {"h": "1"} and row.attempts == 0
    # the key is unique across channels too
    assert not store.enqueue("mq", "state", "evt-1", "x", b"")


def test_due_is_oldest_first_per_channel_with_limit(store: Store) -> None:
    for key in ("a", "b", "c", "d"):
        enqueue(store, key)
    enqueue(store, "core-1", channel="core")
    assert [r.key for r in store.due("mq")] == ["a", "b", "c", "d"]
    assert [r.key for r in store.due("mq", limit=2)] == ["a", "b"]
    assert [r.key for r in store.due("core")] == ["core-1"]
    assert store.due("other") == []


def test_delayed_row_is_due_at_next_at(store: Store) -> None:
    before = time.time()
    enqueue(store, "later", delay=60)
    enqueue(store, "now")
    assert [r.key for r in store.due("mq")] == ["now"]
    assert [r.key for r in store.due("mq", now=before + 120)] == ["later", "now"]
    next_at = store.next_due_at("mq")
    assert next_at is not None and next_at <= time.time()
    assert store.next_due_at("core") is None


def test_next_due_at_is_the_earliest_pending(store: Store) -> None:
    enqueue(store, "a", delay=30)
    enqueue(store, "b", delay=10)
    start = time.time()
    next_at = store.next_due_at("mq")
    assert next_at is not None and start + 5 < next_at <= start + 10


def test_mark_retry(store: Store) -> None:
    enqueue(store, "a")
    enqueue(store, "b")
    (row, _) = store.due("mq")
    at = time.time() + 100
    store.mark_retry(row.id, "broker down " + "x" * 1000, at)
    assert [r.key for r in store.due("mq")] == ["b"]
    again = store.due("mq", now=at)
    assert [r.key for r in again] == ["a", "b"]
    assert again[0].attempts == 1
    (info,) = [r for r in store.outbox_rows() if r["key"] == "a"]
    assert info["state"] == "pending"
    assert info["last_error"].startswith("broker down") and len(info["last_error"]) == 500


def test_errors_stored_with_outbox_rows_have_secrets_masked(store: Store) -> None:
    """A peer's answer quoted in an error may carry a secret the agent holds (a PoS
    repeating the key it refused): the row's ``last_error`` never does."""
    Secret("pos-key-9e2b-not-for-the-database")
    enqueue(store, "a")
    enqueue(store, "b")
    (row_a, row_b) = store.due("mq")
    store.mark_retry(row_a.id, "refused pos-key-9e2b-not-for-the-database", time.time())
    store.mark_dead(row_b.id, "refused: Bearer pos-key-9e2b-not-for-the-database")
    store.dead_letter("mq", "frame had pos-key-9e2b-not-for-the-database", b"{}")
    errors = [r["last_error"] for r in store.outbox_rows()] + [
        r["error"] for r in store.dead_letters()
    ]
    assert len(errors) == 3
    assert all("not-for-the-database" not in e and "********" in e for e in errors), errors


def test_mark_done(store: Store) -> None:
    enqueue(store, "a")
    (row,) = store.due("mq")
    store.mark_done(row.id)
    assert store.due("mq", now=time.time() + 1e6) == []
    assert store.next_due_at("mq") is None
    (info,) = store.outbox_rows("done")
    assert info["attempts"] == 1 and info["last_error"] is None
    assert store.outbox_stats() == {"mq": {"done": 1}}
    assert store.prune_done(time.time() - 3600) == 0
    assert store.prune_done(time.time() + 1) == 1
    assert store.outbox_rows() == []
    # a pruned key may be enqueued again
    assert enqueue(store, "a")


def test_mark_dead(store: Store) -> None:
    enqueue(store, "a", channel="core")
    enqueue(store, "b", channel="core")
    (row, _) = store.due("core")
    store.mark_dead(row.id, "core answered 409 invalid_transition")
    assert [r.key for r in store.due("core", now=time.time() + 1e6)] == ["b"]
    (dead,) = store.outbox_rows("dead")
    assert dead["key"] == "a" and dead["last_error"] == "core answered 409 invalid_transition"
    assert store.outbox_stats() == {"core": {"dead": 1, "pending": 1}}
    assert store.prune_done(time.time() + 1) == 0  # dead rows stay visible


# --- bad input -----------------------------------------------------------------------------


def test_quarantine_is_recorded(store: Store) -> None:
    store.quarantine("ord_1", 2, "items.0.qty", "qty must be an int", '{"id": "ord_1"}')
    store.quarantine(None, None, None, "not an object", "[1]")
    cols = ("order_id", "version", "field", "error", "body", "label", "summary", "resolved")
    assert [{c: q[c] for c in cols} for q in store.quarantined()] == [
        {
            "order_id": "ord_1",
            "version": 2,
            "field": "items.0.qty",
            "error": "qty must be an int",
            "body": '{"id": "ord_1"}',
            "label": "ord_1",
            "summary": "qty must be an int",
            "resolved": None,
        },
        {
            "order_id": None,
            "version": None,
            "field": None,
            "error": "not an object",
            "body": "[1]",
            "label": "#2",
            "summary": "not an object",
            "resolved": None,
        },
    ]


def test_dead_letters_are_recorded_and_capped(store: Store) -> None:
    store.dead_letter("commands", "not JSON", b"\xff\x00garbage")
    store.dead_letter("commands", "e" * 5000, b"x" * 100_000)
    first, second = store.dead_letters()
    assert first == {"source": "commands", "error": "not JSON", "body": b"\xff\x00garbage"}
    assert len(second["error"]) == 1000 and len(second["body"]) == 65536


# --- transactions --------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_rollback_on_exception_leaves_nothing(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        assert store.next_seq() == 1
        enqueue(store, "state:1")
        store.put_ticket("ord_1", "accepted", "{}")
        store.put_order("ord_1", 1, {"id": "ord_1"})
        store.put_command("c1", "bump", "{}", "{}")
        store.set_last_bump("ord_1", "grill", ["l1"])
        store.quarantine("x", 1, None, "e", "b")
        store.set_meta("cursor", "abc")
        raise Boom
    assert store.current_seq() == 0
    assert store.outbox_rows() == []
    assert store.ticket_json("ord_1") is None
    assert store.order_version("ord_1") is None
    assert store.command_result("c1") is None
    assert store.last_bump("ord_1", "grill") is None
    assert store.quarantined() == []
    assert store.get_meta("cursor") is None
    # and the store still works
    assert store.next_seq() == 1


def test_nested_transaction_joins_the_outer_one(store: Store) -> None:
    with pytest.raises(Boom), store.transaction():
        enqueue(store, "outer")
        with store.transaction():
            enqueue(store, "inner")
        raise Boom
    assert store.outbox_rows() == []
    with store.transaction():
        enqueue(store, "outer")
        with store.transaction():
            enqueue(store, "inner")
    assert [r["key"] for r in store.outbox_rows()] == ["outer", "inner"]


def test_a_nested_transaction_that_fails_undoes_only_its_own_writes(store: Store) -> None:
    with store.transaction():
        enqueue(store, "before")
        with pytest.raises(Boom), store.transaction():
            enqueue(store, "failed")
            with store.transaction():
                enqueue(store, "failed-deeper")
            raise Boom
        with store.transaction():
            enqueue(store, "after")
    assert [r["key"] for r in store.outbox_rows()] == ["before", "after"]


def test_a_single_write_that_fails_inside_a_transaction_undoes_only_itself(
    store: Store,
) -> None:
    # put_ticket/set_meta/enqueue/add_lifecycle take no savepoint of their own inside a
    # transaction: SQLite undoes the one statement that failed, and the outer
    # transaction keeps what it wrote before and after and decides for all of it.
    with store.transaction():
        enqueue(store, "before")
        store.put_ticket("ord_1", "accepted", "{}")
        with pytest.raises(sqlite3.IntegrityError):
            store.put_ticket("ord_2", "accepted", None)  # type: ignore[arg-type]
        with pytest.raises(sqlite3.IntegrityError):
            store.set_meta("cursor", None)  # type: ignore[arg-type]
        enqueue(store, "after")
    assert [r["key"] for r in store.outbox_rows()] == ["before", "after"]
    assert store.ticket_json("ord_1") == "{}"
    assert store.ticket_json("ord_2") is None
    assert store.get_meta("cursor") is None
    # and the outer transaction still undoes all of it when it fails
    with pytest.raises(Boom), store.transaction():
        store.put_ticket("ord_3", "accepted", "{}")
        with pytest.raises(sqlite3.IntegrityError):
            store.put_ticket("ord_4", "accepted", None)  # type: ignore[arg-type]
        raise Boom
    assert store.ticket_json("ord_3") is None


def test_a_single_write_outside_a_transaction_commits_by_itself(store_path: Path) -> None:
    with Store(store_path) as db:
        db.put_ticket("ord_1", "accepted", "{}")
        db.set_meta("cursor", "abc")
        with pytest.raises(StoreError):
            db.put_ticket("ord_2", "accepted", None)  # type: ignore[arg-type]
    with Store(store_path) as db:
        assert db.ticket_json("ord_1") == "{}"
        assert db.get_meta("cursor") == "abc"
        assert db.ticket_json("ord_2") is None


def test_committed_data_survives_reopen(store_path: Path) -> None:
    with Store(store_path) as db, db.transaction():
        db.next_seq()
        enqueue(db, "state:1")
    with Store(store_path) as db:
        assert db.current_seq() == 1
        assert [r.key for r in db.due("mq")] == ["state:1"]


# --- orders, tickets, bumps, commands ------------------------------------------------------


def test_orders(store: Store) -> None:
    assert store.order_version("ord_1") is None and store.order("ord_1") is None
    store.put_order("ord_1", 1, {"id": "ord_1", "version": 1})
    store.put_order("ord_1", 3, {"id": "ord_1", "version": 3})
    assert store.order_version("ord_1") == 3
    assert store.order("ord_1") == {"id": "ord_1", "version": 3}


def test_tickets(store: Store) -> None:
    store.put_ticket("t1", "accepted", '{"id": "t1"}')
    store.put_ticket("t2", "cancelled", '{"id": "t2"}')
    store.put_ticket("t3", "picked_up", '{"id": "t3"}')
    store.put_ticket("t1", "in_progress", '{"id": "t1", "v": 2}')
    assert store.ticket_json("t1") == '{"id": "t1", "v": 2}'
    assert store.tickets_json(("in_progress", "cancelled")) == [
        '{"id": "t1", "v": 2}',
        '{"id": "t2"}',
    ]
    assert store.tickets_with_status_before("cancelled", time.time() + 1) == ["t2"]
    assert store.tickets_with_status_before("cancelled", time.time() - 60) == []
    store.set_ticket_status_only("t2", "cleared")
    assert store.tickets_json(("cancelled",)) == []
    assert store.ticket_json("t2") == '{"id": "t2"}'


def test_last_bump(store: Store) -> None:
    assert store.last_bump("t1", "grill") is None
    store.set_last_bump("t1", "grill", ["l1", "l3"])
    store.set_last_bump("t1", "expo", [])
    assert store.last_bump("t1", "grill") == ["l1", "l3"]
    assert store.last_bump("t1", "expo") == []
    store.set_last_bump("t1", "grill", None)
    assert store.last_bump("t1", "grill") is None


def test_commands(store: Store) -> None:
    assert store.command_result("c1") is None
    store.put_command("c1", "bump", '{"type": "bump"}', '{"ok": true}')
    assert store.command_result("c1") == '{"ok": true}'


def test_query_on_closed_store_is_a_store_error(store_path: Path) -> None:
    db = Store(store_path)
    db.close()
    with pytest.raises(StoreError):
        db.current_seq()


def test_a_quarantine_row_of_an_older_agent_is_labelled_and_resolvable(store: Store) -> None:
    with store.transaction() as db:  # written before quarantine_notes existed
        db.execute(
            "INSERT INTO quarantine(order_id, version, field, error, body, at) "
            "VALUES ('ord_OLD', 1, 'items', 'items: Field required', '{}', 1.0)"
        )
    (old,) = store.quarantined(unresolved_since=0.0)
    assert (old["label"], old["summary"], old["resolved"]) == (
        "ord_OLD",
        "items: Field required",
        None,
    )
    store.resolve_quarantine(old["id"], "dismissed")
    assert store.quarantined(unresolved_since=0.0) == []
    entry = store.quarantine_entry(old["id"])
    assert entry is not None and entry["resolved"] == "dismissed"
    assert store.quarantine_entry(old["id"] + 1) is None
