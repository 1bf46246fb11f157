"""Painting one ticket as a kitchen card, with its START and BUMP touch buttons.

A card, top to bottom::

    ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀  brand colour bar (colour derived from the brand id)
    #1042              07:41   display number, elapsed time since placed
    Burger Bros     UBEREATS   brand name, channel badge
    RUSH STARTED LATE +0:12    chips (text cues besides the header colour)
    2x Classic Burger          this station's lines (expo: every line, by station)
       + no onion              modifiers
       NOTE: well done         line notes, highlighted
     ALLERGEN: gluten, milk    inverse red box
    ORDER NOTE: ...            ticket notes
    also at: fry, cold         other stations (prep stations only)
    [ START ]  [  BUMP  ]      touch buttons, >= 48 px tall

Fonts, pens and brushes are built once (and again on :meth:`set_font_scale`);
a card's body layout is cached per ticket object. Clicks on the buttons are
handled in :meth:`editorEvent` and reported as ``actionRequested(ticket_id,
action)``; the delegate never changes a ticket itself.
"""

from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
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
    AgeState,
    Role,
    StationProgress,
    format_elapsed,
    station_progress,
)
from shared.model import ItemStatus, Ticket, TicketItem

AnyIndex = QModelIndex | QPersistentModelIndex

#: the actions a card's buttons request, left to right
ACTIONS: tuple[str, ...] = ("start", "bump")

BASE_CARD_WIDTH = 300
MIN_BUTTON_HEIGHT = 48


def brand_color(brand_id: str) -> QColor:
    """A bright, stable colour for a brand (same id, same colour, on every screen)."""
    hue = zlib.crc32(brand_id.encode("utf-8")) % 360
    return QColor.fromHsv(hue, 170, 235)


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


@dataclass(frozen=True)
class _Block:
    """One wrapped run of body text and how to draw it."""

    kind: str  # line, done, modifier, note, allergen, order_note, heading, also, gap
    text: str
    height: int
    indent: int = 0
    progress: StationProgress | None = None


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
    note = QColor("#ffd84d")
    order_note_bg = QColor("#ffd84d")
    order_note_text = QColor("#111111")
    allergen_bg = QColor("#d50000")
    allergen_text = QColor("#ffffff")
    selected = QColor("#00e5ff")
    start_button = QColor("#2b6cb0")
    bump_button = QColor("#2f855a")
    button_idle = QColor("#3a4352")
    button_text = QColor("#ffffff")
    void_overlay = QColor(120, 0, 0, 170)
    progress_done = QColor("#48bb78")
    progress_working = QColor("#63b3ed")
    progress_pending = QColor("#a0aec0")


class TicketCardDelegate(QStyledItemDelegate):
    """Draws :class:`~kitchen_display.ticket_model.TicketListModel` rows as cards.

    ``actionRequested(ticket_id, action)`` is emitted when a card's START
    (``"start"``) or BUMP (``"bump"``) button is tapped.
    """

    actionRequested = Signal(str, str)

    def __init__(
        self,
        station: str,
        *,
        is_expo: bool,
        font_scale: float = 1.0,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._station = station
        self._is_expo = is_expo
        self._layouts: dict[str, tuple[Ticket, list[_Block], int]] = {}
        self._pressed: tuple[str, str] | None = None
        self._last_action: tuple[tuple[str, str] | None, float] = (None, 0.0)
        self._colors = _Colors()
        self.set_font_scale(font_scale)

    # --- metrics ----------------------------------------------------------------------

    def set_font_scale(self, scale: float) -> None:
        """Rebuild fonts, pens and metrics for ``scale`` (call ``view.doItemsLayout()`` after)."""
        self._scale = scale

        def font(px: float, *, bold: bool = False, italic: bool = False) -> QFont:
            f = QFont()
            f.setFamilies(["DejaVu Sans", "Noto Sans", "Sans Serif"])
            f.setPixelSize(max(8, round(px * scale)))
            f.setBold(bold)
            f.setItalic(italic)
            return f

        self._f_number = font(30, bold=True)
        self._f_timer = font(28, bold=True)
        self._f_timer.setFamilies(["DejaVu Sans Mono", "Noto Sans Mono", "Monospace"])
        self._f_brand = font(17, bold=True)
        self._f_badge = font(12, bold=True)
        self._f_chip = font(13, bold=True)
        self._f_customer = font(13)
        self._f_line = font(19, bold=True)
        self._f_done = font(17)
        self._f_done.setStrikeOut(True)
        self._f_modifier = font(16)
        self._f_note = font(15, bold=True, italic=True)
        self._f_allergen = font(15, bold=True)
        self._f_order_note = font(15, bold=True)
        self._f_heading = font(14, bold=True)
        self._f_also = font(14, italic=True)
        self._f_button = font(19, bold=True)
        self._f_void = font(56, bold=True)

        self._fm_brand = QFontMetrics(self._f_brand)
        self._fm_badge = QFontMetrics(self._f_badge)
        self._fm_chip = QFontMetrics(self._f_chip)
        self._fm_customer = QFontMetrics(self._f_customer)

        self._pad = round(10 * scale)
        self._gap = round(4 * scale)
        self._indent = round(22 * scale)
        self._radius = 8 * scale
        self._bar_h = max(6, round(10 * scale))
        self._width = round(BASE_CARD_WIDTH * scale)
        self._button_h = max(MIN_BUTTON_HEIGHT, round(54 * scale))
        self._number_h = QFontMetrics(self._f_number).height()
        self._brand_h = max(
            QFontMetrics(self._f_brand).height(), QFontMetrics(self._f_badge).height() + 6
        )
        self._chip_h = QFontMetrics(self._f_chip).height() + round(6 * scale)
        self._header_h = (
            self._bar_h + self._pad + self._number_h + self._brand_h + self._gap + self._chip_h
        ) + self._pad
        self._footer_h = self._pad + self._button_h + self._pad

        self._pen_text = QPen(self._colors.text)
        self._pen_dim = QPen(self._colors.dim)
        self._pen_selected = QPen(self._colors.selected, max(3.0, 4 * scale))
        self._pen_border = QPen(self._colors.card_border, 1.0)
        self._layouts.clear()

    @property
    def card_width(self) -> int:
        return self._width

    @property
    def button_height(self) -> int:
        return self._button_h

    def button_rects(self, card: QRect) -> dict[str, QRect]:
        """The START and BUMP button rectangles of a card drawn in ``card``.

        ``card`` is the item's rectangle in viewport coordinates, i.e.
        ``view.visualRect(index)``; the buttons sit at its bottom.
        """
        top = card.bottom() - self._pad - self._button_h + 1
        inner = card.width() - 2 * self._pad
        gap = self._pad
        start_w = (inner - gap) * 2 // 5
        start = QRect(card.left() + self._pad, top, start_w, self._button_h)
        bump = QRect(start.right() + 1 + gap, top, inner - start_w - gap, self._button_h)
        return {"start": start, "bump": bump}

    def button_rect(self, card: QRect, action: str) -> QRect:
        """One button's rectangle (``action`` is ``"start"`` or ``"bump"``)."""
        return self.button_rects(card)[action]

    def action_at(self, card: QRect, pos: QPoint) -> str | None:
        """Which button (if any) is under ``pos`` in a card drawn in ``card``."""
        for action, rect in self.button_rects(card).items():
            if rect.contains(pos):
                return action
        return None

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            return QSize(self._width, self._header_h + self._footer_h)
        _blocks, body_h = self._layout(ticket)
        return QSize(self._width, self._header_h + body_h + self._footer_h)

    # --- body layout ------------------------------------------------------------------

    def _layout(self, ticket: Ticket) -> tuple[list[_Block], int]:
        cached = self._layouts.get(ticket.id)
        if cached is not None and cached[0] is ticket:
            return cached[1], cached[2]
        blocks = self._blocks(ticket)
        height = sum(block.height for block in blocks)
        if len(self._layouts) > 1000:
            self._layouts.clear()
        self._layouts[ticket.id] = (ticket, blocks, height)
        return blocks, height

    def _text_height(self, font: QFont, text: str, width: int) -> int:
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)
        rect = QFontMetrics(font).boundingRect(QRect(0, 0, max(10, width), 100_000), flags, text)
        return rect.height()

    def _blocks(self, ticket: Ticket) -> list[_Block]:
        inner = self._width - 2 * self._pad
        blocks: list[_Block] = []

        def add(kind: str, text: str, font: QFont, indent: int = 0, extra: int = 0, **kw: Any):
            height = self._text_height(font, text, inner - indent - extra) + extra
            blocks.append(_Block(kind, text, height + self._gap, indent, **kw))

        def add_lines(items: tuple[TicketItem, ...]) -> None:
            for item in items:
                done = item.status is ItemStatus.DONE
                text = ("✓ " if done else "") + line_text(item)
                if item.changed:
                    text += "  [CHANGED]"
                add("done" if done else "line", text, self._f_done if done else self._f_line)
                for mod in item.modifiers:
                    add(
                        "modifier", modifier_text(mod.name, mod.qty), self._f_modifier, self._indent
                    )
                if item.notes:
                    add("note", f"NOTE: {item.notes}", self._f_note, self._indent)
                if item.allergens:
                    add(
                        "allergen",
                        "ALLERGEN: " + ", ".join(item.allergens),
                        self._f_allergen,
                        self._indent,
                        extra=round(8 * self._scale),
                    )

        if self._is_expo:
            for station in ticket.stations():
                progress = station_progress(ticket, station)
                if blocks:
                    blocks.append(_Block("gap", "", round(6 * self._scale)))
                add("heading", _heading(station, progress), self._f_heading, progress=progress)
                add_lines(ticket.items_at(station))
        else:
            add_lines(ticket.items_at(self._station))
        if ticket.notes:
            add("order_note", f"ORDER NOTE: {ticket.notes}", self._f_order_note, extra=8)
        if not self._is_expo:
            others = [s for s in ticket.stations() if s != self._station]
            if others:
                add("also", "also at: " + ", ".join(others), self._f_also)
        if not blocks:
            add("also", "(no lines)", self._f_also)
        return blocks

    # --- painting ---------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            return
        rect = QRect(option.rect)
        c = self._colors
        age = index.data(Role.AgeStateRole) or AgeState.OK
        elapsed = int(index.data(Role.ElapsedRole) or 0)
        late_by = int(index.data(Role.LateBySecondsRole) or 0)
        void = bool(index.data(Role.VoidRole))
        started = bool(index.data(Role.StartedRole))
        rush = bool(index.data(Role.RushRole))
        selected = bool(option.state & QStyle.StateFlag.State_Selected)

        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setClipRect(rect)

        # Card and header background (the header carries the aging colour).
        painter.setPen(self._pen_border)
        painter.setBrush(QBrush(c.card))
        painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), self._radius, self._radius)
        header_color = {
            AgeState.OK: c.header_ok,
            AgeState.WARN: c.header_warn,
            AgeState.LATE: c.header_late,
        }[AgeState(age)]
        header_text = c.text_on_warn if age == AgeState.WARN else c.text
        header = QRect(rect.left() + 1, rect.top() + 1, rect.width() - 2, self._header_h - 1)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(header_color))
        painter.drawRoundedRect(header, self._radius, self._radius)
        painter.drawRect(header.adjusted(0, round(self._radius), 0, 0))
        painter.setBrush(QBrush(brand_color(ticket.brand.id)))
        painter.drawRoundedRect(
            QRect(header.left(), header.top(), header.width(), self._bar_h + 4),
            self._radius,
            self._radius,
        )
        painter.setBrush(QBrush(header_color))
        painter.drawRect(QRect(header.left(), header.top() + self._bar_h, header.width(), 4))

        x = rect.left() + self._pad
        inner = rect.width() - 2 * self._pad
        y = rect.top() + self._bar_h + self._pad

        # Row 1: display number, elapsed timer.
        painter.setPen(header_text)
        painter.setFont(self._f_number)
        row = QRect(x, y, inner, self._number_h)
        painter.drawText(
            row,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            f"#{ticket.display_number}",
        )
        painter.setFont(self._f_timer)
        painter.drawText(
            row,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
            format_elapsed(elapsed),
        )
        y += self._number_h

        # Row 2: brand name, channel badge.
        badge = channel_badge(ticket.channel)
        badge_fm = self._fm_badge
        badge_w = badge_fm.horizontalAdvance(badge) + round(12 * self._scale)
        badge_h = badge_fm.height() + 4
        badge_rect = QRect(
            x + inner - badge_w, y + (self._brand_h - badge_h) // 2, badge_w, badge_h
        )
        painter.setPen(header_text)
        painter.setFont(self._f_brand)
        brand_rect = QRect(x, y, inner - badge_w - self._gap, self._brand_h)
        brand = self._fm_brand.elidedText(
            ticket.brand.name, Qt.TextElideMode.ElideRight, brand_rect.width()
        )
        painter.drawText(
            brand_rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, brand
        )
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(c.badge))
        painter.drawRoundedRect(badge_rect, 4, 4)
        painter.setPen(c.badge_text)
        painter.setFont(self._f_badge)
        painter.drawText(badge_rect, Qt.AlignmentFlag.AlignCenter, badge)
        y += self._brand_h + self._gap

        # Row 3: chips, customer name.
        chips: list[tuple[str, QColor, QColor]] = []
        if void:
            chips.append(("VOID", c.allergen_bg, c.allergen_text))
        if rush:
            chips.append(("RUSH", c.rush, c.button_text))
        if started:
            chips.append(("STARTED", c.started, c.button_text))
        if age == AgeState.WARN:
            chips.append(("WARN", c.text_on_warn, c.header_warn))
        elif age == AgeState.LATE:
            chips.append((f"LATE +{_minsec(late_by)}", c.text, c.header_late))
        chip_fm = self._fm_chip
        cx = x
        painter.setFont(self._f_chip)
        for text, bg, fg in chips:
            w = chip_fm.horizontalAdvance(text) + round(12 * self._scale)
            chip = QRect(cx, y, w, self._chip_h)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(bg))
            painter.drawRoundedRect(chip, 4, 4)
            painter.setPen(fg)
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)
            cx += w + self._gap
        if ticket.customer.name and cx < x + inner - 40:
            painter.setPen(header_text)
            painter.setFont(self._f_customer)
            name_rect = QRect(cx, y, x + inner - cx, self._chip_h)
            name = self._fm_customer.elidedText(
                ticket.customer.name, Qt.TextElideMode.ElideRight, name_rect.width()
            )
            painter.drawText(
                name_rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name
            )

        # Body.
        y = rect.top() + self._header_h + self._gap
        blocks, _height = self._layout(ticket)
        for block in blocks:
            self._paint_block(painter, block, QRect(x, y, inner, block.height - self._gap))
            y += block.height

        # VOID overlay over header and body (the buttons stay readable).
        if void:
            overlay = QRect(
                rect.left() + 1, rect.top() + 1, rect.width() - 2, rect.height() - self._footer_h
            )
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(c.void_overlay))
            painter.drawRoundedRect(overlay, self._radius, self._radius)
            painter.setPen(QPen(c.allergen_text))
            painter.setFont(self._f_void)
            painter.save()
            painter.translate(overlay.center())
            painter.rotate(-18)
            painter.drawText(
                QRect(
                    -overlay.width(), -overlay.height() // 2, 2 * overlay.width(), overlay.height()
                ),
                Qt.AlignmentFlag.AlignCenter,
                "VOID",
            )
            painter.restore()

        # Buttons.
        for action, button in self.button_rects(rect).items():
            if action == "start":
                color = c.button_idle if started or void else c.start_button
                label = "START"
            else:
                color = c.button_idle if void else c.bump_button
                label = "BUMP"
            if self._pressed == (ticket.id, action):
                color = color.lighter(140)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(color))
            painter.drawRoundedRect(button, 6, 6)
            painter.setPen(c.button_text)
            painter.setFont(self._f_button)
            painter.drawText(button, Qt.AlignmentFlag.AlignCenter, label)

        # Selection frame last, over everything.
        if selected:
            painter.setPen(self._pen_selected)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = round(self._pen_selected.widthF() / 2)
            painter.drawRoundedRect(
                rect.adjusted(half, half, -half, -half), self._radius, self._radius
            )
        painter.restore()

    def _paint_block(self, painter: QPainter, block: _Block, rect: QRect) -> None:
        if block.kind == "gap":
            return
        c = self._colors
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)
        text_rect = rect.adjusted(block.indent, 0, 0, 0)
        kind = block.kind
        if kind == "line":
            painter.setPen(c.text)
            painter.setFont(self._f_line)
        elif kind == "done":
            painter.setPen(c.dim)
            painter.setFont(self._f_done)
        elif kind == "modifier":
            painter.setPen(c.text)
            painter.setFont(self._f_modifier)
        elif kind == "note":
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(c.note))
            painter.drawRect(
                QRect(
                    text_rect.left() - round(8 * self._scale),
                    text_rect.top(),
                    max(2, round(3 * self._scale)),
                    text_rect.height(),
                )
            )
            painter.setPen(c.note)
            painter.setFont(self._f_note)
        elif kind in ("allergen", "order_note"):
            bg = c.allergen_bg if kind == "allergen" else c.order_note_bg
            fg = c.allergen_text if kind == "allergen" else c.order_note_text
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(bg))
            painter.drawRoundedRect(text_rect, 3, 3)
            painter.setPen(fg)
            painter.setFont(self._f_allergen if kind == "allergen" else self._f_order_note)
            pad = round(4 * self._scale) if kind == "allergen" else 4
            text_rect = text_rect.adjusted(pad, pad, -pad, -pad)
        elif kind == "heading":
            color = {
                StationProgress.DONE: c.progress_done,
                StationProgress.IN_PROGRESS: c.progress_working,
            }.get(block.progress or StationProgress.PENDING, c.progress_pending)
            painter.setPen(QPen(color, 1))
            painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
            painter.setPen(color)
            painter.setFont(self._f_heading)
        else:  # also
            painter.setPen(c.dim)
            painter.setFont(self._f_also)
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
        ticket_id = index.data(Role.IdRole)
        action = self.action_at(option.rect, event.position().toPoint())
        widget = option.widget
        if kind == QEvent.Type.MouseButtonPress:
            self._set_pressed((ticket_id, action) if action else None, widget, option.rect)
            return action is not None
        if kind == QEvent.Type.MouseButtonDblClick:
            return action is not None  # see the debounce on release
        pressed = self._pressed
        self._set_pressed(None, widget, option.rect)
        if action is not None and pressed == (ticket_id, action):
            now = time.monotonic()
            last_target, last_time = self._last_action
            interval = QGuiApplication.styleHints().mouseDoubleClickInterval() / 1000
            if last_target == pressed and now - last_time < interval:
                return True  # a double tap is one command, not two
            self._last_action = (pressed, now)
            self.actionRequested.emit(str(ticket_id), action)
            return True
        return action is not None

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
        StationProgress.DONE: "✓ done",
        StationProgress.IN_PROGRESS: "in progress",
        StationProgress.PENDING: "waiting",
    }[progress]
    return f"{station.upper()} — {label}"


def _minsec(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"
