"""Ticket timings from the ``lifecycle`` table, as CSV or a Tableau ``.hyper`` file.

``edge-agent export --config FILE --since 2026-11-24T00:00Z --format csv|hyper --out PATH``
(tables and columns: docs/reporting.md).

* ``csv``: ``out`` is a directory (created if missing); ``tickets.csv``,
  ``stations.csv`` and ``allergy_acks.csv`` are written into it (replaced if there)
  and the directory is returned.
* ``hyper``: ``out`` is the ``.hyper`` file (replaced if there; if ``out`` is an
  existing directory, ``out/kds-export.hyper``) with the three tables in schema
  ``public``; that file is returned. Needs the optional extra:
  ``pip install 'ghost-kds[tableau]'`` (tableauhyperapi, imported only here).

Only events with ``at >= since`` are read. A ticket received before ``since`` but
finished after it still has its ``seconds_to_*``: they come from each event's
``seconds_since_received`` (measured by the agent), falling back to the difference
from ``received_at``. The first ``received``/``started`` and the last
``ready``/``picked_up``/``cancelled`` count (a recalled ticket is ready when it is
ready again).
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from edge_agent.store import Store
from shared.model import format_time

TABLEAU_HINT = "pip install 'ghost-kds[tableau]'"
HYPER_FILE = "kds-export.hyper"

TICKET_COLUMNS = (
    "ticket_id",
    "brand",
    "channel",
    "received_at",
    "started_at",
    "ready_at",
    "picked_up_at",
    "cancelled_at",
    "seconds_to_start",
    "seconds_to_ready",
    "seconds_to_pickup",
)
STATION_COLUMNS = (
    "ticket_id",
    "station",
    "brand",
    "channel",
    "bumped_at",
    "seconds_since_received",
)
#: one row per station that saw a ticket's declared allergy (who and when)
ALLERGY_COLUMNS = (
    "ticket_id",
    "station",
    "display_id",
    "brand",
    "channel",
    "seen_at",
    "seconds_since_received",
)
_TIME_COLUMNS = frozenset(
    c for c in TICKET_COLUMNS + STATION_COLUMNS + ALLERGY_COLUMNS if c.endswith("_at")
)

#: lifecycle kind -> the ticket column it sets, and whether the first or last one counts
_STEPS = {
    "received": ("received_at", "first"),
    "started": ("started_at", "first"),
    "ready": ("ready_at", "last"),
    "picked_up": ("picked_up_at", "last"),
    "cancelled": ("cancelled_at", "last"),
}
_SECONDS = {
    "started": "seconds_to_start",
    "ready": "seconds_to_ready",
    "picked_up": "seconds_to_pickup",
}


class ExportError(Exception):
    """The export cannot be written (e.g. tableauhyperapi is missing)."""


@dataclass
class _Ticket:
    ticket_id: str
    values: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {"ticket_id": self.ticket_id, **{c: self.values.get(c) for c in TICKET_COLUMNS[1:]}}


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _seconds(event: dict[str, Any], received_at: str | None) -> float | None:
    value = event.get("seconds_since_received")
    if value is not None:
        return round(float(value), 3)
    if received_at:
        return round((parse_time(event["at"]) - parse_time(received_at)).total_seconds(), 3)
    return None


def build_tables(
    events: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """``(tickets, stations)`` rows from lifecycle events (oldest first)."""
    tickets: dict[str, _Ticket] = {}
    stations: list[dict[str, Any]] = []
    for event in events:
        ticket = tickets.setdefault(event["ticket_id"], _Ticket(event["ticket_id"]))
        values = ticket.values
        for key in ("brand", "channel"):
            if not values.get(key) and event.get(key):
                values[key] = event[key]
        kind = event["kind"]
        step = _STEPS.get(kind)
        if step is not None:
            column, which = step
            if which == "last" or values.get(column) is None:
                values[column] = event["at"]
                if kind in _SECONDS:
                    values[_SECONDS[kind]] = _seconds(event, values.get("received_at"))
        elif kind == "station_bumped":
            stations.append(
                {
                    "ticket_id": event["ticket_id"],
                    "station": event.get("station") or "",
                    "brand": event.get("brand") or values.get("brand") or "",
                    "channel": event.get("channel") or values.get("channel") or "",
                    "bumped_at": event["at"],
                    "seconds_since_received": _seconds(event, values.get("received_at")),
                }
            )
    ticket_rows = [t.row() for t in tickets.values()]
    for row in ticket_rows:
        row["brand"] = row["brand"] or ""
        row["channel"] = row["channel"] or ""
    return ticket_rows, stations


def build_allergy_table(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``allergy_acks`` rows: each ``allergy_seen`` step (oldest first)."""
    received: dict[str, str] = {}
    rows = []
    for event in events:
        if event["kind"] == "received":
            received.setdefault(event["ticket_id"], event["at"])
        elif event["kind"] == "allergy_seen":
            rows.append(
                {
                    "ticket_id": event["ticket_id"],
                    "station": event.get("station") or "",
                    "display_id": event.get("actor") or "",
                    "brand": event.get("brand") or "",
                    "channel": event.get("channel") or "",
                    "seen_at": event["at"],
                    "seconds_since_received": _seconds(event, received.get(event["ticket_id"])),
                }
            )
    return rows


def export(
    store: Store,
    *,
    since: datetime,
    fmt: Literal["csv", "hyper"],
    out: Path,
) -> Path:
    """Write the ``tickets``, ``stations`` and ``allergy_acks`` tables; return what was
    written."""
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    events = store.lifecycle(format_time(since))
    tickets, stations = build_tables(events)
    tables: list[_Table] = [
        ("tickets", TICKET_COLUMNS, tickets),
        ("stations", STATION_COLUMNS, stations),
        ("allergy_acks", ALLERGY_COLUMNS, build_allergy_table(events)),
    ]
    out = Path(out)
    if fmt == "csv":
        return _write_csv(tables, out)
    if fmt == "hyper":
        return _write_hyper(tables, out)
    raise ValueError(f"unknown export format {fmt!r} (csv or hyper)")


# --- CSV --------------------------------------------------------------------------------


_Table = tuple[str, tuple[str, ...], list[dict[str, Any]]]


def _write_csv(tables: list[_Table], out: Path) -> Path:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{out} is a file; for csv --out names a directory")
    out.mkdir(parents=True, exist_ok=True)
    for name, columns, rows in tables:
        _atomic_csv(out / f"{name}.csv", columns, rows)
    return out


def _atomic_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            for row in rows:
                writer.writerow({k: "" if row[k] is None else row[k] for k in columns})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --- Tableau Hyper ----------------------------------------------------------------------


def _write_hyper(tables: list[_Table], out: Path) -> Path:
    try:
        from tableauhyperapi import (
            NOT_NULLABLE,
            NULLABLE,
            Connection,
            CreateMode,
            HyperProcess,
            Inserter,
            SqlType,
            TableDefinition,
            TableName,
            Telemetry,
        )
    except ImportError as exc:
        if getattr(sys, "frozen", False):
            # the frozen build (scripts/build) leaves the 90 MB Hyper engine out
            raise ExportError(
                "the hyper format is not in this build of edge-agent (tableauhyperapi is "
                f"left out of the frozen bundle): use --format csv, or {TABLEAU_HINT}"
            ) from exc
        raise ExportError(
            f"the hyper format needs tableauhyperapi: {TABLEAU_HINT} ({exc})"
        ) from exc

    if out.is_dir():
        out = out / HYPER_FILE
    out.parent.mkdir(parents=True, exist_ok=True)

    def column(name: str) -> Any:
        if name == "ticket_id":
            return TableDefinition.Column(name, SqlType.text(), NOT_NULLABLE)
        if name in _TIME_COLUMNS:
            return TableDefinition.Column(name, SqlType.timestamp_tz(), NULLABLE)
        if name.startswith("seconds_"):
            return TableDefinition.Column(name, SqlType.double(), NULLABLE)
        return TableDefinition.Column(name, SqlType.text(), NOT_NULLABLE)

    def values(row: dict[str, Any], columns: tuple[str, ...]) -> list[Any]:
        return [
            parse_time(row[c]) if c in _TIME_COLUMNS and row[c] is not None else row[c]
            for c in columns
        ]

    # Written next to the target and renamed: a reader never sees half a file.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with (
            HyperProcess(
                telemetry=Telemetry.DO_NOT_SEND_USAGE_DATA_TO_TABLEAU,
                user_agent="ghost-kds",
                parameters={"log_config": ""},  # no hyperd.log in the working directory
            ) as hyper,
            Connection(hyper.endpoint, database=tmp, create_mode=CreateMode.CREATE) as conn,
        ):
            for name, columns, rows in tables:
                table = TableDefinition(TableName("public", name), [column(c) for c in columns])
                conn.catalog.create_table(table)
                with Inserter(conn, table) as inserter:
                    inserter.add_rows(values(row, columns) for row in rows)
                    inserter.execute()
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out
