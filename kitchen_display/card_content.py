"""What a ticket card says: pure functions from a ticket and its state to texts.

:func:`card_content` turns a :class:`~shared.model.Ticket` and a :class:`CardState`
(what the model says about the card: aging, lines, buttons, ...) into a
:class:`CardContent`: header texts, chips, body blocks and buttons. Painting
(:mod:`kitchen_display.card_delegate`), ``TicketCardDelegate.card_texts`` and the
tests all read it; nothing here paints or knows a colour.

The texts go through ``QCoreApplication.translate`` in the ``TicketCardDelegate``
context (the catalogue's, from when all this lived in the delegate), which needs no
application. The aging cue is made here
from the typed :class:`~shared.aging.Aging` result (``LATE +3:12``, ``DUE IN 2:30``,
``WARN 5:12``), so the model never carries English text.

:func:`card_state` reads a :class:`CardState` from a
:class:`~kitchen_display.ticket_model.TicketListModel` index (its roles).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QModelIndex, QPersistentModelIndex

from kitchen_display.ticket_model import (
    CardHeader,
    LineView,
    Role,
    StationProgress,
    format_elapsed,
    station_progress,
)
from shared.aging import AgeState, Aging
from shared.model import ItemStatus, Ticket, TicketItem

AnyIndex = QModelIndex | QPersistentModelIndex

# the actions of a working card's buttons, left to right
ACTIONS: tuple[str, ...] = ("start", "bump")
# every button a card can have, and its label (English; shown through translate())
BUTTON_LABELS: dict[str, str] = {
    "start": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "START")),
    "bump": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "BUMP")),
    "ack_allergens": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "ALLERGY SEEN ✓")),
    "ack_void": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "OK, SEEN")),
}

# the multiplication sign (U+00D7) of the "2x Classic Burger" line cue
TIMES = "\u00d7"


def brand_letter(name: str) -> str:
    """The brand's logo letter: the first letter or digit of its name."""
    for ch in name:
        if ch.isalnum():
            return ch.upper()
    return "?"


def channel_badge(channel: str) -> str:
    """``uber_eats`` -> ``UBEREATS``."""
    return "".join(ch for ch in channel.upper() if ch.isalnum()) or "?"


def line_text(item: TicketItem) -> str:
    """``2`` U+00D7 ``Classic Burger``: quantity and name of a line."""
    return f"{item.qty}{TIMES} {item.name}"


def modifier_text(name: str, qty: int) -> str:
    return f"+ {qty}{TIMES} {name}" if qty > 1 else f"+ {name}"


def local_hhmm(when: datetime) -> str:
    """``18:07`` in the screen's local time."""
    return when.astimezone().strftime("%H:%M")


def minsec(seconds: int) -> str:
    """``m:ss`` (``3:12``; minutes keep counting: ``75:02``)."""
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def aging_cue(aging: Aging) -> str:
    """The text that says the aging besides the header's colour (translated): ``LATE
    +3:12`` (overdue), ``DUE IN 2:30`` (warning because the promise is near), ``WARN
    5:12`` (warning by time since placed), or ``""`` when OK."""
    if aging.state is AgeState.LATE:
        return QCoreApplication.translate("TicketCardDelegate", "LATE +{time}").format(
            time=minsec(aging.overdue_seconds)
        )
    if aging.state is AgeState.WARN:
        if aging.promise_near and aging.due_in_seconds is not None:
            return QCoreApplication.translate("TicketCardDelegate", "DUE IN {time}").format(
                time=minsec(aging.due_in_seconds)
            )
        return QCoreApplication.translate("TicketCardDelegate", "WARN {time}").format(
            time=minsec(aging.elapsed_seconds)
        )
    return ""


def button_label(action: str) -> str:
    """The (translated) label of ``action``'s button."""
    return QCoreApplication.translate("TicketCardDelegate", BUTTON_LABELS[action])


def pending_text(kind: str) -> str:
    """``↻ BUMP PENDING``: an action tapped here that waits to be sent."""
    action = button_label(kind) if kind in ACTIONS else kind.replace("_", " ").upper()
    return QCoreApplication.translate("TicketCardDelegate", "↻ {action} PENDING").format(
        action=action
    )


def unconfirmed_text(kind: str) -> str:
    """``↻ BUMP NOT CONFIRMED``: an action sent from here that the kitchen has not
    answered in time (it is sent again)."""
    action = button_label(kind) if kind in ACTIONS else kind.replace("_", " ").upper()
    return QCoreApplication.translate("TicketCardDelegate", "↻ {action} NOT CONFIRMED").format(
        action=action
    )


def heading_text(station: str, progress: StationProgress) -> str:
    """``GRILL — in progress``: expo's heading of one station's lines."""
    label = {
        StationProgress.DONE: QCoreApplication.translate("TicketCardDelegate", "✓ done"),
        StationProgress.IN_PROGRESS: QCoreApplication.translate(
            "TicketCardDelegate", "in progress"
        ),
        StationProgress.PENDING: QCoreApplication.translate("TicketCardDelegate", "waiting"),
    }[progress]
    return f"{station.upper()} — {label}"


@dataclass(frozen=True)
class CardState:
    """Everything the model says about one card besides the ticket (its roles)."""

    station: str
    is_expo: bool
    elapsed: int = 0
    aging: Aging = field(default_factory=Aging)
    void: bool = False
    started: bool = False
    rush: bool = False
    rush_up: bool = False
    lines: tuple[LineView, ...] = ()
    other_stations: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    # when this screen saw the ticket's declared allergy (None: not yet, or none)
    allergy_seen: datetime | None = None
    actions: tuple[str, ...] = ACTIONS
    # actions tapped here that wait to be sent (offline)
    pending: tuple[str, ...] = ()
    # lines of this card the agent left out to keep the message small
    more_lines: int = 0
    # actions sent from here whose result did not come in time (sent again)
    unconfirmed: tuple[str, ...] = ()

    @property
    def age(self) -> AgeState:
        return self.aging.state


@dataclass(frozen=True)
class Chip:
    """A short cue in the header: ``kind`` is void, cue, rush, rush_up, started, fold
    or pending."""

    kind: str
    text: str


@dataclass(frozen=True)
class Block:
    """One wrapped run of body text and how to draw it.

    ``kind``: heading, line, waiting, changed, unavailable, done, fire, modifier, note,
    more, allergy, contains, order_note, also or gap (a ``line`` .. ``note`` block of a line
    that declares the allergy has ``allergy`` set). ``line_id``: the line this block
    belongs to (a tap on it is a tap on that line).
    """

    kind: str
    text: str
    line_id: str = ""
    indent: bool = False
    progress: StationProgress | None = None
    allergy: bool = False


@dataclass(frozen=True)
class CardContent:
    """What one card shows, as text."""

    number: str
    timer: str
    brand: str
    logo: str
    channel: str
    chips: tuple[Chip, ...]
    blocks: tuple[Block, ...]
    buttons: tuple[tuple[str, str], ...]  # (action, label)
    customer: str = ""
    # line_id -> whether it is done (a tap undoes it then)
    done_lines: frozenset[str] = field(default_factory=frozenset)
    # the word across a cancelled order's veil ("" when not cancelled)
    veil: str = ""

    def texts(self) -> list[str]:
        """Every text on the card, top to bottom, as painted (the veil's word is the
        VOID chip's)."""
        out = [self.number, self.timer, self.logo, self.brand, self.channel]
        out += [chip.text for chip in self.chips]
        if self.customer:
            out.append(self.customer)
        out += [block.text for block in self.blocks if block.text]
        out += [label for _action, label in self.buttons]
        return out


def card_content(ticket: Ticket, state: CardState) -> CardContent:
    """The texts of ``ticket``'s card in ``state``."""
    return CardContent(
        number=f"#{ticket.display_number}",
        timer=format_elapsed(state.elapsed),
        brand=ticket.brand.name,
        logo=brand_letter(ticket.brand.name),
        channel=channel_badge(ticket.channel),
        chips=_chips(state),
        blocks=_blocks(ticket, state),
        buttons=tuple((action, button_label(action)) for action in state.actions),
        customer=ticket.customer.name,
        done_lines=frozenset(
            view.item.line_id for view in state.lines if view.item.status is ItemStatus.DONE
        ),
        veil=QCoreApplication.translate("TicketCardDelegate", "VOID") if state.void else "",
    )


def header_chips(header: CardHeader) -> tuple[Chip, ...]:
    """The chips of a card's header (what :func:`card_content` puts in ``chips``)."""
    return _chips(
        CardState(
            station="",
            is_expo=False,
            elapsed=header.elapsed,
            aging=header.aging,
            void=header.void,
            started=header.started,
            rush=header.rush,
            rush_up=header.rush_up,
            folded=header.folded,
            pending=header.pending,
            unconfirmed=header.unconfirmed,
        )
    )


def _chips(state: CardState) -> tuple[Chip, ...]:
    chips: list[Chip] = []
    if state.void:
        chips.append(Chip("void", QCoreApplication.translate("TicketCardDelegate", "VOID")))
    cue = aging_cue(state.aging)
    if cue:
        chips.append(Chip("cue", cue))
    if state.rush_up:
        chips.append(Chip("rush_up", QCoreApplication.translate("TicketCardDelegate", "RUSH ↑")))
    elif state.rush:
        chips.append(Chip("rush", QCoreApplication.translate("TicketCardDelegate", "RUSH")))
    if state.started and not state.void:
        chips.append(Chip("started", QCoreApplication.translate("TicketCardDelegate", "STARTED")))
    chips += [Chip("fold", f"+{station}") for station in state.folded]
    chips += [Chip("pending", pending_text(kind)) for kind in state.pending]
    chips += [Chip("pending", unconfirmed_text(kind)) for kind in state.unconfirmed]
    return tuple(chips)


def _blocks(ticket: Ticket, state: CardState) -> tuple[Block, ...]:
    blocks: list[Block] = []
    if ticket.allergy:
        # the heading, then the customer's own words (they often say "allergy" too)
        banner = QCoreApplication.translate("TicketCardDelegate", "⚠ ALLERGY")
        if state.allergy_seen is not None:
            seen = QCoreApplication.translate("TicketCardDelegate", "✓ SEEN {time}")
            banner += "  " + seen.format(time=local_hhmm(state.allergy_seen))
        blocks.append(Block("allergy", banner + "\n" + " · ".join(ticket.allergy)))

    if state.is_expo:
        for station in ticket.stations():
            progress = station_progress(ticket, station)
            if blocks:
                blocks.append(Block("gap", ""))
            blocks.append(Block("heading", heading_text(station, progress), progress=progress))
            for view in state.lines:
                if view.item.station == station:
                    blocks += _line_blocks(view)
    else:
        folded = bool(state.folded)
        last_station = ""
        for view in state.lines:
            if folded and view.item.station != last_station:
                last_station = view.item.station
                blocks.append(Block("heading", last_station.upper()))
            blocks += _line_blocks(view)
    if state.more_lines:
        # the agent sent part of a huge order; the printed ticket has every line
        more = QCoreApplication.translate("TicketCardDelegate", "+{count} more lines")
        blocks.append(Block("more", more.format(count=state.more_lines)))
    if ticket.notes and " ".join(ticket.notes.split()) not in ticket.allergy:
        # (a note that is all declared allergy is in the banner already)
        order_note = QCoreApplication.translate("TicketCardDelegate", "ORDER NOTE: {note}")
        blocks.append(Block("order_note", order_note.format(note=ticket.notes)))
    contains: dict[str, None] = {}
    for view in state.lines:
        for allergen in view.item.allergens:
            contains.setdefault(allergen, None)
    if contains:
        label = QCoreApplication.translate("TicketCardDelegate", "contains: {allergens}")
        blocks.append(Block("contains", label.format(allergens=", ".join(contains))))
    if state.other_stations:
        also = QCoreApplication.translate("TicketCardDelegate", "also at: {stations}")
        blocks.append(Block("also", also.format(stations=", ".join(state.other_stations))))
    if not blocks:
        blocks.append(Block("also", QCoreApplication.translate("TicketCardDelegate", "(no lines)")))
    return tuple(blocks)


def _line_blocks(view: LineView) -> list[Block]:
    """One line's blocks: its text, "fire at", modifiers and note."""
    item = view.item
    lid = item.line_id
    text = line_text(item)
    blocks: list[Block] = []
    if item.status is ItemStatus.DONE:
        blocks.append(Block("done", "✓ " + text, lid))
    elif item.unavailable:
        unavailable = QCoreApplication.translate("TicketCardDelegate", "UNAVAILABLE")
        blocks.append(Block("unavailable", f"{text}  {unavailable}", lid))
    elif item.changed:
        changed = QCoreApplication.translate("TicketCardDelegate", "CHANGED")
        blocks.append(Block("changed", f"{text}  {changed}", lid))
    elif view.fire_at is not None:
        blocks.append(Block("waiting", text, lid))
    else:
        blocks.append(Block("line", text, lid))
    if view.fire_at is not None and item.status is not ItemStatus.DONE:
        fire = QCoreApplication.translate("TicketCardDelegate", "fire at {time}")
        blocks.append(Block("fire", fire.format(time=local_hhmm(view.fire_at)), lid, True))
    for mod in item.modifiers:
        blocks.append(Block("modifier", modifier_text(mod.name, mod.qty), lid, True))
    if item.notes:
        note = QCoreApplication.translate("TicketCardDelegate", "NOTE: {note}")
        blocks.append(Block("note", note.format(note=item.notes), lid, True))
    if item.allergy:
        blocks = [replace(block, allergy=True) for block in blocks]
    return blocks


def card_state(index: AnyIndex, station: str, is_expo: bool) -> CardState:
    """The :class:`CardState` of a :class:`~kitchen_display.ticket_model.TicketListModel`
    index (from its roles)."""
    return card_state_from(index.data, station, is_expo)


def card_state_from(read: Callable[[Role], Any], station: str, is_expo: bool) -> CardState:
    """The :class:`CardState` from ``read(role)``, a card's role values: ``index.data``,
    or the model's own :meth:`~kitchen_display.ticket_model.TicketListModel.role_reader`
    (the same values without a round trip through Qt for each of the ~17 roles)."""
    ticket = read(Role.TicketRole)
    lines = read(Role.LinesRole)
    if lines is None and isinstance(ticket, Ticket):
        lines = tuple(LineView(item) for item in read(Role.StationItemsRole) or ())
    aging = read(Role.AgingRole)
    seen = read(Role.AllergySeenRole)
    return CardState(
        station=station,
        is_expo=is_expo,
        elapsed=int(read(Role.ElapsedRole) or 0),
        aging=aging if isinstance(aging, Aging) else Aging(),
        void=bool(read(Role.VoidRole)),
        started=bool(read(Role.StartedRole)),
        rush=bool(read(Role.RushRole)),
        rush_up=bool(read(Role.RushUpRole)),
        lines=tuple(lines or ()),
        other_stations=tuple(read(Role.OtherStationsRole) or ()),
        folded=tuple(read(Role.FoldedStationsRole) or ()),
        pending=tuple(read(Role.PendingRole) or ()),
        more_lines=int(read(Role.MoreLinesRole) or 0),
        unconfirmed=tuple(read(Role.UnconfirmedRole) or ()),
        allergy_seen=seen if isinstance(seen, datetime) else None,
        actions=tuple(read(Role.ActionsRole) or ACTIONS),
    )
