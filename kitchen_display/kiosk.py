"""The lead PIN (``[display] lead_pin``, a secret): what guards kiosk mode's exit and
switching views.

:class:`LeadGate` is the one PIN flow: it asks with a :class:`LeadPinDialog` (a
big-buttoned prompt, touch targets of at least 12 mm) and calls back on the right
PIN or the wrong one. The PIN is kept as a salted scrypt hash and wrong PINs earn a
growing wait (:mod:`kitchen_display.lead_pin`); the wait belongs to the gate, so
closing and reopening the prompt does not end it. Every wrong PIN is logged at
WARNING (``kds.kiosk``), never what was typed.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.lead_pin import (
    AttemptLimiter,
    PinFormatError,
    StoredPin,
    parse_stored,
    verify_pin,
)
from kitchen_display.theme import min_touch_px
from shared.config import Secret

log = logging.getLogger("kds.kiosk")

#: while a wait runs, the prompt's countdown is refreshed this often
COUNTDOWN_MS = 200


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
        self.wait_label = QLabel(self)
        self.wait_label.setObjectName("leadPinWait")
        self.wait_label.hide()
        layout.addWidget(self.wait_label)
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

    def show_wait(self, seconds: float) -> None:
        """Lock the prompt for ``seconds`` more, saying so (0: unlock it)."""
        locked = seconds > 0
        self.edit.setEnabled(not locked)
        self.ok_button.setEnabled(not locked)
        self.wait_label.setHidden(not locked)
        if locked:
            self.edit.clear()
            self.wait_label.setText(
                self.tr("Too many wrong PINs: try again in {seconds} s").format(
                    seconds=math.ceil(seconds)
                )
            )
        else:
            self.edit.setFocus()


class LeadGate(QObject):
    """Asks for the lead PIN before a lead-only action.

    ``pin`` is the stored form (a hash from ``kitchen-display set-pin``); one that is
    not (a plain-text PIN from an older version) unlocks nothing: ``problem`` says
    why, and asking shows a line telling the lead to have it set again.
    ``dialog`` is the prompt on screen (``None`` when none is); ``attempts`` counts
    wrong PINs in a row (tests give it their own clock).
    """

    #: a line for the screen's message bar
    messageRequested = Signal(str)

    def __init__(self, pin: Secret, window: QWidget) -> None:
        super().__init__(window)
        self._pin = pin
        self._window = window
        self._stored: StoredPin | None = None
        self.problem = ""
        if pin:
            try:
                self._stored = parse_stored(pin.reveal())
            except PinFormatError as exc:
                self.problem = str(exc)
                log.warning("lead PIN from %s unusable: %s", pin.source or "?", exc)
        self.attempts = AttemptLimiter()
        self._countdown = QTimer(self)
        self._countdown.setInterval(COUNTDOWN_MS)
        self._countdown.timeout.connect(self._on_countdown)
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
        if self._stored is None:
            log.warning("%s refused: %s", what, self.problem or "no lead PIN is set")
            self.messageRequested.emit(
                self.tr("The lead PIN cannot be checked: set it again (kitchen-display set-pin)")
            )
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
        self._on_countdown()
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
    def _on_countdown(self) -> None:
        wait = self.attempts.wait_seconds()
        if self.dialog is not None:
            self.dialog.show_wait(wait)
        if wait > 0 and self.dialog is not None:
            self._countdown.start()
        else:
            self._countdown.stop()

    @Slot()
    def _on_entered(self) -> None:
        dialog, granted, refused = self.dialog, self._granted, self._refused
        self.dialog, self._granted, self._refused = None, _nothing, _nothing
        self._countdown.stop()
        if dialog is None or self._stored is None:
            return
        wait = self.attempts.wait_seconds()
        if wait > 0:  # the prompt is locked; nothing is checked until the wait is over
            log.warning(
                "%s refused: %d wrong PINs in a row, %.0f s still to wait",
                self._what,
                self.attempts.failures,
                wait,
            )
            refused()
        elif verify_pin(self._stored, dialog.pin()):
            self.attempts.succeeded()
            log.info("%s with the lead PIN", self._what)
            granted()
        else:
            delay = self.attempts.failed()
            log.warning(
                "%s refused: wrong PIN (%d in a row%s)",
                self._what,
                self.attempts.failures,
                f"; the next try in {delay:.0f} s" if delay else "",
            )
            refused()


def _nothing() -> None:
    return None
