"""Painting one ticket as a kitchen card, with its touch buttons and tappable lines.

A card, top to bottom::

    ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  brand colour bar (colour derived from the brand id)
    #1042              07:41   display number, elapsed time since placed
    (B) Burger Bros  UBEREATS  brand logo letter, brand name, channel badge
    LATE +0:12 RUSH ↑ +fry     chips: text cues besides the header colour
    ⚠ ALLERGY  ✓ SEEN 18:03    a customer's declared allergy (purple; "✓ SEEN" once seen here),
    ALLERGY: peanuts             in the customer's own words
    2x Classic Burger          this station's lines (expo: every line, by station);
       fire at 18:07           a paced line whose time has not come (dimmed)
       + no onion              modifiers
       NOTE: well done         line notes, highlighted
    ORDER NOTE: ...            ticket notes
    contains: gluten, milk     the recipe allergens of these lines, once, neutral
    also at: fry, cold         other stations (prep stations only)
    [ START ]  [  BUMP  ]      touch buttons (or ALLERGY SEEN ✓, or OK, SEEN on a VOID)

A line whose note or modifier declares the allergy has a purple bar beside it.

What a card says is one pure function, :func:`card_content` (a
:class:`CardContent`: header texts, chips, body blocks, buttons), used by painting,
by :meth:`TicketCardDelegate.card_texts` and by the tests. Where things are is one
function too, :meth:`TicketCardDelegate.card_geometry` (header, each block, each
line's tap rectangle, the buttons), used by ``sizeHint``, ``paint`` and hit testing.

Fonts, pens and brushes are built once per theme / scale / card size change; a
card's body geometry is cached by its content. Taps are handled in
:meth:`editorEvent` and reported as ``actionRequested(ticket_id, action)`` (START,
BUMP, ALLERGY SEEN, OK SEEN) or ``lineActionRequested(ticket_id, action,
line_id)`` (a line: ``item_done`` / ``item_undo``); the delegate never changes a
ticket itself.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPen,
)
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from kitchen_display.ticket_model import (
    LineView,
    Role,
    StationProgress,
    format_elapsed,
    station_progress,
)
from shared.aging import AgeState
from shared.model import ItemStatus, Ticket, TicketItem

AnyIndex = QModelIndex | QPersistentModelIndex

#: the actions of a working card's buttons, left to right
ACTIONS: tuple[str, ...] = ("start", "bump")
#: every button a card can have, and its label (English; shown through translate())
BUTTON_LABELS: dict[str, str] = {
    "start": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "START")),
    "bump": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "BUMP")),
    "ack_allergens": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "ALLERGY SEEN ✓")),
    "ack_void": str(QT_TRANSLATE_NOOP("TicketCardDelegate", "OK, SEEN")),
}

BASE_CARD_WIDTH = 300
MIN_BUTTON_HEIGHT = 48
#: ``[display] card_size`` -> (width factor, font factor)
CARD_SIZES: dict[str, tuple[float, float]] = {"compact": (0.8, 0.84), "large": (1.0, 1.0)}

#: channel badge colours (background, text); others get a neutral badge
CHANNEL_COLORS: dict[str, tuple[str, str]] = {
    "ubereats": ("#06c167", "#000000"),
    "uber_eats": ("#06c167", "#000000"),
    "doordash": ("#ff3008", "#ffffff"),
    "deliveroo": ("#00ccbc", "#000000"),
    "justeat": ("#ff8000", "#000000"),
    "just_eat": ("#ff8000", "#000000"),
    "thuisbezorgd": ("#ff8000", "#000000"),
    "grubhub": ("#ff8000", "#000000"),
    "app": ("#ffffff", "#000000"),
    "web": ("#ffffff", "#000000"),
}


def brand_color(brand_id: str) -> QColor:
    """A bright, stable colour for a brand (same id, same colour, on every screen)."""
    hue = zlib.crc32(brand_id.encode("utf-8")) % 360
    return QColor.fromHsv(hue, 170, 235)


def brand_letter(name: str) -> str:
    """The brand's logo letter: the first letter or digit of its name."""
    for ch in name:
        if ch.isalnum():
            return ch.upper()
    return "?"


def channel_badge(channel: str) -> str:
    """``uber_eats`` -> ``UBEREATS``."""
    return "".join(ch for ch in channel.upper() if ch.isalnum()) or "?"


#: the multiplication sign (U+00D7) of the "2x Classic Burger" line cue
TIMES = "\u00d7"


def line_text(item: TicketItem) -> str:
    """``2`` U+00D7 ``Classic Burger``: quantity and name of a line."""
    return f"{item.qty}{TIMES} {item.name}"


def modifier_text(name: str, qty: int) -> str:
    return f"+ {qty}{TIMES} {name}" if qty > 1 else f"+ {name}"


def local_hhmm(when: datetime) -> str:
    """``18:07`` in the screen's local time."""
    return when.astimezone().strftime("%H:%M")


# --- what a card says (pure) ----------------------------------------------------------


@dataclass(frozen=True)
class CardState:
    """Everything the model says about one card besides the ticket (its roles)."""

    station: str
    is_expo: bool
    elapsed: int = 0
    age: AgeState = AgeState.OK
    cue: str = ""
    void: bool = False
    started: bool = False
    rush: bool = False
    rush_up: bool = False
    lines: tuple[LineView, ...] = ()
    other_stations: tuple[str, ...] = ()
    folded: tuple[str, ...] = ()
    #: when this screen saw the ticket's declared allergy (None: not yet, or none)
    allergy_seen: datetime | None = None
    actions: tuple[str, ...] = ACTIONS
    #: actions tapped here that wait to be sent (offline)
    pending: tuple[str, ...] = ()


@dataclass(frozen=True)
class Chip:
    kind: str  # void, cue, rush, rush_up, started, fold
    text: str


@dataclass(frozen=True)
class Block:
    """One wrapped run of body text and how to draw it."""

    #: heading, line, waiting, changed, unavailable, done, fire, modifier, note,
    #: allergy, contains, order_note, also, gap
    #: (a ``line`` .. ``note`` block of a line that declares the allergy has ``allergy``)
    kind: str
    text: str
    #: the line this block belongs to (a tap on it is a tap on that line)
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
    #: line_id -> whether it is done (a tap undoes it then)
    done_lines: frozenset[str] = field(default_factory=frozenset)

    def texts(self) -> list[str]:
        """Every text on the card, top to bottom, as painted."""
        out = [self.number, self.timer, self.logo, self.brand, self.channel]
        out += [chip.text for chip in self.chips]
        if self.customer:
            out.append(self.customer)
        out += [block.text for block in self.blocks if block.text]
        out += [label for _action, label in self.buttons]
        return out


def button_label(action: str) -> str:
    """The (translated) label of ``action``'s button."""
    return QCoreApplication.translate("TicketCardDelegate", BUTTON_LABELS[action])


def _cue_text(cue: str) -> str:
    """The model's aging cue (``LATE +3:12``, ``DUE IN 2:30``, ``WARN 5:12``), translated."""
    if cue.startswith("LATE +"):
        return QCoreApplication.translate("TicketCardDelegate", "LATE +{time}").format(
            time=cue.removeprefix("LATE +")
        )
    if cue.startswith("DUE IN "):
        return QCoreApplication.translate("TicketCardDelegate", "DUE IN {time}").format(
            time=cue.removeprefix("DUE IN ")
        )
    if cue.startswith("WARN "):
        return QCoreApplication.translate("TicketCardDelegate", "WARN {time}").format(
            time=cue.removeprefix("WARN ")
        )
    return cue


def _pending_text(kind: str) -> str:
    """``↻ BUMP PENDING``: an action tapped here that waits to be sent."""
    action = button_label(kind) if kind in ACTIONS else kind.replace("_", " ").upper()
    return QCoreApplication.translate("TicketCardDelegate", "↻ {action} PENDING").format(
        action=action
    )


def card_content(ticket: Ticket, state: CardState) -> CardContent:
    """The texts of ``ticket``'s card in ``state`` (no Qt objects: the single source of them;
    the texts go through ``QCoreApplication.translate``, which needs no application)."""
    chips: list[Chip] = []
    if state.void:
        chips.append(Chip("void", QCoreApplication.translate("TicketCardDelegate", "VOID")))
    if state.cue:
        chips.append(Chip("cue", _cue_text(state.cue)))
    if state.rush_up:
        chips.append(Chip("rush_up", QCoreApplication.translate("TicketCardDelegate", "RUSH ↑")))
    elif state.rush:
        chips.append(Chip("rush", QCoreApplication.translate("TicketCardDelegate", "RUSH")))
    if state.started and not state.void:
        chips.append(Chip("started", QCoreApplication.translate("TicketCardDelegate", "STARTED")))
    chips += [Chip("fold", f"+{station}") for station in state.folded]
    chips += [Chip("pending", _pending_text(kind)) for kind in state.pending]

    blocks: list[Block] = []
    if ticket.allergy:
        # the heading, then the customer's own words (they often say "allergy" too)
        banner = QCoreApplication.translate("TicketCardDelegate", "⚠ ALLERGY")
        if state.allergy_seen is not None:
            seen = QCoreApplication.translate("TicketCardDelegate", "✓ SEEN {time}")
            banner += "  " + seen.format(time=local_hhmm(state.allergy_seen))
        blocks.append(Block("allergy", banner + "\n" + " · ".join(ticket.allergy)))

    def add_line(view: LineView) -> None:
        item = view.item
        lid = item.line_id
        text = line_text(item)
        first = len(blocks)
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
            for i in range(first, len(blocks)):
                blocks[i] = replace(blocks[i], allergy=True)

    if state.is_expo:
        for station in ticket.stations():
            progress = station_progress(ticket, station)
            if blocks:
                blocks.append(Block("gap", ""))
            blocks.append(Block("heading", _heading(station, progress), progress=progress))
            for view in state.lines:
                if view.item.station == station:
                    add_line(view)
    else:
        folded = bool(state.folded)
        last_station = ""
        for view in state.lines:
            if folded and view.item.station != last_station:
                last_station = view.item.station
                blocks.append(Block("heading", last_station.upper()))
            add_line(view)
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
    return CardContent(
        number=f"#{ticket.display_number}",
        timer=format_elapsed(state.elapsed),
        brand=ticket.brand.name,
        logo=brand_letter(ticket.brand.name),
        channel=channel_badge(ticket.channel),
        chips=tuple(chips),
        blocks=tuple(blocks),
        buttons=tuple((action, button_label(action)) for action in state.actions),
        customer=ticket.customer.name,
        done_lines=frozenset(
            view.item.line_id for view in state.lines if view.item.status is ItemStatus.DONE
        ),
    )


def card_state(index: AnyIndex, station: str, is_expo: bool) -> CardState:
    """The :class:`CardState` of a model index (from its roles)."""
    ticket = index.data(Role.TicketRole)
    lines = index.data(Role.LinesRole)
    if lines is None and isinstance(ticket, Ticket):
        lines = tuple(LineView(item) for item in index.data(Role.StationItemsRole) or ())
    actions = tuple(index.data(Role.ActionsRole) or ACTIONS)
    seen = index.data(Role.AllergySeenRole)
    return CardState(
        station=station,
        is_expo=is_expo,
        elapsed=int(index.data(Role.ElapsedRole) or 0),
        age=AgeState(index.data(Role.AgeStateRole) or AgeState.OK),
        cue=str(index.data(Role.CueRole) or ""),
        void=bool(index.data(Role.VoidRole)),
        started=bool(index.data(Role.StartedRole)),
        rush=bool(index.data(Role.RushRole)),
        rush_up=bool(index.data(Role.RushUpRole)),
        lines=tuple(lines or ()),
        other_stations=tuple(index.data(Role.OtherStationsRole) or ()),
        folded=tuple(index.data(Role.FoldedStationsRole) or ()),
        pending=tuple(index.data(Role.PendingRole) or ()),
        allergy_seen=seen if isinstance(seen, datetime) else None,
        actions=actions,
    )


# --- where things are -----------------------------------------------------------------


# Card geometries kept (by content); a screen shows tens of cards. At 2000 the cache
# held ~14 MB and a display's RSS climbed for the first ~20 minutes of service (soak).
GEOMETRY_CACHE_SIZE = 256


@dataclass(frozen=True)
class CardGeometry:
    """Where a card's parts are, relative to the card's top-left corner."""

    size: QSize
    header_h: int
    blocks: tuple[tuple[Block, QRect], ...]
    #: line_id -> the tap rectangle of that line (its text, modifiers, notes, allergens)
    lines: dict[str, QRect]
    buttons: dict[str, QRect]

    def moved(self, card: QRect) -> CardGeometry:
        """The same geometry with rectangles in ``card``'s coordinates."""
        dx, dy = card.left(), card.top()
        return CardGeometry(
            self.size,
            self.header_h,
            tuple((block, rect.translated(dx, dy)) for block, rect in self.blocks),
            {lid: rect.translated(dx, dy) for lid, rect in self.lines.items()},
            {action: rect.translated(dx, dy) for action, rect in self.buttons.items()},
        )


class _Colors:
    card = QColor("#1c2129")
    card_border = QColor("#3a4352")
    text = QColor("#f4f6f8")
    dim = QColor("#8a94a3")
    header_ok = QColor("#2c3644")
    header_warn = QColor("#f6c343")
    header_late = QColor("#e53e3e")
    text_on_warn = QColor("#111111")
    badge = QColor("#e2e8f0")
    badge_text = QColor("#111111")
    rush = QColor("#ff3d00")
    started = QColor("#3182ce")
    changed = QColor("#ff9f1c")
    note = QColor("#ffd84d")
    order_note_bg = QColor("#ffd84d")
    order_note_text = QColor("#111111")
    allergy_bg = QColor("#8e24aa")
    allergy_text = QColor("#ffffff")
    void_chip = QColor("#d50000")
    selected = QColor("#00e5ff")
    start_button = QColor("#2b6cb0")
    bump_button = QColor("#2f855a")
    allergy_button = QColor("#8e24aa")
    void_button = QColor("#ffffff")
    void_button_text = QColor("#111111")
    button_idle = QColor("#3a4352")
    button_text = QColor("#ffffff")
    void_overlay = QColor(120, 0, 0, 170)
    fold = QColor("#805ad5")
    progress_done = QColor("#48bb78")
    progress_working = QColor("#63b3ed")
    progress_pending = QColor("#a0aec0")


class TicketCardDelegate(QStyledItemDelegate):
    """Draws :class:`~kitchen_display.ticket_model.TicketListModel` rows as cards.

    ``actionRequested(ticket_id, action)``: a card's button was tapped (``"start"``,
    ``"bump"``, ``"ack_allergens"``, ``"ack_void"``).
    ``lineActionRequested(ticket_id, action, line_id)``: a line was tapped
    (``"item_done"``, or ``"item_undo"`` for a line already done).
    """

    actionRequested = Signal(str, str)
    lineActionRequested = Signal(str, str, str)

    def __init__(
        self,
        station: str,
        *,
        is_expo: bool,
        font_scale: float = 1.0,
        card_size: str = "large",
        min_touch_px: int = MIN_BUTTON_HEIGHT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._station = station
        self._is_expo = is_expo
        self._geometries: dict[tuple[Any, ...], CardGeometry] = {}
        self._pressed: tuple[str, str] | None = None
        #: (ticket_id, "button:<action>" / "line:<line_id>") under the last press
        self._press_target: tuple[str, str | None] | None = None
        self._last_action: tuple[tuple[str, str | None] | None, float] = (None, 0.0)
        self._colors = _Colors()
        self._card_size = card_size if card_size in CARD_SIZES else "large"
        self._min_touch = max(MIN_BUTTON_HEIGHT, int(min_touch_px))
        self._scale = font_scale
        self._build()

    # --- look -------------------------------------------------------------------------

    def set_font_scale(self, scale: float) -> None:
        """Rebuild fonts, pens and metrics for ``scale`` (call ``view.doItemsLayout()`` after)."""
        self._scale = scale
        self._build()

    def set_card_size(self, size: str) -> None:
        """``"compact"`` or ``"large"`` (call ``view.doItemsLayout()`` after)."""
        if size not in CARD_SIZES:
            raise ValueError(f"card size must be one of {', '.join(CARD_SIZES)}, got {size!r}")
        self._card_size = size
        self._build()

    def set_min_touch_px(self, px: int) -> None:
        """The smallest touch target (12 mm on this screen); buttons are at least this tall."""
        self._min_touch = max(MIN_BUTTON_HEIGHT, int(px))
        self._build()

    def set_theme(self, theme: Any) -> None:
        """Take the card colours of a :class:`~kitchen_display.theme.Theme`."""
        colors = getattr(theme, "colors", None)
        if colors is None:
            return
        c = _Colors()
        mapping = {
            "card": "card_bg",
            "card_border": "card_border",
            "text": "text",
            "dim": "dim",
            "header_ok": "header_ok",
            "header_warn": "warn",
            "header_late": "late",
            "text_on_warn": "text_on_warn",
            "rush": "rush",
            "allergy_bg": "allergy",
            "allergy_button": "allergy",
            "allergy_text": "allergy_text",
            "void_chip": "late",
            "note": "note",
            "selected": "selected",
            "start_button": "start_button",
            "bump_button": "bump_button",
            "button_text": "button_text",
        }
        for ours, theirs in mapping.items():
            value = getattr(colors, theirs, None)
            if value:
                setattr(c, ours, QColor(value))
        void = getattr(colors, "void", None)
        if void:
            overlay = QColor(void)
            overlay.setAlpha(185)
            c.void_overlay = overlay
        self._colors = c
        self._build()

    @property
    def card_size(self) -> str:
        return self._card_size

    def _build(self) -> None:
        scale = self._scale
        width_factor, font_factor = CARD_SIZES[self._card_size]
        fs = scale * font_factor

        def font(px: float, *, bold: bool = False, italic: bool = False) -> QFont:
            f = QFont()
            f.setFamilies(["DejaVu Sans", "Noto Sans", "Sans Serif"])
            f.setPixelSize(max(8, round(px * fs)))
            f.setBold(bold)
            f.setItalic(italic)
            return f

        self._f_number = font(30, bold=True)
        self._f_timer = font(28, bold=True)
        self._f_timer.setFamilies(["DejaVu Sans Mono", "Noto Sans Mono", "Monospace"])
        self._f_brand = font(18, bold=True)
        self._f_logo = font(16, bold=True)
        self._f_badge = font(13, bold=True)
        self._f_chip = font(15, bold=True)
        self._f_customer = font(14)
        self._f_line = font(20, bold=True)
        self._f_waiting = font(19)
        self._f_done = font(17)
        self._f_done.setStrikeOut(True)
        self._f_fire = font(15, bold=True)
        self._f_modifier = font(17)
        self._f_note = font(16, bold=True, italic=True)
        self._f_allergy = font(18, bold=True)
        self._f_contains = font(14)
        self._f_order_note = font(16, bold=True)
        self._f_heading = font(15, bold=True)
        self._f_also = font(15, italic=True)
        self._f_button = font(20, bold=True)
        self._f_void = font(46, bold=True)
        self._block_fonts = {
            "line": self._f_line,
            "changed": self._f_line,
            "waiting": self._f_waiting,
            "unavailable": self._f_done,
            "done": self._f_done,
            "fire": self._f_fire,
            "modifier": self._f_modifier,
            "note": self._f_note,
            "allergy": self._f_allergy,
            "contains": self._f_contains,
            "order_note": self._f_order_note,
            "heading": self._f_heading,
            "also": self._f_also,
        }
        self._block_fms = {kind: QFontMetrics(f) for kind, f in self._block_fonts.items()}

        self._fm_brand = QFontMetrics(self._f_brand)
        self._fm_badge = QFontMetrics(self._f_badge)
        self._fm_chip = QFontMetrics(self._f_chip)
        self._fm_customer = QFontMetrics(self._f_customer)

        self._pad = round(10 * fs)
        self._gap = round(4 * fs)
        self._indent = round(22 * fs)
        self._box_pad = round(4 * fs)
        self._radius = 8 * fs
        self._bar_h = max(6, round(10 * fs))
        self._width = round(BASE_CARD_WIDTH * scale * width_factor)
        self._button_h = max(MIN_BUTTON_HEIGHT, self._min_touch, round(54 * scale))
        self._number_h = QFontMetrics(self._f_number).height()
        self._brand_h = max(self._fm_brand.height(), self._fm_badge.height() + 8)
        self._chip_h = self._fm_chip.height() + round(6 * fs)
        self._header_h = (
            self._bar_h + self._pad + self._number_h + self._brand_h + self._gap + self._chip_h
        ) + self._pad
        self._footer_h = self._pad + self._button_h + self._pad

        c = self._colors
        self._pens = {
            name: QPen(getattr(c, name))
            for name in (
                "text",
                "dim",
                "text_on_warn",
                "changed",
                "note",
                "allergy_text",
                "order_note_text",
                "button_text",
                "void_button_text",
                "badge_text",
            )
        }
        self._pen_selected = QPen(c.selected, max(3.0, 4 * scale))
        self._pen_border = QPen(c.card_border, 1.0)
        self._brushes = {
            name: QBrush(getattr(c, name))
            for name in (
                "card",
                "header_ok",
                "header_warn",
                "header_late",
                "note",
                "allergy_bg",
                "order_note_bg",
                "void_overlay",
                "badge",
            )
        }
        self._geometries.clear()

    @property
    def card_width(self) -> int:
        return self._width

    @property
    def button_height(self) -> int:
        return self._button_h

    # --- geometry ---------------------------------------------------------------------

    def button_rects(self, card: QRect, actions: tuple[str, ...] = ACTIONS) -> dict[str, QRect]:
        """The button rectangles of a card drawn in ``card`` (viewport coordinates,
        i.e. ``view.visualRect(index)``), for the card's ``actions``: START and BUMP
        side by side, a single button across the card."""
        top = card.bottom() - self._pad - self._button_h + 1
        inner = card.width() - 2 * self._pad
        left = card.left() + self._pad
        if len(actions) == 1:
            return {actions[0]: QRect(left, top, inner, self._button_h)}
        gap = self._pad
        first_w = (inner - gap) * 2 // 5
        first = QRect(left, top, first_w, self._button_h)
        second = QRect(first.right() + 1 + gap, top, inner - first_w - gap, self._button_h)
        return dict(zip(actions, (first, second), strict=False))

    def button_rect(self, card: QRect, action: str) -> QRect:
        """One button's rectangle: ``"start"``/``"bump"`` side by side, the others
        (``"ack_allergens"``, ``"ack_void"``) across the card."""
        if action in ACTIONS:
            return self.button_rects(card)[action]
        return self.button_rects(card, (action,))[action]

    def action_at(self, card: QRect, pos: QPoint, actions: tuple[str, ...] = ACTIONS) -> str | None:
        """Which button (if any) is under ``pos`` in a card drawn in ``card``."""
        for action, rect in self.button_rects(card, actions).items():
            if rect.contains(pos):
                return action
        return None

    def card_geometry(self, index: AnyIndex, card: QRect | None = None) -> CardGeometry:
        """Where the parts of ``index``'s card are: relative to its top-left corner, or
        in ``card``'s coordinates (``view.visualRect(index)``) when given."""
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            geometry = CardGeometry(
                QSize(self._width, self._header_h + self._footer_h), self._header_h, (), {}, {}
            )
        else:
            geometry = self._geometry(self.content(index))
        return geometry if card is None else geometry.moved(card)

    def line_rect(self, card: QRect, index: AnyIndex, line_id: str) -> QRect:
        """The tap rectangle of one line of the card drawn in ``card`` (empty if none)."""
        return self.card_geometry(index, card).lines.get(line_id, QRect())

    def line_at(self, card: QRect, index: AnyIndex, pos: QPoint) -> str | None:
        """The line_id under ``pos`` in the card drawn in ``card``, if any."""
        for line_id, rect in self.card_geometry(index, card).lines.items():
            if rect.contains(pos):
                return line_id
        return None

    def content(self, index: AnyIndex) -> CardContent:
        """What ``index``'s card shows (see :func:`card_content`)."""
        ticket = index.data(Role.TicketRole)
        assert isinstance(ticket, Ticket)
        return card_content(ticket, card_state(index, self._station, self._is_expo))

    def card_texts(self, index: AnyIndex) -> list[str]:
        """Every text ``index``'s card shows, top to bottom (what ``paint`` draws)."""
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            return []
        return self.content(index).texts()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        return self.card_geometry(index).size

    def _geometry(self, content: CardContent) -> CardGeometry:
        key = (content.blocks, content.buttons)
        cached = self._geometries.get(key)
        if cached is not None:
            return cached
        inner = self._width - 2 * self._pad
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)
        y = self._header_h + self._gap
        placed: list[tuple[Block, QRect]] = []
        lines: dict[str, QRect] = {}
        for block in content.blocks:
            if block.kind == "gap":
                h = round(6 * self._scale)
            else:
                indent = self._indent if block.indent else 0
                boxed = block.kind in ("allergy", "order_note")
                extra = 2 * self._box_pad if boxed else 0
                fm = self._block_fms[block.kind]
                width = max(10, inner - indent - extra)
                h = fm.boundingRect(QRect(0, 0, width, 100_000), flags, block.text).height()
                h += extra
            rect = QRect(self._pad, y, inner, h)
            placed.append((block, rect))
            if block.line_id:
                # A line's tap target: its text and everything under it, card-wide.
                tap = QRect(1, y - self._gap // 2, self._width - 2, h + self._gap)
                lines[block.line_id] = (
                    lines[block.line_id].united(tap) if (block.line_id in lines) else tap
                )
            y += h + self._gap
        height = y + self._gap + self._footer_h
        geometry = CardGeometry(
            QSize(self._width, height),
            self._header_h,
            tuple(placed),
            lines,
            self.button_rects(
                QRect(0, 0, self._width, height), tuple(a for a, _l in content.buttons)
            ),
        )
        if len(self._geometries) > GEOMETRY_CACHE_SIZE:
            self._geometries.clear()
        self._geometries[key] = geometry
        return geometry

    # --- painting ---------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            return
        rect = QRect(option.rect)
        c = self._colors
        state = card_state(index, self._station, self._is_expo)
        content = card_content(ticket, state)
        geometry = self._geometry(content).moved(rect)
        age = state.age
        selected = bool(option.state & QStyle.StateFlag.State_Selected)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setClipRect(rect)

        # Card and header background (the header carries the aging colour).
        painter.setPen(self._pen_border)
        painter.setBrush(self._brushes["card"])
        painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), self._radius, self._radius)
        header_brush = {
            AgeState.OK: self._brushes["header_ok"],
            AgeState.WARN: self._brushes["header_warn"],
            AgeState.LATE: self._brushes["header_late"],
        }[age]
        header_pen = self._pens["text_on_warn"] if age is AgeState.WARN else self._pens["text"]
        header = QRect(rect.left() + 1, rect.top() + 1, rect.width() - 2, self._header_h - 1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(header_brush)
        painter.drawRoundedRect(header, self._radius, self._radius)
        painter.drawRect(header.adjusted(0, round(self._radius), 0, 0))
        brand_qcolor = brand_color(ticket.brand.id)
        painter.setBrush(QBrush(brand_qcolor))
        painter.drawRoundedRect(
            QRect(header.left(), header.top(), header.width(), self._bar_h + 4),
            self._radius,
            self._radius,
        )
        painter.setBrush(header_brush)
        painter.drawRect(QRect(header.left(), header.top() + self._bar_h, header.width(), 4))

        x = rect.left() + self._pad
        inner = rect.width() - 2 * self._pad
        y = rect.top() + self._bar_h + self._pad

        # Row 1: display number, elapsed timer.
        painter.setPen(header_pen)
        painter.setFont(self._f_number)
        row = QRect(x, y, inner, self._number_h)
        left_v = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        right_v = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(row, left_v, content.number)
        painter.setFont(self._f_timer)
        painter.drawText(row, right_v, content.timer)
        y += self._number_h

        # Row 2: logo letter in the brand colour, brand name, channel badge.
        diameter = self._brand_h - 2
        logo = QRect(x, y + 1, diameter, diameter)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(brand_qcolor))
        painter.drawEllipse(logo)
        painter.setPen(self._pens["badge_text"])
        painter.setFont(self._f_logo)
        painter.drawText(logo, Qt.AlignmentFlag.AlignCenter, content.logo)

        badge_bg, badge_fg = CHANNEL_COLORS.get(
            ticket.channel.lower(), (c.badge.name(), c.badge_text.name())
        )
        badge_w = self._fm_badge.horizontalAdvance(content.channel) + round(14 * self._scale)
        badge_h = self._fm_badge.height() + 6
        badge_rect = QRect(
            x + inner - badge_w, y + (self._brand_h - badge_h) // 2, badge_w, badge_h
        )
        painter.setPen(header_pen)
        painter.setFont(self._f_brand)
        name_left = logo.right() + 1 + self._gap * 2
        brand_rect = QRect(name_left, y, badge_rect.left() - self._gap - name_left, self._brand_h)
        brand = self._fm_brand.elidedText(
            content.brand, Qt.TextElideMode.ElideRight, brand_rect.width()
        )
        painter.drawText(brand_rect, left_v, brand)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(badge_bg))
        painter.drawRoundedRect(badge_rect, 4, 4)
        painter.setPen(QColor(badge_fg))
        painter.setFont(self._f_badge)
        painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, content.channel)
        y += self._brand_h + self._gap

        # Row 3: chips, customer name.
        chip_colors = {
            "void": (c.void_chip, c.button_text),
            "rush": (c.rush, c.button_text),
            "rush_up": (c.rush, c.button_text),
            "started": (c.started, c.button_text),
            "fold": (c.fold, c.button_text),
            "pending": (c.text_on_warn, c.header_warn),
        }
        cue_colors = {
            AgeState.WARN: (c.text_on_warn, c.header_warn),
            AgeState.LATE: (c.text, c.header_late),
        }
        cx = x
        painter.setFont(self._f_chip)
        for chip in content.chips:
            if chip.kind == "cue":
                bg, fg = cue_colors.get(age, (c.text, c.card))
            else:
                bg, fg = chip_colors[chip.kind]
            w = self._fm_chip.horizontalAdvance(chip.text) + round(12 * self._scale)
            w = min(w, x + inner - cx)
            if w <= 0:
                break
            box = QRect(cx, y, w, self._chip_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(bg)
            painter.drawRoundedRect(box, 4, 4)
            painter.setPen(fg)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, chip.text)
            cx += w + self._gap
        if content.customer and cx < x + inner - 40:
            painter.setPen(header_pen)
            painter.setFont(self._f_customer)
            name_rect = QRect(cx, y, x + inner - cx, self._chip_h)
            name = self._fm_customer.elidedText(
                content.customer, Qt.TextElideMode.ElideRight, name_rect.width()
            )
            painter.drawText(name_rect, right_v, name)

        # Body.
        for block, block_rect in geometry.blocks:
            self._paint_block(painter, block, block_rect)

        # VOID overlay over header and body (the button stays readable).
        if state.void:
            overlay = QRect(
                rect.left() + 1, rect.top() + 1, rect.width() - 2, rect.height() - self._footer_h
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._brushes["void_overlay"])
            painter.drawRoundedRect(overlay, self._radius, self._radius)
            painter.setPen(self._pens["button_text"])
            painter.setFont(self._f_void)
            painter.save()
            painter.translate(overlay.center())
            painter.rotate(-18)
            painter.drawText(
                QRect(
                    -overlay.width(), -overlay.height() // 2, 2 * overlay.width(), overlay.height()
                ),
                Qt.AlignmentFlag.AlignCenter,
                QCoreApplication.translate("TicketCardDelegate", "VOID"),
            )
            painter.restore()

        # Buttons.
        labels = dict(content.buttons)
        painter.setFont(self._f_button)
        for action, button in geometry.buttons.items():
            pen = self._pens["button_text"]
            if action == "start":
                color = c.button_idle if state.started else c.start_button
            elif action == "bump":
                color = c.bump_button
            elif action == "ack_allergens":
                color = c.allergy_button
            else:
                color = c.void_button
                pen = self._pens["void_button_text"]
            if self._pressed == (ticket.id, action):
                color = color.lighter(140) if color.lightness() < 200 else color.darker(125)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(color)
            painter.drawRoundedRect(button, 6, 6)
            painter.setPen(pen)
            painter.drawText(button, Qt.AlignmentFlag.AlignCenter, labels[action])

        # Selection frame last, over everything.
        if selected:
            painter.setPen(self._pen_selected)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = round(self._pen_selected.widthF() / 2)
            painter.drawRoundedRect(
                rect.adjusted(half, half, -half, -half), self._radius, self._radius
            )
        painter.restore()

    def _paint_block(self, painter: QPainter, block: Block, rect: QRect) -> None:
        kind = block.kind
        if kind == "gap":
            return
        c = self._colors
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)
        text_rect = rect.adjusted(self._indent if block.indent else 0, 0, 0, 0)
        painter.setFont(self._block_fonts[kind])
        if block.allergy:
            # a line that declares the allergy: a purple bar in the card's left margin
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._brushes["allergy_bg"])
            bar = max(4, round(6 * self._scale))
            painter.drawRect(
                QRect(
                    rect.left() - self._pad + 1,
                    rect.top() - self._gap // 2,
                    bar,
                    rect.height() + self._gap,
                )
            )
        if kind in ("line",):
            painter.setPen(self._pens["text"])
        elif kind == "changed":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(c.changed)
            painter.drawRect(
                QRect(rect.left() - self._pad + 2, rect.top(), max(3, self._gap), rect.height())
            )
            painter.setPen(self._pens["changed"])
        elif kind in ("waiting", "done", "unavailable", "also", "contains"):
            painter.setPen(self._pens["dim"])
        elif kind == "fire":
            painter.setPen(self._pens["note"])
        elif kind == "modifier":
            painter.setPen(self._pens["text"])
        elif kind == "note":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._brushes["note"])
            painter.drawRect(
                QRect(
                    text_rect.left() - round(8 * self._scale),
                    text_rect.top(),
                    max(2, round(3 * self._scale)),
                    text_rect.height(),
                )
            )
            painter.setPen(self._pens["note"])
        elif kind in ("allergy", "order_note"):
            bg = "order_note_bg" if kind == "order_note" else "allergy_bg"
            fg = "order_note_text" if kind == "order_note" else "allergy_text"
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._brushes[bg])
            painter.drawRoundedRect(text_rect, 3, 3)
            painter.setPen(self._pens[fg])
            pad = self._box_pad
            text_rect = text_rect.adjusted(pad, pad, -pad, -pad)
        elif kind == "heading":
            color = {
                StationProgress.DONE: c.progress_done,
                StationProgress.IN_PROGRESS: c.progress_working,
            }.get(block.progress or StationProgress.PENDING, c.progress_pending)
            if block.progress is None:
                color = c.fold
            painter.setPen(QPen(color, 1))
            painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
            painter.setPen(color)
        painter.drawText(text_rect, flags, block.text)

    # --- input ------------------------------------------------------------------------

    def editorEvent(
        self,
        event: QEvent,
        model: Any,
        option: QStyleOptionViewItem,
        index: AnyIndex,
    ) -> bool:
        kind = event.type()
        if kind not in (
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
        ) or not isinstance(event, QMouseEvent):
            return super().editorEvent(event, model, option, index)
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        ticket_id = str(index.data(Role.IdRole))
        pos = event.position().toPoint()
        geometry = self.card_geometry(index, option.rect)
        target: str | None = None  # "button:<action>" or "line:<line_id>"
        for action, rect in geometry.buttons.items():
            if rect.contains(pos):
                target = f"button:{action}"
        if target is None and not bool(index.data(Role.VoidRole)):
            for line_id, rect in geometry.lines.items():
                if rect.contains(pos):
                    target = f"line:{line_id}"
        widget = option.widget
        if kind == QEvent.Type.MouseButtonPress:
            self._set_pressed(
                (ticket_id, target.split(":", 1)[1])
                if target and target.startswith("button:")
                else None,
                widget,
                option.rect,
            )
            self._press_target = (ticket_id, target)
            # A line tap also selects the card: let the view see the press.
            return target is not None and target.startswith("button:")
        if kind == QEvent.Type.MouseButtonDblClick:
            return target is not None  # see the debounce on release
        pressed = self._press_target
        self._press_target = None
        self._set_pressed(None, widget, option.rect)
        if target is None or pressed != (ticket_id, target):
            return False
        now = time.monotonic()
        last_target, last_time = self._last_action
        interval = QGuiApplication.styleHints().mouseDoubleClickInterval() / 1000
        if last_target == (ticket_id, target) and now - last_time < interval:
            return True  # a double tap is one command, not two
        self._last_action = ((ticket_id, target), now)
        what, name = target.split(":", 1)
        if what == "button":
            self.actionRequested.emit(ticket_id, name)
        else:
            content = self.content(index)
            undo = name in content.done_lines
            self.lineActionRequested.emit(ticket_id, "item_undo" if undo else "item_done", name)
        return True

    def _set_pressed(
        self, pressed: tuple[str, str] | None, widget: QWidget | None, rect: QRect
    ) -> None:
        if pressed == self._pressed:
            return
        self._pressed = pressed
        if widget is not None:
            target = getattr(widget, "viewport", None)
            (target() if callable(target) else widget).update(rect)


def _heading(station: str, progress: StationProgress) -> str:
    label = {
        StationProgress.DONE: QCoreApplication.translate("TicketCardDelegate", "✓ done"),
        StationProgress.IN_PROGRESS: QCoreApplication.translate(
            "TicketCardDelegate", "in progress"
        ),
        StationProgress.PENDING: QCoreApplication.translate("TicketCardDelegate", "waiting"),
    }[progress]
    return f"{station.upper()} — {label}"
