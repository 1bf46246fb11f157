"""Recall: the list of this station's recently bumped tickets, and the UNDO bar.

* :func:`recent_bumps`: the station's last 50 bumps within 15 minutes, newest first,
  from ``ticket.bumped_at[station]`` of the tickets the display knows.
* :class:`RecallListDialog`: that list, big rows; tap one and RECALL sends ``recall``.
* :class:`UndoBar`: "Bumped #1042 — UNDO" for 5 seconds after this display bumps a
  ticket; UNDO sends ``recall`` for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.theme import min_touch_px
from shared.model import Ticket

#: how far back the recall list looks, and how many bumps it lists
RECALL_WINDOW = timedelta(minutes=15)
RECALL_LIMIT = 50
#: how long the UNDO bar stays after a bump
UNDO_SECONDS = 5.0


def recent_bumps(
    tickets: Iterable[Ticket],
    station: str,
    now: datetime,
    *,
    window: timedelta = RECALL_WINDOW,
    limit: int = RECALL_LIMIT,
) -> list[tuple[Ticket, datetime]]:
    """(ticket, when ``station`` bumped it) for bumps within ``window``, newest first."""
    since = now - window
    bumps = [
        (ticket, at)
        for ticket in tickets
        if (at := ticket.bumped_at.get(station)) is not None and at >= since
    ]
    bumps.sort(key=lambda pair: (pair[1], pair[0].id), reverse=True)
    return bumps[:limit]


def _ago(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


class RecallListDialog(QDialog):
    """This station's recently bumped tickets; ``recallRequested(ticket_id)`` on RECALL."""

    recallRequested = Signal(str)

    def __init__(
        self,
        bumps: list[tuple[Ticket, datetime]],
        station: str,
        now: datetime,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("recallList")
        self.setWindowTitle(self.tr("Recall at {station}").format(station=station.upper()))
        touch = min_touch_px(parent.screen() if parent is not None else None)
        layout = QVBoxLayout(self)
        title = QLabel(
            self.tr("Bumped at {station} in the last {minutes} minutes").format(
                station=station.upper(), minutes=int(RECALL_WINDOW.total_seconds() // 60)
            ),
            self,
        )
        title.setWordWrap(True)
        font = title.font()
        font.setPixelSize(20)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        self.list = QListWidget(self)
        row_font = self.list.font()
        row_font.setPixelSize(20)
        self.list.setFont(row_font)
        self.list.setSpacing(6)
        for ticket, at in bumps:
            text = self.tr("#{number}  {brand}   bumped {time} ({ago} ago)").format(
                number=ticket.display_number,
                brand=ticket.brand.name,
                time=at.astimezone().strftime("%H:%M"),
                ago=_ago((now - at).total_seconds()),
            )
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, ticket.id)
            self.list.addItem(item)
        if not bumps:
            empty = QListWidgetItem(self.tr("Nothing bumped here in the last 15 minutes"))
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.list.addItem(empty)
        else:
            self.list.setCurrentRow(0)
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.recall_button = QPushButton(self.tr("RECALL"), self)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        for button in (self.recall_button, self.cancel_button):
            button.setMinimumSize(2 * touch, touch)
            button.setFont(row_font)
            buttons.addWidget(button)
        self.recall_button.setEnabled(bool(bumps))
        layout.addLayout(buttons)
        self.recall_button.clicked.connect(self._on_recall)
        self.cancel_button.clicked.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self._on_recall())
        self.resize(560, 640)

    def ticket_ids(self) -> list[str]:
        return [
            value
            for row in range(self.list.count())
            if (value := self.list.item(row).data(Qt.ItemDataRole.UserRole))
        ]

    def texts(self) -> list[str]:
        return [self.list.item(row).text() for row in range(self.list.count())]

    def _on_recall(self) -> None:
        item = self.list.currentItem()
        ticket_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if ticket_id:
            self.recallRequested.emit(str(ticket_id))
            self.accept()


class UndoBar(QWidget):
    """``Bumped #1042 — UNDO`` for a few seconds after a bump; ``undoRequested(ticket_id)``."""

    undoRequested = Signal(str)

    def __init__(self, *, seconds: float = UNDO_SECONDS, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        touch = min_touch_px(None)
        row = QHBoxLayout(self)
        row.setContentsMargins(12, 4, 12, 4)
        self.label = QLabel(self)
        font = self.label.font()
        font.setPixelSize(22)
        font.setBold(True)
        self.label.setFont(font)
        self.button = QPushButton(self.tr("UNDO"), self)
        self.button.setObjectName("undo")
        self.button.setFont(font)
        self.button.setMinimumSize(3 * touch, touch)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)
        self._ticket_id: str | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(round(seconds * 1000))
        self._timer.timeout.connect(self.dismiss)
        self.button.clicked.connect(self.undo)
        self.hide()

    @property
    def ticket_id(self) -> str | None:
        """The ticket UNDO would recall (``None`` when the bar is gone)."""
        return self._ticket_id

    def show_bump(self, ticket_id: str, number: str) -> None:
        self._ticket_id = ticket_id
        self.label.setText(self.tr("Bumped #{number}").format(number=number))
        self.show()
        self._timer.start()

    @Slot()
    def undo(self) -> str | None:
        ticket_id = self._ticket_id
        self.dismiss()
        if ticket_id is not None:
            self.undoRequested.emit(ticket_id)
        return ticket_id

    @Slot()
    def dismiss(self) -> None:
        self._timer.stop()
        self._ticket_id = None
        self.hide()
