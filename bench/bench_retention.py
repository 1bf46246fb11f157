"""Benchmark of retention: how big the agent's database grows, with and without it.

::

    python -m bench.bench_retention [--orders 100000] [--per-day 2000] [--json out.json]

Runs ``--orders`` orders through the real kitchen and store (a real SQLite file in a
temporary directory; no broker, no core: the outbox rows are marked delivered as the
workers would), on a store clock that moves ``86400 / per_day`` seconds per order, so
100,000 orders are 50 days of a busy site. Each order: created from the feed, bumped
at grill and at expo, picked up (three commands); every 200th order a refused command
frame (a dead letter). Every 10 simulated minutes the housekeeping steps the agent
runs: ``prune_done`` (delivered outbox rows, as before) and, in the second run only,
``Retention.maybe_prune`` with the default ``[store]`` retention (14 days; 30 for dead
letters; customer names and phones scrubbed after 7). Prints, per run, the file size,
the pages in use, the rows per table, the longest single pruning or scrubbing batch
(the longest the store's lock is held for it) and the time taken. Writes are grouped
100 orders to a transaction to keep the run short; that changes neither the rows nor
the size. Exit status 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edge_agent.kitchen import Kitchen
from edge_agent.retention import Retention
from edge_agent.store import Store
from shared import wire

SITE = "bench-01"
TABLES = ("orders", "tickets", "bumps", "commands", "outbox", "lifecycle", "dead_letters")
HOUSEKEEPING_SECONDS = 600.0
GROUP = 100


class Clock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def utc(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def _order(n: int, at: datetime) -> dict[str, Any]:
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000Z")

    def line(line_id: str, name: str, station: str) -> dict[str, Any]:
        return {
            "line_id": line_id,
            "sku": f"SKU-{name.upper()}",
            "name": name,
            "qty": 1,
            "station": station,
            "prep_seconds": 300,
            "modifiers": [{"name": "No onions", "qty": 1}],
            "allergens": ["gluten"],
            "notes": "",
        }

    return {
        "id": f"ord_{n:09d}",
        "version": 1,
        "site_id": SITE,
        "brand": {"id": "burger-bros", "name": "Burger Bros"},
        "channel": "ubereats",
        "display_number": f"A-{n % 10000:04d}",
        "placed_at": stamp,
        "promised_at": stamp,
        "priority": "normal",
        "status": "placed",
        "customer": {"name": "Sam", "phone": "+31612345678", "notify": False},
        "notes": "",
        "items": [line("l1", "Burger", "grill"), line("l2", "Fries", "fry")],
        "total_cents": 1890,
    }


def _command(kind: str, n: int, station: str) -> bytes:
    return wire.encode(
        wire.make_command(
            kind,
            SITE,
            command_id=f"{kind}-{station}-{n}",
            ticket_id=f"ord_{n:09d}",
            station=station,
            display_id=f"{station}-1",
        )
    )


def _deliver_all(store: Store) -> None:
    for channel in store.outbox_stats():
        for row in store.pending(channel, limit=100_000):
            store.mark_done(row.id)


def _timed_retention(retention: Retention) -> tuple[Retention, dict[str, list[float]]]:
    """Wrap each pruning batch to time it (how long it holds the store's lock)."""
    batches: dict[str, list[float]] = {}
    for name in (
        "_closed_tickets",
        "_ticketless_orders",
        "_dead_outbox",
        "_scrub_orders",
        "_scrub_outbox",
        "_scrub_quarantine",
        "_scrub_dead_letters",
    ):
        step = getattr(retention, name)

        def timed(cutoff: float, step: Any = step, name: str = name) -> int:
            started = time.perf_counter()
            try:
                return int(step(cutoff))
            finally:
                batches.setdefault(name, []).append(time.perf_counter() - started)

        setattr(retention, name, timed)
    by_time = retention._by_time

    def timed_by_time(table: str, column: str) -> Any:
        step = by_time(table, column)

        def timed(cutoff: float) -> int:
            started = time.perf_counter()
            try:
                return step(cutoff)
            finally:
                batches.setdefault(table, []).append(time.perf_counter() - started)

        return timed

    retention._by_time = timed_by_time  # type: ignore[method-assign]
    return retention, batches


def run_once(path: Path, orders: int, per_day: int, *, retain: bool) -> dict[str, Any]:
    step = 86_400.0 / per_day
    clock = Clock(time.time() - orders * step)
    store = Store(path, clock=clock)
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=clock.utc)
    retention, batches = _timed_retention(Retention(store))
    next_housekeeping = clock.t + HOUSEKEEPING_SECONDS
    started = time.perf_counter()
    for first in range(0, orders, GROUP):
        with store.transaction():
            for n in range(first, min(first + GROUP, orders)):
                clock.t += step
                kitchen.apply_order(_order(n, clock.utc()))
                for kind, station in (("bump", "grill"), ("bump", "expo"), ("picked_up", "expo")):
                    kitchen.handle_command(_command(kind, n, station), None)
                if n % 200 == 199:
                    kitchen.handle_command(b'{"v": 1, "type": "bump"}', None)
            _deliver_all(store)
        if clock.t >= next_housekeeping:
            store.prune_done(clock.t - 3600, keep_keys_until=clock.t - 48 * 3600)
            if retain:
                retention.maybe_prune()
            next_housekeeping = clock.t + HOUSEKEEPING_SECONDS
    elapsed = time.perf_counter() - started
    store.close()
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        rows = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        db.close()
    return {
        "retention": retain,
        "file_mib": round(path.stat().st_size / 2**20, 1),
        "in_use_mib": round((pages - free) * page_size / 2**20, 1),
        "rows": rows,
        "seconds": round(elapsed, 1),
        "prune_batches": sum(len(b) for b in batches.values()),
        "longest_batch_ms": {
            name.strip("_"): round(max(b) * 1000, 1) for name, b in sorted(batches.items())
        },
        "median_batch_ms": {
            name.strip("_"): round(sorted(b)[len(b) // 2] * 1000, 2)
            for name, b in sorted(batches.items())
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_retention", description=__doc__)
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--per-day", type=int, default=2000)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--only-retention", dest="runs", action="store_const", const=(True,), default=(False, True)
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the refused frames are meant
    results = []
    with tempfile.TemporaryDirectory(prefix="kds-bench-retention-") as tmp:
        for retain in args.runs:
            path = Path(tmp) / f"edge-{'retained' if retain else 'kept'}.sqlite3"
            result = run_once(path, args.orders, args.per_day, retain=retain)
            results.append(result)
            print(
                f"retention {'on ' if retain else 'off'}: file {result['file_mib']} MiB "
                f"({result['in_use_mib']} MiB in use), {result['seconds']} s, "
                f"{result['prune_batches']} pruning batches"
            )
            if retain:
                print(f"  longest batch ms: {result['longest_batch_ms']}")
                print(f"  median batch ms: {result['median_batch_ms']}")
            print("  rows: " + ", ".join(f"{t} {n}" for t, n in result["rows"].items()))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
