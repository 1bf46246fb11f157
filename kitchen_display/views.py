"""The screen's views and the lead's tools around them.

The middle of the window is a :class:`ViewStack` of pages:

* ``station``: :class:`StationPage`, this station's cards, with the all-day strip
  (ALL DAY button) and, on expo, the READY FOR PICKUP shelf;
* ``expo``: whole orders with each station's progress and the ready shelf (on a
  station's screen: :class:`ExpoPage`, the expo station's cards, built when first shown);
* ``board``: :class:`~kitchen_display.board.BoardView` for kitchen leads.

:class:`LeadViews` is what the header's lead buttons do: switch views (VIEW…, behind
the lead PIN when ``[display] lead_pin`` is set), show the all-day strip, open
RECALL… (this station's bumps of the last 15 minutes), and offer the 5-second UNDO
bar after this display bumps a ticket. :class:`~kitchen_display.window.MainWindow`
builds every part and hands them over; nothing here reaches into the window.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import (
    QObject,
    Qt,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.all_day import AllDayStrip
from kitchen_display.board import BoardView
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_wall import CardWall, card_wall
from kitchen_display.config import VIEWS, DisplayConfig
from kitchen_display.follow import follow_tickets
from kitchen_display.header import Header
from kitchen_display.kiosk import LeadGate
from kitchen_display.ready_shelf import ReadyShelf
from kitchen_display.recall import RecallListDialog, UndoBar, recent_bumps
from kitchen_display.sync import TicketSync
from kitchen_display.theme import Theme
from kitchen_display.ticket_model import TicketListModel
from kitchen_display.widgets import ChoiceDialog
from shared.model import utcnow
from shared.wire import CommandResult

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


class StationPage(QWidget):
    """This station's cards, the all-day strip above them and, on expo, the ready shelf."""

    def __init__(
        self,
        sync: TicketSync,
        config: DisplayConfig,
        cards: CardWall,
        *,
        scale: float,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("stationPage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.all_day = AllDayStrip(
            sync, config.station, expo_station=config.expo_station, scale=scale
        )
        self.all_day.hide()
        layout.addWidget(self.all_day)
        self.cards = cards
        layout.addWidget(cards, 1)
        self.ready_shelf: ReadyShelf | None = None
        if config.is_expo:
            self.ready_shelf = ReadyShelf(sync, scale=scale, parent=self)
            layout.addWidget(self.ready_shelf)


class ExpoPage(QWidget):
    """Expo's cards on a station's screen (a lead looking over expo's shoulder).

    ``actionRequested(ticket_id, action)``: a tap on one of its cards' buttons.
    """

    actionRequested = Signal(str, str)

    def __init__(
        self,
        sync: TicketSync,
        config: DisplayConfig,
        theme: Theme,
        *,
        scale: float,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("expoPage")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model = TicketListModel(config.expo_station, is_expo=True, settings=config.display)
        self.model.setParent(self)
        follow_tickets(sync, self.model)
        self.delegate = TicketCardDelegate(
            config.expo_station, is_expo=True, font_scale=scale, theme=theme, parent=self
        )
        self.cards = card_wall(
            self.model, self.delegate, name="expoTickets", scale=scale, parent=self
        )
        self.delegate.actionRequested.connect(self.actionRequested)
        layout.addWidget(self.cards, 1)
        self.ready_shelf = ReadyShelf(sync, scale=scale, parent=self)
        layout.addWidget(self.ready_shelf)


class ViewStack(QStackedWidget):
    """The pages by view name; ``expo`` on a station's screen is built when first shown."""

    def __init__(
        self,
        station: StationPage,
        board: BoardView,
        expo: Callable[[], ExpoPage] | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("views")
        self.station = station
        self.board = board
        self._make_expo = expo
        self.expo: ExpoPage | None = None
        self.addWidget(station)
        self.addWidget(board)
        self._current = "station"

    @property
    def current(self) -> str:
        return self._current

    def show_view(self, name: str) -> None:
        if name not in VIEWS:
            raise ValueError(f"unknown view {name!r}")
        if name == "board":
            self.setCurrentWidget(self.board)
        elif name == "expo" and self._make_expo is not None:
            if self.expo is None:
                self.expo = self._make_expo()
                self.addWidget(self.expo)
            self.setCurrentWidget(self.expo)
        else:
            self.setCurrentWidget(self.station)
        self._current = name

    @property
    def ready_shelf(self) -> ReadyShelf | None:
        """The READY FOR PICKUP shelf on screen (expo's station page, or the expo page)."""
        if self.station.ready_shelf is not None:
            return self.station.ready_shelf
        return self.expo.ready_shelf if self.expo is not None else None


class LeadViews(QObject):
    """View switching, all-day, recall list and undo for one window.

    ``viewChanged(name)``: a view is on screen now. ``messageRequested(text)``: a line
    for the window's message bar. ``dialog`` is the dialog open now (view chooser,
    recall list). ``aboutRequested()``: ☰'s ABOUT was chosen.
    """

    viewChanged = Signal(str)
    messageRequested = Signal(str)
    #: ☰'s "ABOUT" on a narrow screen (the window opens the about box)
    aboutRequested = Signal()

    def __init__(
        self,
        config: DisplayConfig,
        sync: TicketSync,
        header: Header,
        stack: ViewStack,
        undo_bar: UndoBar,
        gate: LeadGate,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._sync = sync
        self._header = header
        self.stack = stack
        self.undo_bar = undo_bar
        self._gate = gate
        self.dialog: ChoiceDialog | RecallListDialog | None = None
        self._undo_station = ""
        self._undo_command_id = ""
        header.all_day_button.toggled.connect(self._on_all_day_toggled)
        header.recall_button.clicked.connect(self.open_recall_list)
        header.view_button.clicked.connect(self.open_view_chooser)
        header.lead_menu_button.clicked.connect(self.open_lead_menu)
        undo_bar.undoRequested.connect(self._on_undo)
        sync.commandResult.connect(self._on_command_result)

    # --- views ------------------------------------------------------------------------

    @property
    def current(self) -> str:
        return self.stack.current

    def show_view(self, name: str) -> None:
        """Show view ``name`` now (no PIN: the start-up view, or after the PIN)."""
        self.stack.show_view(name)
        self._header.all_day_button.setEnabled(name != "board")
        self._header.view_button.setText(self.tr("VIEW: {name}").format(name=name.upper()))
        log.info("view: %s", name)
        self.viewChanged.emit(name)

    def switch_view(self, name: str) -> bool:
        """A lead switches the view: asks for the lead PIN when one is set.

        Returns whether the view changed right away (False while the PIN is asked).
        """
        if name not in VIEWS:
            self.messageRequested.emit(self.tr("Unknown view: {name}").format(name=name))
            return False
        if name == self.current:
            return True
        if not self._gate.has_pin:
            log.info("view switch to %s without a PIN (none is set)", name)
            self.show_view(name)
            return True
        self._gate.ask(
            f"view switch to {name}",
            granted=lambda: self.show_view(name),
            refused=lambda: self.messageRequested.emit(self.tr("Wrong PIN: the view stays")),
            title=self.tr("Switch view"),
            prompt=self.tr("Lead PIN to show the {name} view:").format(name=name.upper()),
            ok_text=self.tr("Switch"),
        )
        return False

    def open_view_chooser(self) -> None:
        labels = {
            "station": self.tr("STATION — {station}").format(station=self._config.station.upper()),
            "expo": self.tr("EXPO — whole orders, ready for pickup"),
            "board": self.tr("BOARD — every ticket, late first (leads)"),
        }
        parent = self._header.window()
        dialog = ChoiceDialog(
            self.tr("Switch view"),
            self.tr("Show which view?"),
            [(name, labels[name]) for name in VIEWS],
            self.tr("SHOW"),
            parent,
        )
        dialog.choose(self.current)
        dialog.accepted.connect(lambda: (name := dialog.chosen()) and self.switch_view(name))
        self._open(dialog)

    def open_lead_menu(self) -> None:
        """☰ on a narrow screen: the header's lead buttons as a list of big choices."""
        choices = [
            (
                "all_day",
                self.tr("ALL DAY — hide the counts")
                if self.all_day_visible
                else self.tr("ALL DAY — what is still to make"),
            ),
            ("recall", self.tr("RECALL… — tickets bumped here lately")),
            ("view", self._header.view_button.text()),
            ("about", self.tr("ABOUT — release, site, broker")),
        ]
        if not self._header.all_day_button.isEnabled():
            choices = choices[1:]
        dialog = ChoiceDialog(
            self.tr("Lead tools"),
            self.tr("Open what?"),
            choices,
            self.tr("OPEN"),
            self._header.window(),
        )
        dialog.choose(choices[0][0])
        dialog.accepted.connect(lambda: self._on_lead_choice(dialog.chosen()))
        self._open(dialog)

    def _on_lead_choice(self, choice: str | None) -> None:
        # the menu has closed by now (finished comes before accepted): one dialog at a time
        if choice == "all_day":
            self.toggle_all_day()
        elif choice == "recall":
            self.open_recall_list()
        elif choice == "view":
            self.open_view_chooser()
        elif choice == "about":
            self.aboutRequested.emit()

    # --- all-day ----------------------------------------------------------------------

    def toggle_all_day(self) -> bool:
        """Show or hide the all-day strip; return whether it is shown now."""
        self._header.all_day_button.toggle()
        return self.all_day_visible

    @property
    def all_day_visible(self) -> bool:
        return not self.stack.station.all_day.isHidden()

    @Slot(bool)
    def _on_all_day_toggled(self, shown: bool) -> None:
        strip = self.stack.station.all_day
        if shown:
            strip.refresh()
        strip.setVisible(shown)

    # --- recall and undo ---------------------------------------------------------------

    def recall_station(self) -> str:
        """The station whose bumps this screen recalls (expo on the expo view)."""
        if self.current == "expo" and not self._config.is_expo:
            return self._config.expo_station
        return self._config.station

    def open_recall_list(self) -> None:
        station = self.recall_station()
        now = utcnow()
        bumps = recent_bumps(self._sync.tickets(), station, now)
        dialog = RecallListDialog(bumps, station, now, self._header.window())
        dialog.recallRequested.connect(lambda ticket_id: self._recall(ticket_id, station))
        self._open(dialog)

    def _recall(self, ticket_id: str, station: str) -> str:
        log.info("recall %s at %s", ticket_id, station)
        return self._sync.send_command("recall", ticket_id=ticket_id, station=station)

    def bumped(self, ticket_id: str, station: str, command_id: str) -> None:
        """This display just bumped ``ticket_id``: offer UNDO for a few seconds."""
        ticket = self._sync.ticket(ticket_id)
        number = ticket.display_number if ticket is not None else ticket_id
        self._undo_station = station
        self._undo_command_id = command_id
        self.undo_bar.show_bump(ticket_id, number)

    def expo_action(self, ticket_id: str, action: str) -> str:
        """A tap on the expo page's card (a station's screen showing expo)."""
        station = self._config.expo_station
        command_id = self._sync.send_command(action, ticket_id=ticket_id, station=station)
        if action == "bump":
            self.bumped(ticket_id, station, command_id)
        return command_id

    @Slot(str)
    def _on_undo(self, ticket_id: str) -> None:
        self._recall(ticket_id, self._undo_station)

    @Slot(object)
    def _on_command_result(self, result: CommandResult) -> None:
        # a refused bump has nothing to undo
        if result.command_id == self._undo_command_id and not result.ok:
            self.undo_bar.dismiss()

    # --- dialogs ----------------------------------------------------------------------

    def _open(self, dialog: ChoiceDialog | RecallListDialog) -> None:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._closed(dialog))
        self.dialog = dialog
        dialog.open()

    def _closed(self, dialog: object) -> None:
        if self.dialog is dialog:
            self.dialog = None
