"""The list of ticket cards one screen shows, as a Qt item model.

:class:`TicketListModel` keeps the tickets this screen should show, sorted rush
first and then oldest first, and updates rows one by one (insert, remove, move,
``dataChanged`` for changed rows only) so the view never flickers or loses the
selection. Which tickets a screen shows:

* a prep station (``grill``): accepted or in-progress tickets with lines at the
  station that are not all done, plus cancelled tickets that had lines there
  (drawn as VOID until the agent clears them);
* the expo station: every accepted or in-progress ticket, whole.

One 1-second timer ticks every card's clock (``dataChanged`` for
:attr:`Role.ElapsedRole` only, plus :attr:`Role.AgeStateRole` for the rows whose
aging state just changed).
"""

from __future__ import annotations

import bisect
import enum
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Slot,
)

from kitchen_display.config import DisplaySettings
from shared.model import ItemStatus, Priority, Ticket, TicketItem, TicketStatus, utcnow

_WORKING = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})

AnyIndex = QModelIndex | QPersistentModelIndex


class AgeState(enum.StrEnum):
    """How long a ticket has waited, against the screen's thresholds."""

    OK = "ok"
    WARN = "warn"
    LATE = "late"


class StationProgress(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Role(enum.IntEnum):
    """Item data roles of :class:`TicketListModel`."""

    TicketRole = Qt.ItemDataRole.UserRole + 1  #: the :class:`~shared.model.Ticket`
    IdRole = enum.auto()  #: ticket id (str)
    ElapsedRole = enum.auto()  #: whole seconds since ``placed_at`` (int, >= 0)
    AgeStateRole = enum.auto()  #: :class:`AgeState`
    LateBySecondsRole = enum.auto()  #: seconds past ``late_minutes`` (0 when not late)
    StationItemsRole = enum.auto()  #: lines this screen works on (tuple[TicketItem]);
    #: the whole order on expo
    OtherStationsRole = enum.auto()  #: "also at" stations (list[str]); empty on expo
    StationProgressRole = enum.auto()  #: list[(station, StationProgress)] of every station
    VoidRole = enum.auto()  #: the order was cancelled (bool)
    StartedRole = enum.auto()  #: the ticket is in progress (bool)
    RushRole = enum.auto()  #: priority is rush (bool)


def station_progress(ticket: Ticket, station: str) -> StationProgress:
    """How far ``station`` is with its lines of ``ticket``."""
    lines = ticket.items_at(station)
    if lines and all(item.status is ItemStatus.DONE for item in lines):
        return StationProgress.DONE
    if any(item.status is not ItemStatus.PENDING for item in lines):
        return StationProgress.IN_PROGRESS
    return StationProgress.PENDING


def format_elapsed(seconds: int) -> str:
    """``mm:ss`` (minutes keep counting past 59: ``75:02``)."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


class TicketListModel(QAbstractListModel):
    """The tickets one screen shows, sorted rush first, then oldest ``placed_at`` first."""

    def __init__(
        self,
        station: str,
        *,
        is_expo: bool,
        settings: DisplaySettings | None = None,
        clock: Callable[[], datetime] = utcnow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._station = station
        self._is_expo = is_expo
        self._settings = settings or DisplaySettings()
        self._clock = clock
        self._rows: list[Ticket] = []
        self._keys: list[tuple[int, datetime, str]] = []
        self._age_states: dict[str, AgeState] = {}
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._on_tick)

    # --- configuration ----------------------------------------------------------------

    @property
    def station(self) -> str:
        return self._station

    @property
    def is_expo(self) -> bool:
        return self._is_expo

    @property
    def settings(self) -> DisplaySettings:
        return self._settings

    def shows(self, ticket: Ticket) -> bool:
        """Whether this screen shows ``ticket`` at all."""
        if self._is_expo:
            # expo bags the orders: it must see a VOID before packing food
            return ticket.status in _WORKING or ticket.status is TicketStatus.CANCELLED
        if not ticket.items_at(self._station):
            return False
        if ticket.status is TicketStatus.CANCELLED:
            return True
        return ticket.status in _WORKING and not ticket.station_done(self._station)

    # --- lookups ----------------------------------------------------------------------

    def tickets(self) -> list[Ticket]:
        """The shown tickets in display order."""
        return list(self._rows)

    def ticket_at(self, row: int) -> Ticket | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, ticket_id: str) -> int:
        """The row of ``ticket_id``, or -1 when this screen does not show it."""
        for row, ticket in enumerate(self._rows):
            if ticket.id == ticket_id:
                return row
        return -1

    def index_of(self, ticket_id: str) -> QModelIndex:
        row = self.row_of(ticket_id)
        return self.index(row, 0) if row >= 0 else QModelIndex()

    # --- updates (connect TicketSync's signals here) -----------------------------------

    @Slot(object)
    def upsert(self, ticket: Ticket) -> None:
        """Add, change, move or drop one ticket's card."""
        row = self.row_of(ticket.id)
        if not self.shows(ticket):
            if row >= 0:
                self._remove_row(row)
            return
        key = _sort_key(ticket)
        if row < 0:
            new_row = bisect.bisect_left(self._keys, key)
            self.beginInsertRows(QModelIndex(), new_row, new_row)
            self._rows.insert(new_row, ticket)
            self._keys.insert(new_row, key)
            self._age_states[ticket.id] = self._age_state(ticket)
            self.endInsertRows()
            self._update_timer()
            return
        old = self._rows[row]
        if self._keys[row] != key:
            # Where it goes among the others (computed without itself).
            others = self._keys[:row] + self._keys[row + 1 :]
            dest = bisect.bisect_left(others, key)
            if dest != row:
                qt_dest = dest + 1 if dest > row else dest
                self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), qt_dest)
                del self._rows[row]
                del self._keys[row]
                self._rows.insert(dest, ticket)
                self._keys.insert(dest, key)
                self.endMoveRows()
                row = dest
        self._rows[row] = ticket
        self._keys[row] = key
        if old != ticket:
            index = self.index(row, 0)
            self.dataChanged.emit(index, index)

    @Slot(str)
    def remove(self, ticket_id: str) -> None:
        row = self.row_of(ticket_id)
        if row >= 0:
            self._remove_row(row)

    @Slot(list)
    def reset(self, tickets: Iterable[Ticket]) -> None:
        """Make the screen show exactly ``tickets`` (filtered), changing only what differs."""
        wanted = {ticket.id: ticket for ticket in tickets}
        for ticket in list(self._rows):
            if ticket.id not in wanted:
                self.remove(ticket.id)
        for ticket in wanted.values():
            self.upsert(ticket)

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        ticket = self._rows.pop(row)
        del self._keys[row]
        self._age_states.pop(ticket.id, None)
        self.endRemoveRows()
        self._update_timer()

    # --- clocks -----------------------------------------------------------------------

    def elapsed_seconds(self, ticket: Ticket) -> int:
        return max(0, int((self._clock() - ticket.placed_at).total_seconds()))

    def _age_state(self, ticket: Ticket) -> AgeState:
        minutes = self.elapsed_seconds(ticket) / 60
        if minutes >= self._settings.late_minutes:
            return AgeState.LATE
        if minutes >= self._settings.warn_minutes:
            return AgeState.WARN
        return AgeState.OK

    def _update_timer(self) -> None:
        if self._rows and not self._timer.isActive():
            self._timer.start()
        elif not self._rows:
            self._timer.stop()

    @Slot()
    def _on_tick(self) -> None:
        if not self._rows:
            self._timer.stop()
            return
        self.dataChanged.emit(
            self.index(0, 0), self.index(len(self._rows) - 1, 0), [Role.ElapsedRole]
        )
        for row, ticket in enumerate(self._rows):
            state = self._age_state(ticket)
            if self._age_states.get(ticket.id) != state:
                self._age_states[ticket.id] = state
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Role.AgeStateRole, Role.LateBySecondsRole])

    def tick(self) -> None:
        """Advance the clocks now (what the 1-second timer does)."""
        self._on_tick()

    # --- QAbstractItemModel -----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsSelectable
            | Qt.ItemFlag.ItemNeverHasChildren
        )

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in Role:
            names[int(role)] = QByteArray((role.name[0].lower() + role.name[1:]).encode())
        return names

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        ticket = self.ticket_at(index.row())
        if ticket is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return f"#{ticket.display_number} {ticket.brand.name}"
        if role in (Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.AccessibleTextRole):
            return self._describe(ticket)
        try:
            custom = Role(role)
        except ValueError:
            return None
        return self._role_data(ticket, custom)

    def _role_data(self, ticket: Ticket, role: Role) -> Any:
        if role is Role.TicketRole:
            return ticket
        if role is Role.IdRole:
            return ticket.id
        if role is Role.ElapsedRole:
            return self.elapsed_seconds(ticket)
        if role is Role.AgeStateRole:
            return self._age_state(ticket)
        if role is Role.LateBySecondsRole:
            late_at = round(self._settings.late_minutes * 60)
            return max(0, self.elapsed_seconds(ticket) - late_at)
        if role is Role.StationItemsRole:
            return self.station_items(ticket)
        if role is Role.OtherStationsRole:
            if self._is_expo:
                return []
            return [station for station in ticket.stations() if station != self._station]
        if role is Role.StationProgressRole:
            return [(station, station_progress(ticket, station)) for station in ticket.stations()]
        if role is Role.VoidRole:
            return ticket.status is TicketStatus.CANCELLED
        if role is Role.StartedRole:
            return ticket.status is TicketStatus.IN_PROGRESS
        if role is Role.RushRole:
            return ticket.priority is Priority.RUSH
        return None  # pragma: no cover - every Role is handled above

    def station_items(self, ticket: Ticket) -> tuple[TicketItem, ...]:
        return ticket.items if self._is_expo else ticket.items_at(self._station)

    def _describe(self, ticket: Ticket) -> str:
        lines = ", ".join(f"{item.qty}x {item.name}" for item in self.station_items(ticket))
        return (
            f"Order {ticket.display_number} ({ticket.brand.name}, {ticket.channel}), "
            f"{format_elapsed(self.elapsed_seconds(ticket))} waiting: {lines}"
        )


def _sort_key(ticket: Ticket) -> tuple[int, datetime, str]:
    return (0 if ticket.priority is Priority.RUSH else 1, ticket.placed_at, ticket.id)
