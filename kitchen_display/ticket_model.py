"""The list of ticket cards one screen shows, as a Qt item model.

:class:`TicketListModel` keeps the tickets this screen should show, sorted rush
first and then oldest first, and updates rows one by one (insert, remove, move,
``dataChanged`` for changed rows only) so the view never flickers or loses the
selection. Which tickets a screen shows:

* a prep station (``grill``): accepted or in-progress tickets with lines at the
  station that are not all done, plus cancelled tickets that had lines there
  (drawn as VOID until the agent clears them);
* the expo station: every accepted or in-progress ticket, whole;
* a cancelled ticket stays (VOID) until the agent publishes it with this station in
  ``void_acked`` (or removes it);
* with the site's settings (:meth:`TicketListModel.set_site_settings`), stations
  folded into this one (``settings.folds``) show here too.

Aging is :func:`shared.aging.age_ticket`, the rule the board and the agent's metrics
use too: a station card with its station's rule, the expo screen the whole ticket's
(the worst over the stations still working on it). The rules are the site's
(``settings.aging_for``), or the display's own ``[display] warn_minutes`` /
``late_minutes`` until the agent sent settings.

One 1-second timer, the only one, ticks every card's clock (``dataChanged`` for
:attr:`Role.ElapsedRole` only, which also moves :attr:`Role.AgingRole`'s seconds;
:attr:`Role.AgeStateRole` for the rows whose aging state just changed;
:attr:`Role.LinesRole` when a paced line's fire time came; :attr:`Role.RushUpRole`
when a "RUSH ↑" cue ends).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

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
from kitchen_display.rows import TicketRows
from shared.aging import AgeState, Aging, age_ticket, next_change, recheck_due
from shared.model import ItemStatus, Priority, Ticket, TicketItem, TicketStatus, utcnow
from shared.pacing import fire_at
from shared.wire import AgingRule, SiteSettings

if TYPE_CHECKING:
    from kitchen_display.sync import TicketSync

#: how long a card shows "RUSH ↑" after the order became a rush
RUSH_UP_SECONDS = 30

_WORKING = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS})

AnyIndex = QModelIndex | QPersistentModelIndex


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
    LateBySecondsRole = enum.auto()  #: seconds since the first deadline missed
    #: (``late_minutes`` or ``promised_at``; 0 when not late)
    StationItemsRole = enum.auto()  #: lines this screen works on (tuple[TicketItem]);
    #: the whole order on expo
    OtherStationsRole = enum.auto()  #: "also at" stations (list[str]); empty on expo
    StationProgressRole = enum.auto()  #: list[(station, StationProgress)] of every station
    VoidRole = enum.auto()  #: the order was cancelled (bool)
    StartedRole = enum.auto()  #: the ticket is in progress (bool)
    RushRole = enum.auto()  #: priority is rush (bool)
    AgingRole = enum.auto()  #: the :class:`~shared.aging.Aging` (state, overdue / due-in
    #: seconds); the card says it (``LATE +3:12``, ``DUE IN 2:30``, ``WARN 5:12``)
    LinesRole = enum.auto()  #: tuple[LineView]: StationItemsRole with pacing ("fire at")
    AllergenGateRole = enum.auto()  #: a declared allergy not yet seen here (bool)
    GateStationsRole = enum.auto()  #: the stations an "ALLERGY SEEN" tap acknowledges
    AllergySeenRole = enum.auto()  #: when this screen saw the declared allergy (datetime|None)
    ActionsRole = enum.auto()  #: the card's buttons: ("start", "bump"), ("ack_allergens",)
    #: or ("ack_void",)
    FoldedStationsRole = enum.auto()  #: folded-in stations with lines on this card (list[str])
    RushUpRole = enum.auto()  #: the order became a rush in the last RUSH_UP_SECONDS (bool)
    PendingRole = enum.auto()  #: this screen's actions on it still waiting to be sent
    #: (tuple[str], e.g. ("bump",)) while the broker is unreachable
    MoreLinesRole = enum.auto()  #: lines of this screen the agent left out of the
    #: ticket to keep its message small (int; ``Ticket.more_lines``)
    UnconfirmedRole = enum.auto()  #: this screen's actions on it sent but not confirmed
    #: by a result in time (tuple[str]; they are sent again)
    HeaderRole = enum.auto()  #: :class:`CardHeader`: what the card's header shows that
    #: changes on its own (the clock, aging, chips), in one call


@dataclass(frozen=True, slots=True)
class CardHeader:
    """The roles a card's header is painted from, read at once (the clock repaints
    every visible card's header each second)."""

    elapsed: int
    aging: Aging
    void: bool
    started: bool
    rush: bool
    rush_up: bool
    folded: tuple[str, ...]
    pending: tuple[str, ...]
    unconfirmed: tuple[str, ...]


@dataclass(frozen=True)
class LineView:
    """One line of a card: the item, and when to fire it if that is still to come."""

    item: TicketItem
    #: the line is paced and its time has not come yet (it is shown dimmed)
    fire_at: datetime | None = None

    @property
    def waiting(self) -> bool:
        return self.fire_at is not None


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


class TicketListModel(TicketRows, QAbstractListModel):
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
        #: the aging rules until the agent sent the site's
        self._own_aging = SiteSettings(
            expo_station=station if is_expo else "",
            aging=AgingRule(
                warn_minutes=self._settings.warn_minutes,
                late_minutes=self._settings.late_minutes,
            ),
        )
        self._clock = clock
        self._init_rows()
        self._age_states: dict[str, AgeState] = {}
        #: per row: (when it was last aged, when its aging or pacing may change next);
        #: the clock re-ages a row only then, not every row every second
        self._checks: dict[str, tuple[datetime, datetime | None]] = {}
        #: per row: which lines still wait for their fire time
        self._waiting: dict[str, frozenset[str]] = {}
        #: ticket id -> until when it shows "RUSH ↑"
        self._rush_up: dict[str, datetime] = {}
        self._site: SiteSettings | None = None
        self._sync: TicketSync | None = None
        self._shown_stations: tuple[str, ...] = (station,)
        self._pending: dict[str, tuple[str, ...]] = {}
        self._unconfirmed: dict[str, tuple[str, ...]] = {}
        #: ticket id -> (the ticket, what else its header was read from, the header):
        #: the clock repaints every card in sight each second, and a wall is repainted
        #: whole when it is uncovered or scrolled; a card's aging is worked out once a
        #: second, not once per paint
        self._headers: dict[str, tuple[Ticket, tuple[object, ...], CardHeader]] = {}
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

    @property
    def site_settings(self) -> SiteSettings | None:
        """The site's shared settings this model works with (``None``: none yet)."""
        return self._site

    @property
    def shown_stations(self) -> tuple[str, ...]:
        """This station and the stations folded into it (``settings.stations_shown_at``)."""
        return self._shown_stations

    @Slot(object)
    def set_site_settings(self, settings: SiteSettings | None) -> None:
        """Apply the site's settings (connect ``TicketSync.settingsChanged`` here).

        Folds change which tickets and lines show; aging rules change the cues. Rows
        are added, dropped or refreshed one by one; tickets folded in need their
        ``ticket`` objects, so pass every known ticket to :meth:`reset` afterwards
        (:meth:`follow_settings` does both).
        """
        self._site = settings
        if settings is None or self._is_expo:
            self._shown_stations = (self._station,)
        else:
            self._shown_stations = settings.stations_shown_at(self._station)
        for ticket in list(self._rows):
            self.upsert(ticket)
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0))
        self._on_tick()

    def follow_settings(self, sync: TicketSync) -> None:
        """Take the site's settings from a :class:`~kitchen_display.sync.TicketSync`
        (now and on every ``settingsChanged``); its tickets are re-filtered then, since
        a fold brings tickets this screen did not show before."""
        self._sync = sync
        sync.settingsChanged.connect(self._on_sync_settings)
        if sync.settings is not None:
            self._on_sync_settings(sync.settings)

    @Slot(object)
    def _on_sync_settings(self, settings: SiteSettings) -> None:
        self.set_site_settings(settings)
        if self._sync is not None:
            self.reset(self._sync.tickets())

    def shows(self, ticket: Ticket) -> bool:
        """Whether this screen shows ``ticket`` at all."""
        if ticket.status is TicketStatus.CANCELLED and self._station in ticket.void_acked:
            return False  # this station saw the VOID
        if self._is_expo:
            # expo bags the orders: it must see a VOID before packing food
            return ticket.status in _WORKING or ticket.status is TicketStatus.CANCELLED
        lines = self.station_items(ticket)
        if not lines and not self.more_lines(ticket):
            return False
        if ticket.status is TicketStatus.CANCELLED:
            return True
        # lines left out are never still to make while a kept one of theirs is done
        return ticket.status in _WORKING and not (
            lines and all(item.status is ItemStatus.DONE for item in lines)
        )

    def allergen_gate_stations(self, ticket: Ticket) -> tuple[str, ...]:
        """The stations of this screen whose cook still has to tap ALLERGY SEEN.

        Only a *declared* allergy (``Ticket.allergy``) asks for it, never a recipe's
        allergens; the site turns the step off with ``allergen_gate = "off"`` (published as
        ``allergy_gate``). Expo
        acknowledges for itself; a prep screen for each of its stations with lines on
        the ticket that are not done yet.
        """
        if ticket.status not in _WORKING or not ticket.allergy:
            return ()
        if self._site is not None and self._site.allergy_gate == "off":
            return ()
        if self._is_expo:
            stations: tuple[str, ...] = (self._station,)
        else:
            stations = tuple(
                s for s in self._shown_stations if ticket.items_at(s) and not ticket.station_done(s)
            )
        return tuple(s for s in stations if ticket.allergy_ack(s) is None)

    def allergy_seen_at(self, ticket: Ticket) -> datetime | None:
        """When this screen's station saw the declared allergy (the latest of its stations)."""
        stations = (self._station,) if self._is_expo else self._shown_stations
        times = [ack.at for s in stations if (ack := ticket.allergy_ack(s)) is not None]
        return max(times) if times else None

    def actions(self, ticket: Ticket) -> tuple[str, ...]:
        """The card's buttons, left to right."""
        if ticket.status is TicketStatus.CANCELLED:
            return ("ack_void",)
        if self.allergen_gate_stations(ticket):
            return ("ack_allergens",)
        return ("start", "bump")

    def aging_settings(self) -> SiteSettings:
        """The rules this screen ages its cards by: the site's, or until the agent sent
        them, the display's own ``[display] warn_minutes`` / ``late_minutes``."""
        return self._site if self._site is not None else self._own_aging

    def ticket_aging(self, ticket: Ticket) -> Aging:
        """``ticket``'s :class:`~shared.aging.Aging` now: this station's rule on a
        station screen, the whole ticket's on expo."""
        return age_ticket(
            ticket,
            self._clock(),
            self.aging_settings(),
            station=None if self._is_expo else self._station,
        )

    def lines(self, ticket: Ticket) -> tuple[LineView, ...]:
        """This screen's lines of ``ticket`` with their pacing."""
        now = self._clock()
        views = []
        for item in self.station_items(ticket):
            when = fire_at(ticket, item) if item.status is ItemStatus.PENDING else None
            views.append(LineView(item, when if when is not None and now < when else None))
        return tuple(views)

    def rush_up(self, ticket: Ticket) -> bool:
        until = self._rush_up.get(ticket.id)
        return until is not None and self._clock() < until

    # --- lookups ----------------------------------------------------------------------

    def index_of(self, ticket_id: str) -> QModelIndex:
        row = self.row_of(ticket_id)
        return self.index(row, 0) if row >= 0 else QModelIndex()

    # --- updates (connect TicketSync's signals here) -----------------------------------

    @Slot(object)
    def upsert(self, ticket: Ticket) -> None:
        """Add, change, move or drop one ticket's card."""
        self._upsert(ticket)

    def _upsert(self, ticket: Ticket, new: list[tuple[Any, Ticket]] | None = None) -> None:
        """:meth:`upsert`; ``new``: a ticket not shown yet is added there for one
        :meth:`_insert_many` after, not inserted now."""
        row = self.row_of(ticket.id)
        if not self.shows(ticket):
            if row >= 0:
                self._remove_row(row)
            return
        key = _sort_key(ticket)
        if row < 0:
            # side tables first: views read them while the insert is announced
            self._age_states[ticket.id] = self._age_state(ticket)
            self._waiting[ticket.id] = self._pace(ticket)
            if new is not None:
                new.append((key, ticket))
                return
            self._insert_sorted(ticket, key)
            self._update_timer()
            return
        old = self._rows[row]
        if old.priority is not Priority.RUSH and ticket.priority is Priority.RUSH:
            self._rush_up[ticket.id] = self._clock() + timedelta(seconds=RUSH_UP_SECONDS)
        row = self._replace_sorted(row, ticket, key)
        self._waiting[ticket.id] = self._pace(ticket)
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
        new: list[tuple[Any, Ticket]] = []
        for ticket in wanted.values():
            self._upsert(ticket, new)
        if new:
            self._insert_many(new)
            self._update_timer()

    def _remove_row(self, row: int) -> None:
        self.beginRemoveRows(QModelIndex(), row, row)
        ticket = self._take_row(row)
        self._age_states.pop(ticket.id, None)
        self._waiting.pop(ticket.id, None)
        self._checks.pop(ticket.id, None)
        self._rush_up.pop(ticket.id, None)
        self._headers.pop(ticket.id, None)
        self.endRemoveRows()
        self._update_timer()

    # --- clocks -----------------------------------------------------------------------

    def elapsed_seconds(self, ticket: Ticket) -> int:
        return max(0, int((self._clock() - ticket.placed_at).total_seconds()))

    def _age_state(self, ticket: Ticket) -> AgeState:
        return self.ticket_aging(ticket).state

    def _pace(self, ticket: Ticket) -> frozenset[str]:
        """``ticket``'s lines still waiting for their fire time, and a note of when its
        card may next change by itself: its aging state
        (:func:`shared.aging.next_change`) or a paced line's fire time."""
        now = self._clock()
        lines = self.lines(ticket)
        due = next_change(
            ticket,
            now,
            self.aging_settings(),
            station=None if self._is_expo else self._station,
        )
        fires = [view.fire_at for view in lines if view.fire_at is not None]
        if fires:
            due = min([*fires, *([due] if due is not None else [])])
        self._checks[ticket.id] = (now, due)
        return frozenset(view.item.line_id for view in lines if view.waiting)

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
        now = self._clock()
        for row, ticket in enumerate(self._rows):
            checked, due = self._checks.get(ticket.id, (now, now))
            if not recheck_due(checked, due, now):
                continue
            waiting = self._pace(ticket)
            state = self._age_state(ticket)
            if self._age_states.get(ticket.id) != state:
                self._age_states[ticket.id] = state
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Role.AgeStateRole, Role.LateBySecondsRole])
            if self._waiting.get(ticket.id) != waiting:
                self._waiting[ticket.id] = waiting
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Role.LinesRole])
        if self._rush_up:
            now = self._clock()
            for ticket_id, until in list(self._rush_up.items()):
                if now >= until:
                    del self._rush_up[ticket_id]
                    index = self.index_of(ticket_id)
                    if index.isValid():
                        self.dataChanged.emit(index, index, [Role.RushUpRole])

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
        custom = _ROLES.get(role)
        if custom is None:
            return None
        return self._role_data(ticket, custom)

    def role_reader(self, ticket: Ticket) -> Callable[[Role], Any]:
        """``ticket``'s role values as ``read(role)``: what ``index.data(role)`` gives
        for its row, read here directly (the delegate reads ~17 roles per card it
        measures or paints; each through Qt costs a round trip)."""
        return partial(self._role_data, ticket)

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
            return self.ticket_aging(ticket).overdue_seconds
        if role is Role.AgingRole:
            return self.ticket_aging(ticket)
        if role is Role.StationItemsRole:
            return self.station_items(ticket)
        if role is Role.LinesRole:
            return self.lines(ticket)
        if role is Role.MoreLinesRole:
            return self.more_lines(ticket)
        if role is Role.OtherStationsRole:
            if self._is_expo:
                return []
            return [s for s in ticket.stations() if s not in self._shown_stations]
        if role is Role.FoldedStationsRole:
            if self._is_expo:
                return []
            present = set(ticket.stations())
            return [s for s in self._shown_stations[1:] if s in present]
        if role is Role.AllergenGateRole:
            return bool(self.allergen_gate_stations(ticket))
        if role is Role.GateStationsRole:
            return self.allergen_gate_stations(ticket)
        if role is Role.AllergySeenRole:
            return self.allergy_seen_at(ticket)
        if role is Role.ActionsRole:
            return self.actions(ticket)
        if role is Role.RushUpRole:
            return self.rush_up(ticket)
        if role is Role.PendingRole:
            return self._pending.get(ticket.id, ())
        if role is Role.UnconfirmedRole:
            return self._unconfirmed.get(ticket.id, ())
        if role is Role.StationProgressRole:
            return [(station, station_progress(ticket, station)) for station in ticket.stations()]
        if role is Role.VoidRole:
            return ticket.status is TicketStatus.CANCELLED
        if role is Role.StartedRole:
            return ticket.status is TicketStatus.IN_PROGRESS
        if role is Role.RushRole:
            return ticket.priority is Priority.RUSH
        if role is Role.HeaderRole:
            return self.card_header(ticket)
        return None  # pragma: no cover - every Role is handled above

    def card_header(self, ticket: Ticket) -> CardHeader:
        """What ``ticket``'s card header shows now (``HeaderRole``; the delegate asks
        here directly, without a round trip through Qt per painted card).

        Kept while the ticket, its elapsed second, its "RUSH ↑", its pending and
        unconfirmed actions and the site's settings stay the same: its aging is worked
        out again once a second (a promise-based cue may turn up to a second late)."""
        elapsed = self.elapsed_seconds(ticket)
        rush_up = self.rush_up(ticket)
        pending = self._pending.get(ticket.id, ())
        unconfirmed = self._unconfirmed.get(ticket.id, ())
        key = (elapsed, rush_up, pending, unconfirmed, self._site, self._shown_stations)
        known = self._headers.get(ticket.id)
        if known is not None and known[0] is ticket and known[1] == key:
            return known[2]
        header = CardHeader(
            elapsed=elapsed,
            aging=self.ticket_aging(ticket),
            void=ticket.status is TicketStatus.CANCELLED,
            started=ticket.status is TicketStatus.IN_PROGRESS,
            rush=ticket.priority is Priority.RUSH,
            rush_up=rush_up,
            folded=tuple(self._role_data(ticket, Role.FoldedStationsRole)),
            pending=pending,
            unconfirmed=unconfirmed,
        )
        self._headers[ticket.id] = (ticket, key, header)
        return header

    def set_pending(
        self,
        pending: dict[str, tuple[str, ...]],
        unconfirmed: dict[str, tuple[str, ...]] | None = None,
    ) -> None:
        """Actions queued while offline, and actions sent but not confirmed, per ticket;
        repaints only the cards that changed."""
        unconfirmed = unconfirmed or {}
        changed = {
            t
            for old, new in ((self._pending, pending), (self._unconfirmed, unconfirmed))
            for t in set(old) | set(new)
            if old.get(t, ()) != new.get(t, ())
        }
        self._pending = {t: kinds for t, kinds in pending.items() if kinds}
        self._unconfirmed = {t: kinds for t, kinds in unconfirmed.items() if kinds}
        for ticket_id in changed:
            row = self.row_of(ticket_id)
            if row >= 0:
                index = self.index(row, 0)
                self.dataChanged.emit(index, index, [Role.PendingRole, Role.UnconfirmedRole])

    def station_items(self, ticket: Ticket) -> tuple[TicketItem, ...]:
        """The lines this screen works on: its own and folded-in stations' (expo: all)."""
        if self._is_expo:
            return ticket.items
        shown = self._shown_stations
        return tuple(item for item in ticket.items if item.station in shown)

    def more_lines(self, ticket: Ticket) -> int:
        """How many of this screen's lines the agent left out of ``ticket`` (expo: all)."""
        if self._is_expo:
            return sum(ticket.more_lines.values())
        return sum(ticket.more_lines.get(station, 0) for station in self._shown_stations)

    def _describe(self, ticket: Ticket) -> str:
        lines = ", ".join(f"{item.qty}x {item.name}" for item in self.station_items(ticket))
        return (
            f"Order {ticket.display_number} ({ticket.brand.name}, {ticket.channel}), "
            f"{format_elapsed(self.elapsed_seconds(ticket))} waiting: {lines}"
        )


#: by number, without an Enum lookup per call (``data`` runs for every painted card)
_ROLES = {int(role): role for role in Role}


def _sort_key(ticket: Ticket) -> tuple[int, datetime, str]:
    return (0 if ticket.priority is Priority.RUSH else 1, ticket.placed_at, ticket.id)
