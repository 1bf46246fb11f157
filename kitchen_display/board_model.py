"""The ticket board for kitchen leads, as a Qt table model, and its rolling statistics.

:class:`BoardModel` holds every open ticket of the site (all stations), one row each,
late tickets first (aging by :func:`shared.aging.age_ticket` for the whole ticket,
with the site's :class:`~shared.wire.SiteSettings`), then warning, then the rest;
rush before normal, oldest first; tickets waiting for pickup (``ready``) last. Rows
are inserted, removed and moved one by one and ``dataChanged`` is emitted only for
rows that changed (the age column every second).

:class:`BoardStats` keeps a rolling record, from the ticket updates it sees, of the
tickets that became ready and of each station's bumps, and answers "average ticket
time" (``ready_at - placed_at``) per brand, per station (``bumped_at[station] -
placed_at``) and throughput over the last hour.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont

from kitchen_display.rows import TicketRows
from kitchen_display.theme import DARK, Theme
from kitchen_display.ticket_model import StationProgress, format_elapsed, station_progress
from shared.aging import AgeState, age_ticket, next_change, recheck_due
from shared.allday import AllDayCount, board_tally
from shared.model import Priority, Ticket, TicketStatus, utcnow
from shared.wire import SiteSettings

AnyIndex = QModelIndex | QPersistentModelIndex

_WORKING = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})
_SHOWN = frozenset({*_WORKING, TicketStatus.READY})
_AGE_RANK = {AgeState.LATE: 0, AgeState.WARN: 1, AgeState.OK: 2}
_PROGRESS_MARK = {
    StationProgress.DONE: "✓",
    StationProgress.IN_PROGRESS: "◐",
    StationProgress.PENDING: "○",
}

#: how far back throughput and averages look
STATS_WINDOW = timedelta(hours=1)


class Column(enum.IntEnum):
    """The board's columns, left to right."""

    ORDER = 0  #: display number
    AGE = enum.auto()  #: mm:ss since placed
    STATE = enum.auto()  #: LATE +m:ss / WARN / RUSH / READY
    BRAND = enum.auto()
    CHANNEL = enum.auto()
    STATIONS = enum.auto()  #: each station's progress: "grill ✓  fry ◐  cold ○"
    ITEMS = enum.auto()  #: how many lines are still to make
    #: a declared allergy, who saw it first: "✓ grill 18:03  ○ fry  ⚠ ALLERGY: peanuts"
    ALLERGY = enum.auto()


HEADERS = {
    Column.ORDER: "Order",
    Column.AGE: "Age",
    Column.STATE: "State",
    Column.BRAND: "Brand",
    Column.CHANNEL: "Channel",
    Column.STATIONS: "Stations",
    Column.ITEMS: "To make",
    Column.ALLERGY: "Allergy",
}


class BoardRole(enum.IntEnum):
    """Item data roles of :class:`BoardModel` (the same on every column of a row)."""

    TicketRole = Qt.ItemDataRole.UserRole + 1  #: the :class:`~shared.model.Ticket`
    IdRole = enum.auto()  #: ticket id
    AgeStateRole = enum.auto()  #: :class:`~shared.aging.AgeState`
    ElapsedRole = enum.auto()  #: seconds since placed (int)
    LateBySecondsRole = enum.auto()  #: seconds since the first deadline missed (0 when not late)
    RushRole = enum.auto()  #: bool
    ReadyRole = enum.auto()  #: waiting for pickup (bool)
    CellRole = enum.auto()  #: :class:`Cell`: what the board's delegate paints, in one call


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as painted: its text, colours (``None``: the table's), weight and
    alignment (the Display, Background, Foreground, Font and TextAlignment roles)."""

    text: str
    background: QColor | None
    foreground: QColor | None
    bold: bool
    align: int


#: by number, without an Enum lookup per call (``data`` runs for every painted cell)
_COLUMNS = tuple(Column)
_ROLES = {int(role): role for role in BoardRole}
#: the columns whose cells are bold
BOLD_COLUMNS = frozenset({Column.ORDER, Column.AGE, Column.STATE})
_RIGHT_ALIGNED = frozenset({Column.AGE, Column.ITEMS})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
#: every cell's flags (``flags`` runs for every painted cell: no enum arithmetic there)
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren


@dataclass(frozen=True)
class BoardColors:
    """Row colours from the theme's card palette, so a row looks like its card: late,
    warn, ready (the BUMP green) and the declared allergy, each with its text colour."""

    late: QColor
    late_text: QColor
    warn: QColor
    warn_text: QColor
    ready: QColor
    ready_text: QColor
    allergy: QColor
    allergy_text: QColor

    @classmethod
    def of(cls, theme: Theme) -> BoardColors:
        c = theme.colors
        return cls(
            late=QColor(c.late),
            late_text=QColor(c.text_on_late),
            warn=QColor(c.warn),
            warn_text=QColor(c.text_on_warn),
            ready=QColor(c.bump_button),
            ready_text=QColor(c.button_text),
            allergy=QColor(c.allergy),
            allergy_text=QColor(c.allergy_text),
        )

    def pairs(self) -> dict[str, tuple[QColor, QColor]]:
        """name -> (text, background), for the contrast test."""
        return {
            "late": (self.late_text, self.late),
            "warn": (self.warn_text, self.warn),
            "ready": (self.ready_text, self.ready),
            "allergy": (self.allergy_text, self.allergy),
        }


def age_state(ticket: Ticket, settings: SiteSettings, now: datetime) -> tuple[AgeState, int]:
    """The ticket's aging on the board and its seconds overdue (0 when not late).

    The whole ticket's :func:`shared.aging.age_ticket`: the worst over the stations
    still working on it. A ``ready`` ticket is never late for the kitchen.
    """
    aging = age_ticket(ticket, now, settings)
    return aging.state, aging.overdue_seconds


def _sort_key(ticket: Ticket, state: AgeState) -> tuple[int, int, int, datetime, str]:
    return (
        1 if ticket.status is TicketStatus.READY else 0,
        _AGE_RANK[state],
        0 if ticket.priority is Priority.RUSH else 1,
        ticket.placed_at,
        ticket.id,
    )


class BoardStats:
    """Rolling ticket times and throughput from the ticket updates a display sees."""

    def __init__(self, window: timedelta = STATS_WINDOW) -> None:
        self._window = window
        #: ticket id -> (ready_at, placed_at, brand name)
        self._ready: dict[str, tuple[datetime, datetime, str]] = {}
        #: (ticket id, station) -> (bumped_at, placed_at)
        self._bumps: dict[tuple[str, str], tuple[datetime, datetime]] = {}

    def record(self, ticket: Ticket) -> None:
        """Note what ``ticket`` tells about finished work (idempotent per ticket)."""
        if ticket.ready_at is not None and ticket.status in (
            TicketStatus.READY,
            TicketStatus.PICKED_UP,
        ):
            self._ready[ticket.id] = (ticket.ready_at, ticket.placed_at, ticket.brand.name)
        for station, at in ticket.bumped_at.items():
            self._bumps[(ticket.id, station)] = (at, ticket.placed_at)

    def prune(self, now: datetime) -> None:
        since = now - self._window
        self._ready = {k: v for k, v in self._ready.items() if v[0] >= since}
        self._bumps = {k: v for k, v in self._bumps.items() if v[0] >= since}

    def throughput(self, now: datetime) -> int:
        """Tickets that became ready in the last hour."""
        since = now - self._window
        return sum(1 for ready_at, _, _ in self._ready.values() if ready_at >= since)

    def average_ticket_seconds(self, now: datetime) -> float | None:
        times = self._ticket_times(now)
        values = [value for group in times.values() for value in group]
        return sum(values) / len(values) if values else None

    def by_brand(self, now: datetime) -> dict[str, tuple[int, float]]:
        """brand -> (tickets ready in the last hour, average seconds placed → ready)."""
        return {
            brand: (len(values), sum(values) / len(values))
            for brand, values in sorted(self._ticket_times(now).items())
        }

    def by_station(self, now: datetime) -> dict[str, tuple[int, float]]:
        """station -> (bumps in the last hour, average seconds placed → bump)."""
        since = now - self._window
        groups: dict[str, list[float]] = {}
        for (_, station), (at, placed) in self._bumps.items():
            if at >= since:
                groups.setdefault(station, []).append(max(0.0, (at - placed).total_seconds()))
        return {
            station: (len(values), sum(values) / len(values))
            for station, values in sorted(groups.items())
        }

    def _ticket_times(self, now: datetime) -> dict[str, list[float]]:
        since = now - self._window
        groups: dict[str, list[float]] = {}
        for ready_at, placed, brand in self._ready.values():
            if ready_at >= since:
                groups.setdefault(brand, []).append(max(0.0, (ready_at - placed).total_seconds()))
        return groups


class BoardModel(TicketRows, QAbstractTableModel):
    """Every open ticket of the site for a kitchen lead, late first.

    Feed it from :class:`~kitchen_display.sync.TicketSync` (``upsert``, ``remove``,
    ``reset``) and the site settings (``set_settings``). ``statsChanged`` is emitted
    when the numbers of :attr:`stats` or the all-day counts may have changed.
    """

    statsChanged = Signal()

    def __init__(
        self,
        settings: SiteSettings | None = None,
        *,
        clock: Callable[[], datetime] = utcnow,
        theme: Theme = DARK,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.colors = BoardColors.of(theme)
        self._settings = settings or SiteSettings()
        #: (ticket id, column) -> (the ticket, its aging, the clock's epoch, its cell)
        self._cells: dict[tuple[str, int], tuple[Ticket, tuple[AgeState, int], int, Cell]] = {}
        #: moves on with each tick of the clock and with new settings
        self._cells_epoch = 0
        self._clock = clock
        self._init_rows()
        self._states: dict[str, tuple[AgeState, int]] = {}
        #: per row: (when it was aged, when its aging may change next, when it turned
        #: late); the clock re-ages a row only then, and a late row's "LATE +m:ss"
        #: counts up from when it turned late
        self._checks: dict[str, tuple[datetime, datetime | None, datetime | None]] = {}
        #: how many rows are in each AgeState, and which rows wait for pickup: the
        #: board's summary line without a pass over the rows
        self._state_counts: dict[AgeState, int] = dict.fromkeys(AgeState, 0)
        self._ready_ids: set[str] = set()
        #: every ticket the board knows of (open or not), for the all-day and the 86 list
        self._known: dict[str, Ticket] = {}
        self._stations: set[str] = set()
        #: each station's all-day count, kept ticket by ticket
        self._tally = board_tally(self._settings.folds)
        self.stats = BoardStats()
        self._bold = QFont()
        self._bold.setBold(True)
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.tick)
        self._timer.start()

    def pause_clock(self) -> None:
        """Stop the 1-second re-aging (a board nobody looks at); :meth:`resume_clock`
        catches up at once."""
        self._timer.stop()

    def resume_clock(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
            self.tick()

    # --- settings and lookups ---------------------------------------------------------

    @property
    def settings(self) -> SiteSettings:
        return self._settings

    @Slot(object)
    def set_settings(self, settings: SiteSettings) -> None:
        """New site settings (aging rules, folds, 86 list): re-age and re-sort."""
        if settings == self._settings:
            return
        if settings.folds != self._settings.folds:
            self._tally = board_tally(settings.folds)
            self._tally.reset(self._known.values())
        self._settings = settings
        self._cells_epoch += 1
        self._stations.update(settings.folds)
        self._stations.update(settings.folds.values())
        self._reage(force=True)
        self.statsChanged.emit()

    def now(self) -> datetime:
        return self._clock()

    def state_of(self, ticket_id: str) -> AgeState:
        return self._states.get(ticket_id, (AgeState.OK, 0))[0]

    def stations(self) -> list[str]:
        """Every station seen on a ticket or in the folds (for the fold dialog)."""
        return sorted(self._stations)

    def all_day(self) -> dict[str, list[AllDayCount]]:
        """Each station's all-day count (folded stations counted where they fold into)."""
        return self._tally.by_group()

    def open_items(self) -> list[tuple[str, str]]:
        """(sku, name) of every item on a working ticket, by name: what can be 86'd."""
        items: dict[str, str] = {}
        for ticket in self._known.values():
            if ticket.status in _WORKING:
                for item in ticket.items:
                    items.setdefault(item.sku, item.name)
        return sorted(items.items(), key=lambda pair: (pair[1].casefold(), pair[0]))

    def late_count(self) -> int:
        return self._state_counts[AgeState.LATE]

    def warn_count(self) -> int:
        return self._state_counts[AgeState.WARN]

    def ready_count(self) -> int:
        """Rows waiting for pickup."""
        return len(self._ready_ids)

    def open_count(self) -> int:
        """Rows the kitchen is still working on."""
        return len(self._rows) - len(self._ready_ids)

    def _set_state(self, ticket: Ticket, state: tuple[AgeState, int]) -> None:
        old = self._states.get(ticket.id)
        if old is not None:
            self._state_counts[old[0]] -= 1
        self._states[ticket.id] = state
        self._note_check(ticket, state)
        self._state_counts[state[0]] += 1
        if ticket.status is TicketStatus.READY:
            self._ready_ids.add(ticket.id)
        else:
            self._ready_ids.discard(ticket.id)

    def _note_check(self, ticket: Ticket, state: tuple[AgeState, int]) -> None:
        now = self._clock()
        due = next_change(ticket, now, self._settings)
        late_since = now - timedelta(seconds=state[1]) if state[0] is AgeState.LATE else None
        self._checks[ticket.id] = (now, due, late_since)

    def late_by(self, ticket_id: str) -> int:
        """Seconds ``ticket_id`` has been late (0: not late), now."""
        late_since = self._checks.get(ticket_id, (None, None, None))[2]
        if late_since is None:
            return 0
        return max(0, int((self._clock() - late_since).total_seconds()))

    def _drop_state(self, ticket_id: str) -> None:
        for column in range(len(_COLUMNS)):
            self._cells.pop((ticket_id, column), None)
        old = self._states.pop(ticket_id, None)
        self._checks.pop(ticket_id, None)
        if old is not None:
            self._state_counts[old[0]] -= 1
        self._ready_ids.discard(ticket_id)

    # --- updates ----------------------------------------------------------------------

    @Slot(object)
    def upsert(self, ticket: Ticket) -> None:
        self._known[ticket.id] = ticket
        self._tally.update(ticket)
        self._stations.update(ticket.stations())
        self.stats.record(ticket)
        self._place(ticket)
        self.statsChanged.emit()

    @Slot(str)
    def remove(self, ticket_id: str) -> None:
        self._known.pop(ticket_id, None)
        self._tally.remove(ticket_id)
        row = self.row_of(ticket_id)
        if row >= 0:
            self._remove_row(row)
        self.statsChanged.emit()

    @Slot(list)
    def reset(self, tickets: Iterable[Ticket]) -> None:
        """Show exactly ``tickets`` (open ones), changing only the rows that differ."""
        wanted = {ticket.id: ticket for ticket in tickets}
        for ticket in list(self._rows):
            if ticket.id not in wanted:
                self._remove_row(self.row_of(ticket.id))
        self._known = dict(wanted)
        self._tally.reset(wanted.values())
        new: list[tuple[Any, Ticket]] = []
        for ticket in wanted.values():
            self._stations.update(ticket.stations())
            self.stats.record(ticket)
            self._place(ticket, new=new)
        if new:
            self._insert_many(new)
        self.statsChanged.emit()

    @Slot()
    def tick(self) -> None:
        """Advance the clocks (what the 1-second timer does): one ``dataChanged`` for
        the age and state columns of every row (a late row's ``LATE +m:ss`` counts up),
        and the rows whose aging changed re-sorted and repainted whole."""
        now = self._clock()
        self._cells_epoch += 1
        self.stats.prune(now)
        if not self._rows:
            return
        changed = []
        for ticket in self._rows:
            checked, due, _ = self._checks.get(ticket.id, (now, now, None))
            if not recheck_due(checked, due, now):
                continue  # nothing changes before ``due``
            state = age_state(ticket, self._settings, now)
            old = self._states.get(ticket.id)
            if old is None or old[0] != state[0]:
                changed.append((ticket, state))
            else:
                self._states[ticket.id] = state
                self._note_check(ticket, state)
        self.dataChanged.emit(
            self.index(0, Column.AGE),
            self.index(len(self._rows) - 1, Column.STATE),
            [Qt.ItemDataRole.DisplayRole, BoardRole.ElapsedRole, BoardRole.LateBySecondsRole],
        )
        for ticket, state in changed:
            self._place(ticket, state=state, changed=True)
        if changed:
            self.statsChanged.emit()

    def _reage(self, *, force: bool = False) -> None:
        now = self._clock()
        for ticket in list(self._rows):
            state = age_state(ticket, self._settings, now)
            old = self._states.get(ticket.id)
            if force or old is None or old != state:
                self._place(ticket, state=state, changed=force or old is None or old[0] != state[0])

    def _place(
        self,
        ticket: Ticket,
        *,
        state: tuple[AgeState, int] | None = None,
        changed: bool = False,
        new: list[tuple[Any, Ticket]] | None = None,
    ) -> None:
        """Show ``ticket`` where it sorts now; ``new``: a ticket not shown yet is added
        there for one :meth:`_insert_many` after, not inserted now."""
        row = self.row_of(ticket.id)
        if ticket.status not in _SHOWN:
            if row >= 0:
                self._remove_row(row)
            return
        state = state or age_state(ticket, self._settings, self._clock())
        self._set_state(ticket, state)
        key = _sort_key(ticket, state[0])
        if row < 0:
            if new is not None:
                new.append((key, ticket))
            else:
                self._insert_sorted(ticket, key)
            return
        old = self._rows[row]
        row = self._replace_sorted(row, ticket, key)
        if changed or old != ticket:
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(_COLUMNS) - 1))
        elif state[1]:
            self.dataChanged.emit(self.index(row, Column.STATE), self.index(row, Column.STATE))

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        ticket = self._take_row(row)
        self._drop_state(ticket.id)
        self.endRemoveRows()

    # --- QAbstractItemModel -----------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_COLUMNS)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        return _FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            orientation is Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(_COLUMNS)
        ):
            return self.tr(HEADERS[Column(section)])
        return super().headerData(section, orientation, role)

    def roleNames(self) -> dict[int, QByteArray]:
        names = dict(super().roleNames())
        for role in BoardRole:
            names[int(role)] = QByteArray((role.name[0].lower() + role.name[1:]).encode())
        return names

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.parent().isValid():
            return None
        ticket = self.ticket_at(index.row())
        if ticket is None or not 0 <= index.column() < len(_COLUMNS):
            return None
        state = self._states.get(ticket.id, (AgeState.OK, 0))[0]
        late_by = self.late_by(ticket.id) if state is AgeState.LATE else 0
        column = _COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(ticket, column, state, late_by)
        if role == BoardRole.CellRole:
            return self._cell(ticket, column, state, late_by)
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            return self._look(ticket, column, state, role)
        if role == Qt.ItemDataRole.FontRole:
            if state is AgeState.LATE or column in BOLD_COLUMNS:
                return self._bold
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if column in _RIGHT_ALIGNED else _LEFT
        if role == Qt.ItemDataRole.ToolTipRole and column is Column.ALLERGY and ticket.allergy:
            return self._allergy_text(ticket, full=True)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = ", ".join(f"{i.qty}x {i.name} ({i.station})" for i in ticket.items)
            return f"#{ticket.display_number} {ticket.brand.name}: {lines}"
        custom = _ROLES.get(role)
        if custom is None:
            return None
        if custom is BoardRole.TicketRole:
            return ticket
        if custom is BoardRole.IdRole:
            return ticket.id
        if custom is BoardRole.AgeStateRole:
            return state
        if custom is BoardRole.ElapsedRole:
            return self._elapsed(ticket)
        if custom is BoardRole.LateBySecondsRole:
            return late_by
        if custom is BoardRole.RushRole:
            return ticket.priority is Priority.RUSH
        if custom is BoardRole.ReadyRole:
            return ticket.status is TicketStatus.READY
        return None  # pragma: no cover

    def cell(self, row: int, column: int) -> Cell | None:
        """What the cell at ``row``, ``column`` shows (``CellRole``; the board's delegate
        asks here directly, without a round trip through Qt per painted cell).

        Kept while the ticket and its aging stay the same, until the next tick of the
        clock (which moves the age and the LATE cue on) or new site settings."""
        ticket = self.ticket_at(row)
        if ticket is None or not 0 <= column < len(_COLUMNS):
            return None
        aged = self._states.get(ticket.id, (AgeState.OK, 0))
        known = self._cells.get((ticket.id, column))
        if (
            known is not None
            and known[0] is ticket
            and known[1] == aged
            and known[2] == self._cells_epoch
        ):
            return known[3]
        state = aged[0]
        late_by = self.late_by(ticket.id) if state is AgeState.LATE else 0
        cell = self._cell(ticket, _COLUMNS[column], state, late_by)
        self._cells[(ticket.id, column)] = (ticket, aged, self._cells_epoch, cell)
        return cell

    def _cell(self, ticket: Ticket, column: Column, state: AgeState, late_by: int) -> Cell:
        return Cell(
            text=self._text(ticket, column, state, late_by),
            background=self._look(ticket, column, state, Qt.ItemDataRole.BackgroundRole),
            foreground=self._look(ticket, column, state, Qt.ItemDataRole.ForegroundRole),
            bold=state is AgeState.LATE or column in BOLD_COLUMNS,
            align=_RIGHT if column in _RIGHT_ALIGNED else _LEFT,
        )

    def _look(self, ticket: Ticket, column: Column, state: AgeState, role: int) -> QColor | None:
        """A cell's background (``BackgroundRole``) or text colour (``ForegroundRole``)."""
        background = role == Qt.ItemDataRole.BackgroundRole
        if column is Column.ALLERGY and ticket.allergy:
            return self.colors.allergy if background else self.colors.allergy_text
        if ticket.status is TicketStatus.READY:
            return self.colors.ready if background else self.colors.ready_text
        if state is AgeState.LATE:
            return self.colors.late if background else self.colors.late_text
        if state is AgeState.WARN:
            return self.colors.warn if background else self.colors.warn_text
        return None

    def _elapsed(self, ticket: Ticket) -> int:
        return max(0, int((self._clock() - ticket.placed_at).total_seconds()))

    def _text(self, ticket: Ticket, column: Column, state: AgeState, late_by: int) -> str:
        if column is Column.ORDER:
            return f"#{ticket.display_number}"
        if column is Column.AGE:
            return format_elapsed(self._elapsed(ticket))
        if column is Column.STATE:
            parts = []
            if ticket.status is TicketStatus.READY:
                parts.append(self.tr("READY"))
            elif state is AgeState.LATE:
                parts.append(self.tr("LATE +{late}").format(late=_short(late_by)))
            elif state is AgeState.WARN:
                parts.append(self.tr("WARN"))
            if ticket.priority is Priority.RUSH:
                parts.append(self.tr("RUSH"))
            return " ".join(parts)
        if column is Column.BRAND:
            return ticket.brand.name
        if column is Column.CHANNEL:
            return "".join(ch for ch in ticket.channel.upper() if ch.isalnum())
        if column is Column.STATIONS:
            return "  ".join(
                f"{station} {_PROGRESS_MARK[station_progress(ticket, station)]}"
                for station in ticket.stations()
            )
        if column is Column.ITEMS:
            left = sum(item.qty for item in ticket.items if item.status.value != "done")
            return str(left)
        if column is Column.ALLERGY:
            return self._allergy_text(ticket)
        return ""  # pragma: no cover

    def _allergy_text(self, ticket: Ticket, *, full: bool = False) -> str:
        """Who saw the declared allergy first (✓ station hh:mm, or ○ station), then the
        customer's words: the column is narrow and the state is what a lead checks.
        ``full`` (the tooltip) adds the screen that acknowledged."""
        if not ticket.allergy:
            return ""
        expo = self._settings.expo_station
        parts = []
        for station in [*ticket.stations(), *([expo] if expo else [])]:
            ack = ticket.allergy_ack(station)
            if ack is None:
                parts.append(f"○ {station}")
                continue
            when = ack.at.astimezone().strftime("%H:%M")
            by = f" ({ack.display_id})" if full and ack.display_id else ""
            parts.append(f"✓ {station} {when}{by}")
        return "  ".join(parts) + "  ⚠ " + " · ".join(ticket.allergy)


def _short(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


def format_minutes(seconds: float | None) -> str:
    """``754.0`` -> ``"12:34"``; ``None`` -> ``"—"``."""
    if seconds is None:
        return "—"
    return _short(round(seconds))


class BoardColumns(QAbstractTableModel):
    """The board's column titles alone, no rows: the model of the table's header.

    A header that is a view of the board's own model lays itself out and repaints
    on every row that comes, moves or goes (twice per move: ~2 ms of the ~11 a move
    cost at 300 tickets), though its titles never change with the rows. This one
    hands the board's titles on and nothing else."""

    def __init__(self, board: BoardModel) -> None:
        super().__init__(board)
        self._board = board
        board.headerDataChanged.connect(self.headerDataChanged)

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._board.columnCount()

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        return self._board.headerData(section, orientation, role)
