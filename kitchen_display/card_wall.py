"""The wall of ticket cards: left to right, wrapping, each card at its own size.

:class:`CardWall` is a ``QAbstractItemView`` that lays its cards out itself, as
``QListView`` in icon mode did (the same places: ``spacing`` around each card, a new
line when the next card would not fit, each line as tall as its tallest card), but
keeps the layout from one change to the next:

* each card's size is kept by row, and only the cards that changed are measured again
  (``QListView`` asked every card's size, a call into Python each, and laid every card
  out again after any insert, move or removal: ~3 ms at 300 cards);
* a change lays the wall out again from the first row it touches; the rows before it
  keep their places;
* only what moved is repainted: from the line of the first row touched down. A card
  that arrives below the cards on screen (the newest, at the end) repaints nothing;
  ``QListView`` repainted the whole wall after every relayout;
* a change to a card's header only (the 1-second clock, aging, chips:
  :data:`~kitchen_display.card_delegate.HEADER_ROLES`) repaints that card, measuring
  nothing.

The delegate (:class:`~kitchen_display.card_delegate.TicketCardDelegate`) paints the
cards and keeps their pictures; the wall tells it which cards changed (``forget``).
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Sequence

from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QPainter, QPaintEvent, QRegion, QResizeEvent, QShowEvent
from PySide6.QtWidgets import QAbstractItemView, QStyle, QStyleOptionViewItem, QWidget

from kitchen_display.card_delegate import HEADER_ROLES, TicketCardDelegate
from kitchen_display.ticket_model import Role, TicketListModel

log = logging.getLogger("kds.ui")

AnyIndex = QModelIndex | QPersistentModelIndex

_SELECTED = QStyle.StateFlag.State_Selected
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus

#: what one step of the scroll bar (an arrow; a wheel notch is three) scrolls, in
#: pixels, while the wall is empty; with cards, a step is the first card's height
#: and the spacing, as ``QListView`` scrolled
SCROLL_STEP_PX = 40


class CardWall(QAbstractItemView):
    """A wall of a :class:`TicketListModel`'s cards, painted by a
    :class:`TicketCardDelegate` (see the module's docstring)."""

    def __init__(
        self,
        delegate: TicketCardDelegate,
        model: TicketListModel,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._delegate = delegate
        delegate.remember_cards(model)
        self.setItemDelegate(delegate)
        # The wall paints every pixel of what it repaints (its background, then the
        # cards): the widgets behind it are not painted first (five fills of the
        # whole wall, ~2 ms a repaint at 1920x1080).
        self.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._spacing = 0
        # per row, in the model's order: the card's size and (once laid out) its
        # top-left corner in the wall's coordinates, and the height of its line so far
        # (with spacing) when it was placed: enough to go on laying out from any row
        self._w: list[int] = []
        self._h: list[int] = []
        self._x: list[int] = []
        self._y: list[int] = []
        self._line: list[int] = []
        #: rows [0, _laid) are in place; the rest wait for :meth:`_ensure_layout`
        self._laid = 0
        #: some cards' sizes were not measured (the wall was hidden when they came or
        #: changed: a station's wall behind the board, a screen not shown yet); the next
        #: layout measures every card first (the delegate keeps the sizes of the cards
        #: that did not change, so those are lookups)
        self._unmeasured = False
        #: the wall changed since it was last laid out (its height too: rows removed
        #: at the end leave every place as it was but the wall shorter)
        self._stale = True
        #: the width the wall was laid out at, and the width to lay it out at (None:
        #: to be found, after a resize, a show or a new style)
        self._laid_width = -1
        self._width: int | None = None
        self._contents_height = 0
        self._tallest = 0
        # the scroll bar's range follows the wall's height, once per turn of the loop
        # however many changes came in it
        self._geometry_timer = QTimer(self)
        self._geometry_timer.setSingleShot(True)
        self._geometry_timer.setInterval(0)
        self._geometry_timer.timeout.connect(self.updateGeometries)

    # --- set up ----------------------------------------------------------------------

    def spacing(self) -> int:
        return self._spacing

    def setSpacing(self, spacing: int) -> None:
        self._spacing = max(0, int(spacing))
        self._relayout_all()

    def setModel(self, model: object) -> None:
        old = self.model()
        if old is not None:
            old.rowsRemoved.disconnect(self._on_rows_removed)
            old.rowsMoved.disconnect(self._on_rows_moved)
            old.layoutChanged.disconnect(self._on_layout_changed)
        super().setModel(model)  # type: ignore[arg-type]
        new = self.model()
        if new is not None:
            new.rowsRemoved.connect(self._on_rows_removed)
            new.rowsMoved.connect(self._on_rows_moved)
            new.layoutChanged.connect(self._on_layout_changed)
        self._measure_all()

    # --- keeping the layout ----------------------------------------------------------

    def _size(self, row: int) -> tuple[int, int]:
        model = self.model()
        size = self._delegate.sizeHint(self._option(), model.index(row, 0))
        return size.width(), size.height()

    def _option(self) -> QStyleOptionViewItem:
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        return option

    def _measure_all(self) -> None:
        model = self.model()
        rows = 0 if model is None else model.rowCount()
        sizes = self._sizes(0, rows)
        self._w = [w for w, _ in sizes]
        self._h = [h for _, h in sizes]
        self._x = [0] * rows
        self._y = [0] * rows
        self._line = [0] * rows
        self._relayout_all()

    def _sizes(self, start: int, count: int) -> list[tuple[int, int]]:
        """The sizes of ``count`` cards from row ``start``; a hidden wall measures none
        (a station's wall behind the board measured every card that came or changed,
        ~11 % of the board's work per order in a churn, py-spy): placeholders, measured
        by the next layout (:meth:`_catch_up_sizes`)."""
        if self.isVisible():
            return [self._size(row) for row in range(start, start + count)]
        self._unmeasured = self._unmeasured or count > 0
        return [(0, 0)] * count

    def _catch_up_sizes(self) -> None:
        self._unmeasured = False
        ws, hs = self._w, self._h
        for row in range(len(ws)):
            ws[row], hs[row] = self._size(row)
        self._laid = 0
        self._stale = True

    def _relayout_all(self) -> None:
        self._laid = 0
        self._stale = True
        self._laid_width = -1
        self._width = None
        self.viewport().update()
        self._geometry_changed()

    def _moved_from(self, row: int) -> None:
        """Rows from ``row`` on may have moved: lay them out again (when next needed)
        and repaint the wall from the line before ``row`` down."""
        self._laid = min(self._laid, row)
        # the line of the last card still in place (rows before it do not move)
        top = self._y[self._laid - 1] if self._laid > 0 else 0
        self._stale = True
        area = self.viewport().rect()
        top -= self.verticalOffset()
        if top <= area.bottom():
            self.viewport().update(QRect(0, max(0, top), area.width(), area.height()))
        self._geometry_changed()

    def _geometry_changed(self) -> None:
        # (a hidden wall catches up when shown)
        if self.isVisible() and not self._geometry_timer.isActive():
            self._geometry_timer.start()

    def _update_rows(self, first: int, last: int) -> None:
        """Repaint the cards of rows ``first`` to ``last`` that are on screen."""
        if not self.isVisible():
            return
        viewport = self.viewport()
        if last - first > 30:
            viewport.update()
            return
        self._ensure_layout()
        area = viewport.rect()
        for row in range(first, last + 1):
            card = self._card(row)
            if card.intersects(area):
                viewport.update(card)

    def _layout_width(self) -> int:
        """The width cards are laid out in: the viewport's, less a vertical scroll bar
        (kept out even while none is shown, so a scroll bar appearing does not wrap
        the wall again), as ``QListView`` does."""
        width = self.maximumViewportSize().width()
        if self.verticalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAlwaysOff:
            bar = self.verticalScrollBar()
            width -= self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, bar)
        return max(1, width)

    def _ensure_layout(self) -> None:
        if self._unmeasured:
            self._catch_up_sizes()
        width = self._width
        if width is None:
            width = self._width = self._layout_width()
        if not self._stale and width == self._laid_width:
            return  # (what every visualRect asks: two comparisons)
        rows = len(self._w)
        start = min(self._laid, rows)
        if width != self._laid_width:
            start = 0
            self._laid_width = width
        spacing = self._spacing
        right = width - 1
        ws, hs, xs, ys, line = self._w, self._h, self._x, self._y, self._line
        if start == 0:
            x = y = spacing
            seg = 0
        else:
            x = xs[start - 1] + ws[start - 1] + spacing
            y = ys[start - 1]
            seg = line[start - 1]
        for row in range(start, rows):
            step = ws[row] + spacing
            if x + step > right and x > spacing:  # a new line
                x = spacing
                y += seg
                seg = 0
            seg = max(seg, hs[row] + spacing)
            xs[row] = x
            ys[row] = y
            line[row] = seg
            x += step
        self._laid = rows
        self._stale = False
        self._contents_height = ys[-1] + line[-1] if rows else 0
        self._tallest = max(hs) if hs else 0

    def _rows_in(self, top: int, bottom: int) -> range:
        """The rows that may show between wall heights ``top`` and ``bottom``."""
        self._ensure_layout()
        first = bisect.bisect_right(self._y, top - self._tallest)
        last = bisect.bisect_right(self._y, bottom, lo=first)
        return range(first, last)

    def _card(self, row: int) -> QRect:
        """Card ``row``'s rectangle on the viewport (laid out)."""
        return QRect(self._x[row], self._y[row] - self.verticalOffset(), self._w[row], self._h[row])

    def _cards_in(self, area: QRect) -> list[tuple[int, QRect]]:
        """The rows whose cards meet ``area`` (viewport coordinates), with them."""
        offset = self.verticalOffset()
        cards = []
        for row in self._rows_in(area.top() + offset, area.bottom() + offset):
            card = self._card(row)
            if card.intersects(area):
                cards.append((row, card))
        return cards

    def _forget_row(self, row: int, parent: AnyIndex = QModelIndex()) -> None:  # noqa: B008
        """Drop what the delegate remembers of row ``row``'s card."""
        ticket_id = self.model().index(row, 0, parent).data(Role.IdRole)
        if isinstance(ticket_id, str):
            self._delegate.forget(ticket_id)

    # --- the model's changes ---------------------------------------------------------

    def rowsInserted(self, parent: AnyIndex, start: int, end: int) -> None:
        if not parent.isValid():
            sizes = self._sizes(start, end - start + 1)
            self._w[start:start] = [w for w, _ in sizes]
            self._h[start:start] = [h for _, h in sizes]
            zeros = [0] * len(sizes)
            self._x[start:start] = zeros
            self._y[start:start] = zeros
            self._line[start:start] = zeros
            self._moved_from(start)
        super().rowsInserted(parent, start, end)

    def rowsAboutToBeRemoved(self, parent: AnyIndex, start: int, end: int) -> None:
        for row in range(start, end + 1):
            self._forget_row(row, parent)
        super().rowsAboutToBeRemoved(parent, start, end)

    @Slot(QModelIndex, int, int)
    def _on_rows_removed(self, parent: QModelIndex, start: int, end: int) -> None:
        if parent.isValid():
            return
        for rows in (self._w, self._h, self._x, self._y, self._line):
            del rows[start : end + 1]
        self._moved_from(start)

    @Slot(QModelIndex, int, int, QModelIndex, int)
    def _on_rows_moved(
        self, parent: QModelIndex, start: int, end: int, dest_parent: QModelIndex, dest: int
    ) -> None:
        if parent.isValid() or dest_parent.isValid():
            return
        count = end - start + 1
        first = dest - count if dest > start else dest  # where the rows are now
        for rows in (self._w, self._h):
            moving = rows[start : end + 1]
            del rows[start : end + 1]
            rows[first:first] = moving
        self._moved_from(min(start, first))

    @Slot()
    def _on_layout_changed(self) -> None:
        self._delegate.forget_all()
        self._measure_all()

    def dataChanged(
        self,
        top_left: AnyIndex,
        bottom_right: AnyIndex,
        roles: Sequence[int] = (),
    ) -> None:
        first, last = top_left.row(), min(bottom_right.row(), len(self._w) - 1)
        if first < 0 or first > last:
            return
        if not (roles and HEADER_ROLES.issuperset(roles)):
            # the content changed: the card is painted anew and may have a new size
            resized = -1
            hidden = not self.isVisible()
            for row in range(first, last + 1):
                self._forget_row(row)
                if hidden:  # measured when next laid out
                    self._unmeasured = True
                    continue
                w, h = self._size(row)
                if (w, h) != (self._w[row], self._h[row]):
                    self._w[row], self._h[row] = w, h
                    if resized < 0:
                        resized = row
            if resized >= 0:
                self._moved_from(resized)
        # Not QAbstractItemView's own repaint: it skips the repaint while a relayout
        # it scheduled (after a move) is pending, and this wall's relayout repaints
        # only what moved.
        self._update_rows(first, last)

    def reset(self) -> None:
        self._delegate.forget_all()
        super().reset()
        self._measure_all()

    def doItemsLayout(self) -> None:
        """What Qt calls after a move, a reset or when shown: the rows are already
        kept in step; bring the layout and the scroll bar up to date (repainting is
        each change's own, for what it moved)."""
        self._ensure_layout()
        self.updateGeometries()

    # --- QAbstractItemView -----------------------------------------------------------

    def updateGeometries(self) -> None:
        self._ensure_layout()
        bar = self.verticalScrollBar()
        page = self.viewport().height()
        bar.setPageStep(max(1, page))
        bar.setSingleStep(self._h[0] + self._spacing if self._h else SCROLL_STEP_PX)
        bar.setRange(0, max(0, self._contents_height - page))
        super().updateGeometries()

    def visualRect(self, index: AnyIndex) -> QRect:
        if not index.isValid() or index.column() != 0:
            return QRect()
        return self.card_rect(index.row())

    def card_rect(self, row: int) -> QRect:
        """Where row ``row``'s card is in the viewport (``visualRect`` of its index,
        without making one: the pager asks for ~40 per change)."""
        if not 0 <= row < len(self._w):
            return QRect()
        self._ensure_layout()
        return self._card(row)

    def indexAt(self, point: QPoint) -> QModelIndex:
        for row, _card in self._cards_in(QRect(point, point)):
            return self.model().index(row, 0)
        return QModelIndex()

    def scrollTo(
        self,
        index: AnyIndex,
        hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible,
    ) -> None:
        """As ``QListView`` scrolls a wrapping wall: to the card and its spacing."""
        rect = self.visualRect(index)
        if rect.isEmpty():
            return
        area = self.viewport().rect()
        Hint = QAbstractItemView.ScrollHint
        ensure = hint == Hint.EnsureVisible
        if ensure and area.contains(rect):
            return
        above = ensure and rect.top() < area.top()
        below = ensure and rect.bottom() > area.bottom()
        spacing = self._spacing
        adjusted = rect.adjusted(-spacing, -spacing, spacing, spacing)
        bar = self.verticalScrollBar()
        value = bar.value()
        if hint == Hint.PositionAtTop or above:
            value += adjusted.top()
        elif hint == Hint.PositionAtBottom or below:
            value += min(adjusted.top(), adjusted.bottom() - area.height() + 1)
        elif hint == Hint.PositionAtCenter:
            value += adjusted.top() - (area.height() - adjusted.height()) // 2
        self.updateGeometries()  # the range, should the wall have just grown
        bar.setValue(value)

    def moveCursor(
        self, cursorAction: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        model = self.model()
        rows = len(self._w)
        if model is None or rows == 0:
            return QModelIndex()
        self._ensure_layout()
        current = self.currentIndex()
        row = current.row() if current.isValid() else -1
        Move = QAbstractItemView.CursorAction
        if cursorAction in (Move.MoveNext, Move.MoveRight):
            row = min(rows - 1, row + 1)
        elif cursorAction in (Move.MovePrevious, Move.MoveLeft):
            row = max(0, row - 1)
        elif cursorAction == Move.MoveHome:
            row = 0
        elif cursorAction == Move.MoveEnd:
            row = rows - 1
        elif row >= 0 and cursorAction in (
            Move.MoveDown,
            Move.MoveUp,
            Move.MovePageDown,
            Move.MovePageUp,
        ):
            page = self.viewport().height()
            dy = {
                Move.MoveDown: 1,
                Move.MoveUp: -1,
                Move.MovePageDown: page,
                Move.MovePageUp: -page,
            }[cursorAction]
            row = self._row_near(self._x[row], self._y[row], dy)
        return model.index(max(0, row), 0)

    def _row_near(self, x: int, y: int, dy: int) -> int:
        """The row in the line ``dy`` pixels below (above, negative) the line at ``y``
        (one line when ``|dy|`` is 1) whose card is nearest ``x``."""
        ys = self._y
        here = bisect.bisect_left(ys, y)  # the first card of the line at ``y``
        if dy > 0:
            line = bisect.bisect_right(ys, y if dy == 1 else y + dy - 1)
            if line >= len(ys):
                line = bisect.bisect_left(ys, ys[-1])  # the last line
            target = ys[line]
        else:
            line = here - 1 if dy == -1 else bisect.bisect_left(ys, y + dy)
            target = ys[max(0, line)]
        first = bisect.bisect_left(ys, target)
        last = bisect.bisect_right(ys, target)
        return min(range(first, last), key=lambda row: abs(self._x[row] - x))

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def isIndexHidden(self, index: AnyIndex) -> bool:
        return False

    def setSelection(self, rect: QRect, command: QItemSelectionModel.SelectionFlag) -> None:
        model = self.model()
        selection = QItemSelection()
        for row, _card in self._cards_in(rect.normalized()):
            index = model.index(row, 0)
            selection.select(index, index)
        self.selectionModel().select(selection, command)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        region = QRegion()
        for n in range(selection.count()):
            span = selection.at(n)
            for row in range(span.top(), span.bottom() + 1):
                if row < len(self._w):
                    region += self.visualRect(self.model().index(row, 0))
        return region

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().scroll(0, dy)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._width = None
        if self._layout_width() != self._laid_width:
            self.viewport().update()
        self.updateGeometries()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._width = None
        self.updateGeometries()

    def event(self, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._measure_all()
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        area = event.rect()
        model = self.model()
        cards = [] if model is None else self._cards_in(area)
        option = self._option()
        base_state = option.state & ~(_SELECTED | _HAS_FOCUS)
        selection = self.selectionModel()
        current = self.currentIndex()
        focus = self.hasFocus()
        delegate = self._delegate
        painter = QPainter(self.viewport())
        try:
            # the wall's colour, then the cards over it (filling only between the
            # cards measured no faster: a 1920x1080 fill is ~0.3 ms)
            painter.fillRect(area, self._delegate.background)
            for row, card in cards:
                index = model.index(row, 0)
                state = base_state
                if selection is not None and selection.isSelected(index):
                    state |= _SELECTED
                if focus and index == current:
                    state |= _HAS_FOCUS
                option.rect = card
                option.state = state
                delegate.paint(painter, option, index)
        finally:
            painter.end()


def card_wall(
    model: TicketListModel,
    delegate: TicketCardDelegate,
    *,
    name: str,
    scale: float,
    parent: QWidget | None = None,
) -> CardWall:
    """A :class:`CardWall` of ``model``'s tickets, set up for a touch screen."""
    view = CardWall(delegate, model, parent)
    view.setObjectName(name)
    view.setSpacing(round(6 * scale))
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setMouseTracking(False)
    view.setModel(model)
    return view
