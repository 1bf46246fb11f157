"""Pacing by promised time ("fire at"): start each line so the order is ready together.

A line with ``prep_seconds`` fires at ``promised_at - prep_seconds``: the longest
line of an order fires first, the quick ones later, and everything is done when the
customer (or the courier) was promised it. Pure functions, no clock: the caller
compares with ``now``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from shared.model import Ticket, TicketItem

__all__ = ["cook_by", "fire_at"]


def fire_at(ticket: Ticket, item: TicketItem) -> datetime | None:
    """When to start ``item`` so it is ready at ``ticket.promised_at``.

    ``None`` when the order has no promised time or the line no prep time (then it
    simply fires as the ticket arrives).
    """
    if ticket.promised_at is None or item.prep_seconds <= 0:
        return None
    return ticket.promised_at - timedelta(seconds=item.prep_seconds)


def cook_by(ticket: Ticket) -> datetime | None:
    """When the order's longest line must start: ``promised_at - max(prep_seconds)``.

    ``None`` without a promised time; the promised time itself when no line has a
    prep time.
    """
    if ticket.promised_at is None:
        return None
    longest = max((item.prep_seconds for item in ticket.items), default=0)
    return ticket.promised_at - timedelta(seconds=longest)
