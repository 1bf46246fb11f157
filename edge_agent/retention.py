"""What the store keeps, and for how long: the housekeeping thread prunes the rest.

Without it every table but the live tickets grows for as long as the kitchen runs.
Pruned once they are older than their retention (``[store]`` in the config):

- closed orders (a ticket ``cleared``: picked up, VOID cleared, closed by the core)
  with their ticket and its last bumps, by the time the ticket was cleared; orders
  that never made a ticket (they arrived cancelled or picked up), by arrival. An open
  ticket (accepted, in progress, ready, VOID on screen) and its order never go;
- commands (``commands_retention_days``): a ``command_id`` resent within it still
  gets its stored result and has no second effect;
- side effects that failed for good (outbox ``dead`` rows); delivered ones are pruned
  within hours already (``Store.prune_done``);
- dead letters and quarantined orders (kept longer by default: someone should look).

Customer data goes sooner (``customer_data_retention_days``, 7 by default): rows older
than it keep everything but the customer's name and phone. The order JSON loses
``customer.name`` and ``customer.phone``, the ticket its customer name, print jobs
the first name, texts their phone and text (a text still waiting is dead-lettered:
too late to send), quarantined orders and dead letters their customer object; phone
numbers in free text (notes, raw bodies, error texts) are replaced. Each table is
scrubbed in ``rowid`` order from where the last round stopped (a ``meta`` row each),
and the WAL is truncated after a round that changed something. With SQLite's
``secure_delete`` (see ``Store``) no copy is left in the file's free space either.

Rows go in batches of ``batch_rows``, each batch its own short transaction, so the
agent's other threads get the store's lock between them; at most ``max_batches`` a
table per round, and a round that stopped there goes on at the next housekeeping
tick. The ``lifecycle`` table (the reporting history the export reads) is kept.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from edge_agent.config import (
    DEFAULT_COMMANDS_RETENTION_DAYS,
    DEFAULT_CUSTOMER_DATA_RETENTION_DAYS,
    DEFAULT_PROBLEM_RETENTION_DAYS,
    DEFAULT_PRUNE_BATCH_ROWS,
    DEFAULT_RETENTION_DAYS,
    StoreSettings,
)
from edge_agent.store import Store

log = logging.getLogger("edge.retention")

DAY = 86_400.0
#: a round of pruning at most this often, unless the last one left rows behind
PRUNE_INTERVAL_SECONDS = 600.0
#: batches per table and round (then the next housekeeping tick goes on)
MAX_BATCHES = 20
#: the stored status of a ticket that left every screen (``edge_agent.kitchen.CLEARED``)
_CLEARED = "cleared"

#: a pruning step: deletes one batch of rows older than its cutoff, returns how many
_Batch = Callable[[float], int]
#: a scrubbing step: rewrites one row (by rowid) in the batch's transaction
_Scrub = Callable[[sqlite3.Connection, int], None]

#: what a phone number looks like in free text: a ``+`` and 7 or more digits, or 9 or
#: more digits (a date's 8 are not one), spaces or dashes between them
PHONE_PATTERN = re.compile(r"\+\d(?:[ \-]?\d){6,}|\d(?:[ \-]?\d){8,}")
#: what a scrubbed phone number reads as
PHONE_REMOVED = "[phone removed]"
#: a customer object in text that is not JSON (a quarantined body that did not decode)
_CUSTOMER_TEXT = re.compile(r'"customer"\s*:\s*\{[^{}]*\}?')
_PHONE_TEXT = re.compile(r'"phone"\s*:\s*"[^"]*"?')


def scrub_text(text: str) -> str:
    """``text`` with phone numbers replaced."""
    return PHONE_PATTERN.sub(PHONE_REMOVED, text)


def _scrub_customer(value: Any) -> Any:
    if not isinstance(value, dict):
        return {}
    return {k: v for k, v in value.items() if k not in ("name", "phone")}


def _scrub_notes(holder: dict[str, Any]) -> None:
    if isinstance(holder.get("notes"), str):
        holder["notes"] = scrub_text(holder["notes"])


def scrub_order(order: Any) -> Any:
    """An order (or ticket) JSON object without the customer's name and phone, phone
    numbers in its notes replaced; anything else is returned as it is."""
    if not isinstance(order, dict):
        return order
    order = dict(order)
    if "customer" in order:
        order["customer"] = _scrub_customer(order["customer"])
    _scrub_notes(order)
    items = order.get("items")
    if isinstance(items, list):
        order["items"] = [dict(i) if isinstance(i, dict) else i for i in items]
        for item in order["items"]:
            if isinstance(item, dict):
                _scrub_notes(item)
    return order


def scrub_body(body: str) -> str:
    """A stored body (JSON or not): the customer and phone numbers taken out."""
    try:
        decoded = json.loads(body)
    except ValueError:
        decoded = None
    if isinstance(decoded, dict):
        return json.dumps(scrub_order(decoded))
    text = _CUSTOMER_TEXT.sub('"customer": {}', body)
    return scrub_text(_PHONE_TEXT.sub('"phone": null', text))


def scrub_outbox_body(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """A side effect's body without customer data: a print job's first name and its
    ticket's customer, a text's phone and words (a courier notification's too)."""
    body = dict(body)
    if "first_name" in body:
        body["first_name"] = ""
    if "ticket" in body:
        body["ticket"] = scrub_order(body["ticket"])
    if "phone" in body:
        body["phone"] = ""
    if kind in ("sms", "topic") and "text" in body:
        body["text"] = ""
    return body


@dataclass(frozen=True)
class RetentionPolicy:
    """Seconds each kind of row is kept (defaults: the config's named defaults)."""

    finished_seconds: float = DEFAULT_RETENTION_DAYS * DAY
    commands_seconds: float = DEFAULT_COMMANDS_RETENTION_DAYS * DAY
    dead_letters_seconds: float = DEFAULT_PROBLEM_RETENTION_DAYS * DAY
    quarantine_seconds: float = DEFAULT_PROBLEM_RETENTION_DAYS * DAY
    customer_data_seconds: float = DEFAULT_CUSTOMER_DATA_RETENTION_DAYS * DAY
    batch_rows: int = DEFAULT_PRUNE_BATCH_ROWS
    max_batches: int = MAX_BATCHES

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> RetentionPolicy:
        return cls(
            finished_seconds=settings.retention_days * DAY,
            commands_seconds=settings.commands_retention_days * DAY,
            dead_letters_seconds=settings.dead_letters_retention_days * DAY,
            quarantine_seconds=settings.quarantine_retention_days * DAY,
            customer_data_seconds=settings.customer_data_retention_days * DAY,
            batch_rows=settings.prune_batch_rows,
        )


class Retention:
    """Prunes ``store`` by ``policy``; :meth:`maybe_prune` is the housekeeping step."""

    def __init__(
        self,
        store: Store,
        policy: RetentionPolicy | None = None,
        *,
        interval: float = PRUNE_INTERVAL_SECONDS,
    ) -> None:
        self.store = store
        self.policy = policy or RetentionPolicy()
        self._interval = interval
        self._next_at = 0.0

    def maybe_prune(self) -> dict[str, int]:
        """A round of pruning when one is due (by the store's clock); rows deleted."""
        now = self.store.now()
        if now < self._next_at:
            return {}
        pruned, more = self.prune(now)
        self._next_at = now if more else now + self._interval
        if any(pruned.values()):
            parts = [f"pruned {n} {table}" for table, n in pruned.items() if n]
            if pruned.get("customer_data"):
                parts[-1] = f"scrubbed customer data from {pruned['customer_data']} older rows"
            log.info("%s%s", ", ".join(parts), " (more next round)" if more else "")
        return pruned

    def prune(self, now: float) -> tuple[dict[str, int], bool]:
        """One round at time ``now``: rows deleted per table (then ``customer_data``:
        rows scrubbed of it), and whether some are left for the next round (a table
        hit ``max_batches``)."""
        p = self.policy
        steps = (
            ("tickets", self._closed_tickets, now - p.finished_seconds),
            ("orders", self._ticketless_orders, now - p.finished_seconds),
            ("commands", self._by_time("commands", "at"), now - p.commands_seconds),
            ("outbox", self._dead_outbox, now - p.finished_seconds),
            ("dead_letters", self._by_time("dead_letters", "at"), now - p.dead_letters_seconds),
            ("quarantine", self._quarantine, now - p.quarantine_seconds),
        )
        pruned: dict[str, int] = {}
        more = False
        for table, batch, cutoff in steps:
            pruned[table], left = self._batches(batch, cutoff)
            more = more or left
        scrubbed = 0
        cutoff = now - p.customer_data_seconds
        for batch in (
            self._scrub_orders,
            self._scrub_outbox,
            self._scrub_quarantine,
            self._scrub_dead_letters,
        ):
            done, left = self._batches(batch, cutoff)
            scrubbed, more = scrubbed + done, more or left
        pruned["customer_data"] = scrubbed
        if scrubbed:
            self.store.checkpoint()  # the WAL's copies of the old rows go too
        return pruned, more

    def _batches(self, batch: _Batch, cutoff: float) -> tuple[int, bool]:
        """Rows a step handled in at most ``max_batches`` batches; whether rows are left."""
        total = 0
        for _ in range(self.policy.max_batches):
            done = batch(cutoff)
            total += done
            if done < self.policy.batch_rows:
                return total, False
        return total, True

    # --- one batch each (one transaction) -------------------------------------------

    def _closed_tickets(self, cutoff: float) -> int:
        """Cleared tickets with their orders and last bumps (by the time of clearing)."""
        with self.store.transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM tickets WHERE status = ? AND updated_at < ? LIMIT ?",
                    (_CLEARED, cutoff, self.policy.batch_rows),
                )
            ]
            if not ids:
                return 0
            marks = ",".join("?" * len(ids))
            db.execute(f"DELETE FROM bumps WHERE ticket_id IN ({marks})", ids)
            db.execute(f"DELETE FROM orders WHERE id IN ({marks})", ids)
            db.execute(
                f"DELETE FROM tickets WHERE id IN ({marks}) AND status = ?", (*ids, _CLEARED)
            )
            return len(ids)

    def _quarantine(self, cutoff: float) -> int:
        """Quarantined orders with what the screens said of them (``quarantine_notes``
        refers to its row, so it goes first, in the same transaction)."""
        with self.store.transaction() as db:
            ids = [
                row[0]
                for row in db.execute(
                    "SELECT id FROM quarantine WHERE at < ? LIMIT ?",
                    (cutoff, self.policy.batch_rows),
                )
            ]
            if not ids:
                return 0
            marks = ",".join("?" * len(ids))
            db.execute(f"DELETE FROM quarantine_notes WHERE quarantine_id IN ({marks})", ids)
            db.execute(f"DELETE FROM quarantine WHERE id IN ({marks})", ids)
            return len(ids)

    def _ticketless_orders(self, cutoff: float) -> int:
        """Orders that never became a ticket (they arrived closed), by arrival."""
        with self.store.transaction() as db:
            return db.execute(
                "DELETE FROM orders WHERE rowid IN (SELECT o.rowid FROM orders AS o "
                "WHERE o.received_at < ? AND NOT EXISTS "
                "(SELECT 1 FROM tickets AS t WHERE t.id = o.id) LIMIT ?)",
                (cutoff, self.policy.batch_rows),
            ).rowcount

    def _dead_outbox(self, cutoff: float) -> int:
        with self.store.transaction() as db:
            return db.execute(
                "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox "
                "WHERE state = 'dead' AND done_at < ? LIMIT ?)",
                (cutoff, self.policy.batch_rows),
            ).rowcount

    def _by_time(self, table: str, column: str) -> _Batch:
        def batch(cutoff: float) -> int:
            with self.store.transaction() as db:
                return db.execute(
                    f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} "
                    f"WHERE {column} < ? LIMIT ?)",
                    (cutoff, self.policy.batch_rows),
                ).rowcount

        return batch

    # --- customer data: one batch of rows older than the cutoff each ------------------

    def _scrub_rows(self, table: str, column: str, cutoff: float, scrub: _Scrub) -> int:
        """Go on from this table's mark (``meta`` ``scrubbed.{table}``, a rowid): rows
        older than ``cutoff`` in rowid order, each rewritten by ``scrub`` in this batch's
        transaction; stops at the first newer row. Returns the rows passed."""
        key = f"scrubbed.{table}"
        with self.store.transaction() as db:
            mark = int(self.store.get_meta(key) or 0)
            rows = db.execute(
                f"SELECT rowid, {column} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (mark, self.policy.batch_rows),
            ).fetchall()
            passed = 0
            for rowid, at in rows:
                if at >= cutoff:
                    break
                scrub(db, rowid)
                mark, passed = rowid, passed + 1
            if passed:
                self.store.set_meta(key, str(mark))
            return passed

    def _scrub_orders(self, cutoff: float) -> int:
        """An order's JSON, and its ticket (the same id), by the order's arrival."""

        def scrub(db: sqlite3.Connection, rowid: int) -> None:
            order_id, body = db.execute(
                "SELECT id, body FROM orders WHERE rowid = ?", (rowid,)
            ).fetchone()
            db.execute("UPDATE orders SET body = ? WHERE rowid = ?", (scrub_body(body), rowid))
            for (ticket,) in db.execute("SELECT body FROM tickets WHERE id = ?", (order_id,)):
                db.execute(
                    "UPDATE tickets SET body = ? WHERE id = ?", (scrub_body(ticket), order_id)
                )

        return self._scrub_rows("orders", "received_at", cutoff, scrub)

    def _scrub_outbox(self, cutoff: float) -> int:
        """Print jobs and notifications; a text still waiting is not sent any more."""

        def scrub(db: sqlite3.Connection, rowid: int) -> None:
            kind, body, state, error = db.execute(
                "SELECT kind, body, state, last_error FROM outbox WHERE id = ?", (rowid,)
            ).fetchone()
            text = bytes(body).decode("utf-8", "replace")
            try:
                decoded = json.loads(text)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                text = json.dumps(scrub_outbox_body(kind, decoded))
            else:
                text = scrub_body(text)
            if kind == "sms" and state == "pending":
                state, error = "dead", "not sent: the customer data retention passed first"
            db.execute(
                "UPDATE outbox SET body = ?, state = ?, last_error = ?, "
                "done_at = COALESCE(done_at, ?) WHERE id = ?",
                (
                    text.encode(),
                    state,
                    scrub_text(error) if error else error,
                    self.store.now() if state == "dead" else None,
                    rowid,
                ),
            )

        return self._scrub_rows("outbox", "created_at", cutoff, scrub)

    def _scrub_quarantine(self, cutoff: float) -> int:
        """A refused order's raw text, its error and what the screens said of it."""

        def scrub(db: sqlite3.Connection, rowid: int) -> None:
            body, error = db.execute(
                "SELECT body, error FROM quarantine WHERE id = ?", (rowid,)
            ).fetchone()
            db.execute(
                "UPDATE quarantine SET body = ?, error = ? WHERE id = ?",
                (scrub_body(body), scrub_text(error), rowid),
            )
            for (summary,) in db.execute(
                "SELECT summary FROM quarantine_notes WHERE quarantine_id = ?", (rowid,)
            ):
                db.execute(
                    "UPDATE quarantine_notes SET summary = ? WHERE quarantine_id = ?",
                    (scrub_text(summary), rowid),
                )

        return self._scrub_rows("quarantine", "at", cutoff, scrub)

    def _scrub_dead_letters(self, cutoff: float) -> int:
        """A refused frame's body and error."""

        def scrub(db: sqlite3.Connection, rowid: int) -> None:
            body, error = db.execute(
                "SELECT body, error FROM dead_letters WHERE id = ?", (rowid,)
            ).fetchone()
            text = bytes(body).decode("utf-8", "replace")
            scrubbed = scrub_body(text)
            db.execute(
                "UPDATE dead_letters SET body = ?, error = ? WHERE id = ?",
                (body if scrubbed == text else scrubbed.encode(), scrub_text(error), rowid),
            )

        return self._scrub_rows("dead_letters", "at", cutoff, scrub)
