"""Pages of cards: how many are off screen, and turning to the next / previous page.

The wall of cards shows as many as fit; :class:`CardPager` counts the cards that are
not fully on screen (``before`` above, ``after`` below) for the header's
"+7 more →", and scrolls a page at a time so that the first card that did not fit
comes to the top. One coalescing zero-delay timer recounts after any change
(scrolling, rows in or out, a resize), however many happen at once.
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import QEvent, QObject, QTimer, Signal, Slot

from kitchen_display.card_wall import CardWall


class CardPager(QObject):
    """Paging for a :class:`~kitchen_display.card_wall.CardWall` of cards.

    ``countsChanged(before, after)``: the number of cards (partly) off screen above
    and below changed.
    """

    countsChanged = Signal(int, int)

    def __init__(self, view: CardWall, parent: QObject | None = None) -> None:
        super().__init__(parent or view)
        self._view = view
        self._counts = (0, 0)
        self._recount = QTimer(self)
        self._recount.setSingleShot(True)
        self._recount.setInterval(0)
        self._recount.timeout.connect(self.update_counts)
        view.verticalScrollBar().valueChanged.connect(self.schedule)
        view.verticalScrollBar().rangeChanged.connect(self.schedule)
        view.viewport().installEventFilter(self)
        model = view.model()
        for signal in (
            model.rowsInserted,
            model.rowsRemoved,
            model.rowsMoved,
            model.modelReset,
            model.layoutChanged,
            model.dataChanged,
        ):
            signal.connect(self.schedule)

    @property
    def before(self) -> int:
        return self._counts[0]

    @property
    def after(self) -> int:
        return self._counts[1]

    @Slot()
    def schedule(self) -> None:
        if not self._recount.isActive():
            self._recount.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self.schedule()
        return super().eventFilter(watched, event)

    def counts(self) -> tuple[int, int]:
        """``(before, after)``: cards not fully on screen above / below, now.

        The wall flows left to right in lines, so a card's top never decreases with
        its row: two bisections find the cards above and below the screen, and only
        the lines on screen are looked at one by one (a wall of 1,000 cards costs
        what one of 30 does).
        """
        view = self._view
        area = view.viewport().rect()
        rows = view.model().rowCount()

        def top(row: int) -> int:
            return view.card_rect(row).top()

        first_on = bisect.bisect_left(range(rows), area.top(), key=top)
        first_below = bisect.bisect_right(range(rows), area.bottom(), key=top)
        before, after = first_on, rows - first_below
        for row in range(first_on, first_below):
            rect = view.card_rect(row)
            if not rect.isEmpty() and not area.contains(rect):
                after += 1
        return before, after

    @Slot()
    def update_counts(self) -> None:
        if not self._view.isVisible():
            # A hidden wall (the board is shown) is not counted: asking where its
            # cards are would lay all of them out on every change (``visualRect``
            # runs a pending relayout). It is counted again when it is shown.
            return
        counts = self.counts()
        if counts != self._counts:
            self._counts = counts
            self.countsChanged.emit(*counts)

    def first_visible_row(self) -> int:
        """The first card fully on screen (-1: none)."""
        view = self._view
        area = view.viewport().rect()
        model = view.model()
        for row in range(model.rowCount()):
            if area.contains(view.visualRect(model.index(row, 0))):
                return row
        return -1

    def page_next(self) -> bool:
        """Scroll so the first card below that did not fit is at the top (False: none)."""
        view = self._view
        area = view.viewport().rect()
        model = view.model()
        for row in range(model.rowCount()):
            rect = view.visualRect(model.index(row, 0))
            if rect.top() >= area.top() and not area.contains(rect) and rect.top() > 0:
                bar = view.verticalScrollBar()
                bar.setValue(bar.value() + rect.top() - view.spacing())
                self.update_counts()
                return True
        return False

    def page_previous(self) -> bool:
        """Scroll back one screenful (False: already at the top)."""
        bar = self._view.verticalScrollBar()
        if bar.value() <= bar.minimum():
            return False
        bar.setValue(max(bar.minimum(), bar.value() - self._view.viewport().height()))
        self.update_counts()
        return True
