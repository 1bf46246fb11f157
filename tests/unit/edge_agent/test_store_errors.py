"""SQLite's failures map to ``StoreError`` kinds at the store's boundary, from real
SQLite errors; the alarm (``Store.trouble``) rises and falls with them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from edge_agent.errors import StoreError
from edge_agent.store import Store, _read_only_folder, store_error


def _raised(action: object) -> sqlite3.Error:
    with pytest.raises(sqlite3.Error) as caught:
        action()  # type: ignore[operator]
    return caught.value


def test_sqlite_errors_map_to_kinds(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    db.execute("CREATE TABLE t(x)")
    db.execute("PRAGMA max_page_count = 2")
    full = _raised(lambda: db.execute("INSERT INTO t VALUES (?)", (b"x" * 100_000,)))
    ro = sqlite3.connect(f"file:{tmp_path / 'a.db'}?mode=ro", uri=True)
    read_only = _raised(lambda: ro.execute("INSERT INTO t VALUES (1)"))
    (tmp_path / "junk.db").write_bytes(b"not a database at all, " * 200)
    junk = sqlite3.connect(tmp_path / "junk.db")
    not_a_db = _raised(lambda: junk.execute("SELECT * FROM sqlite_master"))
    holder = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(tmp_path / "a.db", isolation_level=None, timeout=0)
    busy = _raised(lambda: waiter.execute("BEGIN IMMEDIATE"))
    holder.execute("ROLLBACK")
    syntax = _raised(lambda: db.execute("SELEC 1"))
    kinds = {
        name: store_error("x", exc).kind
        for name, exc in {
            "full": full,
            "ro": read_only,
            "junk": not_a_db,
            "busy": busy,
            "syntax": syntax,
        }.items()
    }
    assert kinds == {
        "full": "disk_full",
        "ro": "read_only",
        "junk": "corrupt",
        "busy": "busy",
        "syntax": "error",
    }
    assert [StoreError("x", k).is_trouble for k in ("disk_full", "busy", "error")] == [
        True,
        False,
        False,
    ]


def test_opening_junk_names_the_file_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "edge.sqlite3"
    path.write_bytes(b"not a database at all, " * 200)
    with pytest.raises(StoreError) as caught:
        Store(path)
    assert caught.value.kind == "corrupt"
    assert str(path) in str(caught.value)


def test_a_failed_write_raises_the_alarm_until_writes_succeed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("edge_agent.store.TROUBLE_CLEAR_SECONDS", 0.0)
    store = Store(tmp_path / "edge.sqlite3")
    assert store.trouble is None and store.damage is None
    with pytest.raises(StoreError), store.transaction() as db:
        # a real SQLITE_FULL from inside a transaction: this connection's page limit
        db.execute("PRAGMA max_page_count = 1")
        db.execute("INSERT INTO meta(key, value) VALUES ('big', ?)", ("x" * 100_000,))
    assert store.trouble is not None
    assert store.trouble.headline == "kitchen database cannot be written: disk full"
    assert store.error_counts["disk_full"] == 1
    store._conn.execute("PRAGMA max_page_count = 1073741823")
    store.set_meta("small", "ok")
    assert store.trouble is None
    store.close()


def test_a_read_only_mount_is_read_from_the_mount_table(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw,relatime 0 0\n"
        f"/dev/loop0 {tmp_path} ext4 rw,relatime,errors=remount-ro,emergency_ro 0 0\n"
    )
    assert _read_only_folder(tmp_path, mounts)
    mounts.write_text(f"/dev/sda1 / ext4 rw,relatime 0 0\n/dev/loop0 {tmp_path}x ext4 ro 0 0\n")
    assert not _read_only_folder(tmp_path, mounts)
