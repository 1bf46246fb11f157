"""All-day counts: how many of each item are still to make.

* :class:`AllDayStrip`: one line of a station's counts above its cards (ALL DAY button).
* :class:`AllDayList`: each station's counts under a heading (the lead's board).

The counting itself is :class:`shared.allday.AllDayTally`, kept ticket by ticket.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListWidget, QListWidgetItem, QWidget

from kitchen_display.follow import follow_settings, site_settings
from kitchen_display.sync import TicketSync
from kitchen_display.widgets import font
from shared.allday import ALL, AllDayCount, AllDayTally, format_count, station_tally
from shared.model import Ticket
from shared.wire import SiteSettings


class AllDayStrip(QLabel):
    """``ALL DAY  6x Classic Burger · 3x Fries`` for one station (folds honoured).

    The counts are a :class:`~shared.allday.AllDayTally` kept ticket by ticket: an
    update that changes no count (a line started, another station's line done) costs
    one ticket's lines and leaves the text alone.
    """

    def __init__(
        self, sync: TicketSync, station: str, *, expo_station: str = "", scale: float = 1.0
    ) -> None:
        super().__init__()
        self.setObjectName("allDay")
        self._sync = sync
        self._station = station
        self._expo = expo_station
        self._folds = dict(site_settings(sync).folds)
        self._tally = self._new_tally()
        self.setFont(font(18, scale, bold=True))
        self.setWordWrap(True)
        self.setContentsMargins(round(10 * scale), round(4 * scale), round(10 * scale), 0)
        sync.ticketUpserted.connect(self._on_upserted)
        sync.ticketRemoved.connect(self._on_removed)
        sync.ticketsReset.connect(self._on_reset)
        follow_settings(sync, self._on_settings)
        self._on_reset(sync.tickets())

    def _new_tally(self) -> AllDayTally:
        return station_tally(self._station, folds=self._folds, expo_station=self._expo or None)

    def counts(self) -> list[AllDayCount]:
        return self._tally.counts(ALL)

    @Slot()
    def refresh(self, *_: object) -> None:
        counts = self.counts()
        body = "   ·   ".join(format_count(c) for c in counts) if counts else self.tr("nothing")
        self.setText(self.tr("ALL DAY  {counts}").format(counts=body))

    @Slot(object)
    def _on_upserted(self, ticket: Ticket) -> None:
        if self._tally.update(ticket):
            self.refresh()

    @Slot(str)
    def _on_removed(self, ticket_id: str) -> None:
        if self._tally.remove(ticket_id):
            self.refresh()

    @Slot(list)
    def _on_reset(self, tickets: Iterable[Ticket]) -> None:
        self._tally.reset(tickets)
        self.refresh()

    def _on_settings(self, settings: SiteSettings) -> None:
        if dict(settings.folds) != self._folds:
            self._folds = dict(settings.folds)
            self._tally = self._new_tally()
            self._on_reset(self._sync.tickets())


class AllDayList(QListWidget):
    """Each station's all-day counts, a heading per station (the board)."""

    def __init__(self, scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allDayList")
        self._scale = scale
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFont(font(17, scale))
        self._shown: dict[str, list[AllDayCount]] | None = None

    def show_counts(self, by_station: dict[str, list[AllDayCount]]) -> None:
        """Show these counts (nothing happens when they are the ones shown: the board
        asks after every ticket update)."""
        if by_station == self._shown:
            return
        self._shown = by_station
        self.clear()
        if not by_station:
            self.addItem(self.tr("nothing to make"))
        for station, counts in by_station.items():
            heading = QListWidgetItem(station.upper())
            heading.setFont(font(17, self._scale, bold=True))
            self.addItem(heading)
            for count in counts:
                item = QListWidgetItem("   " + format_count(count))
                if len(count.brands) > 1:
                    item.setToolTip(", ".join(count.brands))
                self.addItem(item)

    def texts(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]
