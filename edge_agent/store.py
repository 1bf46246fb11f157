"""The agent's durable state: one SQLite file in WAL mode.

Everything the agent acts on is written here first (invariant 1): orders as the
core sent them, tickets, the site's state ``seq``, every command and its result,
and the *outbox* of side effects (MQ publishes, replies, core events), which
workers drain with retries. A transaction covers a state change and the outbox
rows it causes, so a crash leaves either both or neither.

One connection, guarded by a re-entrant lock: the agent's threads (feed, command
consumer, outbox workers, housekeeping) take turns; at a site's volume (hundreds
of orders a minute at peak) a transaction takes well under a millisecond.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_agent.errors import StoreError
from shared.redact import redact

log = logging.getLogger("edge.store")


#: SQLite's primary result codes (``sqlite_errorcode & 0xFF``) -> ``StoreError.kind``
_KINDS = {
    5: "busy",  # SQLITE_BUSY: another connection holds the lock
    6: "busy",  # SQLITE_LOCKED
    8: "read_only",  # SQLITE_READONLY
    10: "io",  # SQLITE_IOERR
    11: "corrupt",  # SQLITE_CORRUPT
    13: "disk_full",  # SQLITE_FULL
    14: "io",  # SQLITE_CANTOPEN
    26: "corrupt",  # SQLITE_NOTADB
}

#: how long a loop waits before it tries the troubled store again (doubling to the max)
TROUBLE_WAIT_INITIAL = 0.5
TROUBLE_WAIT_MAX = 15.0

#: the alarm ends after this long without a failed write (seconds)
TROUBLE_CLEAR_SECONDS = 10.0

#: how each kind of store trouble reads on the screens and in ``doctor``
TROUBLE_WORDS = {
    "disk_full": "disk full",
    "read_only": "read-only",
    "io": "disk error",
    "corrupt": "damaged",
}


def store_error(what: str, exc: sqlite3.Error) -> StoreError:
    """``exc`` as a :class:`StoreError` whose ``kind`` names SQLite's reason."""
    code = getattr(exc, "sqlite_errorcode", None)
    kind = _KINDS.get(code & 0xFF, "error") if isinstance(code, int) else "error"
    return StoreError(f"{what}: {exc}", kind)


def _read_only_folder(folder: Path, mounts: Path = Path("/proc/self/mounts")) -> bool:
    """Whether ``folder`` is on a read-only mount (or not writable for this user).

    A failing ext4 disk goes ``emergency_ro`` without the read-only flag ``statvfs``
    shows, so Linux's mount table is read too."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK):
            return True
        table = mounts.read_text().splitlines()
    except OSError:
        return False
    target = str(folder.resolve())
    best, options = "", ""
    for line in table:
        fields = line.split()
        if len(fields) < 4:
            continue
        point = fields[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, options = point, fields[3]
    return bool({"ro", "emergency_ro"} & set(options.split(",")))


def _make_private(path: Path) -> None:
    """The database and its ``-wal``/``-shm`` (customer names and phones) readable by
    this user only: SQLite gives the ``-wal``/``-shm`` the database file's mode, and a
    file an older agent made 0644 is fixed here."""
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except FileNotFoundError:
            continue
        except OSError as exc:  # not ours (another user's file): say so, open it anyway
            log.warning("cannot make %s private (mode 0600): %s", file, exc)


@dataclass(frozen=True)
class StoreTrouble:
    """Why the database cannot be written (or is damaged), and since when."""

    kind: str
    detail: str
    since: float

    @property
    def headline(self) -> str:
        """The line for the screens' problems."""
        if self.kind == "corrupt":
            return "kitchen database is damaged: run edge-agent doctor"
        return f"kitchen database cannot be written: {TROUBLE_WORDS.get(self.kind, self.kind)}"


def new_epoch() -> str:
    """A random name for one database (16 hex digits): its ``seq`` only means something
    together with it, so a screen can tell a replaced or new database from its own."""
    return secrets.token_hex(8)


#: schema version 1, the first released (kept as tests/fixtures/store_v1_schema.sql):
#: never edit it, add a migration
_V1_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    body TEXT NOT NULL,
    received_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS orders_received ON orders(received_at);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tickets_status ON tickets(status);
CREATE INDEX IF NOT EXISTS tickets_cleared ON tickets(status, updated_at);
CREATE TABLE IF NOT EXISTS bumps (
    ticket_id TEXT NOT NULL,
    station TEXT NOT NULL,
    lines TEXT NOT NULL,
    at REAL NOT NULL,
    PRIMARY KEY (ticket_id, station)
);
CREATE TABLE IF NOT EXISTS commands (
    command_id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    result TEXT NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS commands_at ON commands(at);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE,
    dest TEXT NOT NULL,
    body BLOB NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    created_at REAL NOT NULL,
    done_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(channel, state, id);
CREATE INDEX IF NOT EXISTS outbox_dest ON outbox(channel, dest, state, id);
CREATE TABLE IF NOT EXISTS lifecycle (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL UNIQUE,
    ticket_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    station TEXT NOT NULL DEFAULT '',
    brand TEXT NOT NULL DEFAULT '',
    channel TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    seconds_since_received REAL,
    actor TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS lifecycle_ticket ON lifecycle(ticket_id, id);
CREATE INDEX IF NOT EXISTS lifecycle_at ON lifecycle(at);
CREATE TABLE IF NOT EXISTS quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT,
    version INTEGER,
    field TEXT,
    error TEXT NOT NULL,
    body TEXT NOT NULL,
    at REAL NOT NULL
);
-- what the screens say of a quarantined order, and whether a lead has dealt with it
CREATE TABLE IF NOT EXISTS quarantine_notes (
    quarantine_id INTEGER PRIMARY KEY REFERENCES quarantine(id),
    label TEXT NOT NULL,
    summary TEXT NOT NULL,
    resolved TEXT,
    resolved_at REAL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    error TEXT NOT NULL,
    body BLOB NOT NULL,
    at REAL NOT NULL
);
"""


#: version 2: the indexes the hot paths lacked: delivered and dead rows by age (pruning,
#: the screens' dead-letter count), the next due time per channel, and the problem
#: tables by age (retention)
_V2_INDEXES = """
CREATE INDEX IF NOT EXISTS outbox_done ON outbox(state, done_at);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox(channel, state, next_at);
CREATE INDEX IF NOT EXISTS quarantine_at ON quarantine(at);
CREATE INDEX IF NOT EXISTS dead_letters_at ON dead_letters(at);
"""


def _statements(script: str) -> list[str]:
    """A script's statements, one by one (``executescript`` would commit first)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return statements


def _to_v1(db: sqlite3.Connection) -> None:
    """An empty file (or one from before versions) gets the first released schema."""
    for statement in _statements(_V1_SCHEMA):
        db.execute(statement)


def _to_v2(db: sqlite3.Connection) -> None:
    """Formalises what opening a v1 file used to do ad hoc, then adds the indexes."""
    # a file an early v1 agent made may lack a table or the lifecycle.actor column
    _to_v1(db)
    columns = {row[1] for row in db.execute("PRAGMA table_info(lifecycle)")}
    if "actor" not in columns:
        db.execute("ALTER TABLE lifecycle ADD COLUMN actor TEXT NOT NULL DEFAULT ''")
    for statement in _statements(_V2_INDEXES):
        db.execute(statement)


@dataclass(frozen=True)
class Migration:
    """One step: ``apply`` turns a database of ``version - 1`` into ``version``, inside
    one transaction that also stores the new version (a crash leaves the old one)."""

    version: int
    what: str
    apply: Callable[[sqlite3.Connection], None]


#: every schema change, oldest first; the last one's version is the current
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "the first released schema", _to_v1),
    Migration(2, "lifecycle.actor formalised; outbox, quarantine, dead letter indexes", _to_v2),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel: str
    kind: str
    key: str
    dest: str
    body: bytes
    headers: dict[str, str]
    attempts: int
    created_at: float
    next_at: float


#: how long a call waits for a lock another connection holds before StoreError (seconds)
BUSY_TIMEOUT = 30.0


class Store:
    """The SQLite database. Use :meth:`transaction` for every write."""

    def __init__(
        self,
        path: Path | str,
        *,
        busy_timeout: float = BUSY_TIMEOUT,
        clock: Callable[[], float] = time.time,
        check: bool = True,
        migrations: tuple[Migration, ...] = MIGRATIONS,
    ) -> None:
        """``busy_timeout``: how long a write waits for another process's lock;
        ``clock``: the time every row is stamped with (tests and the retention
        benchmark pass one they move); ``check``: run ``PRAGMA quick_check`` first."""
        self.path = Path(path)
        self._clock = clock
        #: failures so far, by ``StoreError.kind`` (the agent turns them into a metric)
        self.error_counts: Counter[str] = Counter()
        self._trouble: StoreTrouble | None = None
        self._last_failure = 0.0
        #: what ``PRAGMA quick_check`` found at start, if it was not "ok"
        self.damage: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where the folder should be, a read-only disk
            kind = "read_only" if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) else "io"
            raise StoreError(
                f"cannot make the folder {self.path.parent} for the database: "
                f"{exc.strerror or exc}",
                kind,
            ) from exc
        try:
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
            )
            _make_private(self.path)
            self._conn.execute("PRAGMA journal_mode=WAL")
            # what is deleted or rewritten (customer data past its retention) is zeroed
            self._conn.execute("PRAGMA secure_delete=ON")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            found = self._read_schema_version()
        except sqlite3.Error as exc:
            error = store_error(f"cannot open the database {self.path}", exc)
            if error.kind == "io" and _read_only_folder(self.path.parent):
                error.kind = "read_only"  # SQLite says only that it cannot open the file
            raise error from exc
        self._lock = threading.RLock()
        self._depth = 0
        if check and found:
            self._quick_check()
        self._migrate(found, migrations)
        with self.transaction():
            self._conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES ('seq', '0')")
            # A new database (or one made before epochs) gets its epoch once, here.
            self._conn.execute(
                "INSERT OR IGNORE INTO meta(key, value) VALUES ('epoch', ?)", (new_epoch(),)
            )
        self.epoch: str = self.get_meta("epoch") or ""

    def _read_schema_version(self) -> int:
        """The file's schema version: 0 for an empty file (no ``meta`` table yet)."""
        has_meta = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        if not has_meta:
            return 0
        row = self._conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        try:
            return int(row[0]) if row else 0
        except ValueError:
            raise StoreError(
                f"the database {self.path} has a schema version that is not a number: {row[0]!r}"
            ) from None

    @property
    def schema_version(self) -> int:
        """The schema version this file is at (after opening: the current one)."""
        with self._lock:
            return self._read_schema_version()

    def _migrate(self, found: int, migrations: tuple[Migration, ...]) -> None:
        """Bring the file from ``found`` to the last migration's version, one
        transaction per step; a file of a newer program is refused, never changed."""
        latest = migrations[-1].version
        if found > latest:
            raise StoreError(
                f"the database {self.path} has schema version {found}, but this edge-agent "
                f"knows schema versions up to {latest}: a newer release made it. Install "
                "that release again, or restore the copy of the database taken before the "
                "upgrade (an older program never changes a newer database)"
            )
        for step in migrations:
            if step.version <= found:
                continue
            try:
                with self.transaction() as db:
                    if self._read_schema_version() >= step.version:
                        continue  # another process (doctor, a second start) did it
                    step.apply(db)
                    db.execute(
                        "INSERT INTO meta(key, value) VALUES ('schema', ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                        (str(step.version),),
                    )
            except StoreError:
                raise
            except Exception as exc:
                raise StoreError(
                    f"migrating the database {self.path} to schema version {step.version} "
                    f"failed ({type(exc).__name__}: {exc}); it is left at version "
                    f"{step.version - 1}, and the next start tries again"
                ) from exc
            if found:
                log.info(
                    "database %s: schema migrated from version %d to %d (%s)",
                    self.path,
                    step.version - 1,
                    step.version,
                    step.what,
                )

    def _quick_check(self) -> None:
        """A damaged file is an alarm from the start, not a surprise mid-rush."""
        try:
            found = [str(row[0]) for row in self._conn.execute("PRAGMA quick_check(10)")]
        except sqlite3.Error as exc:
            found = [str(exc)]
        if found != ["ok"]:
            self.damage = "; ".join(found)[:500]
            self._trouble = StoreTrouble("corrupt", self.damage, time.time())
            self.error_counts["corrupt"] += 1
            log.error("kitchen database %s is damaged (quick_check): %s", self.path, self.damage)

    @property
    def trouble(self) -> StoreTrouble | None:
        """Why the database cannot be written now (or is damaged); ``None`` when fine."""
        return self._trouble

    def _failed(self, exc: StoreError) -> StoreError:
        """Count a failure; disk full, read-only or I/O trouble raise the alarm."""
        if exc.kind == "io" and _read_only_folder(self.path.parent):
            exc.kind = "read_only"  # a disk that failed and was remounted read-only
        with self._lock:
            self.error_counts[exc.kind] += 1
            self._last_failure = time.time()
            current = self._trouble
            if exc.is_trouble and (current is None or current.kind not in (exc.kind, "corrupt")):
                self._trouble = StoreTrouble(exc.kind, str(exc), time.time())
                log.error(
                    "kitchen database %s cannot be written (%s): %s; nothing is acknowledged "
                    "until it can, and work waits and retries",
                    self.path,
                    TROUBLE_WORDS[exc.kind],
                    exc,
                )
        return exc

    def _committed(self) -> None:
        trouble = self._trouble
        # A full disk still takes a few small commits (SQLite reuses its WAL): the alarm
        # ends only after TROUBLE_CLEAR_SECONDS of commits without a failure.
        if (
            trouble is not None
            and trouble.kind != "corrupt"
            and time.time() - self._last_failure >= TROUBLE_CLEAR_SECONDS
        ):
            self._trouble = None
            log.warning(
                "kitchen database %s can be written again (after %.0fs of %s)",
                self.path,
                time.time() - trouble.since,
                TROUBLE_WORDS[trouble.kind],
            )

    def checkpoint(self) -> None:
        """Copy the WAL into the database and truncate it to nothing (after a scrub, so
        no old page of customer data is left in the ``-wal``)."""
        self._query("PRAGMA wal_checkpoint(TRUNCATE)")

    def now(self) -> float:
        """The store's clock (seconds since the epoch, as ``time.time``)."""
        return self._clock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``), or with ``write=False`` a consistent
        read (``BEGIN``: works on a full or read-only disk too). A nested call is a
        savepoint of the outer one: an exception leaving it undoes what it wrote and
        nothing else (the caller may catch it and go on, as a page of orders does for
        one order that cannot be applied); everything commits with the outer one."""
        with self._lock:
            if self._depth:
                savepoint = f"nested_{self._depth}"
                self._conn.execute(f"SAVEPOINT {savepoint}")
                self._depth += 1
                try:
                    yield self._conn
                except BaseException:
                    try:
                        self._conn.execute(f"ROLLBACK TO {savepoint}")
                        self._conn.execute(f"RELEASE {savepoint}")
                    except sqlite3.Error as exc:  # the outer transaction rolls back anyway
                        log.debug("rollback to %s failed: %s", savepoint, exc)
                    raise
                else:
                    self._conn.execute(f"RELEASE {savepoint}")
                finally:
                    self._depth -= 1
                return
            try:
                self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            except sqlite3.Error as exc:
                raise self._failed(store_error("cannot begin a transaction", exc)) from exc
            self._depth = 1
            try:
                yield self._conn
            except sqlite3.Error as exc:
                self._rollback()
                raise self._failed(store_error("database error", exc)) from exc
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self._conn.execute("COMMIT")
                except sqlite3.Error as exc:
                    self._rollback()
                    raise self._failed(store_error("commit failed", exc)) from exc
                if write:
                    self._committed()
            finally:
                self._depth = 0

    @contextlib.contextmanager
    def _one_write(self) -> Iterator[sqlite3.Connection]:
        """For a method that writes with one statement: its own transaction, or inside
        one no savepoint (SQLite undoes a statement that fails by itself, so a savepoint
        around a single write buys nothing and costs two statements: an order's page
        wrote 12 of its 31 for them)."""
        with self._lock:
            if not self._depth:
                with self.transaction() as db:
                    yield db
                return
            yield self._conn

    def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (disk full, I/O error).
        if self._conn.in_transaction:
            try:
                self._conn.execute("ROLLBACK")
            except sqlite3.Error as exc:  # the error being raised says more
                log.debug("rollback failed: %s", exc)

    def _query(self, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise self._failed(store_error("query failed", exc)) from exc

    # --- meta --------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self._one_write() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def current_seq(self) -> int:
        return int(self.get_meta("seq") or 0)

    def next_seq(self) -> int:
        """Allocate the next state ``seq`` (call inside the transaction that uses it)."""
        with self._one_write() as db:
            seq = int(db.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0]) + 1
            db.execute("UPDATE meta SET value = ? WHERE key = 'seq'", (str(seq),))
            return seq

    # --- orders and tickets ----------------------------------------------------------

    def order_version(self, order_id: str) -> int | None:
        rows = self._query("SELECT version FROM orders WHERE id = ?", (order_id,))
        return int(rows[0][0]) if rows else None

    def order(self, order_id: str) -> dict[str, Any] | None:
        rows = self._query("SELECT body FROM orders WHERE id = ?", (order_id,))
        return json.loads(rows[0][0]) if rows else None

    def put_order(self, order_id: str, version: int, body: dict[str, Any]) -> None:
        """Store an order version; ``received_at`` stays the first version's. A new
        version is a new row (a new rowid): retention scrubs customer data in rowid
        order, so a version that comes after its order was scrubbed gets its turn."""
        with self.transaction() as db:
            first = db.execute("SELECT received_at FROM orders WHERE id = ?", (order_id,))
            row = first.fetchone()
            db.execute("DELETE FROM orders WHERE id = ?", (order_id,))
            db.execute(
                "INSERT INTO orders(id, version, body, received_at) VALUES (?, ?, ?, ?)",
                (order_id, version, json.dumps(body), row[0] if row else self.now()),
            )

    def ticket_json(self, ticket_id: str) -> str | None:
        rows = self._query("SELECT body FROM tickets WHERE id = ?", (ticket_id,))
        return rows[0][0] if rows else None

    def ticket_status(self, ticket_id: str) -> str | None:
        """The stored status; ``cleared`` once a ticket has left every screen."""
        rows = self._query("SELECT status FROM tickets WHERE id = ?", (ticket_id,))
        return rows[0][0] if rows else None

    def put_ticket(self, ticket_id: str, status: str, body: str) -> None:
        with self._one_write() as db:
            db.execute(
                "INSERT INTO tickets(id, status, body, updated_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET status = excluded.status, body = excluded.body, "
                "updated_at = excluded.updated_at",
                (ticket_id, status, body, self.now()),
            )

    def tickets_json(self, statuses: tuple[str, ...]) -> list[str]:
        marks = ",".join("?" * len(statuses))
        return [
            row[0]
            for row in self._query(
                f"SELECT body FROM tickets WHERE status IN ({marks}) ORDER BY rowid", statuses
            )
        ]

    def tickets_with_status_before(self, status: str, before: float) -> list[str]:
        return [
            row[0]
            for row in self._query(
                "SELECT id FROM tickets WHERE status = ? AND updated_at < ?", (status, before)
            )
        ]

    def set_ticket_status_only(self, ticket_id: str, status: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE tickets SET status = ?, updated_at = ? WHERE id = ?",
                (status, self.now(), ticket_id),
            )

    def last_bump(self, ticket_id: str, station: str) -> list[str] | None:
        rows = self._query(
            "SELECT lines FROM bumps WHERE ticket_id = ? AND station = ?", (ticket_id, station)
        )
        return json.loads(rows[0][0]) if rows else None

    def set_last_bump(self, ticket_id: str, station: str, lines: list[str] | None) -> None:
        with self.transaction() as db:
            if lines is None:
                db.execute(
                    "DELETE FROM bumps WHERE ticket_id = ? AND station = ?", (ticket_id, station)
                )
            else:
                db.execute(
                    "INSERT INTO bumps(ticket_id, station, lines, at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(ticket_id, station) DO UPDATE SET lines = excluded.lines, "
                    "at = excluded.at",
                    (ticket_id, station, json.dumps(lines), self.now()),
                )

    # --- commands ----------------------------------------------------------------------

    def command_result(self, command_id: str) -> str | None:
        rows = self._query("SELECT result FROM commands WHERE command_id = ?", (command_id,))
        return rows[0][0] if rows else None

    def put_command(self, command_id: str, kind: str, body: str, result: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO commands(command_id, type, body, result, at) VALUES (?, ?, ?, ?, ?)",
                (command_id, kind, body, result, self.now()),
            )

    # --- outbox ------------------------------------------------------------------------

    def enqueue(
        self,
        channel: str,
        kind: str,
        key: str,
        dest: str,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        delay: float = 0.0,
    ) -> bool:
        """Add a side effect; ``False`` if one with this idempotency ``key`` exists."""
        now = self.now()
        with self._one_write() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO outbox(channel, kind, key, dest, body, headers, next_at, "
                "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (channel, kind, key, dest, body, json.dumps(headers or {}), now + delay, now),
            )
            return cur.rowcount == 1

    def due(
        self,
        channel: str,
        limit: int = 100,
        *,
        now: float | None = None,
        fifo_per_dest: bool = False,
    ) -> list[OutboxRow]:
        """Pending rows of a channel whose time has come, oldest first.

        With ``fifo_per_dest`` rows for one destination (one order's core events) go
        first-in first-out: a row waits while an older pending row for the same
        ``dest`` is still backing off, so the core never hears ``ready`` before
        ``in_progress``.
        """
        now = self.now() if now is None else now
        condition = "AND next_at <= ?"
        if fifo_per_dest:
            condition += (
                " AND NOT EXISTS (SELECT 1 FROM outbox AS older "
                "WHERE older.channel = outbox.channel AND older.state = 'pending' "
                "AND older.dest = outbox.dest AND older.id < outbox.id)"
            )
        return self._rows(condition, (channel, now, limit))

    def pending(self, channel: str, limit: int = 100) -> list[OutboxRow]:
        """The oldest pending rows of a channel, due or not (for ordered delivery)."""
        return self._rows("", (channel, limit))

    def _rows(self, condition: str, args: tuple[Any, ...]) -> list[OutboxRow]:
        rows = self._query(
            "SELECT id, channel, kind, key, dest, body, headers, attempts, created_at, next_at "
            f"FROM outbox WHERE channel = ? AND state = 'pending' {condition} "
            "ORDER BY id LIMIT ?",
            args,
        )
        return [
            OutboxRow(r[0], r[1], r[2], r[3], r[4], bytes(r[5]), json.loads(r[6]), r[7], r[8], r[9])
            for r in rows
        ]

    def next_due_at(self, channel: str) -> float | None:
        rows = self._query(
            "SELECT MIN(next_at) FROM outbox WHERE channel = ? AND state = 'pending'", (channel,)
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    def mark_done(self, row_id: int) -> None:
        self.mark_done_many((row_id,))

    def mark_done_many(self, row_ids: Sequence[int]) -> None:
        """:meth:`mark_done` for several rows, in one transaction."""
        with self.transaction() as db:
            now = self.now()
            db.executemany(
                "UPDATE outbox SET state = 'done', done_at = ?, attempts = attempts + 1, "
                "last_error = NULL WHERE id = ?",
                [(now, row_id) for row_id in row_ids],
            )

    def mark_retry(self, row_id: int, error: str, next_at: float) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET state = 'pending', attempts = attempts + 1, last_error = ?, "
                "next_at = ? WHERE id = ?",
                (redact(error)[:500], next_at, row_id),
            )

    def mark_sending(self, row_id: int) -> None:
        """Committed *before* an at-most-once delivery (a customer text) is attempted."""
        with self.transaction() as db:
            db.execute("UPDATE outbox SET state = 'sending' WHERE id = ?", (row_id,))

    def fail_uncertain(self, channel: str) -> int:
        """At start: rows left ``sending`` by a crash may have gone out; never resend them."""
        with self.transaction() as db:
            return db.execute(
                "UPDATE outbox SET state = 'dead', done_at = ?, last_error = "
                "'delivery uncertain: the agent stopped while sending; not resent to avoid "
                "a duplicate' WHERE channel = ? AND state = 'sending'",
                (self.now(), channel),
            ).rowcount

    def mark_dead(self, row_id: int, error: str) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE outbox SET state = 'dead', attempts = attempts + 1, last_error = ?, "
                "done_at = ? WHERE id = ?",
                (redact(error)[:500], self.now(), row_id),
            )

    def outbox_stats(self) -> dict[str, dict[str, int]]:
        stats: dict[str, dict[str, int]] = {}
        for channel, state, count in self._query(
            "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state"
        ):
            stats.setdefault(channel, {})[state] = count
        return stats

    def outbox_depths(self) -> dict[str, tuple[int, float | None]]:
        """Per channel: pending rows and the creation time of the oldest."""
        return {
            channel: (count, oldest)
            for channel, count, oldest in self._query(
                "SELECT channel, COUNT(*), MIN(created_at) FROM outbox "
                "WHERE state = 'pending' GROUP BY channel"
            )
        }

    def stuck_destinations(self, min_attempts: int = 1) -> list[tuple[str, str, int, str | None]]:
        """(channel, dest, pending rows, last error) where deliveries keep failing.

        Print rows name their printer; other channels are summed per channel.
        """
        rows = self._query(
            "SELECT channel, CASE WHEN channel = 'print' THEN dest ELSE '' END AS target, "
            "COUNT(*), MAX(CASE WHEN attempts >= ? THEN last_error END) "
            "FROM outbox WHERE state = 'pending' GROUP BY channel, target "
            "HAVING MAX(attempts) >= ? ORDER BY channel, target",
            (min_attempts, min_attempts),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def outbox_rows(self, state: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, channel, kind, key, dest, state, attempts, last_error FROM outbox"
        args: tuple[Any, ...] = ()
        if state:
            sql += " WHERE state = ?"
            args = (state,)
        cols = ("id", "channel", "kind", "key", "dest", "state", "attempts", "last_error")
        return [
            dict(zip(cols, row, strict=True)) for row in self._query(sql + " ORDER BY id", args)
        ]

    #: rows whose key must outlive a recall and re-bump (one text, one label per order)
    LONG_LIVED_CHANNELS = ("print", "notify")

    def prune_done(self, older_than: float, *, keep_keys_until: float | None = None) -> int:
        """Delete delivered rows done before ``older_than``; print and notify rows (whose
        keys stop a second text or label) only once done before ``keep_keys_until``."""
        keep_until = older_than if keep_keys_until is None else keep_keys_until
        marks = ",".join("?" * len(self.LONG_LIVED_CHANNELS))
        with self.transaction() as db:
            return db.execute(
                "DELETE FROM outbox WHERE state = 'done' AND ("
                f"(channel NOT IN ({marks}) AND done_at < ?) "
                f"OR (channel IN ({marks}) AND done_at < ?))",
                (*self.LONG_LIVED_CHANNELS, older_than, *self.LONG_LIVED_CHANNELS, keep_until),
            ).rowcount

    def recent_dead(self, since: float) -> int:
        """Side effects dead-lettered since ``since`` (for the screens' problem line)."""
        rows = self._query(
            "SELECT COUNT(*) FROM outbox WHERE state = 'dead' AND done_at >= ?", (since,)
        )
        return int(rows[0][0])

    # --- lifecycle (reporting) ---------------------------------------------------------

    def add_lifecycle(
        self,
        event_id: str,
        ticket_id: str,
        kind: str,
        at: str,
        *,
        station: str = "",
        brand: str = "",
        channel: str = "",
        seconds_since_received: float | None = None,
        actor: str = "",
    ) -> None:
        """One step of a ticket's life (received, started, station_bumped, allergy_seen,
        ready, ...); ``actor``: the display that made it, where one did."""
        with self._one_write() as db:
            db.execute(
                "INSERT OR IGNORE INTO lifecycle(event_id, ticket_id, kind, station, brand, "
                "channel, at, seconds_since_received, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event_id,
                    ticket_id,
                    kind,
                    station,
                    brand,
                    channel,
                    at,
                    seconds_since_received,
                    actor,
                ),
            )

    def lifecycle(self, since: str | None = None) -> list[dict[str, Any]]:
        """Lifecycle events (oldest first), optionally only those ``at >= since`` (RFC 3339)."""
        cols = (
            "event_id",
            "ticket_id",
            "kind",
            "station",
            "brand",
            "channel",
            "at",
            "seconds_since_received",
            "actor",
        )
        sql = f"SELECT {', '.join(cols)} FROM lifecycle"
        args: tuple[Any, ...] = ()
        if since:
            sql += " WHERE at >= ?"
            args = (since,)
        return [
            dict(zip(cols, row, strict=True)) for row in self._query(sql + " ORDER BY id", args)
        ]

    # --- bad input ---------------------------------------------------------------------

    def quarantine(
        self,
        order_id: str | None,
        version: int | None,
        field: str | None,
        error: str,
        body: str,
        *,
        label: str = "",
        summary: str = "",
    ) -> int:
        """Keep a refused order; ``label`` and ``summary`` are what the screens show."""
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO quarantine(order_id, version, field, error, body, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (order_id, version, field, error, body, time.time()),
            )
            qid = int(cursor.lastrowid or 0)
            db.execute(
                "INSERT INTO quarantine_notes(quarantine_id, label, summary) VALUES (?, ?, ?)",
                (qid, label or order_id or f"#{qid}", summary or error[:160]),
            )
            return qid

    _QUARANTINE_COLS = (
        "id",
        "order_id",
        "version",
        "field",
        "error",
        "body",
        "at",
        "label",
        "summary",
        "resolved",
        "resolved_at",
    )
    _QUARANTINE_SELECT = (
        "SELECT q.id, q.order_id, q.version, q.field, q.error, q.body, q.at, "
        "COALESCE(n.label, q.order_id, '#' || q.id), COALESCE(n.summary, q.error), "
        "n.resolved, n.resolved_at "
        "FROM quarantine q LEFT JOIN quarantine_notes n ON n.quarantine_id = q.id"
    )

    def quarantined(self, *, unresolved_since: float | None = None) -> list[dict[str, Any]]:
        """Every quarantined order, oldest first; with ``unresolved_since``, only those
        nobody released or dismissed, refused at or after that time."""
        sql = self._QUARANTINE_SELECT
        args: tuple[Any, ...] = ()
        if unresolved_since is not None:
            sql += " WHERE n.resolved IS NULL AND q.at >= ?"
            args = (unresolved_since,)
        return [
            dict(zip(self._QUARANTINE_COLS, row, strict=True))
            for row in self._query(sql + " ORDER BY q.id", args)
        ]

    def quarantine_entry(self, qid: int) -> dict[str, Any] | None:
        rows = self._query(self._QUARANTINE_SELECT + " WHERE q.id = ?", (qid,))
        return dict(zip(self._QUARANTINE_COLS, rows[0], strict=True)) if rows else None

    def resolve_quarantine(self, qid: int, how: str) -> None:
        """Mark a quarantined order dealt with (``released``, ``dismissed``)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO quarantine_notes(quarantine_id, label, summary, resolved, "
                "resolved_at) SELECT id, COALESCE(order_id, '#' || id), substr(error, 1, 160), "
                "?, ? FROM quarantine WHERE id = ? "
                "ON CONFLICT(quarantine_id) DO UPDATE SET resolved = excluded.resolved, "
                "resolved_at = excluded.resolved_at",
                (how, time.time(), qid),
            )

    def dead_letter(self, source: str, error: str, body: bytes) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO dead_letters(source, error, body, at) VALUES (?, ?, ?, ?)",
                (source, redact(error)[:1000], body[:65536], self.now()),
            )

    def dead_letters(self) -> list[dict[str, Any]]:
        cols = ("source", "error", "body")
        return [
            dict(zip(cols, row, strict=True))
            for row in self._query("SELECT source, error, body FROM dead_letters ORDER BY id")
        ]
