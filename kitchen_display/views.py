"""The screen's views and the lead's tools around the card wall.

:class:`LeadViews` is installed on a :class:`~kitchen_display.window.MainWindow` by
:func:`~kitchen_display.app.build_display`. It puts the middle of the window in a
stack of views:

* ``station``: this station's cards, with the all-day strip (toggle: ALL DAY button,
  :meth:`MainWindow.toggle_all_day`) and, on expo, the READY FOR PICKUP shelf;
* ``expo``: whole orders with each station's progress and the ready shelf (on a
  station's screen: the expo station's cards);
* ``board``: :class:`~kitchen_display.board.BoardView` for kitchen leads.

The first view is ``[display] view`` (``--view``); a lead switches with the VIEW…
button and the lead PIN (``[display] lead_pin``, asked when one is set). It also adds
RECALL… (this station's bumps of the last 15 minutes) and the 5-second UNDO bar
after this display bumps a ticket.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListView,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.board import AllDayStrip, BoardView, ChoiceDialog, ReadyShelf, font
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.config import VIEWS, DisplayConfig
from kitchen_display.kiosk import LeadPinDialog, pin_matches
from kitchen_display.recall import RecallListDialog, UndoBar, recent_bumps
from kitchen_display.sync import TicketSync
from kitchen_display.theme import Theme
from kitchen_display.ticket_model import TicketListModel
from shared.model import utcnow

if TYPE_CHECKING:
    from kitchen_display.window import MainWindow

log = logging.getLogger("kds.ui")


def lead_stylesheet(theme: Theme, scale: float = 1.0) -> str:
    """Colours for the board, lists and dialogs in the window's theme (added to its sheet)."""

    def px(value: float) -> str:
        return f"{max(1, round(value * scale))}px"

    return f"""
QTableView, QListWidget {{ background: {theme.window}; color: {theme.text};
    border: {px(1)} solid {theme.header_border};
    selection-background-color: {theme.highlight}; selection-color: {theme.highlight_text}; }}
QHeaderView::section {{ background: {theme.header}; color: {theme.text}; font-weight: bold;
    font-size: {px(17)}; padding: {px(6)}; border: none;
    border-bottom: {px(2)} solid {theme.header_border}; }}
QWidget#undoBar {{ background: {theme.highlight}; }}
QWidget#undoBar QLabel {{ color: {theme.highlight_text}; }}
QPushButton:checked {{ background: {theme.highlight}; color: {theme.highlight_text}; }}
QPushButton:disabled {{ color: {theme.dim}; }}
QLabel#allDay {{ background: {theme.header}; padding: {px(4)} {px(10)}; }}
QComboBox {{ background: {theme.button}; color: {theme.text}; padding: {px(4)}; }}
"""


class LeadViews(QObject):
    """View switching, all-day, recall list and undo for one window."""

    def __init__(self, window: MainWindow, sync: TicketSync, config: DisplayConfig) -> None:
        super().__init__(window)
        self._window = window
        self._sync = sync
        self._config = config
        scale = config.display.font_scale
        self._scale = scale
        self.pin_dialog: LeadPinDialog | None = None
        #: the dialog open now (view chooser, recall list), for tests
        self.dialog: ChoiceDialog | RecallListDialog | None = None
        self._pending_view: str | None = None
        window.views = self

        central = window.centralWidget()
        assert central is not None
        layout = central.layout()
        assert isinstance(layout, QVBoxLayout)
        view = window.view

        # station page: all-day strip above the cards (+ the ready shelf on expo)
        self.station_page = QWidget(central)
        station_layout = QVBoxLayout(self.station_page)
        station_layout.setContentsMargins(0, 0, 0, 0)
        station_layout.setSpacing(0)
        self.all_day = AllDayStrip(
            sync, config.station, expo_station=config.expo_station, scale=scale
        )
        self.all_day.hide()
        station_layout.addWidget(self.all_day)
        self.stack = QStackedWidget(central)
        self.stack.setObjectName("views")
        position = layout.indexOf(view)
        layout.removeWidget(view)
        station_layout.addWidget(view, 1)
        self.ready_shelf: ReadyShelf | None = None
        if config.is_expo:
            self.ready_shelf = ReadyShelf(sync, scale=scale, parent=self.station_page)
            station_layout.addWidget(self.ready_shelf)
        self.stack.addWidget(self.station_page)
        layout.insertWidget(position, self.stack, 1)

        self.board = BoardView(sync, scale=scale, parent=self.stack)
        self.stack.addWidget(self.board)
        self.expo_page: QWidget | None = None
        self.expo_model: TicketListModel | None = None

        self.undo_bar = UndoBar(parent=central)
        layout.insertWidget(layout.indexOf(self.stack) + 1, self.undo_bar)
        self.undo_bar.undoRequested.connect(self._on_undo)

        self._add_header_buttons()
        window.setStyleSheet(window.styleSheet() + lead_stylesheet(window.theme, scale))
        self._view = "station"
        self._bumps_seen: set[str] = set()
        sync.commandResult.connect(self._on_command_result)
        self._watch_bumps()
        self.show_view(config.display.view)

    # --- building ---------------------------------------------------------------------

    def _add_header_buttons(self) -> None:
        header = self._window.findChild(QWidget, "header")
        assert header is not None, "the window has no header"
        row = header.layout()
        # header buttons grow with the font scale like the rest of the header
        touch = round(40 * self._scale)
        self.all_day_button = QPushButton(self.tr("ALL DAY"), header)
        self.all_day_button.setObjectName("allDayButton")
        self.all_day_button.setCheckable(True)
        self.recall_button = QPushButton(self.tr("RECALL…"), header)
        self.recall_button.setObjectName("recallListButton")
        self.view_button = QPushButton(self.tr("VIEW…"), header)
        self.view_button.setObjectName("viewButton")
        for button in (self.all_day_button, self.recall_button, self.view_button):
            button.setMinimumHeight(touch)
            # may shrink on a narrow screen rather than push the window wider than it
            button.setMinimumWidth(touch)
            button.setFont(font(16, self._scale, bold=True))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.all_day_button.toggled.connect(self._set_all_day)
        self.recall_button.clicked.connect(self.open_recall_list)
        self.view_button.clicked.connect(self.open_view_chooser)
        if isinstance(row, QHBoxLayout):
            at = row.indexOf(self._window.count_label)
            for offset, button in enumerate(
                (self.all_day_button, self.recall_button, self.view_button)
            ):
                row.insertWidget(max(0, at) + offset, button)

    def _build_expo_page(self) -> QWidget:
        """Expo's cards on a station's screen (a lead looking over expo's shoulder)."""
        config = self._config
        page = QWidget(self.stack)
        page.setObjectName("expoPage")
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        model = TicketListModel(config.expo_station, is_expo=True, settings=config.display)
        model.setParent(page)
        self._sync.ticketUpserted.connect(model.upsert)
        self._sync.ticketRemoved.connect(model.remove)
        self._sync.ticketsReset.connect(model.reset)
        model.reset(self._sync.tickets())
        delegate = TicketCardDelegate(
            config.expo_station, is_expo=True, font_scale=self._scale, parent=page
        )
        set_theme = getattr(delegate, "set_theme", None)
        if callable(set_theme):
            set_theme(self._window.theme)
        view = QListView(page)
        view.setObjectName("expoTickets")
        view.setViewMode(QListView.ViewMode.IconMode)
        view.setFlow(QListView.Flow.LeftToRight)
        view.setWrapping(True)
        view.setResizeMode(QListView.ResizeMode.Adjust)
        view.setMovement(QListView.Movement.Static)
        view.setSpacing(round(6 * self._scale))
        view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        view.setModel(model)
        view.setItemDelegate(delegate)
        delegate.actionRequested.connect(self._on_expo_action)
        layout.addWidget(view, 1)
        shelf = ReadyShelf(self._sync, scale=self._scale, parent=page)
        layout.addWidget(shelf)
        self.expo_model = model
        self.expo_view = view
        self.expo_delegate = delegate
        self.ready_shelf = shelf
        return page

    # --- views ------------------------------------------------------------------------

    @property
    def current(self) -> str:
        return self._view

    def show_view(self, name: str) -> None:
        """Show view ``name`` now (no PIN: the start-up view, or after the PIN)."""
        if name not in VIEWS:
            raise ValueError(f"unknown view {name!r}")
        if name == "board":
            self.stack.setCurrentWidget(self.board)
        elif name == "expo" and not self._config.is_expo:
            if self.expo_page is None:
                self.expo_page = self._build_expo_page()
                self.stack.addWidget(self.expo_page)
            self.stack.setCurrentWidget(self.expo_page)
        else:
            self.stack.setCurrentWidget(self.station_page)
        self._view = name
        self.all_day_button.setEnabled(name != "board")
        if name == "board":
            self._window.more_label.hide()  # the pager counts cards, not board rows
        self.view_button.setText(self.tr("VIEW: {name}").format(name=name.upper()))
        log.info("view: %s", name)
        if name == "board":
            self.board.table.setFocus()
        elif name == "station":
            self._window.view.setFocus()

    def switch_view(self, name: str) -> bool:
        """A lead switches the view: asks for the lead PIN when one is set.

        Returns whether the view changed right away (False while the PIN is asked).
        """
        if name not in VIEWS:
            self._window.show_message(self.tr("Unknown view: {name}").format(name=name))
            return False
        if name == self._view:
            return True
        if not self._config.display.lead_pin:
            log.info("view switch to %s without a PIN (none is set)", name)
            self.show_view(name)
            return True
        if self.pin_dialog is not None and self.pin_dialog.isVisible():
            return False
        dialog = LeadPinDialog(self._window)
        dialog.setWindowTitle(self.tr("Switch view"))
        dialog.prompt.setText(
            self.tr("Lead PIN to show the {name} view:").format(name=name.upper())
        )
        dialog.ok_button.setText(self.tr("Switch"))
        dialog.accepted.connect(self._on_pin_entered)
        dialog.finished.connect(dialog.deleteLater)
        self.pin_dialog = dialog
        self._pending_view = name
        dialog.open()
        return False

    @Slot()
    def _on_pin_entered(self) -> None:
        dialog, name = self.pin_dialog, self._pending_view
        self.pin_dialog = None
        self._pending_view = None
        if dialog is None or name is None:
            return
        if pin_matches(self._config.display.lead_pin.reveal(), dialog.pin()):
            self.show_view(name)
        else:
            log.warning("view switch to %s refused: wrong PIN", name)
            self._window.show_message(self.tr("Wrong PIN: the view stays"))

    def open_view_chooser(self) -> None:
        labels = {
            "station": self.tr("STATION — {station}").format(station=self._config.station.upper()),
            "expo": self.tr("EXPO — whole orders, ready for pickup"),
            "board": self.tr("BOARD — every ticket, late first (leads)"),
        }
        dialog = ChoiceDialog(
            self.tr("Switch view"),
            self.tr("Show which view?"),
            [(name, labels[name]) for name in VIEWS],
            self.tr("SHOW"),
            self._window,
        )
        dialog.choose(self._view)
        dialog.accepted.connect(lambda: (name := dialog.chosen()) and self.switch_view(name))
        self._open(dialog)

    # --- all-day ----------------------------------------------------------------------

    def toggle_all_day(self) -> bool:
        """Show or hide the all-day strip; return whether it is shown now."""
        self.all_day_button.toggle()
        return self.all_day_visible

    @property
    def all_day_visible(self) -> bool:
        return not self.all_day.isHidden()

    @Slot(bool)
    def _set_all_day(self, shown: bool) -> None:
        if shown:
            self.all_day.refresh()
        self.all_day.setVisible(shown)

    # --- recall and undo ---------------------------------------------------------------

    def recall_station(self) -> str:
        """The station whose bumps this screen recalls (expo on the expo view)."""
        if self._view == "expo" and not self._config.is_expo:
            return self._config.expo_station
        return self._config.station

    def open_recall_list(self) -> None:
        station = self.recall_station()
        now = utcnow()
        bumps = recent_bumps(self._sync.tickets(), station, now)
        dialog = RecallListDialog(bumps, station, now, self._window)
        dialog.recallRequested.connect(lambda ticket_id: self._recall(ticket_id, station))
        self._open(dialog)

    def _recall(self, ticket_id: str, station: str) -> str:
        log.info("recall %s at %s", ticket_id, station)
        return self._sync.send_command("recall", ticket_id=ticket_id, station=station)

    def undo_last_bump(self) -> str | None:
        """UNDO: recall the ticket this display bumped a moment ago (while the bar shows),
        else the one it bumped last."""
        ticket_id = self.undo_bar.undo()
        if ticket_id is not None:
            return None  # _on_undo sent it
        return self._window.recall_last()

    def _on_undo(self, ticket_id: str) -> None:
        self._recall(ticket_id, self._undo_station)

    def bumped(self, ticket_id: str, station: str) -> None:
        """This display just bumped ``ticket_id``: offer UNDO for a few seconds."""
        ticket = self._sync.ticket(ticket_id)
        number = ticket.display_number if ticket is not None else ticket_id
        self._undo_station = station
        self.undo_bar.show_bump(ticket_id, number)

    _undo_station = ""

    def _watch_bumps(self) -> None:
        signal = getattr(self._window, "commandRequested", None)
        if signal is not None:
            signal.connect(self._on_command_requested)

    _undo_command_id = ""

    @Slot(str, str, str)
    def _on_command_requested(self, action: str, ticket_id: str, command_id: str) -> None:
        if action == "bump":
            self.bumped(ticket_id, self._config.station)
            self._undo_command_id = command_id

    @Slot(object)
    def _on_command_result(self, result: object) -> None:
        # a refused bump has nothing to undo
        if (
            getattr(result, "command_id", None) == self._undo_command_id
            and getattr(result, "ok", True) is False
        ):
            self.undo_bar.dismiss()

    def _on_expo_action(self, ticket_id: str, action: str) -> None:
        station = self._config.expo_station
        command_id = self._sync.send_command(action, ticket_id=ticket_id, station=station)
        if action == "bump":
            self.bumped(ticket_id, station)
            self._undo_command_id = command_id

    # --- dialogs ----------------------------------------------------------------------

    def _open(self, dialog: ChoiceDialog | RecallListDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _closed(self, dialog: object) -> None:
        if self.dialog is dialog:
            self.dialog = None
