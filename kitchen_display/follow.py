"""Keeping a list model in step with :class:`~kitchen_display.sync.TicketSync`.

Every list on the screen (the cards, expo's cards, the board) follows the same three
signals; :func:`follow_tickets` is the one place that wires them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from kitchen_display.sync import TicketSync
from shared.model import Ticket
from shared.wire import SiteSettings


class TicketSink(Protocol):
    """What follows the tickets: a model with row-level upsert, remove and reset."""

    def upsert(self, ticket: Ticket) -> None: ...

    def remove(self, ticket_id: str) -> None: ...

    def reset(self, tickets: Iterable[Ticket]) -> None: ...


def follow_tickets(sync: TicketSync, sink: TicketSink) -> None:
    """Apply every ticket change of ``sync`` to ``sink``, starting with what it has now."""
    sync.ticketUpserted.connect(sink.upsert)
    sync.ticketRemoved.connect(sink.remove)
    sync.ticketsReset.connect(sink.reset)
    sink.reset(sync.tickets())


def site_settings(sync: TicketSync) -> SiteSettings:
    """The site's settings as ``sync`` last heard them (defaults until then)."""
    return sync.settings or SiteSettings()


def follow_settings(sync: TicketSync, slot: Callable[[SiteSettings], None]) -> None:
    """Call ``slot`` with the site's settings whenever they change."""
    sync.settingsChanged.connect(slot)
