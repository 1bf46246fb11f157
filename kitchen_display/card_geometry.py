"""Where the parts of a ticket card are: header, body blocks, line tap targets, buttons.

:class:`CardLayout` lays a :class:`~kitchen_display.card_content.CardContent` out with
a :class:`~kitchen_display.card_style.CardStyle` (its fonts and metrics) into a
:class:`CardGeometry`, relative to the card's top-left corner, and keeps the last
:data:`GEOMETRY_CACHE_SIZE` layouts by content. ``sizeHint``, painting and hit testing
all use it, so a tap lands where the text was drawn.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect, QSize, Qt

from kitchen_display.card_content import ACTIONS, Block, CardContent
from kitchen_display.card_style import CardStyle

# Card geometries kept (by content); a screen shows tens of cards. At 2000 the cache
# held ~14 MB and a display's RSS climbed for the first ~20 minutes of service (soak).
GEOMETRY_CACHE_SIZE = 256

# the block kinds drawn in a box (padding around their text)
BOXED = frozenset({"allergy", "order_note"})

WRAP = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignLeft)


@dataclass(frozen=True)
class CardGeometry:
    """Where a card's parts are, relative to the card's top-left corner."""

    size: QSize
    header_h: int
    blocks: tuple[tuple[Block, QRect], ...]
    # line_id -> the tap rectangle of that line (its text, modifiers, notes, allergens)
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


def button_rects(
    style: CardStyle, card: QRect, actions: tuple[str, ...] = ACTIONS
) -> dict[str, QRect]:
    """The button rectangles of a card drawn in ``card``, for the card's ``actions``:
    START and BUMP side by side (2:3), a single button across the card."""
    top = card.bottom() - style.pad - style.button_h + 1
    inner = card.width() - 2 * style.pad
    left = card.left() + style.pad
    if len(actions) == 1:
        return {actions[0]: QRect(left, top, inner, style.button_h)}
    gap = style.pad
    first_w = (inner - gap) * 2 // 5
    first = QRect(left, top, first_w, style.button_h)
    second = QRect(first.right() + 1 + gap, top, inner - first_w - gap, style.button_h)
    return dict(zip(actions, (first, second), strict=False))


class CardLayout:
    """Lays cards out in one :class:`CardStyle` (make a new one with a new style)."""

    def __init__(self, style: CardStyle) -> None:
        self._style = style
        self._cache: dict[tuple[object, ...], CardGeometry] = {}

    def empty(self) -> CardGeometry:
        """The geometry of a row that has no ticket: a card with nothing in it."""
        s = self._style
        return CardGeometry(QSize(s.width, s.header_h + s.footer_h), s.header_h, (), {}, {})

    def geometry(self, content: CardContent) -> CardGeometry:
        key = (content.blocks, content.buttons)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        geometry = self._lay_out(content)
        if len(self._cache) > GEOMETRY_CACHE_SIZE:
            self._cache.clear()
        self._cache[key] = geometry
        return geometry

    def _lay_out(self, content: CardContent) -> CardGeometry:
        s = self._style
        inner = s.width - 2 * s.pad
        y = s.header_h + s.gap
        placed: list[tuple[Block, QRect]] = []
        lines: dict[str, QRect] = {}
        for block in content.blocks:
            if block.kind == "gap":
                h = s.gap_block_h
            else:
                indent = s.indent if block.indent else 0
                extra = 2 * s.box_pad if block.kind in BOXED else 0
                width = max(10, inner - indent - extra)
                fm = s.block_metrics[block.kind]
                h = fm.boundingRect(QRect(0, 0, width, 100_000), WRAP, block.text).height()
                h += extra
            rect = QRect(s.pad, y, inner, h)
            placed.append((block, rect))
            if block.line_id:
                # A line's tap target: its text and everything under it, card-wide.
                tap = QRect(1, y - s.gap // 2, s.width - 2, h + s.gap)
                known = lines.get(block.line_id)
                lines[block.line_id] = known.united(tap) if known is not None else tap
            y += h + s.gap
        height = y + s.gap + s.footer_h
        actions = tuple(action for action, _label in content.buttons)
        return CardGeometry(
            QSize(s.width, height),
            s.header_h,
            tuple(placed),
            lines,
            button_rects(s, QRect(0, 0, s.width, height), actions),
        )
