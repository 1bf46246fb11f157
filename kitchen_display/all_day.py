"""All-day counts: how many of each item are still to make.

* :class:`AllDayStrip`: one line of a station's counts above its cards (ALL DAY button).
* :class:`AllDayList`: each station's counts under a heading (the lead's board).

The counting itself is :class:`shared.allday.AllDayTally`, kept ticket by ticket.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, Slot
from PySide6.QtGui import QFontMetrics
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
    """Each station's all-day counts, a heading per station (the board).

    Every row is one line of the same height, elided at the list's width (no
    horizontal scrolling), so a row's new text moves no other row: a change repaints
    that row alone. ``QListView`` lays the list out again and repaints it whole for
    any change to any row (~20 % of a board's frame while orders come and go).
    """

    def __init__(self, scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allDayList")
        self._scale = scale
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setUniformItemSizes(True)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._plain = font(17, scale)
        self._bold = font(17, scale, bold=True)
        self.setFont(self._plain)
        # every row one line as tall as the bold heading's, as wide as the list (a
        # width of 0 is widened to the list's): no row's text changes the layout
        line = max(QFontMetrics(self._plain).height(), QFontMetrics(self._bold).height())
        self._row_size = QSize(0, line + round(6 * scale))
        self._shown: dict[str, list[AllDayCount]] | None = None

    def show_counts(self, by_station: dict[str, list[AllDayCount]]) -> None:
        """Show these counts (nothing happens when they are the ones shown: the board
        asks after every ticket update). Rows are changed in place, only those whose
        text, weight or tooltip differ, and rows added or taken at the end: clearing
        and refilling the list laid it out and repainted it whole for every order that
        came or went (~10 % of a board's frame in a churn of orders, py-spy)."""
        if by_station == self._shown:
            return
        self._shown = by_station
        rows: list[tuple[str, bool, str]] = []
        if not by_station:
            rows.append((self.tr("nothing to make"), False, ""))
        for station, counts in by_station.items():
            rows.append((station.upper(), True, ""))
            for count in counts:
                brands = ", ".join(count.brands) if len(count.brands) > 1 else ""
                rows.append(("   " + format_count(count), False, brands))
        while self.count() > len(rows):
            self.takeItem(self.count() - 1)
        for row, (text, bold, tooltip) in enumerate(rows):
            item = self.item(row)
            if item is None:
                item = QListWidgetItem()
                item.setSizeHint(self._row_size)
                self.addItem(item)
            if item.text() != text:
                item.setText(text)
            wanted = self._bold if bold else self._plain
            if item.font() != wanted:
                item.setFont(wanted)
            if item.toolTip() != tooltip:
                item.setToolTip(tooltip)

    def dataChanged(
        self,
        top_left: QModelIndex | QPersistentModelIndex,
        bottom_right: QModelIndex | QPersistentModelIndex,
        roles: Sequence[int] = (),
    ) -> None:
        # QAbstractItemView's: one changed row repaints that row (QListView's own
        # relays the list out first, which repaints it whole)
        QAbstractItemView.dataChanged(self, top_left, bottom_right, roles)

    def texts(self) -> list[str]:
        return [self.item(row).text() for row in range(self.count())]
