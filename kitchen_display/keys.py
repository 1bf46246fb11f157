"""Bump-bar keys: which key press means which action (``[keys]`` in the config).

A bump bar is a keyboard with a few big keys; every site labels them differently,
so the map is configurable. :class:`KeyMap` turns a ``QKeyEvent`` into an action
name (one of :meth:`~kitchen_display.config.KeySettings.actions`)::

    select_next select_previous first last start bump recall reprint
    page_next page_previous undo exit

Keypad keys count as the same keys (the keypad's Enter is ``Enter``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent

from kitchen_display.config import KeySettings, combined

#: what each action does, for the docs and the help line
ACTIONS = {
    "select_next": "select the next card",
    "select_previous": "select the previous card",
    "first": "select the first (oldest) card",
    "last": "select the last card",
    "start": "start the selected card",
    "bump": "bump the selected card",
    "recall": "recall the ticket this screen bumped last",
    "reprint": "reprint the selected ticket",
    "page_next": "next page of cards",
    "page_previous": "previous page of cards",
    "undo": "undo this screen's last bump",
    "all_day": "show or hide the all-day counts",
    "recall_list": "open the list of recently bumped tickets",
    "exit": "kiosk: ask for the lead PIN and exit",
}

_MODIFIERS = (
    Qt.KeyboardModifier.ShiftModifier
    | Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


class KeyMap:
    """Key combination -> action, built from :class:`KeySettings`."""

    def __init__(self, settings: KeySettings | None = None) -> None:
        self._settings = settings or KeySettings()
        self._actions: dict[int, str] = {}
        for action, sequences in self._settings.sequences().items():
            for sequence in sequences:
                self._actions[combined(sequence)] = action

    @property
    def settings(self) -> KeySettings:
        return self._settings

    def action_for(self, event: QKeyEvent) -> str | None:
        """The action ``event`` is bound to, or ``None``."""
        key = event.key()
        if key in (Qt.Key.Key_unknown, 0):
            return None
        modifiers = event.modifiers() & _MODIFIERS
        combined = int(key) | modifiers.value
        action = self._actions.get(combined)
        if action is None and modifiers & Qt.KeyboardModifier.ShiftModifier:
            # Shift+B on a bump bar that sends upper case letters is still B
            action = self._actions.get(
                int(key) | (modifiers & ~Qt.KeyboardModifier.ShiftModifier).value
            )
        return action
