"""Lookups shared by the display's ticket models (the station/expo cards, the board)."""

from __future__ import annotations

from shared.model import Ticket


class TicketRows:
    """Mixin for a model that keeps its tickets, in display order, in ``self._rows``."""

    _rows: list[Ticket]

    def tickets(self) -> list[Ticket]:
        """The shown tickets, in display order."""
        return list(self._rows)

    def ticket_at(self, row: int) -> Ticket | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, ticket_id: str) -> int:
        """The row of ``ticket_id``, or -1 when this model does not show it."""
        for row, ticket in enumerate(self._rows):
            if ticket.id == ticket_id:
                return row
        return -1
