"""Kiosk mode's exit: a lead types the PIN (``[display] lead_pin``, a secret).

:class:`LeadPinDialog` is a big-buttoned PIN prompt (touch targets of at least
12 mm); :func:`pin_matches` compares in constant time.
"""

from __future__ import annotations

import hmac

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.theme import min_touch_px


def pin_matches(expected: str, typed: str) -> bool:
    """Whether ``typed`` is the PIN (never true for an empty PIN)."""
    return bool(expected) and hmac.compare_digest(expected.encode(), typed.strip().encode())


class LeadPinDialog(QDialog):
    """Asks for the lead PIN; ``pin()`` is what was typed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("leadPin")
        self.setWindowTitle(self.tr("Exit kiosk mode"))
        touch = min_touch_px(parent.screen() if parent is not None else None)
        layout = QVBoxLayout(self)
        self.prompt = QLabel(self.tr("Lead PIN to close this screen:"), self)
        layout.addWidget(self.prompt)
        self.edit = QLineEdit(self)
        self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.edit.setInputMethodHints(
            Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhSensitiveData
        )
        self.edit.setMinimumHeight(touch)
        layout.addWidget(self.edit)
        buttons = QDialogButtonBox(self)
        self.ok_button = buttons.addButton(self.tr("Exit"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = buttons.addButton(
            self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole
        )
        for button in (self.ok_button, self.cancel_button):
            button.setMinimumSize(2 * touch, touch)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.edit.setFocus()

    def pin(self) -> str:
        return self.edit.text()
