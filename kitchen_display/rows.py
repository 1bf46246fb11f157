"""Rows shared by the display's ticket models (the station/expo cards, the board)."""

from __future__ import annotations

import bisect
from typing import Any

from PySide6.QtCore import QModelIndex

from shared.model import Ticket


class TicketRows:
    """Mixin for a Qt item model that keeps its tickets sorted in ``self._rows``.

    ``self._keys[i]`` is the sort key of ``self._rows[i]`` (unique: every key ends
    with the ticket id) and ``self._key_of`` maps a ticket id to its key, so finding a
    ticket's row is a dict lookup and a bisection, not a scan: an update costs the same
    with 1,000 open tickets as with 10. Inserts, moves and removals are announced row
    by row (beginInsertRows / beginMoveRows / beginRemoveRows), never as a reset.
    """

    _rows: list[Ticket]
    _keys: list[Any]
    _key_of: dict[str, Any]

    def _init_rows(self) -> None:
        self._rows = []
        self._keys = []
        self._key_of = {}

    def _insert_sorted(self, ticket: Ticket, key: Any) -> int:
        """Insert a new ticket where ``key`` sorts; returns its row."""
        row = bisect.bisect_left(self._keys, key)
        self.beginInsertRows(QModelIndex(), row, row)  # type: ignore[attr-defined]
        self._rows.insert(row, ticket)
        self._keys.insert(row, key)
        self._key_of[ticket.id] = key
        self.endInsertRows()  # type: ignore[attr-defined]
        return row

    def _insert_many(self, new: list[tuple[Any, Ticket]]) -> None:
        """Insert new tickets (``(key, ticket)``, none shown yet), each run that lands
        between the same two shown rows announced as one insert (a snapshot into an
        empty screen: one insert of every row, not one per ticket)."""
        new.sort(key=lambda pair: pair[0])
        runs: list[tuple[int, list[tuple[Any, Ticket]]]] = []
        for pair in new:
            at = bisect.bisect_left(self._keys, pair[0])
            if runs and runs[-1][0] == at:
                runs[-1][1].append(pair)
            else:
                runs.append((at, [pair]))
        # the last run first: the rows before it keep their numbers
        for at, run in reversed(runs):
            self.beginInsertRows(QModelIndex(), at, at + len(run) - 1)  # type: ignore[attr-defined]
            self._keys[at:at] = [key for key, _ in run]
            self._rows[at:at] = [ticket for _, ticket in run]
            for key, ticket in run:
                self._key_of[ticket.id] = key
            self.endInsertRows()  # type: ignore[attr-defined]

    def _replace_sorted(self, row: int, ticket: Ticket, key: Any) -> int:
        """Store the new version of the ticket at ``row``, moving it if its key moved;
        returns its row now."""
        old = self._keys[row]
        if old != key:
            # where it goes among the others: the keys before ``key``, less itself
            dest = bisect.bisect_left(self._keys, key)
            if old < key:
                dest -= 1
            if dest != row:
                qt_dest = dest + 1 if dest > row else dest
                self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), qt_dest)  # type: ignore[attr-defined]
                del self._rows[row]
                del self._keys[row]
                self._rows.insert(dest, ticket)
                self._keys.insert(dest, key)
                self._key_of[ticket.id] = key
                self.endMoveRows()  # type: ignore[attr-defined]
                row = dest
        self._rows[row] = ticket
        self._keys[row] = key
        self._key_of[ticket.id] = key
        return row

    def _take_row(self, row: int) -> Ticket:
        """Drop ``row`` from the lists (call between beginRemoveRows / endRemoveRows)."""
        ticket = self._rows.pop(row)
        del self._keys[row]
        self._key_of.pop(ticket.id, None)
        return ticket

    def tickets(self) -> list[Ticket]:
        """The shown tickets, in display order."""
        return list(self._rows)

    def ticket_at(self, row: int) -> Ticket | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, ticket_id: str) -> int:
        """The row of ``ticket_id``, or -1 when this model does not show it."""
        key = self._key_of.get(ticket_id)
        if key is None:
            return -1
        return bisect.bisect_left(self._keys, key)
