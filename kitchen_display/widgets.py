"""Small building blocks the display's widgets share: fonts, big touch buttons and
:class:`ChoiceDialog` (a list of big choices and an OK button)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.theme import min_touch_px

#: the families every text on the screens asks for, first found wins
FONT_FAMILIES = ["DejaVu Sans", "Noto Sans", "Sans Serif"]


def font(px: float, scale: float = 1.0, *, bold: bool = False) -> QFont:
    """A font of ``px`` pixels at font scale ``scale`` (never under 8 px)."""
    result = QFont()
    result.setFamilies(FONT_FAMILIES)
    result.setPixelSize(max(8, round(px * scale)))
    result.setBold(bold)
    return result


def big_button(text: str, parent: QWidget, touch: int, name: str) -> QPushButton:
    """A touch button at least ``touch`` px high and twice as wide, never focused."""
    button = QPushButton(text, parent)
    button.setObjectName(name)
    button.setMinimumHeight(touch)
    button.setMinimumWidth(2 * touch)
    button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    return button


class ChoiceDialog(QDialog):
    """A list of big choices and an OK button; ``chosen()`` is the selected value."""

    def __init__(
        self,
        title: str,
        prompt: str,
        choices: list[tuple[str, str]],
        ok_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        touch = min_touch_px(parent.screen() if parent is not None else None)
        layout = QVBoxLayout(self)
        label = QLabel(prompt, self)
        label.setFont(font(18, bold=True))
        layout.addWidget(label)
        self.list = QListWidget(self)
        self.list.setFont(font(18))
        for value, text in choices:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, value)
            self.list.addItem(item)
        self.list.setSpacing(4)
        layout.addWidget(self.list)
        row = QHBoxLayout()
        self.ok_button = big_button(ok_text, self, touch, "ok")
        self.cancel_button = big_button(self.tr("Cancel"), self, touch, "cancel")
        row.addWidget(self.ok_button)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        self.ok_button.clicked.connect(self.accept)
        self.cancel_button.clicked.connect(self.reject)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.resize(480, 560)

    def choose(self, value: str) -> bool:
        """Select the choice ``value`` (what a tap on it does)."""
        for row in range(self.list.count()):
            if self.list.item(row).data(Qt.ItemDataRole.UserRole) == value:
                self.list.setCurrentRow(row)
                return True
        return False

    def chosen(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))
