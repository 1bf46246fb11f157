"""The display's main window: header, offline banner, the wall of cards, a message line.

Keys (a bump bar is a keyboard; the map is ``[keys]`` in the config, see
:mod:`kitchen_display.keys`)::

    Left / Right   previous / next card        Home / End   first / last card
    S              start the selected card     B, Enter, Return   bump it
    R              recall the ticket this display bumped last
    P              reprint the selected ticket PgDown / PgUp  next / previous page
    U, Backspace   undo this screen's last bump
    Ctrl+Alt+Q     kiosk mode: exit with the lead PIN

The display id button in the header opens the about box (:mod:`kitchen_display.about`).

The look is a :class:`~kitchen_display.theme.Theme` (``[display] theme``); every
text on screen goes through ``tr()`` (``[display] language``).

Tapping a card selects it; tapping its START or BUMP button sends that command.
Nothing on screen changes until the agent publishes the new state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from kitchen_display import theme as themes
from kitchen_display.about import AboutDialog
from kitchen_display.board import BoardView
from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.card_wall import card_wall
from kitchen_display.command_queue import Expired, PendingCommand
from kitchen_display.config import DisplayConfig
from kitchen_display.header import Header
from kitchen_display.keys import KeyMap
from kitchen_display.kiosk import LeadGate
from kitchen_display.paging import CardPager
from kitchen_display.recall import UndoBar
from kitchen_display.sync import TicketSync
from kitchen_display.ticket_model import TicketListModel
from kitchen_display.views import (
    ExpoPage,
    LeadViews,
    StationPage,
    ViewStack,
    lead_stylesheet,
)
from kitchen_display.widgets import font

log = logging.getLogger("kds.ui")


def _kinds_by_ticket(commands: list[PendingCommand]) -> dict[str, tuple[str, ...]]:
    """ticket id -> the kinds of its commands (``("start", "bump")``), oldest first."""
    kinds: dict[str, list[str]] = {}
    for command in commands:
        if command.ticket_id:
            kinds.setdefault(command.ticket_id, []).append(command.kind)
    return {ticket_id: tuple(k) for ticket_id, k in kinds.items()}


#: how long a refused-command message stays on screen
MESSAGE_SECONDS = 8
#: how many expired commands a notice names ("bump #1042, start #1043 …")
MAX_NAMED_COMMANDS = 5


class MainWindow(QMainWindow):
    """One kitchen screen: what ``config.station`` has to cook (or, on expo, to bag).

    It composes its parts top to bottom: :class:`~kitchen_display.header.Header`, the
    offline banner, the :class:`~kitchen_display.views.ViewStack` (station cards, expo,
    board), the UNDO bar, the agent's problems and the message line; ``views``
    (:class:`~kitchen_display.views.LeadViews`) serves the lead's buttons and
    ``lead_gate`` (:class:`~kitchen_display.kiosk.LeadGate`) asks for the lead PIN.

    ``ticketSelectedByUser(ticket_id)``: a cook selected a card with a key (what
    acknowledges a new ticket's sound, like a tap does).
    ``commandRequested(action, ticket_id, command_id)``: this screen sent a ticket command.
    """

    ticketSelectedByUser = Signal(str)
    commandRequested = Signal(str, str, str)

    def __init__(
        self,
        config: DisplayConfig,
        sync: TicketSync,
        model: TicketListModel,
        parent: QWidget | None = None,
        *,
        config_path: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._config = config
        #: the file the config came from (the about box names it)
        self.config_path = config_path
        #: the about box while it is open
        self.about: AboutDialog | None = None
        self._sync = sync
        self._model = model
        scale = self._scale = config.display.font_scale
        self._offline_since: datetime | None = datetime.now()
        self._ever_connected = False

        self.setWindowTitle(
            self.tr("KDS {station} — {display}").format(
                station=config.station, display=config.display_id
            )
        )
        # the look (``theme.colors`` are the card colours)
        self.theme = themes.theme_for(config.display.theme)
        self.setPalette(self.theme.palette())
        self.setStyleSheet(self.theme.stylesheet(scale) + lead_stylesheet(self.theme, scale))
        self.setFont(font(16, scale))
        self.keymap = KeyMap(config.keys)
        self._kiosk = config.display.kiosk
        self._close_allowed = not self._kiosk
        self.lead_gate = LeadGate(config.display.lead_pin, self)
        self.lead_gate.messageRequested.connect(self.show_message)

        central = QWidget(self)
        central.setObjectName("central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.header = Header(config.station, config.display_id, scale=scale, parent=central)
        layout.addWidget(self.header)

        self.banner = QLabel(central)
        self.banner.setObjectName("banner")
        self.banner.setFont(font(20, scale, bold=True))
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.setWordWrap(True)
        layout.addWidget(self.banner)

        self.delegate = TicketCardDelegate(
            config.station,
            is_expo=config.is_expo,
            font_scale=scale,
            card_size=config.display.card_size,
            min_touch_px=themes.min_touch_px(),
            theme=self.theme,
            parent=self,
        )
        self.view = card_wall(model, self.delegate, name="tickets", scale=scale, parent=central)
        self.view.installEventFilter(self)
        self.view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        # The site's settings (folds, aging rules) reach the cards.
        model.follow_settings(sync)
        #: pages of cards: "+7 more →" and page_next() / page_previous()
        self.pager = CardPager(self.view, self)

        self.board = BoardView(sync, scale=scale, theme=self.theme)
        make_expo: Callable[[], ExpoPage] | None = None
        if not config.is_expo:
            make_expo = self._make_expo_page
        self.stack = ViewStack(
            StationPage(sync, config, self.view, scale=scale),
            self.board,
            make_expo,
            parent=central,
        )
        layout.addWidget(self.stack, 1)
        self.undo_bar = UndoBar(parent=central)
        layout.addWidget(self.undo_bar)
        self.views = LeadViews(
            config, sync, self.header, self.stack, self.undo_bar, self.lead_gate, parent=self
        )

        # what the agent says is wrong (a printer out of paper, texts failing), until fixed
        self.problems = QLabel(central)
        self.problems.setObjectName("problems")
        self.problems.setFont(font(15, scale, bold=True))
        self.problems.setWordWrap(True)
        self.problems.hide()
        layout.addWidget(self.problems)

        self.message = QLabel(central)
        self.message.setObjectName("message")
        self.message.setFont(font(18, scale, bold=True))
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        self.setCentralWidget(central)

        #: the expired commands the message line names, while it does
        self._expired: list[Expired] = []
        self._expired_notice = ""
        self._message_timer = QTimer(self)
        self._message_timer.setSingleShot(True)
        self._message_timer.setInterval(MESSAGE_SECONDS * 1000)
        self._message_timer.timeout.connect(self.message.hide)

        self._clock_timer = QTimer(self)
        self._clock_timer.setInterval(1000)
        self._clock_timer.timeout.connect(self._on_clock)
        self._clock_timer.start()

        #: key actions beyond selecting, starting and bumping the selected card
        self._key_actions: dict[str, Callable[[], object]] = {
            "recall": self.recall_last,
            "exit": self.request_exit,
            "page_next": self.page_next,
            "page_previous": self.page_previous,
            "undo": self.undo_last_bump,
            "all_day": self.views.toggle_all_day,
            "recall_list": self.views.open_recall_list,
        }

        self.header.about_button.clicked.connect(self.open_about)
        self.views.aboutRequested.connect(self.open_about)
        self.delegate.actionRequested.connect(self._on_action_requested)
        self.delegate.lineActionRequested.connect(self._on_line_action_requested)
        self.pager.countsChanged.connect(self._on_page_counts)
        self.board.messageRequested.connect(self.show_message)
        self.views.messageRequested.connect(self.show_message)
        self.views.viewChanged.connect(self._on_view_changed)
        sync.connectionChanged.connect(self._on_connection_changed)
        sync.agentChanged.connect(self._on_agent_changed)
        sync.problemsChanged.connect(self._on_problems_changed)
        sync.pendingChanged.connect(self._on_pending_changed)
        sync.commandFailed.connect(self.show_message)
        sync.commandsExpired.connect(self._on_commands_expired)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._on_rows_changed)
        model.rowsMoved.connect(self._on_rows_moved)

        self.views.show_view(config.display.view)
        self._on_clock()
        self._update_count()
        self._update_connection()
        self.resize(QSize(1280, 800))
        if self._kiosk:
            self._apply_kiosk()

    # --- building ---------------------------------------------------------------------

    def _make_expo_page(self) -> ExpoPage:
        page = ExpoPage(self._sync, self._config, self.theme, scale=self._scale)
        page.actionRequested.connect(self._on_expo_action_requested)
        return page

    def resizeEvent(self, event: QResizeEvent) -> None:
        """On a narrow screen the header drops what a cook needs least (the display id)
        and tightens, so no button text is ever cut."""
        super().resizeEvent(event)
        if self.header.fit_width(event.size().width()):
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
        if action == "bump":
            self.views.bumped(ticket_id, self._config.station, command_id)
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

    # --- views, all-day, recall list, undo (the lead's tools: ``self.views``) ---------

    def undo_last_bump(self) -> str | None:
        """UNDO: recall the ticket this screen bumped a moment ago (while the bar shows,
        :meth:`UndoBar.undo` sends it), else the one it bumped last."""
        if self.undo_bar.undo() is not None:
            return None
        return self.recall_last()

    def recall_last(self) -> str | None:
        ticket_id = self._sync.recall_candidate()
        if ticket_id is None:
            self.show_message(self.tr("Nothing to recall: this screen has not bumped a ticket yet"))
            return None
        return self.request("recall", ticket_id)

    def open_about(self) -> AboutDialog:
        """The about box (the header's display id button, or ☰): release, build, Qt, site,
        config file, broker, log."""
        if self.about is not None:
            return self.about
        dialog = self.about = AboutDialog(
            self._config, self.config_path, scale=self._scale, parent=self
        )
        dialog.setCursor(Qt.CursorShape.ArrowCursor)  # kiosk mode hides the cursor
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(self._on_about_closed)
        dialog.open()
        return dialog

    @Slot(int)
    def _on_about_closed(self, _result: int) -> None:
        self.about = None

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
            ticket = self._model.ticket_at(row)
            if ticket is not None:
                self.ticketSelectedByUser.emit(ticket.id)
                buttons = self._model.actions(ticket)
                if action not in buttons and len(buttons) == 1:
                    # A bump bar cannot tap: on a card that asks for one acknowledgement
                    # (OK, SEEN on a VOID; ALLERGY SEEN) START and BUMP press that button.
                    self._on_action_requested(ticket.id, buttons[0])
                else:
                    self.request(action, ticket.id)
        elif action == "reprint":
            ticket_id = self.selected_ticket_id()
            if ticket_id is not None:
                self.reprint(ticket_id)
        elif action in self._key_actions:
            self._key_actions[action]()
        else:
            log.warning("key action %s has no handler", action)
            return False
        return True

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
        self.lead_gate.close()
        super().closeEvent(event)

    def request_exit(self) -> None:
        """The exit key: close, or in kiosk mode ask for the lead PIN first."""
        if not self._kiosk:
            self.close()
            return
        if not self._config.display.lead_pin:
            self.show_message(self.tr("No lead PIN is set (kitchen-display set-pin)"))
            return
        self.lead_gate.ask(
            "kiosk exit",
            granted=self._on_exit_granted,
            refused=lambda: self.show_message(self.tr("Wrong PIN: the screen stays open")),
        )

    def _on_exit_granted(self) -> None:
        self.allow_close()
        self.close()

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
        on_cards = self.views.current != "board"  # the pager counts cards, not board rows
        self.header.more_label.setText("   ".join(parts))
        self.header.more_label.setVisible(bool(parts) and on_cards)

    @Slot(str)
    def _on_view_changed(self, name: str) -> None:
        if name == "board":
            self.header.more_label.hide()
            self.board.table.setFocus()
        else:
            self._on_page_counts(*self.pager.counts())
            if name == "station":
                self.view.setFocus()

    @Slot(str, str)
    def _on_expo_action_requested(self, ticket_id: str, action: str) -> None:
        self.views.expo_action(ticket_id, action)

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
            self.header.show_online(True, online.split(" ")[0] if self.header.narrow else online)
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
            self.header.show_online(False, self.tr("● OFFLINE"))

    @Slot()
    def _on_clock(self) -> None:
        self.header.show_clock(datetime.now())

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

    @Slot(QModelIndex, int, int, QModelIndex, int)
    def _on_rows_moved(
        self, _parent: QModelIndex, start: int, end: int, _dest_parent: QModelIndex, dest: int
    ) -> None:
        """The selected card moved (a rush goes first): keep it in sight. Another card
        moving leaves the wall where it is (and costs no layout now)."""
        current = self.view.currentIndex()
        count = end - start + 1
        first = dest - count if dest > start else dest
        if current.isValid() and first <= current.row() < first + count:
            self.view.scrollTo(current)

    @Slot(int)
    def _on_pending_changed(self, count: int) -> None:
        self.header.pending_label.setText(self.tr("↻ %n waiting to send", "", count))
        self.header.pending_label.setVisible(count > 0)
        self._model.set_pending(
            _kinds_by_ticket(self._sync.pending_commands()),
            _kinds_by_ticket(self._sync.unconfirmed_commands()),
        )

    @Slot(list)
    def _on_commands_expired(self, expired: list[Expired]) -> None:
        """One notice for the commands that expire while it shows ("2 commands expired
        unsent: bump #1042, start #1043"), not one hiding the other."""
        if self.message.isHidden() or self.message.text() != self._expired_notice:
            self._expired = []
        self._expired += expired
        self._expired_notice = self._expiry_text(self._expired)
        self.show_message(self._expired_notice)

    def _expiry_text(self, expired: list[Expired]) -> str:
        count = len(expired)
        names = [gone.command.label() for gone in expired[:MAX_NAMED_COMMANDS]]
        listed = ", ".join(names) + (" …" if count > MAX_NAMED_COMMANDS else "")
        if any(gone.sent for gone in expired):
            # the broker took them: the agent may still apply them when it is back
            if count == 1:
                text = self.tr("1 command expired without an answer from the kitchen: {commands}")
            else:
                text = self.tr(
                    "%n commands expired without an answer from the kitchen: {commands}", "", count
                )
        elif count == 1:
            text = self.tr("1 command expired unsent: {commands}")
        else:
            text = self.tr("%n commands expired unsent: {commands}", "", count)
        return text.format(commands=listed)

    def _update_count(self) -> None:
        count = self._model.rowCount()
        self.header.count_label.setText(self.tr("%n open", "", count))
