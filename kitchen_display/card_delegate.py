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

The card is painted from three parts: what it says (:mod:`kitchen_display.card_content`,
pure), how it looks (:class:`~kitchen_display.card_style.CardStyle`: fonts, metrics and
the ink of every text, built once per theme / scale / card size) and where things are
(:mod:`kitchen_display.card_geometry`, cached by content), used by ``sizeHint``,
``paint`` and hit testing alike.

Taps are handled in :meth:`TicketCardDelegate.editorEvent` and reported as
``actionRequested(ticket_id, action)`` (START, BUMP, ALLERGY SEEN, OK SEEN) or
``lineActionRequested(ticket_id, action, line_id)`` (a line: ``item_done`` /
``item_undo``); the delegate never changes a ticket itself.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QMouseEvent, QPainter, QPixmap
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from kitchen_display.card_content import (
    ACTIONS,
    Block,
    CardContent,
    CardState,
    Chip,
    card_content,
    card_state,
    card_state_from,
    header_chips,
)
from kitchen_display.card_geometry import BOXED, WRAP, CardGeometry, CardLayout, button_rects
from kitchen_display.card_style import CARD_SIZES, MIN_BUTTON_HEIGHT, CardStyle, Ink
from kitchen_display.theme import DARK, Theme
from kitchen_display.ticket_model import CardHeader, Role, TicketListModel, format_elapsed
from shared.aging import AgeState
from shared.model import Ticket

AnyIndex = QModelIndex | QPersistentModelIndex

_LEFT_V = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT_V = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
#: as a number (``option.state.value & _SELECTED``: no enum arithmetic per card)
_SELECTED = QStyle.StateFlag.State_Selected.value


#: roles that change only what a card's header shows (its clock, aging colour and
#: chips: the chips row is one line, cut at the card's edge), never the card's size
HEADER_ROLES = frozenset(
    int(role)
    for role in (
        Role.ElapsedRole,
        Role.AgeStateRole,
        Role.LateBySecondsRole,
        Role.AgingRole,
        Role.RushUpRole,
        Role.RushRole,
        Role.StartedRole,
        Role.PendingRole,
        Role.UnconfirmedRole,
    )
)


#: at most this much memory for the cards' pictures (a 300 x 500 card is ~600 KB, and
#: a card has two: still and as shown; a 1920 x 1080 wall of cards is ~17 MB of them)
PICTURE_BUDGET_BYTES = 32 * 1024 * 1024


class _Picture:
    """A card, painted: its still parts (``still``, for ``key``) and the card as shown
    (``shown``: the still parts with ``timer`` and ``chips`` over them). A repaint that
    changes nothing on the card costs one copy of ``shown``. A new second brings
    ``shown`` up to date (the clock, and the chips row if it changed, each over its row
    copied from ``still``) before it is copied: the repaint after it (a card moved in
    front of this one, the wall uncovered) is a copy again. (Painting the new second
    onto the screen and catching ``shown`` up later cost a move just after the clock
    ~10 ms more at 300 open tickets: every card caught up at once.)"""

    __slots__ = ("chips", "customer", "key", "shown", "shown_for", "still", "timer")

    def __init__(
        self, key: tuple[int, int, float, AgeState, bool], still: QPixmap, customer: str
    ) -> None:
        self.key = key
        self.still = still
        self.customer = customer
        self.shown: QPixmap | None = None
        #: the clock and the chips ``shown`` shows
        self.timer = ""
        self.chips: tuple[Chip, ...] = ()
        #: the model's header that ``shown`` was last found up to date with
        self.shown_for: CardHeader | None = None

    @property
    def bytes(self) -> int:
        one = self.still.width() * self.still.height() * 4
        return one if self.shown is None else 2 * one


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
        theme: Theme = DARK,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._station = station
        self._is_expo = is_expo
        self._theme = theme
        self._scale = font_scale
        self._card_size = card_size if card_size in CARD_SIZES else "large"
        self._min_touch = max(MIN_BUTTON_HEIGHT, int(min_touch_px))
        self._pressed: tuple[str, str] | None = None
        # (ticket_id, "button:<action>" / "line:<line_id>") under the last press
        self._press_target: tuple[str, str | None] | None = None
        self._last_action: tuple[tuple[str, str | None] | None, float] = (None, 0.0)
        self._style = self._make_style()
        self._layout = CardLayout(self._style)
        #: ticket id -> its card's size, while a view that forgets changed cards (a
        #: :class:`~kitchen_display.card_wall.CardWall`) says so
        self._sizes: dict[str, QSize] | None = None
        #: ticket id -> its card's still parts, painted (the same promise; least
        #: recently painted first, at most PICTURE_BUDGET_BYTES)
        self._pixmaps: OrderedDict[str, _Picture] | None = None
        self._background = QColor(theme.window)
        #: the model whose rows the remembered sizes are of (``remember_cards``)
        self._rows: TicketListModel | None = None

    # --- look -------------------------------------------------------------------------

    @property
    def background(self) -> QColor:
        """The colour the cards are painted on (the wall's)."""
        return self._background

    def _make_style(self) -> CardStyle:
        return CardStyle(
            self._theme,
            scale=self._scale,
            card_size=self._card_size,
            min_touch_px=self._min_touch,
        )

    @property
    def style(self) -> CardStyle:
        """The fonts, metrics and inks the cards are painted with now."""
        return self._style

    @property
    def card_size(self) -> str:
        return self._card_size

    @property
    def card_width(self) -> int:
        return self._style.width

    @property
    def button_height(self) -> int:
        return self._style.button_h

    # --- geometry ---------------------------------------------------------------------

    def button_rects(self, card: QRect, actions: tuple[str, ...] = ACTIONS) -> dict[str, QRect]:
        """The button rectangles of a card drawn in ``card`` (viewport coordinates,
        i.e. ``view.visualRect(index)``), for the card's ``actions``: START and BUMP
        side by side, a single button across the card."""
        return button_rects(self._style, card, actions)

    def button_rect(self, card: QRect, action: str) -> QRect:
        """One button's rectangle: ``"start"``/``"bump"`` side by side, the others
        (``"ack_allergens"``, ``"ack_void"``) across the card."""
        if action in ACTIONS:
            return self.button_rects(card)[action]
        return self.button_rects(card, (action,))[action]

    def card_geometry(self, index: AnyIndex, card: QRect | None = None) -> CardGeometry:
        """Where the parts of ``index``'s card are: relative to its top-left corner, or
        in ``card``'s coordinates (``view.visualRect(index)``) when given."""
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            geometry = self._layout.empty()
        else:
            geometry = self._layout.geometry(self.content(index))
        return geometry if card is None else geometry.moved(card)

    def line_rect(self, card: QRect, index: AnyIndex, line_id: str) -> QRect:
        """The tap rectangle of one line of the card drawn in ``card`` (empty if none)."""
        return self.card_geometry(index, card).lines.get(line_id, QRect())

    def content(self, index: AnyIndex) -> CardContent:
        """What ``index``'s card shows (see :func:`~kitchen_display.card_content.card_content`)."""
        ticket = index.data(Role.TicketRole)
        assert isinstance(ticket, Ticket)
        return card_content(ticket, self._state(index))

    def _state(self, index: AnyIndex) -> CardState:
        """``index``'s :class:`CardState`: read from the remembered model directly when
        the index is one of its rows, else through ``index.data``."""
        rows = self._rows
        if rows is not None and index.model() is rows:
            ticket = rows.ticket_at(index.row())
            if ticket is not None:
                return card_state_from(rows.role_reader(ticket), self._station, self._is_expo)
        return card_state(index, self._station, self._is_expo)

    def card_texts(self, index: AnyIndex) -> list[str]:
        """Every text ``index``'s card shows, top to bottom (what ``paint`` draws)."""
        ticket = index.data(Role.TicketRole)
        if not isinstance(ticket, Ticket):
            return []
        return self.content(index).texts()

    def sizeHint(self, option: QStyleOptionViewItem, index: AnyIndex) -> QSize:
        if self._sizes is None:
            return self.card_geometry(index).size
        # the model's own lookup, not index.data (a round trip through Qt per card:
        # a relayout asks every card's size)
        ticket = self._rows.ticket_at(index.row()) if self._rows is not None else None
        ticket_id = ticket.id if ticket is not None else index.data(Role.IdRole)
        size = self._sizes.get(ticket_id)
        if size is None:
            size = self.card_geometry(index).size
            if isinstance(ticket_id, str):
                self._sizes[ticket_id] = size
        return size

    def remember_cards(self, rows: TicketListModel | None = None) -> None:
        """Remember each card's size and still parts until :meth:`forget` (the caller
        promises to call it whenever a card's content changes, beyond
        :data:`HEADER_ROLES`)."""
        self._rows = rows
        if self._sizes is None:
            self._sizes = {}
        if self._pixmaps is None:
            self._pixmaps = OrderedDict()

    def forget(self, ticket_id: str) -> QSize | None:
        """Drop what is remembered of one card; returns its size (``None``: none was)."""
        if self._pixmaps is not None:
            self._pixmaps.pop(ticket_id, None)
        return None if self._sizes is None else self._sizes.pop(ticket_id, None)

    def forget_all(self) -> None:
        if self._sizes is not None:
            self._sizes.clear()
        if self._pixmaps is not None:
            self._pixmaps.clear()

    # --- painting ---------------------------------------------------------------------

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: AnyIndex) -> None:
        rows = self._rows
        if rows is not None and index.model() is rows:
            # the model's own lookups, not two round trips through Qt per painted card
            ticket = rows.ticket_at(index.row())
            header: object = None if ticket is None else rows.card_header(ticket)
        else:
            ticket = index.data(Role.TicketRole)
            header = index.data(Role.HeaderRole)
        if not isinstance(ticket, Ticket):
            return
        pressed = self._pressed[1] if self._pressed and self._pressed[0] == ticket.id else None
        selected = bool(option.state.value & _SELECTED)
        if self._pixmaps is not None and pressed is None and not selected:
            entry = self._pixmaps.get(ticket.id)
            if entry is not None and entry.shown_for is header and entry.shown is not None:
                # nothing on the card changed since its picture was brought up to date
                # (the model hands out the same header until something on it does): a
                # copy, and nothing else to work out
                rect = option.rect
                key = entry.key
                if (
                    key[0] == rect.width()
                    and key[1] == rect.height()
                    and key[2] == painter.device().devicePixelRatioF()
                ):
                    self._pixmaps.move_to_end(ticket.id)
                    painter.drawPixmap(rect.topLeft(), entry.shown)
                    return
        rect = QRect(option.rect)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        painter.setClipRect(rect)
        # a pressed button and a cancelled order's veil (over the clock too) are painted
        # whole, every time
        if (
            self._pixmaps is None
            or pressed is not None
            or not isinstance(header, CardHeader)
            or header.void
        ):
            self._paint_card(painter, rect, index, ticket, pressed)
        else:
            self._paint_cached(painter, rect, index, ticket, header)
        if selected:
            # the selection frame last, over everything
            s = self._style
            painter.setPen(s.selected_pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            half = round(s.selected_pen.widthF() / 2)
            painter.drawRoundedRect(rect.adjusted(half, half, -half, -half), s.radius, s.radius)
        painter.restore()

    def _paint_card(
        self, painter: QPainter, rect: QRect, index: AnyIndex, ticket: Ticket, pressed: str | None
    ) -> None:
        """The whole card, every part painted now."""
        state = self._state(index)
        content = card_content(ticket, state)
        self._paint_still(painter, rect, ticket, content, state, pressed)
        self._paint_live(painter, rect, content.timer, content.chips, content.customer, state.age)

    def _paint_still(
        self,
        painter: QPainter,
        rect: QRect,
        ticket: Ticket,
        content: CardContent,
        state: CardState,
        pressed: str | None,
    ) -> None:
        """What does not change on its own: all but the clock and the chips row."""
        geometry = self._layout.geometry(content).moved(rect)
        self._paint_header(painter, rect, ticket, content, state.age)
        for block, block_rect in geometry.blocks:
            self._paint_block(painter, block, block_rect)
        if content.veil:
            self._paint_veil(painter, rect, content.veil)
        self._paint_buttons(painter, geometry, content, started=state.started, pressed=pressed)

    def _paint_cached(
        self, painter: QPainter, rect: QRect, index: AnyIndex, ticket: Ticket, header: CardHeader
    ) -> None:
        """The card from its picture: its still parts are painted again only when the
        wall says its content changed, or its aging colour or size did; its clock and
        chips row when they changed (the 1-second clock: a few texts per card). A
        repaint that changes nothing on the card (the wall uncovered, scrolled, laid
        out again after a move) copies the picture."""
        assert self._pixmaps is not None
        ratio = painter.device().devicePixelRatioF()
        key = (rect.width(), rect.height(), ratio, header.aging.state, header.started)
        entry = self._pixmaps.get(ticket.id)
        if entry is None or entry.key != key:
            state = self._state(index)
            content = card_content(ticket, state)
            still = self._new_picture(painter, rect.size())
            picture = QPainter(still)
            try:
                self._picture_hints(picture)
                self._paint_still(
                    picture, QRect(QPoint(0, 0), rect.size()), ticket, content, state, None
                )
            finally:
                picture.end()
            entry = _Picture(key, still, content.customer)
            self._pixmaps[ticket.id] = entry
            self._evict_pictures()
        else:
            self._pixmaps.move_to_end(ticket.id)
        timer, chips = format_elapsed(header.elapsed), header_chips(header)
        if entry.shown is None or entry.timer != timer or entry.chips != chips:
            # a new second (or chips): the picture as shown follows at once (its clock
            # row, and its chips row if they changed), so the next repaint that
            # changes nothing on the card (a move, the wall uncovered) is a copy
            self._update_shown(painter, entry, rect.size(), timer, chips, header.aging.state)
        entry.shown_for = header
        assert entry.shown is not None
        painter.drawPixmap(rect.topLeft(), entry.shown)

    def _update_shown(
        self,
        painter: QPainter,
        entry: _Picture,
        size: QSize,
        timer: str,
        chips: tuple[Chip, ...],
        age: AgeState,
    ) -> None:
        """Bring the card's picture as shown up to ``timer`` and ``chips``."""
        card = QRect(QPoint(0, 0), size)
        fresh = entry.shown is None
        if entry.shown is None:
            entry.shown = self._new_picture(painter, size)
        picture = QPainter(entry.shown)
        try:
            self._picture_hints(picture)
            if fresh:
                picture.drawPixmap(0, 0, entry.still)
                self._paint_live(picture, card, timer, chips, entry.customer, age)
            else:
                # only what changed, each over its row of the still parts
                if entry.timer != timer:
                    self._restore(picture, entry.still, self._timer_row(card))
                    self._paint_timer(picture, card, timer, age)
                if entry.chips != chips:
                    self._restore(picture, entry.still, self._chips_row(card))
                    self._paint_chips(picture, card, chips, entry.customer, age)
        finally:
            picture.end()
        entry.timer, entry.chips = timer, chips

    def _new_picture(self, painter: QPainter, size: QSize) -> QPixmap:
        """A card's picture for ``painter``'s device: opaque, in the wall's colour (the
        rounded corners show it), so drawing it is a copy, not a blend."""
        ratio = painter.device().devicePixelRatioF()
        pixmap = QPixmap(size * ratio)
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(self._background)
        return pixmap

    @staticmethod
    def _restore(painter: QPainter, still: QPixmap, row: QRect) -> None:
        """Copy ``row`` of the still parts over the card's picture (``drawPixmap``'s
        source rectangle is in the pixmap's own pixels)."""
        ratio = still.devicePixelRatio()
        source = QRectF(row.x() * ratio, row.y() * ratio, row.width() * ratio, row.height() * ratio)
        painter.drawPixmap(QRectF(row), still, source)

    @staticmethod
    def _picture_hints(painter: QPainter) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)

    def _evict_pictures(self) -> None:
        assert self._pixmaps is not None
        used = sum(entry.bytes for entry in self._pixmaps.values())
        while used > PICTURE_BUDGET_BYTES and len(self._pixmaps) > 1:
            _, oldest = self._pixmaps.popitem(last=False)
            used -= oldest.bytes

    @staticmethod
    def _text(painter: QPainter, ink: Ink, rect: QRect, flags: int, text: str) -> None:
        """Every text of a card is drawn here, in its ink's colour."""
        painter.setPen(ink.pen)
        painter.drawText(rect, flags, text)

    @staticmethod
    def _fill(painter: QPainter, ink: Ink, rect: QRect, radius: float) -> None:
        """The surface under an ink's text (a chip, a badge, a box, a button)."""
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(ink.brush)
        painter.drawRoundedRect(rect, radius, radius)

    def _paint_header(
        self, painter: QPainter, rect: QRect, ticket: Ticket, content: CardContent, age: AgeState
    ) -> None:
        """The header's still parts: the card, the aging band under the brand's bar, the
        number, the logo, the brand and the channel (:meth:`_paint_live` adds the clock
        and the chips row)."""
        s = self._style
        ink = s.header_ink(age)
        brand = s.brand_color(ticket.brand.id)

        # the card, and the header band in the aging colour under the brand's bar
        painter.setPen(s.border_pen)
        painter.setBrush(s.card_brush)
        painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), s.radius, s.radius)
        header = QRect(rect.left() + 1, rect.top() + 1, rect.width() - 2, s.header_h - 1)
        self._fill(painter, ink, header, s.radius)
        painter.drawRect(header.adjusted(0, round(s.radius), 0, 0))
        painter.setBrush(brand)
        bar = QRect(header.left(), header.top(), header.width(), s.bar_h + 4)
        painter.drawRoundedRect(bar, s.radius, s.radius)
        painter.setBrush(ink.brush)
        painter.drawRect(QRect(header.left(), header.top() + s.bar_h, header.width(), 4))

        x = rect.left() + s.pad
        inner = rect.width() - 2 * s.pad
        y = rect.top() + s.bar_h + s.pad

        # row 1: display number (the elapsed timer: live)
        row = QRect(x, y, inner, s.number_h)
        painter.setFont(s.fonts.number)
        self._text(painter, ink, row, _LEFT_V, content.number)
        y += s.number_h

        # row 2: logo letter on the brand's disc, brand name, channel badge
        diameter = s.brand_h - 2
        logo = QRect(x, y + 1, diameter, diameter)
        logo_ink = s.logo_ink(s.brand_hue(ticket.brand.id))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(logo_ink.brush)
        painter.drawEllipse(logo)
        painter.setFont(s.fonts.logo)
        self._text(painter, logo_ink, logo, _CENTER, content.logo)

        badge_ink = s.channel_ink(ticket.channel)
        badge_w = s.fm_badge.horizontalAdvance(content.channel) + s.badge_pad
        badge_h = s.fm_badge.height() + 6
        badge = QRect(x + inner - badge_w, y + (s.brand_h - badge_h) // 2, badge_w, badge_h)
        name_left = logo.right() + 1 + s.gap * 2
        name_rect = QRect(name_left, y, badge.left() - s.gap - name_left, s.brand_h)
        name = s.fm_brand.elidedText(content.brand, Qt.TextElideMode.ElideRight, name_rect.width())
        painter.setFont(s.fonts.brand)
        self._text(painter, ink, name_rect, _LEFT_V, name)
        self._fill(painter, badge_ink, badge, 4)
        painter.setFont(s.fonts.badge)
        self._text(painter, badge_ink, badge, _CENTER, content.channel)

    def _paint_live(
        self,
        painter: QPainter,
        rect: QRect,
        timer: str,
        chips: tuple[Chip, ...],
        customer: str,
        age: AgeState,
    ) -> None:
        """What changes on its own, over the header band: the elapsed timer (row 1) and
        the chips row (row 3: chips, then the customer's name where they leave room)."""
        self._paint_timer(painter, rect, timer, age)
        self._paint_chips(painter, rect, chips, customer, age)

    def _timer_row(self, rect: QRect) -> QRect:
        """The header's row 1 across the card (the number, still, and the clock)."""
        s = self._style
        return QRect(rect.left(), rect.top() + s.bar_h + s.pad, rect.width(), s.number_h)

    def _chips_row(self, rect: QRect) -> QRect:
        """The header's row 3 across the card (the chips and the customer's name)."""
        s = self._style
        top = rect.top() + s.bar_h + s.pad + s.number_h + s.brand_h + s.gap
        return QRect(rect.left(), top, rect.width(), s.chip_h)

    def _paint_timer(self, painter: QPainter, rect: QRect, timer: str, age: AgeState) -> None:
        s = self._style
        row = self._timer_row(rect)
        painter.setFont(s.fonts.timer)
        self._text(
            painter,
            s.header_ink(age),
            row.adjusted(s.pad, 0, -s.pad, 0),
            _RIGHT_V,
            timer,
        )

    def _paint_chips(
        self, painter: QPainter, rect: QRect, chips: tuple[Chip, ...], customer: str, age: AgeState
    ) -> None:
        s = self._style
        ink = s.header_ink(age)
        row = self._chips_row(rect)
        x = rect.left() + s.pad
        inner = rect.width() - 2 * s.pad
        y = row.top()
        cx = x
        painter.setFont(s.fonts.chip)
        for chip in chips:
            w = min(s.fm_chip.horizontalAdvance(chip.text) + s.chip_pad, x + inner - cx)
            if w <= 0:
                break
            chip_ink = s.chip_ink(chip, age)
            box = QRect(cx, y, w, s.chip_h)
            self._fill(painter, chip_ink, box, 4)
            self._text(painter, chip_ink, box, _CENTER, chip.text)
            cx += w + s.gap
        if customer and cx < x + inner - 40:
            name_rect = QRect(cx, y, x + inner - cx, s.chip_h)
            name = s.fm_customer.elidedText(
                customer, Qt.TextElideMode.ElideRight, name_rect.width()
            )
            painter.setFont(s.fonts.customer)
            self._text(painter, ink, name_rect, _RIGHT_V, name)

    def _paint_block(self, painter: QPainter, block: Block, rect: QRect) -> None:
        if block.kind == "gap":
            return
        s = self._style
        ink = s.block_ink(block)
        text_rect = rect.adjusted(s.indent if block.indent else 0, 0, 0, 0)
        painter.setPen(Qt.PenStyle.NoPen)
        if block.allergy:
            # a line that declares the allergy: a purple bar in the card's left margin
            painter.setBrush(s.allergy_mark)
            left = rect.left() - s.pad + 1
            painter.drawRect(QRect(left, rect.top() - s.gap // 2, s.mark_w, rect.height() + s.gap))
        if block.kind == "changed":
            painter.setBrush(s.changed_mark)
            mark = QRect(rect.left() - s.pad + 2, rect.top(), max(3, s.gap), rect.height())
            painter.drawRect(mark)
        elif block.kind == "note":
            painter.setBrush(s.note_mark)
            left = text_rect.left() - s.note_mark_dx
            painter.drawRect(QRect(left, text_rect.top(), s.note_mark_w, text_rect.height()))
        elif block.kind in BOXED:
            self._fill(painter, ink, text_rect, 3)
            text_rect = text_rect.adjusted(s.box_pad, s.box_pad, -s.box_pad, -s.box_pad)
        elif block.kind == "heading":
            painter.setPen(ink.pen)
            painter.drawLine(rect.left(), rect.bottom(), rect.right(), rect.bottom())
        painter.setFont(s.fonts.blocks[block.kind])
        self._text(painter, ink, text_rect, WRAP, block.text)

    def _paint_veil(self, painter: QPainter, rect: QRect, word: str) -> None:
        """A cancelled order: a veil over header and body, and its word across it (the
        button below stays readable)."""
        s = self._style
        ink = s.inks["void"]
        veil = QRect(rect.left() + 1, rect.top() + 1, rect.width() - 2, rect.height() - s.footer_h)
        self._fill(painter, ink, veil, s.radius)
        painter.setFont(s.fonts.void)
        painter.save()
        painter.translate(veil.center())
        painter.rotate(-18)
        across = QRect(-veil.width(), -veil.height() // 2, 2 * veil.width(), veil.height())
        self._text(painter, ink, across, _CENTER, word)
        painter.restore()

    def _paint_buttons(
        self,
        painter: QPainter,
        geometry: CardGeometry,
        content: CardContent,
        *,
        started: bool,
        pressed: str | None,
    ) -> None:
        s = self._style
        labels = dict(content.buttons)
        painter.setFont(s.fonts.button)
        for action, button in geometry.buttons.items():
            ink = s.button_ink(action, started=started, pressed=action == pressed)
            self._fill(painter, ink, button, 6)
            self._text(painter, ink, button, _CENTER, labels[action])

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
        target = self._target_at(index, option.rect, event.position().toPoint())
        widget = option.widget
        if kind == QEvent.Type.MouseButtonPress:
            button = target.split(":", 1)[1] if target and target.startswith("button:") else None
            self._set_pressed((ticket_id, button) if button else None, widget, option.rect)
            self._press_target = (ticket_id, target)
            # A line tap also selects the card: let the view see the press.
            return button is not None
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
            undo = name in self.content(index).done_lines
            self.lineActionRequested.emit(ticket_id, "item_undo" if undo else "item_done", name)
        return True

    def _target_at(self, index: AnyIndex, card: QRect, pos: QPoint) -> str | None:
        """``"button:<action>"`` or ``"line:<line_id>"`` under ``pos`` (a VOID card's
        lines are not tappable)."""
        geometry = self.card_geometry(index, card)
        target: str | None = None
        for action, rect in geometry.buttons.items():
            if rect.contains(pos):
                target = f"button:{action}"
        if target is None and not bool(index.data(Role.VoidRole)):
            for line_id, rect in geometry.lines.items():
                if rect.contains(pos):
                    target = f"line:{line_id}"
        return target

    def _set_pressed(
        self, pressed: tuple[str, str] | None, widget: QWidget | None, rect: QRect
    ) -> None:
        if pressed == self._pressed:
            return
        self._pressed = pressed
        if isinstance(widget, QAbstractScrollArea):
            widget.viewport().update(rect)
        elif widget is not None:
            widget.update(rect)
