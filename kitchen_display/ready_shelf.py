"""Expo's READY FOR PICKUP shelf: tickets waiting for the courier, each with a
PICKED UP button (a ``picked_up`` command to the agent)."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.sync import TicketSync
from kitchen_display.theme import min_touch_px
from kitchen_display.widgets import big_button, font
from shared.model import Ticket, TicketStatus

log = logging.getLogger("kds.ui")


class ReadyShelf(QWidget):
    """Tickets waiting for the courier, oldest first, each with a PICKED UP button."""

    def __init__(self, sync: TicketSync, *, scale: float = 1.0, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("readyShelf")
        self._sync = sync
        self._scale = scale
        self._touch = min_touch_px(None)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(round(8 * scale), round(4 * scale), round(8 * scale), 0)
        self.title = QLabel(self)
        self.title.setObjectName("readyTitle")
        self.title.setFont(font(18, scale, bold=True))
        outer.addWidget(self.title)
        self._scroll = QScrollArea(self)
        self._scroll.setObjectName("readyScroll")
        self._scroll.setFrameShape(QFrame.Shape.NoFrame)
        self._scroll.setWidgetResizable(True)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setFixedHeight(round(self._touch * 1.6 + 16 * scale))
        self._inner = QWidget(self._scroll)
        self._inner.setObjectName("readyInner")
        # the shelf sits on the window's (themed) background, not a white scroll area
        self.setStyleSheet(
            "QScrollArea#readyScroll, QWidget#readyInner { background: transparent; }"
        )
        self._scroll.viewport().setAutoFillBackground(False)
        self._row = QGridLayout(self._inner)
        self._row.setContentsMargins(0, 0, 0, 0)
        self._scroll.setWidget(self._inner)
        outer.addWidget(self._scroll)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        #: ticket id -> its PICKED UP button
        self.buttons: dict[str, QPushButton] = {}
        #: the tickets waiting for pickup, kept ticket by ticket (an update of a ticket
        #: still being cooked costs a dict lookup, not a pass over the open tickets)
        self._ready: dict[str, Ticket] = {}
        sync.ticketUpserted.connect(self._on_upserted)
        sync.ticketRemoved.connect(self._on_removed)
        sync.ticketsReset.connect(self._on_reset)
        self._on_reset(sync.tickets())

    def ready_tickets(self) -> list[Ticket]:
        return sorted(self._ready.values(), key=lambda t: (t.ready_at or t.placed_at, t.id))

    @Slot(object)
    def _on_upserted(self, ticket: Ticket) -> None:
        if ticket.status is TicketStatus.READY:
            if self._ready.get(ticket.id) == ticket:
                return
            self._ready[ticket.id] = ticket
        elif self._ready.pop(ticket.id, None) is None:
            return
        self.refresh()

    @Slot(str)
    def _on_removed(self, ticket_id: str) -> None:
        if self._ready.pop(ticket_id, None) is not None:
            self.refresh()

    @Slot(list)
    def _on_reset(self, tickets: Iterable[Ticket]) -> None:
        self._ready = {t.id: t for t in tickets if t.status is TicketStatus.READY}
        self.refresh()

    @Slot()
    def refresh(self, *_: object) -> None:
        """Show the ready tickets. A ticket keeps its button while it stays on the shelf:
        any ticket's change calls this, and a courier's tap must not lose the button
        under the finger between press and release."""
        tickets = self.ready_tickets()
        self.title.setText(self.tr("READY FOR PICKUP ({count})").format(count=len(tickets)))
        wanted = [
            (
                ticket.id,
                self.tr("#{number} {brand}\nPICKED UP").format(
                    number=ticket.display_number, brand=ticket.brand.name
                ),
            )
            for ticket in tickets
        ]
        shown = [(ticket_id, button.text()) for ticket_id, button in self.buttons.items()]
        if wanted == shown:
            return
        old, self.buttons = self.buttons, {}
        for button in old.values():
            self._row.removeWidget(button)
        for column, (ticket_id, text) in enumerate(wanted):
            kept = old.pop(ticket_id) if ticket_id in old else None
            if kept is None:
                button = big_button(
                    text, self._inner, round(self._touch * 1.5), f"pickedUp-{ticket_id}"
                )
                button.setFont(font(16, self._scale, bold=True))
                button.clicked.connect(lambda _=False, t=ticket_id: self.picked_up(t))
            else:
                button = kept
                button.setText(text)
            self._row.addWidget(button, 0, column)
            self.buttons[ticket_id] = button
        for gone in old.values():  # picked up or recalled: off the shelf
            gone.hide()
            gone.deleteLater()
        for column in range(self._row.columnCount()):
            self._row.setColumnStretch(column, 0)
        self._row.setColumnStretch(len(wanted), 1)

    def picked_up(self, ticket_id: str) -> str:
        log.info("expo: %s picked up", ticket_id)
        return self._sync.send_command("picked_up", ticket_id=ticket_id)
