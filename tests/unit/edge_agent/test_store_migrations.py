"""The database's schema versions (edge_agent.store.MIGRATIONS): a v1 file as the first
release made it (tests/fixtures/store_v1_schema.sql), with rows, opened by the current
Store; a newer file refused; a migration that fails, or a process killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from edge_agent.errors import StoreError
from edge_agent.store import MIGRATIONS, SCHEMA_VERSION, Migration, Store

ROOT = Path(__file__).resolve().parents[3]
V1_SCHEMA = (ROOT / "tests/fixtures/store_v1_schema.sql").read_text()


def make_v1(path: Path) -> None:
    """A database as edge-agent 1 (schema version 1) left it, with a row in every table."""
    with sqlite3.connect(path) as db:
        db.executescript(V1_SCHEMA)
        db.executescript(
            """
            INSERT INTO meta VALUES ('schema', '1'), ('seq', '41'), ('epoch', 'abcdef0123456789');
            INSERT INTO orders VALUES ('o-1', 3, '{"id": "o-1"}', 1700000000.5);
            INSERT INTO tickets VALUES ('o-1', 'NEW', '{"id": "o-1"}', 1700000001.0);
            INSERT INTO bumps VALUES ('o-1', 'grill', '["l1"]', 1700000002.0);
            INSERT INTO commands VALUES ('c-1', 'bump', '{}', '{"ok": true}', 1700000003.0);
            INSERT INTO outbox (channel, kind, key, dest, body, next_at, created_at)
                VALUES ('mq', 'state', 'k-1', '/topic/x', x'7b7d', 1700000004.0, 1700000004.0);
            INSERT INTO lifecycle (event_id, ticket_id, kind, at, actor)
                VALUES ('e-1', 'o-1', 'received', '2026-11-24T10:00:00Z', 'grill-1');
            INSERT INTO quarantine (order_id, version, field, error, body, at)
                VALUES ('o-2', 1, 'items', 'bad', '{}', 1700000005.0);
            INSERT INTO quarantine_notes VALUES (1, '#2', 'bad items', NULL, NULL);
            INSERT INTO dead_letters (source, error, body, at)
                VALUES ('commands', 'bad json', x'00', 1700000006.0);
            """
        )
    assert _version(path) == 1


def _version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])


def schema(path: Path) -> list[tuple[str, str, str]]:
    """sqlite_master, normalised: (type, name, SQL with whitespace collapsed)."""
    with sqlite3.connect(path) as db:
        rows = db.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "ORDER BY type, name"
        ).fetchall()
    return [(t, n, " ".join((sql or "").split())) for t, n, sql in rows]


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    tables = ("orders", "tickets", "bumps", "commands", "outbox", "lifecycle", "quarantine")
    with sqlite3.connect(path) as db:
        found = {t: db.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}
        found["notes"] = db.execute("SELECT * FROM quarantine_notes").fetchall()
        found["dead"] = db.execute("SELECT * FROM dead_letters").fetchall()
        found["meta"] = db.execute(
            "SELECT * FROM meta WHERE key IN ('seq', 'epoch') ORDER BY key"
        ).fetchall()
    return found


def test_versions_are_consecutive_and_the_last_is_current() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))
    assert SCHEMA_VERSION == 2


def test_a_v1_file_migrates_keeping_its_rows_and_matches_a_fresh_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    old = tmp_path / "v1.sqlite3"
    make_v1(old)
    before = dump(old)
    with caplog.at_level("INFO", logger="edge.store"), Store(old) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.current_seq() == 41 and store.epoch == "abcdef0123456789"
        assert store.order("o-1") == {"id": "o-1"}
        assert len(store.due("mq", now=1800000000.0)) == 1
    assert "schema migrated from version 1 to 2" in caplog.text
    assert dump(old) == before
    fresh = tmp_path / "fresh.sqlite3"
    Store(fresh).close()
    assert schema(old) == schema(fresh)
    assert {"outbox_done", "outbox_due"} <= {name for _t, name, _s in schema(fresh)}


def test_an_early_v1_file_without_lifecycle_actor_gets_it(tmp_path: Path) -> None:
    path = tmp_path / "early.sqlite3"
    early = V1_SCHEMA.replace(",\n    actor TEXT NOT NULL DEFAULT ''", "")
    assert early != V1_SCHEMA
    with sqlite3.connect(path) as db:
        db.executescript(early)
        db.execute("INSERT INTO meta VALUES ('schema', '1')")
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        store.add_lifecycle("e-1", "o-1", "received", "2026-11-24T10:00:00Z", actor="grill-1")
        assert store.lifecycle()[0]["actor"] == "grill-1"


def test_a_database_from_a_newer_program_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    Store(path).close()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = '9' WHERE key = 'schema'")
    before = schema(path)
    with pytest.raises(StoreError) as caught:
        Store(path)
    message = str(caught.value)
    assert "schema version 9" in message and f"up to {SCHEMA_VERSION}" in message
    assert _version(path) == 9 and schema(path) == before


def _breaks(db: sqlite3.Connection) -> None:
    db.execute("CREATE INDEX half_done ON outbox(kind)")
    raise RuntimeError("the power went")


def test_a_migration_that_fails_leaves_the_old_version_and_the_next_start_migrates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.sqlite3"
    make_v1(path)
    before = dump(path)
    broken = (*MIGRATIONS[:1], Migration(2, "breaks", _breaks))
    with pytest.raises(StoreError) as caught:
        Store(path, migrations=broken)
    assert "schema version 2 failed" in str(caught.value)
    assert "left at version 1" in str(caught.value)
    assert _version(path) == 1
    assert "half_done" not in {name for _t, name, _s in schema(path)}
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert dump(path) == before


SLOW_MIGRATION = """
import sys, time
from edge_agent import store as s
def slow(db):
    s._to_v2(db)
    print("inside", flush=True)
    time.sleep(60)
s.Store(sys.argv[1], migrations=(s.MIGRATIONS[0], s.Migration(2, "slow", slow)))
"""


def test_a_process_killed_mid_migration_leaves_a_file_the_next_start_migrates(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.sqlite3"
    make_v1(path)
    before = dump(path)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_MIGRATION, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "inside"  # the v2 step ran, not committed
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    assert _version(path) == 1
    started = time.monotonic()
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
    assert time.monotonic() - started < 10
    assert dump(path) == before
    assert json.loads(str(dump(path)["commands"][0][3])) == {"ok": True}


def test_a_database_folder_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(StoreError) as caught:
        Store(blocker / "state" / "edge.sqlite3")
    assert f"cannot make the folder {blocker / 'state'}" in str(caught.value)
    assert caught.value.kind == "io"
