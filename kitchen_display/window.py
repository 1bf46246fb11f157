"""The display's main window: header, offline banner, the wall of cards, a message line.

Keys (a bump bar is a keyboard)::

    Left / Right   previous / next card        Home   first card
    S              start the selected card     B, Enter, Return   bump it
    R              recall the ticket this display bumped last

Tapping a card selects it; tapping its START or BUMP button sends that command.
Nothing on screen changes until the agent publishes the new state.
"""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMainWindow,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.card_delegate import TicketCardDelegate
from kitchen_display.config import DisplayConfig
from kitchen_display.sync import TicketSync
from kitchen_display.ticket_model import TicketListModel

log = logging.getLogger("kds.ui")

#: how long a refused-command message stays on screen
MESSAGE_SECONDS = 8

_STYLE = """
QMainWindow, QWidget#central { background: #0f1216; }
QWidget#header { background: #181d24; border-bottom: 2px solid #2c3644; }
QLabel { color: #f4f6f8; }
QLabel#station { font-weight: bold; letter-spacing: 1px; }
QLabel#dim { color: #a0aab8; }
QLabel#online { color: #48bb78; font-weight: bold; }
QLabel#offline { color: #ff5252; font-weight: bold; }
QLabel#banner { background: #c62828; color: #ffffff; font-weight: bold; padding: 10px; }
QLabel#message { background: #ffd84d; color: #111111; font-weight: bold; padding: 8px; }
QLabel#problems { background: #5a4300; color: #ffe08a; font-weight: bold; padding: 6px 10px; }
QListView { background: #0f1216; border: none; }
"""


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#0f1216",
        QPalette.ColorRole.WindowText: "#f4f6f8",
        QPalette.ColorRole.Base: "#0f1216",
        QPalette.ColorRole.AlternateBase: "#181d24",
        QPalette.ColorRole.Text: "#f4f6f8",
        QPalette.ColorRole.Button: "#2c3644",
        QPalette.ColorRole.ButtonText: "#f4f6f8",
        QPalette.ColorRole.Highlight: "#00e5ff",
        QPalette.ColorRole.HighlightedText: "#111111",
        QPalette.ColorRole.ToolTipBase: "#181d24",
        QPalette.ColorRole.ToolTipText: "#f4f6f8",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    return palette


class MainWindow(QMainWindow):
    """One kitchen screen: what ``config.station`` has to cook (or, on expo, to bag)."""

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

        self.setWindowTitle(f"KDS {config.station} — {config.display_id}")
        self.setPalette(dark_palette())
        self.setStyleSheet(_STYLE)
        self.setFont(self._font(16))

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
            config.station, is_expo=config.is_expo, font_scale=self._scale, parent=self
        )
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
        sync.connectionChanged.connect(self._on_connection_changed)
        sync.agentChanged.connect(self._on_agent_changed)
        sync.problemsChanged.connect(self._on_problems_changed)
        sync.commandFailed.connect(self.show_message)
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset):
            signal.connect(self._on_rows_changed)
        model.rowsMoved.connect(self._on_rows_moved)

        self._on_clock()
        self._update_count()
        self._update_connection()
        self.resize(QSize(1280, 800))

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

        self.station_label = QLabel(self._config.station.upper(), header)
        self.station_label.setObjectName("station")
        self.station_label.setFont(self._font(28, bold=True))
        self.display_label = QLabel(self._config.display_id, header)
        self.display_label.setObjectName("dim")
        self.display_label.setFont(self._font(16))
        self.count_label = QLabel(header)
        self.count_label.setFont(self._font(22, bold=True))
        self.connection_label = QLabel(header)
        self.connection_label.setFont(self._font(18, bold=True))
        self.clock_label = QLabel(header)
        self.clock_label.setFont(self._font(26, bold=True))

        row.addWidget(self.station_label)
        row.addWidget(self.display_label)
        row.addStretch(1)
        row.addWidget(self.count_label)
        row.addWidget(self.connection_label)
        row.addWidget(self.clock_label)
        return header

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
        """Send ``action`` (start, bump, recall, ...) for ``ticket_id``; return the command id."""
        log.info("%s %s requested", action, ticket_id)
        return self._sync.send_command(action, ticket_id=ticket_id)

    def recall_last(self) -> str | None:
        ticket_id = self._sync.recall_candidate()
        if ticket_id is None:
            self.show_message("Nothing to recall: this screen has not bumped a ticket yet")
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
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        key = event.key()
        row = self.view.currentIndex().row()
        if key == Qt.Key.Key_Left:
            self.select_row(row - 1 if row > 0 else 0)
        elif key == Qt.Key.Key_Right:
            self.select_row(row + 1)
        elif key == Qt.Key.Key_Home:
            self.select_row(0)
        elif key == Qt.Key.Key_End:
            self.select_row(self._model.rowCount() - 1)
        elif key in (Qt.Key.Key_S, Qt.Key.Key_B, Qt.Key.Key_Enter, Qt.Key.Key_Return):
            ticket_id = self.selected_ticket_id()
            if ticket_id is not None:
                self.request("start" if key == Qt.Key.Key_S else "bump", ticket_id)
        elif key == Qt.Key.Key_R:
            self.recall_last()
        elif key == Qt.Key.Key_P:
            ticket_id = self.selected_ticket_id()
            if ticket_id is not None:
                self.reprint(ticket_id)
        else:
            return False
        return True

    def reprint(self, ticket_id: str, kind: str = "ticket") -> str:
        """Ask the agent to print this station's ticket (or the bag label) again."""
        log.info("reprint %s of %s requested", kind, ticket_id)
        command_id = self._sync.send_command("reprint", ticket_id=ticket_id, kind=kind)
        self.show_message(f"Reprint of {kind} sent to the printer")
        return command_id

    # --- slots ------------------------------------------------------------------------

    @Slot(str, str)
    def _on_action_requested(self, ticket_id: str, action: str) -> None:
        index = self._model.index_of(ticket_id)
        if index.isValid():
            self.view.setCurrentIndex(index)
        self.request(action, ticket_id)

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
            self.connection_label.setText("● ONLINE")
            self.connection_label.setObjectName("online")
        else:
            since = (self._offline_since or datetime.now()).strftime("%H:%M")
            state = (
                "showing last known state" if self._ever_connected else "no tickets received yet"
            )
            why = "kitchen agent not responding" if broker_up else "broker or agent unreachable"
            self.banner.setText(f"OFFLINE — {why} since {since}; {state}")
            self.banner.show()
            self.connection_label.setText("● OFFLINE")
            self.connection_label.setObjectName("offline")
        # Re-apply the stylesheet rule chosen by objectName.
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)

    @Slot()
    def _on_clock(self) -> None:
        self.clock_label.setText(datetime.now().strftime("%H:%M:%S"))

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

    def _update_count(self) -> None:
        count = self._model.rowCount()
        self.count_label.setText(f"{count} open" if count != 1 else "1 open")
