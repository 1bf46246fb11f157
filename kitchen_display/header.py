"""The window's header: station, display id (a button: the about box), open count,
pager, queue, connection, clock, and the lead's buttons (ALL DAY, RECALL…, VIEW…; on a
narrow screen one ☰ button that lists them and the about box).

The header shows what it is told and reports taps through its buttons' signals; the
window decides what they do.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from kitchen_display.widgets import font

#: below this width (times the font scale) the header drops the display id and tightens
NARROW_WIDTH = 1280


class Header(QWidget):
    """One row across the top of the window."""

    def __init__(
        self, station: str, display_id: str, *, scale: float, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        # a QWidget subclass paints its stylesheet background only when asked to
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._scale = scale
        self._row = QHBoxLayout(self)
        margin = round(10 * scale)
        self._row.setContentsMargins(margin, margin // 2, margin, margin // 2)
        self._row.setSpacing(round(24 * scale))
        self._narrow = False

        self.station_label = QLabel(station.upper(), self)
        self.station_label.setObjectName("station")
        self.station_label.setFont(font(28, scale, bold=True))
        # the display id, as the button that opens the about box (release, build, site,
        # config file, broker, log)
        self.about_button = self._button(f"{display_id}  ℹ", "aboutButton")
        self.about_button.setFont(font(16, scale))
        self.about_button.setToolTip(self.tr("About this screen"))
        self.count_label = QLabel(self)
        self.count_label.setFont(font(22, scale, bold=True))
        # the lead's buttons grow with the font scale like the rest of the header
        self.all_day_button = self._button(self.tr("ALL DAY"), "allDayButton")
        self.all_day_button.setCheckable(True)
        self.recall_button = self._button(self.tr("RECALL…"), "recallListButton")
        self.view_button = self._button(self.tr("VIEW…"), "viewButton")
        # a narrow screen has no room for the three: one button opens them as a list
        self.lead_menu_button = self._button("☰", "leadMenuButton")
        self.lead_menu_button.setToolTip(self.tr("ALL DAY, RECALL…, VIEW…"))
        self.lead_menu_button.hide()
        # "+7 more →": cards that do not fit on the screen (PgDown shows them)
        self.more_label = QLabel(self)
        self.more_label.setObjectName("more")
        self.more_label.setFont(font(22, scale, bold=True))
        self.more_label.hide()
        # "↻ 3 waiting to send": commands queued while the kitchen is unreachable
        self.pending_label = QLabel(self)
        self.pending_label.setObjectName("pendingLabel")
        self.pending_label.setFont(font(18, scale, bold=True))
        self.pending_label.hide()
        self.connection_label = QLabel(self)
        self.connection_label.setFont(font(18, scale, bold=True))
        self.clock_label = QLabel(self)
        self.clock_label.setFont(font(26, scale, bold=True))

        self._row.addWidget(self.station_label)
        self._row.addWidget(self.about_button)
        self._row.addStretch(1)
        for widget in (
            self.all_day_button,
            self.recall_button,
            self.view_button,
            self.lead_menu_button,
            self.count_label,
            self.more_label,
            self.pending_label,
            self.connection_label,
            self.clock_label,
        ):
            self._row.addWidget(widget)
        self.show_clock(datetime.now())

    def _button(self, text: str, name: str) -> QPushButton:
        touch = round(40 * self._scale)
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setMinimumHeight(touch)
        # may shrink on a narrow screen rather than push the window wider than it
        button.setMinimumWidth(touch)
        button.setFont(font(16, self._scale, bold=True))
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        return button

    def lead_buttons(self) -> tuple[QPushButton, ...]:
        """ALL DAY, RECALL… and VIEW… (behind :attr:`lead_menu_button` when narrow)."""
        return (self.all_day_button, self.recall_button, self.view_button)

    @property
    def narrow(self) -> bool:
        return self._narrow

    def fit_width(self, width: int) -> bool:
        """Lay out for a window ``width`` px wide; return whether that changed anything."""
        narrow = width < round(NARROW_WIDTH * self._scale)
        if narrow == self._narrow:
            return False
        self._narrow = narrow
        for button in self.lead_buttons():
            button.setVisible(not narrow)
        # narrow: no display id, and the about box is in the ☰ list
        self.about_button.setVisible(not narrow)
        self.lead_menu_button.setVisible(narrow)
        self._row.setSpacing(round((10 if narrow else 24) * self._scale))
        return True

    def show_clock(self, now: datetime) -> None:
        self.clock_label.setText(now.strftime("%H:%M" if self._narrow else "%H:%M:%S"))

    def show_online(self, online: bool, text: str) -> None:
        """The connection label: ``text`` styled by the ``online``/``offline`` rule."""
        self.connection_label.setText(text)
        self.connection_label.setObjectName("online" if online else "offline")
        # re-apply the stylesheet rule chosen by objectName
        self.connection_label.style().unpolish(self.connection_label)
        self.connection_label.style().polish(self.connection_label)
