"""The display's main window: header, offline banner, the wall of cards, a message line.

Keys (a bump bar is a keyboard; the map is ``[keys]`` in the config, see
:mod:`kitchen_display.keys`)::

    Left / Right   previous / next card        Home / End   first / last card
    S              start the selected card     B, Enter, Return   bump it
    R              recall the ticket this display bumped last
    P              reprint the selected ticket PgDown / PgUp  next / previous page
    U, Backspace   undo this screen's last bump
    Ctrl+Alt+Q     kiosk mode: exit with the lead PIN

The look is a :class:`~kitchen_display.theme.Theme` (``[display] theme``); every
text on screen goes through ``tr()`` (``[display] language``).

Tapping a card selects it; tapping its START or BUMP button sends that command.
Nothing on screen changes until the agent publishes the new state.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QFont, QKeyEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from kitchen_display import theme as themes
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.config import DisplayConfig
from kitchen_display.keys import KeyMap
from kitchen_display.kiosk import LeadPinDialog, pin_matches
from kitchen_display.paging import CardPager
from kitchen_display.sync import TicketSync
from kitchen_display.ticket_model import TicketListModel

log = logging.getLogger("kds.ui")

#: how long a refused-command message stays on screen
MESSAGE_SECONDS = 8


def dark_palette() -> QPalette:
    """The dark theme's palette (kept for callers of the old name)."""
    return themes.DARK.palette()


class MainWindow(QMainWindow):
    """One kitchen screen: what ``config.station`` has to cook (or, on expo, to bag).

    ``ticketSelectedByUser(ticket_id)``: a cook selected a card with a key (what
    acknowledges a new ticket's sound, like a tap does).
    """

    ticketSelectedByUser = Signal(str)
    #: ``commandRequested(action, ticket_id, command_id)``: this screen sent a ticket command
    commandRequested = Signal(str, str, str)
    #: the views, all-day strip, recall list and UNDO bar (:class:`kitchen_display.views.LeadViews`,
    #: installed by ``build_display``)
    views: Any = None

    def __init__(
        self,
        config: DisplayConfig,
        sync: TicketSync,
        model: TicketListModel,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        self._sync = sync
        self._model = model
        self._scale = config.display.font_scale
        self._offline_since: datetime | None = datetime.now()
        self._ever_connected = False

        self.setWindowTitle(
            self.tr("KDS {station} — {display}").format(
                station=config.station, display=config.display_id
            )
        )
        #: the look (``theme.colors`` are the card colours)
        self.theme = themes.theme_for(config.display.theme)
        themes.apply(self, self.theme, self._scale)
        self.setFont(self._font(16))
        self.keymap = KeyMap(config.keys)
        self._kiosk = config.display.kiosk
        self._close_allowed = not self._kiosk
        self.pin_dialog: LeadPinDialog | None = None

        central = QWidget(self)
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._build_header())

        self.banner = QLabel(central)
        self.banner.setObjectName("banner")
        self.banner.setFont(self._font(20, bold=True))
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setWordWrap(True)
        layout.addWidget(self.banner)

        self.delegate = TicketCardDelegate(
            config.station,
            is_expo=config.is_expo,
            font_scale=self._scale,
            card_size=config.display.card_size,
            min_touch_px=themes.min_touch_px(),
            parent=self,
        )
        set_theme = getattr(self.delegate, "set_theme", None)
        if callable(set_theme):
            set_theme(self.theme)
        self.view = QListView(central)
        self.view.setObjectName("tickets")
        self.view.setViewMode(QListView.ViewMode.IconMode)
        self.view.setFlow(QListView.Flow.LeftToRight)
        self.view.setWrapping(True)
        self.view.setResizeMode(QListView.ResizeMode.Adjust)
        self.view.setMovement(QListView.Movement.Static)
        self.view.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.view.setUniformItemSizes(False)
        self.view.setSpacing(round(6 * self._scale))
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.view.setMouseTracking(False)
        self.view.setModel(model)
        self.view.setItemDelegate(self.delegate)
        self.view.installEventFilter(self)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        layout.addWidget(self.view, 1)
        # The site's settings (folds, aging rules) reach the cards.
        model.follow_settings(sync)
        #: pages of cards: "+7 more →" and page_next() / page_previous()
        self.pager = CardPager(self.view, self)

        #: what the agent says is wrong (a printer out of paper, texts failing), until fixed
        self.problems = QLabel(central)
        self.problems.setObjectName("problems")
        self.problems.setFont(self._font(15, bold=True))
        self.problems.setWordWrap(True)
        self.problems.hide()
        layout.addWidget(self.problems)

        self.message = QLabel(central)
        self.message.setObjectName("message")
        self.message.setFont(self._font(18, bold=True))
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.setCentralWidget(central)

        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(MESSAGE_SECONDS * 1000)
        self._message_timer.timeout.connect(self.message.hide)

        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._on_clock)
        self._clock_timer.start()

        self.delegate.actionRequested.connect(self._on_action_requested)
        self.delegate.lineActionRequested.connect(self._on_line_action_requested)
        self.pager.countsChanged.connect(self._on_page_counts)
        sync.connectionChanged.connect(self._on_connection_changed)
        sync.agentChanged.connect(self._on_agent_changed)
        sync.problemsChanged.connect(self._on_problems_changed)
        sync.pendingChanged.connect(self._on_pending_changed)
        sync.commandFailed.connect(self.show_message)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._on_rows_changed)
        model.rowsMoved.connect(self._on_rows_moved)

        self._on_clock()
        self._update_count()
        self._update_connection()
        self.resize(QSize(1280, 800))
        if self._kiosk:
            self._apply_kiosk()

    # --- building ---------------------------------------------------------------------

    def _font(self, px: float, *, bold: bool = False) -> QFont:
        font = QFont()
        font.setFamilies(["DejaVu Sans", "Noto Sans", "Sans Serif"])
        font.setPixelSize(max(8, round(px * self._scale)))
        font.setBold(bold)
        return font

    def _build_header(self) -> QWidget:
        header = QWidget(self)
        header.setObjectName("header")
        row = QHBoxLayout(header)
        margin = round(10 * self._scale)
        row.setContentsMargins(margin, margin // 2, margin, margin // 2)
        row.setSpacing(round(24 * self._scale))
        self._header_row = row
        self._narrow = False

        self.station_label = QLabel(self._config.station.upper(), header)
        self.station_label.setObjectName("station")
        self.station_label.setFont(self._font(28, bold=True))
        self.display_label = QLabel(self._config.display_id, header)
        self.display_label.setObjectName("dim")
        self.display_label.setFont(self._font(16))
        self.count_label = QLabel(header)
        self.count_label.setFont(self._font(22, bold=True))
        #: "+7 more →": cards that do not fit on the screen (PgDown shows them)
        self.more_label = QLabel(header)
        self.more_label.setObjectName("more")
        self.more_label.setFont(self._font(22, bold=True))
        self.more_label.hide()
        #: "⏳ 3 waiting to send": cook's commands queued while the kitchen is unreachable
        self.pending_label = QLabel(header)
        self.pending_label.setObjectName("pendingLabel")
        self.pending_label.setFont(self._font(18, bold=True))
        self.pending_label.hide()
        self.connection_label = QLabel(header)
        self.connection_label.setFont(self._font(18, bold=True))
        self.clock_label = QLabel(header)
        self.clock_label.setFont(self._font(26, bold=True))

        row.addWidget(self.station_label)
        row.addWidget(self.display_label)
        row.addStretch(1)
        row.addWidget(self.count_label)
        row.addWidget(self.more_label)
        row.addWidget(self.pending_label)
        row.addWidget(self.connection_label)
        row.addWidget(self.clock_label)
        return header

    def resizeEvent(self, event: QResizeEvent) -> None:
        """On a narrow screen the header drops what a cook needs least (the display id)
        and tightens, so no button text is ever cut."""
        super().resizeEvent(event)
        narrow = event.size().width() < round(1280 * self._scale)
        if narrow == self._narrow:
            return
        self._narrow = narrow
        self.display_label.setVisible(not narrow)
        self._header_row.setSpacing(round((10 if narrow else 24) * self._scale))
        self._on_clock()
        self._update_connection()

    # --- public -----------------------------------------------------------------------

    @property
    def offline(self) -> bool:
        """Whether the offline banner is up."""
        return not self.banner.isHidden()

    def selected_ticket_id(self) -> str | None:
        ticket = self._model.ticket_at(self.view.currentIndex().row())
        return ticket.id if ticket is not None else None

    def select_row(self, row: int) -> None:
        """Select card ``row`` (clamped) and scroll it into view."""
        count = self._model.rowCount()
        if count == 0:
            return
        index = self._model.index(max(0, min(row, count - 1)), 0)
        self.view.setCurrentIndex(index)
        self.view.scrollTo(index)

    @Slot(str)
    def show_message(self, text: str) -> None:
        """Show a short message (a refused command) on the message line for a while."""
        log.info("message: %s", text)
        self.message.setText(text)
        self.message.show()
        self._message_timer.start()

    def request(self, action: str, ticket_id: str) -> str:
        """Send ``action`` (start, bump, recall, ...) for ``ticket_id``; return the command id.

        On a screen that took over folded stations (quiet hours), START and BUMP go to
        every shown station that has unfinished lines on the ticket, so the cook's one
        tap finishes everything the card shows.
        """
        log.info("%s %s requested", action, ticket_id)
        command_id = ""
        for station in self._stations_for(action, ticket_id):
            command_id = self._sync.send_command(action, ticket_id=ticket_id, station=station)
        if not command_id:
            command_id = self._sync.send_command(action, ticket_id=ticket_id)
        self.commandRequested.emit(action, ticket_id, command_id)
        return command_id

    def _stations_for(self, action: str, ticket_id: str) -> list[str]:
        shown = self._model.shown_stations
        if action not in ("start", "bump", "ack_void") or len(shown) < 2:
            return []
        ticket = self._sync.ticket(ticket_id)
        if ticket is None:
            return []
        if action == "ack_void":  # every shown station must have seen the VOID
            return [s for s in shown if ticket.items_at(s)] or [self._config.station]
        working = [
            station
            for station in shown
            if ticket.items_at(station) and not ticket.station_done(station)
        ]
        return working or [self._config.station]

    # --- views, all-day, recall list, undo (served by ``self.views``) -----------------

    def toggle_all_day(self) -> bool:
        """Show or hide the all-day strip; return whether it shows now."""
        return bool(self.views.toggle_all_day()) if self.views is not None else False

    def open_recall_list(self) -> None:
        """The list of this station's tickets bumped in the last 15 minutes."""
        if self.views is not None:
            self.views.open_recall_list()

    def undo_last_bump(self) -> str | None:
        """Recall the ticket this screen just bumped (the UNDO bar's button)."""
        return self.views.undo_last_bump() if self.views is not None else self.recall_last()

    def switch_view(self, name: str) -> bool:
        """Show ``station``, ``expo`` or ``board`` (asks for the lead PIN when one is set)."""
        return bool(self.views.switch_view(name)) if self.views is not None else False

    def recall_last(self) -> str | None:
        ticket_id = self._sync.recall_candidate()
        if ticket_id is None:
            self.show_message(self.tr("Nothing to recall: this screen has not bumped a ticket yet"))
            return None
        return self.request("recall", ticket_id)

    # --- keys -------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and self._handle_key(event)
        ):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self._handle_key(event):
            super().keyPressEvent(event)

    def _handle_key(self, event: QKeyEvent) -> bool:
        action = self.keymap.action_for(event)
        if action is None:
            return False
        log.debug("key %s: %s", event.key(), action)
        row = self.view.currentIndex().row()
        if action in ("select_next", "select_previous", "first", "last"):
            target = {
                "select_next": row + 1,
                "select_previous": row - 1 if row > 0 else 0,
                "first": 0,
                "last": self._model.rowCount() - 1,
            }[action]
            self.select_row(target)
            selected = self.selected_ticket_id()
            if selected is not None:
                self.ticketSelectedByUser.emit(selected)
        elif action in ("start", "bump"):
            ticket_id = self.selected_ticket_id()
            if ticket_id is not None:
                self.ticketSelectedByUser.emit(ticket_id)
                self.request(action, ticket_id)
        elif action == "recall":
            self.recall_last()
        elif action == "reprint":
            ticket_id = self.selected_ticket_id()
            if ticket_id is not None:
                self.reprint(ticket_id)
        elif action == "exit":
            self.request_exit()
        else:
            self._call_optional(action)
        return True

    #: key actions served by methods other parts of the window provide (when they do)
    _OPTIONAL_ACTIONS = {
        "page_next": "page_next",
        "page_previous": "page_previous",
        "undo": "undo_last_bump",
        "all_day": "toggle_all_day",
        "recall_list": "open_recall_list",
    }

    def _call_optional(self, action: str) -> None:
        method = getattr(self, self._OPTIONAL_ACTIONS.get(action, ""), None)
        if callable(method):
            method()
            return
        names = {
            "page_next": self.tr("Next page"),
            "page_previous": self.tr("Previous page"),
            "undo": self.tr("Undo"),
            "all_day": self.tr("All day"),
            "recall_list": self.tr("Recall list"),
        }
        self.show_message(
            self.tr("{action}: not available on this screen").format(
                action=names.get(action, action)
            )
        )

    # --- kiosk ------------------------------------------------------------------------

    @property
    def kiosk(self) -> bool:
        return self._kiosk

    def min_touch_px(self) -> int:
        """The smallest touch target on this window's screen (12 mm)."""
        return themes.min_touch_px(self.screen())

    def _apply_kiosk(self) -> None:
        # No cursor on a touch screen, and nothing that needs hovering.
        self.setCursor(Qt.CursorShape.BlankCursor)
        self.view.viewport().setCursor(Qt.CursorShape.BlankCursor)
        self.view.setMouseTracking(False)
        self.view.viewport().setAttribute(Qt.WidgetAttribute.WA_Hover, False)

    def allow_close(self) -> None:
        """Let the next close go through (kiosk mode refuses it otherwise)."""
        self._close_allowed = True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._close_allowed:
            log.info("close refused: kiosk mode")
            event.ignore()
            self.show_message(self.tr("Kiosk mode: a lead exits with Ctrl+Alt+Q and the PIN"))
            return
        if self.pin_dialog is not None:
            self.pin_dialog.close()
        super().closeEvent(event)

    def request_exit(self) -> None:
        """The exit key: close, or in kiosk mode ask for the lead PIN first."""
        if not self._kiosk:
            self.close()
            return
        if not self._config.display.lead_pin:
            self.show_message(
                self.tr("No lead PIN is set (KDS_DISPLAY_LEAD_PIN or keyring display.lead_pin)")
            )
            return
        if self.pin_dialog is not None and self.pin_dialog.isVisible():
            return
        dialog = LeadPinDialog(self)
        dialog.setCursor(Qt.CursorShape.ArrowCursor)
        dialog.accepted.connect(self._on_pin_entered)
        dialog.finished.connect(dialog.deleteLater)
        self.pin_dialog = dialog
        dialog.open()

    @Slot()
    def _on_pin_entered(self) -> None:
        dialog = self.pin_dialog
        self.pin_dialog = None
        if dialog is None:
            return
        if pin_matches(self._config.display.lead_pin.reveal(), dialog.pin()):
            log.info("kiosk exit with the lead PIN")
            self.allow_close()
            self.close()
        else:
            log.warning("kiosk exit refused: wrong PIN")
            self.show_message(self.tr("Wrong PIN: the screen stays open"))

    def reprint(self, ticket_id: str, kind: str = "ticket") -> str:
        """Ask the agent to print this station's ticket (or the bag label) again."""
        log.info("reprint %s of %s requested", kind, ticket_id)
        command_id = self._sync.send_command("reprint", ticket_id=ticket_id, kind=kind)
        what = self.tr("label") if kind == "label" else self.tr("ticket")
        self.show_message(self.tr("Reprint of the {kind} sent to the printer").format(kind=what))
        return command_id

    # --- slots ------------------------------------------------------------------------

    @Slot(str, str)
    def _on_action_requested(self, ticket_id: str, action: str) -> None:
        index = self._model.index_of(ticket_id)
        if index.isValid():
            self.view.setCurrentIndex(index)
        ticket = self._model.ticket_at(index.row()) if index.isValid() else None
        if action == "ack_allergens" and ticket is not None:
            # A folded screen acknowledges for each of its stations on the card.
            for station in self._model.allergen_gate_stations(ticket):
                log.info("ack_allergens %s at %s requested", ticket_id, station)
                self._sync.send_command("ack_allergens", ticket_id=ticket_id, station=station)
            return
        self.request(action, ticket_id)

    @Slot(str, str, str)
    def _on_line_action_requested(self, ticket_id: str, action: str, line_id: str) -> None:
        """A tapped line: ``item_done`` (or ``item_undo`` for a done line)."""
        log.info("%s %s line %s requested", action, ticket_id, line_id)
        self._sync.send_command(action, ticket_id=ticket_id, line_id=line_id)

    def page_next(self) -> None:
        """Show the next page of cards (the first card that did not fit comes to the top)."""
        if self.pager.page_next():
            self._select_first_visible()

    def page_previous(self) -> None:
        """Show the previous page of cards."""
        if self.pager.page_previous():
            self._select_first_visible()

    def _select_first_visible(self) -> None:
        row = self.pager.first_visible_row()
        if row >= 0:
            self.view.setCurrentIndex(self._model.index(row, 0))

    @Slot(int, int)
    def _on_page_counts(self, before: int, after: int) -> None:
        parts = []
        if before:
            parts.append(self.tr("← %n more", "", before))
        if after:
            parts.append(self.tr("+%n more →", "", after))
        on_cards = self.views is None or self.views.current != "board"
        self.more_label.setText("   ".join(parts))
        self.more_label.setVisible(bool(parts) and on_cards)

    @Slot(bool)
    def _on_connection_changed(self, up: bool) -> None:
        self._update_connection()

    @Slot(bool)
    def _on_agent_changed(self, ok: bool) -> None:
        self._update_connection()

    @Slot(list)
    def _on_problems_changed(self, problems: list[str]) -> None:
        if problems:
            self.problems.setText("⚠ " + "   ·   ".join(problems))
            self.problems.show()
        else:
            self.problems.hide()

    def _update_connection(self) -> None:
        broker_up = self._sync.connected
        up = broker_up and self._sync.agent_ok
        if up:
            self._ever_connected = True
            self._offline_since = None
        elif self._offline_since is None:
            self._offline_since = datetime.now()
        if up:
            self.banner.hide()
            online = self.tr("● ONLINE")
            # narrow screens keep the green dot; offline always says so in words (and a banner)
            self.connection_label.setText(online.split(" ")[0] if self._narrow else online)
            self.connection_label.setObjectName("online")
        else:
            since = (self._offline_since or datetime.now()).strftime("%H:%M")
            state = (
                self.tr("showing last known state")
                if self._ever_connected
                else self.tr("no tickets received yet")
            )
            why = (
                self.tr("kitchen agent not responding")
                if broker_up
                else self.tr("broker or agent unreachable")
            )
            self.banner.setText(
                self.tr("OFFLINE — {why} since {since}; {state}").format(
                    why=why, since=since, state=state
                )
            )
            self.banner.show()
            self.connection_label.setText(self.tr("● OFFLINE"))
            self.connection_label.setObjectName("offline")
        # Re-apply the stylesheet rule chosen by objectName.
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    @Slot()
    def _on_clock(self) -> None:
        narrow = getattr(self, "_narrow", False)
        self.clock_label.setText(datetime.now().strftime("%H:%M" if narrow else "%H:%M:%S"))

    @Slot()
    def _on_rows_changed(self) -> None:
        self._update_count()
        current = self.view.currentIndex()
        if not current.isValid():
            if self._model.rowCount() > 0:
                self.select_row(0)
        elif not self.view.selectionModel().isSelected(current):
            # The selected card left: its neighbour becomes current, select it too.
            self.view.setCurrentIndex(current)
        self.view.viewport().update()

    @Slot()
    def _on_rows_moved(self) -> None:
        current = self.view.currentIndex()
        if current.isValid():
            self.view.scrollTo(current)

    @Slot(int)
    def _on_pending_changed(self, count: int) -> None:
        self.pending_label.setText(self.tr("↻ %n waiting to send", "", count))
        self.pending_label.setVisible(count > 0)
        pending: dict[str, list[str]] = {}
        for command in self._sync.pending_commands():
            if command.ticket_id:
                pending.setdefault(command.ticket_id, []).append(command.kind)
        self._model.set_pending({t: tuple(kinds) for t, kinds in pending.items()})

    def _update_count(self) -> None:
        count = self._model.rowCount()
        self.count_label.setText(self.tr("%n open", "", count))
