"""Burn-in autopilot: ``kitchen-display --autopilot SECONDS`` (a debug option).

Every ``SECONDS`` the :class:`Autopilot` acts on the oldest card (the first card the
screen shows, as a cook works from the top left) the way a cook's tap would: it takes
the card's first button (:attr:`~kitchen_display.ticket_model.Role.ActionsRole`: the
allergy acknowledgement, OK, SEEN of a VOID, or START), except that a card already
started at this station gets BUMP (once it has cooked ``cook_seconds`` since it was
started, so a screen keeps a realistic number of cards). On expo it bumps an order
once every station is done (✓) and, on the same tick, taps PICKED UP on the oldest
order of the READY FOR PICKUP shelf. A card it acted on is left alone until the agent
published its new state (or ``stale_seconds`` passed), so it never taps the same
button twice.

It only asks: :attr:`Autopilot.tapRequested` and :attr:`Autopilot.pickupRequested`
are wired by the composition root (:func:`kitchen_display.app.attach_autopilot`) to
the very signal a card's button emits and to the shelf's PICKED UP button, so the
commands take the cook's own path through the window and the sync. Soak tests and
``scripts/soak`` use it to keep a display working, and painting, for hours.

:class:`PaintCounter` counts the paint events of a widget (the card wall), so a
long run can show that the screen really painted all along; the autopilot logs it
with its own counts every ``report_seconds``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from PySide6.QtCore import QAbstractItemModel, QEvent, QObject, QTimer, Signal, Slot

from kitchen_display.ticket_model import Role, StationProgress
from shared.model import ItemStatus, Ticket, utcnow

log = logging.getLogger("kds.autopilot")


def choose_action(
    actions: Sequence[str],
    *,
    is_expo: bool,
    started_here: bool,
    stations_done: bool,
) -> str | None:
    """What a cook taps on a card with buttons ``actions``, or ``None`` (leave it).

    The first button, except: START on a card already started here is BUMP; on expo
    (where nobody starts a ticket) START/BUMP is BUMP once every station is done.
    """
    if not actions:
        return None
    first = actions[0]
    if first not in ("start", "bump"):
        return first  # ack_allergens, ack_void, or whatever the card asks first
    if is_expo:
        return "bump" if stations_done and "bump" in actions else None
    if first == "start" and started_here:
        return "bump" if "bump" in actions else None
    return first


class PaintCounter(QObject):
    """Counts the paint events ``widget`` receives (:attr:`count`)."""

    def __init__(self, widget: QObject, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


class Autopilot(QObject):
    """Acts on a screen's cards every ``interval`` seconds (see the module docs).

    ``model``: the screen's card model (:class:`~kitchen_display.ticket_model.TicketListModel`);
    ``ready``: the ticket ids on the ready shelf, oldest first (expo), or ``None``;
    ``paints``: a :class:`PaintCounter` of the card wall, reported with the counts;
    ``cook_seconds``: at a station, BUMP a card only this long after its ``started_at``.
    """

    #: ``tapRequested(ticket_id, action)``: tap this card's button (a card button's signal)
    tapRequested = Signal(str, str)
    #: ``pickupRequested(ticket_id)``: tap PICKED UP on the ready shelf
    pickupRequested = Signal(str)

    def __init__(
        self,
        model: QAbstractItemModel,
        *,
        station: str,
        is_expo: bool,
        interval: float,
        ready: Callable[[], Iterable[str]] | None = None,
        paints: PaintCounter | None = None,
        cook_seconds: float = 0.0,
        report_seconds: float = 30.0,
        stale_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = utcnow,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        if interval <= 0:
            raise ValueError(f"autopilot interval must be > 0 seconds, got {interval}")
        self._model = model
        self._station = station
        self._is_expo = is_expo
        self._ready = ready
        self._paints = paints
        self._stale = stale_seconds
        self._cook = cook_seconds
        self._clock = clock
        self._wall_clock = wall_clock
        #: ticket id -> (the ticket as it was when we acted, when)
        self._acted: dict[str, tuple[object, float]] = {}
        self._picked: dict[str, float] = {}
        #: taps sent so far, by action (``picked_up`` for the shelf)
        self.counts: Counter[str] = Counter()
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(interval * 1000)))
        self._timer.timeout.connect(self._on_tick)
        self._report = QTimer(self)
        self._report.setInterval(max(1, round(report_seconds * 1000)))
        self._report.timeout.connect(self._on_report)

    def start(self) -> Autopilot:
        log.info(
            "autopilot on (burn-in): %s every %.2fs",
            "expo" if self._is_expo else f"station {self._station}",
            self._timer.interval() / 1000,
        )
        self._timer.start()
        self._report.start()
        return self

    def stop(self) -> None:
        self._timer.stop()
        self._report.stop()

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    # --- one tick ---------------------------------------------------------------------

    def step(self) -> str | None:
        """Act once now; return ``"action ticket_id"`` of the card tap, if any."""
        now = self._clock()
        self._forget(now)
        if self._ready is not None:
            self._pick_up(now)
        return self._tap_card(now)

    def _tap_card(self, now: float) -> str | None:
        model = self._model
        for row in range(model.rowCount()):
            index = model.index(row, 0)
            ticket_id = str(index.data(Role.IdRole) or "")
            ticket = index.data(Role.TicketRole)
            if not ticket_id or self._waiting(ticket_id, ticket):
                continue
            lines = index.data(Role.StationItemsRole) or ()
            progress = index.data(Role.StationProgressRole) or ()
            action = choose_action(
                tuple(index.data(Role.ActionsRole) or ()),
                is_expo=self._is_expo,
                started_here=any(item.status is not ItemStatus.PENDING for item in lines),
                stations_done=bool(progress)
                and all(state is StationProgress.DONE for _station, state in progress),
            )
            if action is None or (action == "bump" and not self._cooked(ticket)):
                continue
            self._acted[ticket_id] = (ticket, now)
            self.counts[action] += 1
            log.debug("autopilot: %s %s", action, ticket_id)
            self.tapRequested.emit(ticket_id, action)
            return f"{action} {ticket_id}"
        return None

    def _pick_up(self, now: float) -> None:
        assert self._ready is not None
        for ticket_id in self._ready():
            if ticket_id in self._picked:
                continue
            self._picked[ticket_id] = now
            self.counts["picked_up"] += 1
            log.debug("autopilot: picked_up %s", ticket_id)
            self.pickupRequested.emit(ticket_id)
            return

    def _cooked(self, ticket: object) -> bool:
        """At a station: the card has cooked ``cook_seconds`` since it was started."""
        if self._is_expo or self._cook <= 0 or not isinstance(ticket, Ticket):
            return True
        started = ticket.started_at
        return started is None or (self._wall_clock() - started).total_seconds() >= self._cook

    def _waiting(self, ticket_id: str, ticket: object) -> bool:
        """We acted on this card and the agent has not published its new state yet."""
        acted = self._acted.get(ticket_id)
        return acted is not None and acted[0] == ticket

    def _forget(self, now: float) -> None:
        """Drop what is stale, changed or gone (so the memory stays as small as the screen)."""
        shown: dict[str, object] = {}
        for row in range(self._model.rowCount()):
            index = self._model.index(row, 0)
            shown[str(index.data(Role.IdRole) or "")] = index.data(Role.TicketRole)
        self._acted = {
            ticket_id: (ticket, at)
            for ticket_id, (ticket, at) in self._acted.items()
            if now - at < self._stale and shown.get(ticket_id, _GONE) == ticket
        }
        if self._ready is not None:
            ready = set(self._ready())
            self._picked = {
                t: at for t, at in self._picked.items() if t in ready and now - at < self._stale
            }

    # --- slots ------------------------------------------------------------------------

    @Slot()
    def _on_tick(self) -> None:
        self.step()

    @Slot()
    def _on_report(self) -> None:
        taps = ", ".join(f"{name} {count}" for name, count in sorted(self.counts.items()))
        paints = self._paints.count if self._paints is not None else -1
        log.info(
            "autopilot: %d taps (%s); %d cards shown; %d paints of the cards",
            sum(self.counts.values()),
            taps or "none",
            self._model.rowCount(),
            paints,
        )


_GONE = object()


def ready_ids(tickets: Callable[[], Iterable[Ticket]]) -> Callable[[], list[str]]:
    """``ready`` for :class:`Autopilot` from a shelf's ``ready_tickets`` (oldest first)."""
    return lambda: [ticket.id for ticket in tickets()]
