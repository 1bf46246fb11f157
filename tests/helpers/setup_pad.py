"""Driving the first-run setup screen as a touch user does: tap a field, then tap the
on-screen keypad's keys (switching its page when a character is on another one)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from kitchen_display.keypad import _ROWS, NUMERIC, SYMBOLS, TEXT, Keypad
from kitchen_display.setup_screen import SetupWindow


def tap(qtbot: QtBot, button: QPushButton) -> None:
    assert button.isVisible() and button.isEnabled(), button.objectName()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _on(page: str, char: str) -> bool:
    return any(char in row for row in _ROWS[page])


def _go(qtbot: QtBot, pad: Keypad, page: str) -> None:
    if pad.page == page:
        return
    key = {TEXT: "abc", NUMERIC: "123", SYMBOLS: "symbols"}[page]
    if pad.page == NUMERIC and page == SYMBOLS:
        tap(qtbot, pad.button("abc"))
    tap(qtbot, pad.button(key))
    assert pad.page == page


def type_keys(qtbot: QtBot, pad: Keypad, text: str) -> None:
    """Tap the keys that type ``text`` (⇧ for capitals, the other pages as needed)."""
    for char in text:
        lower = char.lower()
        if _on(pad.page, lower) and not (char.isupper() and pad.page != TEXT):
            page = pad.page
        elif _on(TEXT, lower):
            page = TEXT
        elif _on(NUMERIC, char):
            page = NUMERIC
        else:
            assert _on(SYMBOLS, char), f"no key types {char!r}"
            page = SYMBOLS
        _go(qtbot, pad, page)
        if page == TEXT and char.isalpha():
            shift = pad.button("shift")
            if shift.isChecked() != char.isupper():
                tap(qtbot, shift)
        tap(qtbot, pad.button(lower if page == TEXT else char))


def fill(qtbot: QtBot, window: SetupWindow, field: str, text: str) -> None:
    """Tap ``field``, CLEAR it, and type ``text`` on the keypad."""
    qtbot.mouseClick(window.edits[field], Qt.MouseButton.LeftButton)
    tap(qtbot, window.keypad.button("clear"))
    type_keys(qtbot, window.keypad, text)
    assert window.edits[field].text() == text


def fill_form(
    qtbot: QtBot,
    window: SetupWindow,
    *,
    site_id: str,
    station: str,
    host: str,
    port: int,
    user: str = "",
    password: str = "",
) -> None:
    """Everything a site admin taps for one screen (the display id: the station's
    suggestion)."""
    fill(qtbot, window, "site_id", site_id)
    tap(qtbot, window.station_buttons[station])
    fill(qtbot, window, "host", host)
    fill(qtbot, window, "port", str(port))
    if user:
        fill(qtbot, window, "user", user)
    if password:
        fill(qtbot, window, "password", password)
