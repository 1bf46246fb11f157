"""The lead PIN (``[display] lead_pin``, a secret): what guards kiosk mode's exit and
switching views.

:class:`LeadGate` is the one PIN flow: it asks with a :class:`LeadPinDialog` (a
big-buttoned prompt, touch targets of at least 12 mm) and calls back on the right
PIN or the wrong one; :func:`pin_matches` compares in constant time.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.theme import min_touch_px
from shared.config import Secret

log = logging.getLogger("kds.ui")


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


class LeadGate(QObject):
    """Asks for the lead PIN before a lead-only action.

    ``dialog`` is the prompt on screen (``None`` when none is).
    """

    def __init__(self, pin: Secret, window: QWidget) -> None:
        super().__init__(window)
        self._pin = pin
        self._window = window
        self.dialog: LeadPinDialog | None = None
        self._granted: Callable[[], None] = _nothing
        self._refused: Callable[[], None] = _nothing
        self._what = ""

    @property
    def has_pin(self) -> bool:
        """Whether a PIN is set (without one, nothing can be unlocked)."""
        return bool(self._pin)

    @property
    def asking(self) -> bool:
        return self.dialog is not None and self.dialog.isVisible()

    def ask(
        self,
        what: str,
        *,
        granted: Callable[[], None],
        refused: Callable[[], None],
        title: str = "",
        prompt: str = "",
        ok_text: str = "",
    ) -> bool:
        """Open the PIN prompt for ``what`` (a log word: "kiosk exit", "view board").

        ``granted`` runs after the right PIN, ``refused`` after a wrong one; nothing
        runs on Cancel. Returns False (and opens nothing) while a prompt is open.
        """
        if self.asking:
            return False
        dialog = LeadPinDialog(self._window)
        dialog.setCursor(Qt.CursorShape.ArrowCursor)  # kiosk mode hides the cursor
        if title:
            dialog.setWindowTitle(title)
        if prompt:
            dialog.prompt.setText(prompt)
        if ok_text:
            dialog.ok_button.setText(ok_text)
        dialog.accepted.connect(self._on_entered)
        # first forget it (Cancel and Esc never reach _on_entered), then delete it: a
        # reference kept to a deleted dialog would make the next ask() raise
        dialog.finished.connect(lambda _result: self._forget(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog, self._what = dialog, what
        self._granted, self._refused = granted, refused
        dialog.open()
        return True

    def close(self) -> None:
        """Close an open prompt (the window is closing)."""
        dialog, self.dialog = self.dialog, None
        if dialog is not None:
            dialog.close()

    def _forget(self, dialog: LeadPinDialog) -> None:
        if self.dialog is dialog:
            self.dialog = None
            self._granted, self._refused = _nothing, _nothing

    @Slot()
    def _on_entered(self) -> None:
        dialog, granted, refused = self.dialog, self._granted, self._refused
        self.dialog, self._granted, self._refused = None, _nothing, _nothing
        if dialog is None:
            return
        if pin_matches(self._pin.reveal(), dialog.pin()):
            log.info("%s with the lead PIN", self._what)
            granted()
        else:
            log.warning("%s refused: wrong PIN", self._what)
            refused()


def _nothing() -> None:
    return None
