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

Rows go in batches of ``batch_rows``, each batch its own short transaction, so the
agent's other threads get the store's lock between them; at most ``max_batches`` a
table per round, and a round that stopped there goes on at the next housekeeping
tick. The ``lifecycle`` table (the reporting history the export reads) is kept.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from edge_agent.config import (
    DEFAULT_COMMANDS_RETENTION_DAYS,
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


@dataclass(frozen=True)
class RetentionPolicy:
    """Seconds each kind of row is kept (defaults: the config's named defaults)."""

    finished_seconds: float = DEFAULT_RETENTION_DAYS * DAY
    commands_seconds: float = DEFAULT_COMMANDS_RETENTION_DAYS * DAY
    dead_letters_seconds: float = DEFAULT_PROBLEM_RETENTION_DAYS * DAY
    quarantine_seconds: float = DEFAULT_PROBLEM_RETENTION_DAYS * DAY
    batch_rows: int = DEFAULT_PRUNE_BATCH_ROWS
    max_batches: int = MAX_BATCHES

    @classmethod
    def from_settings(cls, settings: StoreSettings) -> RetentionPolicy:
        return cls(
            finished_seconds=settings.retention_days * DAY,
            commands_seconds=settings.commands_retention_days * DAY,
            dead_letters_seconds=settings.dead_letters_retention_days * DAY,
            quarantine_seconds=settings.quarantine_retention_days * DAY,
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
            log.info(
                "pruned %s%s",
                ", ".join(f"{n} {table}" for table, n in pruned.items() if n),
                " (more next round)" if more else "",
            )
        return pruned

    def prune(self, now: float) -> tuple[dict[str, int], bool]:
        """One round at time ``now``: rows deleted per table, and whether some are left
        for the next round (a table hit ``max_batches``)."""
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
            total = 0
            for _ in range(p.max_batches):
                deleted = batch(cutoff)
                total += deleted
                if deleted < p.batch_rows:
                    break
            else:
                more = True
            pruned[table] = total
        return pruned, more

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
