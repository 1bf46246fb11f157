"""An on-screen keypad for a touch screen with no keyboard (the first-run setup).

:class:`Keypad` types into the :class:`~PySide6.QtWidgets.QLineEdit` it is
:meth:`attached <Keypad.attach>` to, never through the system's input method (the
setup's fields turn that off, so no system keyboard pops up over the screen). It has
three pages, each key a big button that never takes the focus:

* ``numeric``: 1-9, ``.``, 0, ``:``, backspace ⌫, CLEAR and ABC (for a host name);
* ``text``: digits, a-z (⇧ for capitals), ``-`` ``.`` ``_``, ⌫, CLEAR, ``#+=``
  (symbols, for a password) and ``123`` (the numeric page);
* ``symbols``: the printable ASCII punctuation.

``button(key)`` is the key's button (``"7"``, ``"a"``, ``"backspace"``, ``"clear"``,
``"shift"``, ``"abc"``, ``"123"``, ``"symbols"``); ``page`` the page on screen.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kitchen_display.widgets import font

NUMERIC = "numeric"
TEXT = "text"
SYMBOLS = "symbols"
PAGES = (NUMERIC, TEXT, SYMBOLS)

#: each page's rows; a word is a special key (see ``_special_text``)
_ROWS: dict[str, tuple[tuple[str, ...], ...]] = {
    NUMERIC: (
        ("1", "2", "3"),
        ("4", "5", "6"),
        ("7", "8", "9"),
        (".", "0", ":"),
        ("backspace", "clear", "abc"),
    ),
    TEXT: (
        tuple("1234567890"),
        tuple("qwertyuiop"),
        (*"asdfghjkl", "-"),
        ("shift", *"zxcvbnm", ".", "_"),
        ("symbols", "123", "backspace", "clear"),
    ),
    SYMBOLS: (
        tuple("!@#$%^&*()"),
        tuple("+=/\\?~'\",;"),
        tuple("<>[]{}|`:-"),
        ("abc", "123", "backspace", "clear"),
    ),
}
#: how many grid columns a special key spans on the text and symbols pages
_WIDE = {"shift": 1, "symbols": 2, "123": 2, "abc": 2, "backspace": 3, "clear": 3}


class Keypad(QWidget):
    """Big keys that type into the attached line edit (see the module).

    ``typed(text)`` after each key that changed the field (``backspace`` and ``clear``
    too); ``pageChanged(page)`` when the page on screen changes.
    """

    typed = Signal(str)
    pageChanged = Signal(str)

    def __init__(self, touch: int, *, scale: float = 1.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keypad")
        self._touch = touch
        self._scale = scale
        self._target: QLineEdit | None = None
        self._shift = False
        self._buttons: dict[str, dict[str, QPushButton]] = {}
        self._pages: dict[str, QWidget] = {}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for page in PAGES:
            self._pages[page] = self._build(page)
            layout.addWidget(self._pages[page])
        self.page = ""
        self.show_page(NUMERIC)

    # --- building -----------------------------------------------------------------------

    def _build(self, page: str) -> QWidget:
        holder = QWidget(self)
        holder.setObjectName(f"keypad-{page}")
        grid = QGridLayout(holder)
        spacing = round(6 * self._scale)
        grid.setSpacing(spacing)
        grid.setContentsMargins(0, 0, 0, 0)
        buttons: dict[str, QPushButton] = {}
        for row, keys in enumerate(_ROWS[page]):
            column = 0
            for key in keys:
                span = _WIDE.get(key, 1) if page != NUMERIC else 1
                button = QPushButton(self._special_text(key) or key, holder)
                button.setObjectName(f"key-{key}")
                button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
                button.setAutoRepeat(key == "backspace")
                button.setMinimumSize(self._touch, self._touch)
                button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
                button.setFont(font(24 if page == NUMERIC else 20, self._scale, bold=True))
                if key == "shift":
                    button.setCheckable(True)
                button.clicked.connect(lambda _checked=False, k=key: self._on_key(k))
                grid.addWidget(button, row, column, 1, span)
                buttons[key] = button
                column += span
        self._buttons[page] = buttons
        holder.hide()
        return holder

    def _special_text(self, key: str) -> str:
        return {
            "backspace": "⌫",
            "clear": self.tr("CLEAR"),
            "abc": "ABC",
            "123": "123",
            "symbols": "#+=",
            "shift": "⇧",
        }.get(key, "")

    # --- public -------------------------------------------------------------------------

    def attach(self, edit: QLineEdit | None, page: str = NUMERIC) -> None:
        """Type into ``edit`` from now on, starting on ``page``."""
        self._target = edit
        self.show_page(page)

    def show_page(self, page: str) -> None:
        if page not in PAGES:
            raise ValueError(f"unknown keypad page {page!r}")
        for name, holder in self._pages.items():
            holder.setVisible(name == page)
        if page != self.page:
            self.page = page
            self.pageChanged.emit(page)

    def button(self, key: str, page: str | None = None) -> QPushButton:
        """The button of ``key`` on ``page`` (default: the page on screen)."""
        return self._buttons[page or self.page][key]

    # --- slots --------------------------------------------------------------------------

    @Slot(str)
    def _on_key(self, key: str) -> None:
        if key == "abc":
            self.show_page(TEXT)
            return
        if key == "123":
            self.show_page(NUMERIC)
            return
        if key == "symbols":
            self.show_page(SYMBOLS)
            return
        if key == "shift":
            self._set_shift(not self._shift)
            return
        edit = self._target
        if edit is None or not edit.isEnabled():
            return
        if key == "backspace":
            edit.backspace()
        elif key == "clear":
            edit.clear()
        else:
            edit.insert(key.upper() if self._shift and key.isalpha() else key)
        self.typed.emit(edit.text())

    def _set_shift(self, on: bool) -> None:
        self._shift = on
        for key, button in self._buttons[TEXT].items():
            if len(key) == 1 and key.isalpha():
                button.setText(key.upper() if on else key)
        self._buttons[TEXT]["shift"].setChecked(on)
