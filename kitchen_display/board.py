"""The kitchen lead's board.

* :class:`BoardView`: every open ticket of the site in a table (late first), the
  average ticket times and throughput of the last hour per station and brand, the
  all-day counts, the out-of-stock (86) list, and the lead's actions on the selected
  ticket (RUSH / NORMAL, RECALL, FOLD STATIONS…, 86 AN ITEM…, BACK IN STOCK).
* :class:`FoldDialog`: fold a station into another for quiet hours, or unfold.

Like the cards, the board never changes a ticket itself: every action is a command
to the agent, and the screen changes when the agent publishes the result.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPoint, QRect, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QHideEvent,
    QPainter,
    QPaintEvent,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.all_day import AllDayList
from kitchen_display.board_model import (
    BOLD_COLUMNS,
    BoardColumns,
    BoardModel,
    BoardRole,
    Cell,
    Column,
    format_minutes,
)
from kitchen_display.follow import follow_settings, follow_tickets, site_settings
from kitchen_display.sync import TicketSync
from kitchen_display.theme import DARK, Theme, min_touch_px
from kitchen_display.widgets import ChoiceDialog, big_button, font
from shared.model import Ticket, utcnow
from shared.wire import SiteSettings

log = logging.getLogger("kds.ui")


class FoldDialog(QDialog):
    """Fold one station into another for quiet hours, or unfold.

    ``foldsRequested(dict)``: the whole new fold map to send (``{}`` unfolds all).
    """

    foldsRequested = Signal(dict)

    def __init__(
        self, stations: list[str], folds: dict[str, str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Fold stations"))
        self._folds = dict(folds)
        touch = min_touch_px(parent.screen() if parent is not None else None)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.source = QComboBox(self)
        self.target = QComboBox(self)
        for combo in (self.source, self.target):
            combo.addItems(stations)
            combo.setMinimumHeight(touch)
            combo.setFont(font(18))
        if len(stations) > 1:
            self.target.setCurrentIndex(1)
        fold_label = QLabel(self.tr("Fold"), self)
        into_label = QLabel(self.tr("into"), self)
        for label in (fold_label, into_label):
            label.setFont(font(18, bold=True))
        row.addWidget(fold_label)
        row.addWidget(self.source, 1)
        row.addWidget(into_label)
        row.addWidget(self.target, 1)
        layout.addLayout(row)
        self.fold_button = big_button(self.tr("FOLD"), self, touch, "fold")
        self.fold_button.clicked.connect(self._on_fold)
        layout.addWidget(self.fold_button)

        self.current = QLabel(self)
        self.current.setFont(font(17))
        self.current.setWordWrap(True)
        layout.addWidget(self.current)
        self.unfold_buttons: dict[str, QPushButton] = {}
        for source, into in sorted(folds.items()):
            button = big_button(
                self.tr("UNFOLD {source} (now on {into})").format(source=source, into=into),
                self,
                touch,
                f"unfold-{source}",
            )
            button.clicked.connect(lambda _=False, s=source: self._on_unfold(s))
            self.unfold_buttons[source] = button
            layout.addWidget(button)
        self.unfold_all_button = big_button(self.tr("UNFOLD ALL"), self, touch, "unfoldAll")
        self.unfold_all_button.setEnabled(bool(folds))
        self.unfold_all_button.clicked.connect(lambda: self._send({}))
        layout.addWidget(self.unfold_all_button)
        self.close_button = big_button(self.tr("Close"), self, touch, "close")
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(self.close_button)
        self.current.setText(
            self.tr("Folded now: {folds}").format(
                folds=", ".join(f"{s} → {t}" for s, t in sorted(folds.items())) or self.tr("none")
            )
        )

    def _on_fold(self) -> None:
        source, target = self.source.currentText(), self.target.currentText()
        if not source or not target or source == target:
            self.current.setText(self.tr("Pick two different stations"))
            return
        folds = {s: t for s, t in self._folds.items() if s != source}
        # whatever was folded into the source now goes to the target too
        folds = {s: (target if t == source else t) for s, t in folds.items()}
        folds[source] = target
        self._send(folds)

    def _on_unfold(self, source: str) -> None:
        self._send({s: t for s, t in self._folds.items() if s != source})

    def _send(self, folds: dict[str, str]) -> None:
        self.foldsRequested.emit(folds)
        self.accept()


# =============================================================================
# The board
# =============================================================================


#: at most this much memory for the board's cell pictures (a cell is ~20 KB: a
#: screenful of the table, ~180 cells, is ~4 MB)
CELL_PICTURE_BUDGET_BYTES = 16 * 1024 * 1024


class BoardDelegate(QStyledItemDelegate):
    """Paints a board cell from its :class:`~kitchen_display.board_model.Cell` with
    fonts, metrics and colours built once: the style's per-cell item painting (through
    the window's style sheet) cost a full table ~16 ms.

    Each cell's look (its text, elided to fit, on its colour) is kept as a picture,
    least recently painted first, up to :data:`CELL_PICTURE_BUDGET_BYTES`: a repaint
    of the table copies a picture per cell, and only cells whose text or colour
    changed (the age column, each second) are painted again.
    """

    def __init__(
        self, table: QTableView, theme: Theme, scale: float, *, pictures: bool = True
    ) -> None:
        super().__init__(table)
        self._font = QFont(table.font())
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._metrics = QFontMetrics(self._font)
        self._bold_metrics = QFontMetrics(self._bold)
        self._base = QColor(theme.window)
        self._text = QColor(theme.text)
        self._highlight = QColor(theme.highlight)
        self._highlight_text = QColor(theme.highlight_text)
        self._pad = max(2, round(6 * scale))
        #: (text, colours, weight, alignment, size, device pixel ratio) -> the cell
        #: painted (``None``: paint every cell every time)
        self._pictures: OrderedDict[tuple[object, ...], QPixmap] | None = (
            OrderedDict() if pictures else None
        )
        self._picture_bytes = 0

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:  # type: ignore[override]
        model = index.model()
        if isinstance(model, BoardModel):
            # the model's own lookup, not a round trip through Qt per painted cell
            cell = model.cell(index.row(), index.column())
        else:
            cell = index.data(BoardRole.CellRole)
        if not isinstance(cell, Cell):
            super().paint(painter, option, index)
            return
        selected = bool(option.state.value & _SELECTED)
        rect = option.rect
        if self._pictures is None:
            self._paint_cell(painter, rect, cell, *self._colours(cell, selected))
            return
        ratio = painter.device().devicePixelRatioF()
        painter.drawPixmap(rect.topLeft(), self.cell_picture(cell, selected, rect.size(), ratio))

    @property
    def keeps_pictures(self) -> bool:
        """Whether cells are painted from pictures (:meth:`cell_picture`)."""
        return self._pictures is not None

    def cell_picture(self, cell: Cell, selected: bool, size: QSize, ratio: float) -> QPixmap:
        """``cell`` painted on a picture of ``size`` at ``ratio`` device pixels per
        pixel: the one kept, or painted now and kept (only when :attr:`keeps_pictures`)."""
        assert self._pictures is not None
        background, foreground = self._colours(cell, selected)
        key = (
            cell.text,
            background.rgba(),
            foreground.rgba(),
            cell.bold,
            cell.align,
            size.width(),
            size.height(),
            ratio,
        )
        picture = self._pictures.get(key)
        if picture is None:
            picture = QPixmap(size * ratio)
            picture.setDevicePixelRatio(ratio)
            cell_painter = QPainter(picture)
            try:
                self._paint_cell(
                    cell_painter, QRect(QPoint(0, 0), size), cell, background, foreground
                )
            finally:
                cell_painter.end()
            self._keep(key, picture)
        else:
            self._pictures.move_to_end(key)
        return picture

    def _colours(self, cell: Cell, selected: bool) -> tuple[QColor, QColor]:
        """``cell``'s (background, text) colours: the highlight's when selected."""
        if selected:
            return self._highlight, self._highlight_text
        return cell.background or self._base, cell.foreground or self._text

    def _paint_cell(
        self,
        painter: QPainter,
        rect: QRect,
        cell: Cell,
        background: QColor,
        foreground: QColor,
    ) -> None:
        painter.fillRect(rect, background)
        painter.setPen(foreground)
        painter.setFont(self._bold if cell.bold else self._font)
        metrics = self._bold_metrics if cell.bold else self._metrics
        text_rect = rect.adjusted(self._pad, 0, -self._pad, 0)
        text = metrics.elidedText(cell.text, Qt.TextElideMode.ElideRight, text_rect.width())
        painter.drawText(text_rect, cell.align, text)

    def _keep(self, key: tuple[object, ...], picture: QPixmap) -> None:
        assert self._pictures is not None
        self._pictures[key] = picture
        self._picture_bytes += _bytes(picture)
        while self._picture_bytes > CELL_PICTURE_BUDGET_BYTES and len(self._pictures) > 1:
            _, oldest = self._pictures.popitem(last=False)
            self._picture_bytes -= _bytes(oldest)


#: as a number (``option.state.value & _SELECTED``: no enum arithmetic per cell)
_SELECTED = QStyle.StateFlag.State_Selected.value


def _bytes(picture: QPixmap) -> int:
    return picture.width() * picture.height() * 4


class BoardTable(QTableView):
    """The board's table. It paints every pixel of what it repaints: the table's
    colour, then the cells (each an opaque picture), so the widgets behind it are not
    painted first (five fills of the table's area, ~2.5 ms of a repaint at 1920x1080;
    a row that moves repaints the table whole)."""

    def __init__(self, theme: Theme, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._background = QColor(theme.window)
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)

    def paintEvent(self, event: QPaintEvent) -> None:
        model, delegate = self.model(), self.itemDelegate()
        painter = QPainter(self.viewport())
        try:
            painter.fillRect(event.rect(), self._background)
            if (
                isinstance(model, BoardModel)
                and isinstance(delegate, BoardDelegate)
                and delegate.keeps_pictures
            ):
                self._paint_cells(painter, event.rect(), model, delegate)
                return
        finally:
            painter.end()
        super().paintEvent(event)

    def _paint_cells(
        self, painter: QPainter, area: QRect, model: BoardModel, delegate: BoardDelegate
    ) -> None:
        """The cells in ``area``, each the delegate's picture, as ``QTableView`` paints
        them through the delegate (no grid, no focus frame), in one Python loop: the
        table's own painting called into Python once per cell, ~180 calls a repaint."""
        first = self.rowAt(area.top())
        if first < 0:
            return  # below the last row
        last = self.rowAt(area.bottom())
        if last < 0:
            last = model.rowCount() - 1
        columns = []
        for column in range(model.columnCount()):
            x, width = self.columnViewportPosition(column), self.columnWidth(column)
            if self.isColumnHidden(column) or width <= 0:
                continue
            if x + width > area.left() and x <= area.right():
                columns.append((column, x, width))
        selection = self.selectionModel()
        selected = (
            {(index.row(), index.column()) for index in selection.selectedIndexes()}
            if selection is not None
            else set()
        )
        ratio = painter.device().devicePixelRatioF()
        for row in range(first, last + 1):
            if self.isRowHidden(row):
                continue
            y, height = self.rowViewportPosition(row), self.rowHeight(row)
            for column, x, width in columns:
                cell = model.cell(row, column)
                if cell is None:
                    continue
                picture = delegate.cell_picture(
                    cell, (row, column) in selected, QSize(width, height), ratio
                )
                painter.drawPixmap(QPoint(x, y), picture)


class BoardView(QWidget):
    """The kitchen lead's board (see the module docstring).

    ``messageRequested(text)``: something for the window's message line ("Select a
    ticket first").
    """

    messageRequested = Signal(str)

    def __init__(
        self,
        sync: TicketSync,
        *,
        scale: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        theme: Theme = DARK,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("board")
        self._sync = sync
        self._scale = scale
        self.model = BoardModel(site_settings(sync), clock=clock, theme=theme, parent=self)
        follow_tickets(sync, self.model)
        follow_settings(sync, self.model.set_settings)
        #: the dialog open right now (86, back in stock, recall, fold), for tests
        self.dialog: QDialog | None = None

        touch = min_touch_px(None)
        outer = QVBoxLayout(self)
        margin = round(8 * scale)
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.setSpacing(margin)

        self.summary = QLabel(self)
        self.summary.setObjectName("boardSummary")
        self.summary.setFont(font(22, scale, bold=True))
        outer.addWidget(self.summary)

        body = QHBoxLayout()
        body.setSpacing(margin)
        outer.addLayout(body, 1)

        left = QVBoxLayout()
        self.table = BoardTable(theme, self)
        self.table.setObjectName("boardTable")
        self.table.setModel(self.model)
        self.table.setFont(font(18, scale))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(False)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(round(40 * scale))
        self.table.setItemDelegate(BoardDelegate(self.table, theme, scale))
        header = self.table.horizontalHeader()
        # the titles from a model of their own: the rows' changes leave the header be
        header.setModel(BoardColumns(self.model))
        header.setFont(font(16, scale, bold=True))
        header.setHighlightSections(False)
        self._size_columns(header)
        left.addWidget(self.table, 1)

        actions = QHBoxLayout()
        self.rush_button = big_button(self.tr("RUSH"), self, touch, "rush")
        self.normal_button = big_button(self.tr("NORMAL"), self, touch, "normal")
        self.recall_button = big_button(self.tr("RECALL…"), self, touch, "recall")
        self.fold_button = big_button(self.tr("FOLD STATIONS…"), self, touch, "fold")
        for button in (self.rush_button, self.normal_button, self.recall_button, self.fold_button):
            button.setFont(font(17, scale, bold=True))
            actions.addWidget(button)
        left.addLayout(actions)
        body.addLayout(left, 3)

        side = QVBoxLayout()
        self.stats_label = QLabel(self)
        self.stats_label.setObjectName("boardStats")
        self.stats_label.setFont(font(18, scale))
        self.stats_label.setTextFormat(Qt.TextFormat.RichText)
        self.stats_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        side.addWidget(self.stats_label)

        all_day_title = QLabel(self.tr("ALL DAY"), self)
        all_day_title.setFont(font(18, scale, bold=True))
        side.addWidget(all_day_title)
        self.all_day = AllDayList(scale, self)
        side.addWidget(self.all_day, 2)

        oos_title = QLabel(self.tr("86'd (out of stock)"), self)
        oos_title.setFont(font(18, scale, bold=True))
        side.addWidget(oos_title)
        self.out_of_stock = QListWidget(self)
        self.out_of_stock.setObjectName("outOfStock")
        self.out_of_stock.setFont(font(17, scale, bold=True))
        side.addWidget(self.out_of_stock, 1)
        oos_row = QHBoxLayout()
        self.eighty_six_button = big_button(self.tr("86 AN ITEM…"), self, touch, "eightySix")
        self.back_button = big_button(self.tr("BACK IN STOCK"), self, touch, "backInStock")
        for button in (self.eighty_six_button, self.back_button):
            button.setFont(font(17, scale, bold=True))
            oos_row.addWidget(button)
        side.addLayout(oos_row)
        side_widget = QWidget(self)
        side_widget.setLayout(side)
        side_widget.setMinimumWidth(round(360 * scale))
        body.addWidget(side_widget, 2)

        self.rush_button.clicked.connect(lambda: self.prioritize("rush"))
        self.normal_button.clicked.connect(lambda: self.prioritize("normal"))
        self.recall_button.clicked.connect(self.open_recall)
        self.fold_button.clicked.connect(self.open_folds)
        self.eighty_six_button.clicked.connect(self.open_eighty_six)
        self.back_button.clicked.connect(self.back_in_stock)
        #: what is out of date, refreshed together once the event loop is free and
        #: only while the board shows (a station's screen keeps its board hidden)
        self._stale_summary = False
        self._stale_stats = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._on_refresh_due)
        self._shown_out_of_stock: object = None
        self.model.statsChanged.connect(self._on_stats_changed)
        self.model.rowsInserted.connect(self._on_rows_changed)
        self.model.rowsRemoved.connect(self._on_rows_changed)
        self.model.dataChanged.connect(self._on_data_changed)
        self.table.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.model.rowsRemoved.connect(self._update_buttons)
        self._update_buttons()
        self.refresh()
        self.model.pause_clock()  # until shown

    # --- reading the board ------------------------------------------------------------

    def selected_ticket(self) -> Ticket | None:
        index = self.table.currentIndex()
        return self.model.ticket_at(index.row()) if index.isValid() else None

    # --- actions (commands to the agent) ----------------------------------------------

    def prioritize(self, priority: str) -> str | None:
        ticket = self.selected_ticket()
        if ticket is None:
            self._say(self.tr("Select a ticket first"))
            return None
        log.info("board: prioritize %s %s", ticket.id, priority)
        return self._sync.send_command("prioritize", ticket_id=ticket.id, priority=priority)

    def recall(self, ticket_id: str, station: str) -> str:
        log.info("board: recall %s at %s", ticket_id, station)
        return self._sync.send_command("recall", ticket_id=ticket_id, station=station)

    def open_recall(self) -> None:
        """RECALL…: bring the selected ticket back at a station that bumped it."""
        ticket = self.selected_ticket()
        if ticket is None:
            self._say(self.tr("Select a ticket first"))
            return
        stations = sorted(ticket.bumped_at, key=lambda s: ticket.bumped_at[s], reverse=True)
        if not stations:
            self._say(
                self.tr("#{number} has not been bumped anywhere").format(
                    number=ticket.display_number
                )
            )
            return
        dialog = ChoiceDialog(
            self.tr("Recall #{number}").format(number=ticket.display_number),
            self.tr("Recall #{number} at which station?").format(number=ticket.display_number),
            [
                (s, f"{s.upper()}  ({self.tr('bumped')} {ticket.bumped_at[s].astimezone():%H:%M})")
                for s in stations
            ],
            self.tr("RECALL"),
            self,
        )
        dialog.choose(stations[0])
        dialog.accepted.connect(
            lambda: (station := dialog.chosen()) and self.recall(ticket.id, station)
        )
        self._open(dialog)

    def set_folds(self, folds: dict[str, str]) -> str:
        log.info("board: fold stations %s", folds)
        return self._sync.send_command("fold_stations", folds=folds)

    def open_folds(self) -> None:
        dialog = FoldDialog(self.model.stations(), dict(self.model.settings.folds), self)
        dialog.foldsRequested.connect(self.set_folds)
        self._open(dialog)

    def set_available(self, sku: str, available: bool) -> str:
        log.info("board: %s %s", "back in stock" if available else "86", sku)
        return self._sync.send_command("set_availability", sku=sku, available=available)

    def open_eighty_six(self) -> None:
        """86 AN ITEM…: pick one of the open tickets' items; it goes out of stock."""
        gone = {item.sku for item in self.model.settings.out_of_stock}
        items = [
            (sku, f"{name}  ({sku})") for sku, name in self.model.open_items() if sku not in gone
        ]
        if not items:
            self._say(self.tr("No items on open tickets to 86"))
            return
        dialog = ChoiceDialog(
            self.tr("86 an item"),
            self.tr("Which item is out of stock?"),
            items,
            self.tr("86 IT"),
            self,
        )
        dialog.accepted.connect(lambda: (sku := dialog.chosen()) and self.set_available(sku, False))
        self._open(dialog)

    def back_in_stock(self) -> None:
        """BACK IN STOCK: the item selected in the 86 list is available again."""
        item = self.out_of_stock.currentItem()
        if item is None:
            self._say(self.tr("Select an 86'd item first"))
            return
        self.set_available(str(item.data(Qt.ItemDataRole.UserRole)), True)

    # --- refreshing -------------------------------------------------------------------

    def _size_columns(self, header: QHeaderView) -> None:
        """Each column as wide as its widest likely text, the declared allergy taking
        what is left (elided). Fixed widths, not ``ResizeToContents``: that measures
        every row of the column on every change, 1,000 rows on a Friday."""
        cells = self.table.fontMetrics()
        bold = QFont(self.table.font())
        bold.setBold(True)
        bold_cells = QFontMetrics(bold)
        heads = QFontMetrics(header.font())
        pad = round(24 * self._scale)
        widest = {
            # a display number is a brand's letter and a number ("#A-1005"), in bold
            Column.ORDER: "#W-0000",
            Column.AGE: "000:00",
            Column.STATE: "LATE +00:00 RUSH",
            Column.BRAND: "Burger Bros Kitchen",
            Column.CHANNEL: "UBEREATS",
            Column.STATIONS: "grill ◐  drinks ◐  fry ◐",
            Column.ITEMS: "000",
        }
        for column in Column:
            if column is Column.ALLERGY:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
                continue
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            title = str(self.model.headerData(column, Qt.Orientation.Horizontal))
            metrics = bold_cells if column in BOLD_COLUMNS else cells
            width = max(metrics.horizontalAdvance(widest[column]), heads.horizontalAdvance(title))
            header.resizeSection(column, width + pad)

    @Slot()
    def refresh(self) -> None:
        """Bring everything up to date now (the summary, the stats, the all-day
        counts and the 86 list)."""
        self._stale_summary = self._stale_stats = False
        self.refresh_summary()
        now = self.model.now()
        stats = self.model.stats
        rows = [
            f"<b>{self.tr('Last hour')}</b>: {stats.throughput(now)} {self.tr('ready')}, "
            f"{self.tr('avg')} {format_minutes(stats.average_ticket_seconds(now))}"
        ]
        by_station = stats.by_station(now)
        if by_station:
            rows.append(f"<br><b>{self.tr('Stations')}</b> ({self.tr('bumps, avg to bump')})")
            rows += [
                f"&nbsp;&nbsp;{s}: {n}, {format_minutes(avg)}" for s, (n, avg) in by_station.items()
            ]
        by_brand = stats.by_brand(now)
        if by_brand:
            rows.append(f"<br><b>{self.tr('Brands')}</b> ({self.tr('ready, avg ticket time')})")
            rows += [
                f"&nbsp;&nbsp;{b}: {n}, {format_minutes(avg)}" for b, (n, avg) in by_brand.items()
            ]
        self.stats_label.setText("<br>".join(rows))
        self.all_day.show_counts(self.model.all_day())
        settings = self.model.settings
        if settings.out_of_stock != self._shown_out_of_stock:
            self._shown_out_of_stock = settings.out_of_stock
            self._show_out_of_stock(settings)

    @Slot()
    def refresh_summary(self) -> None:
        self._stale_summary = False
        self.summary.setText(
            self.tr(
                "BOARD   {open} open   ·   {late} late   ·   {warn} warn   ·   "
                "{ready} waiting for pickup"
            ).format(
                open=self.model.open_count(),
                late=self.model.late_count(),
                warn=self.model.warn_count(),
                ready=self.model.ready_count(),
            )
        )

    def _schedule(self, *, stats: bool) -> None:
        self._stale_summary = True
        self._stale_stats = self._stale_stats or stats
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    @Slot()
    def _on_stats_changed(self) -> None:
        self._schedule(stats=True)

    @Slot()
    def _on_rows_changed(self) -> None:
        self._schedule(stats=False)

    def _on_data_changed(
        self, top_left: QModelIndex, bottom_right: QModelIndex, roles: object
    ) -> None:
        if top_left.column() != Column.AGE or bottom_right.column() != Column.STATE:
            self._schedule(stats=False)

    @Slot()
    def _on_refresh_due(self) -> None:
        if not self.isVisible():
            return  # showEvent catches up
        if self._stale_stats:
            self.refresh()
        elif self._stale_summary:
            self.refresh_summary()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.model.resume_clock()
        if self._stale_stats or self._stale_summary:
            self._on_refresh_due()

    def hideEvent(self, event: QHideEvent) -> None:
        """A hidden board's rows need no clock (a station's screen keeps one hidden,
        with every open ticket of the site in it)."""
        super().hideEvent(event)
        self.model.pause_clock()

    def _show_out_of_stock(self, settings: SiteSettings) -> None:
        current = self.out_of_stock.currentItem()
        keep = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        self.out_of_stock.clear()
        for entry in settings.out_of_stock:
            since = f"  {self.tr('since')} {entry.since.astimezone():%H:%M}" if entry.since else ""
            item = QListWidgetItem(f"86  {entry.name or entry.sku}{since}")
            item.setData(Qt.ItemDataRole.UserRole, entry.sku)
            self.out_of_stock.addItem(item)
            if entry.sku == keep:
                self.out_of_stock.setCurrentItem(item)
        self.back_button.setEnabled(bool(settings.out_of_stock))

    def out_of_stock_texts(self) -> list[str]:
        return [self.out_of_stock.item(r).text() for r in range(self.out_of_stock.count())]

    def _update_buttons(self) -> None:
        ticket = self.selected_ticket()
        for button in (self.rush_button, self.normal_button, self.recall_button):
            button.setEnabled(ticket is not None)

    def _open(self, dialog: QDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _closed(self, dialog: QDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None

    def _say(self, text: str) -> None:
        log.info("board: %s", text)
        self.messageRequested.emit(text)
