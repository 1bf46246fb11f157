"""The display's themes (``[display] theme``): dark (default), light and high-contrast.

A :class:`Theme` has a name, the window colours (applied as a palette and a
stylesheet by :func:`apply`) and :class:`CardColors` for whoever paints the
cards (``theme.colors.card_bg``, ``theme.colors.late``, ...). Everything that is
a size in the stylesheet scales with ``font_scale``.

:func:`min_touch_px` is the smallest touch target for a screen: 12 mm at its
physical DPI (never less than 48 px).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtGui import QColor, QGuiApplication, QPalette, QScreen
from PySide6.QtWidgets import QWidget

#: a finger's touch target, millimetres
MIN_TOUCH_MM = 12.0
#: never smaller than this, whatever the screen claims its DPI is
MIN_TOUCH_FLOOR_PX = 48


@dataclass(frozen=True)
class CardColors:
    """Colours of a ticket card (for the card delegate)."""

    card_bg: str
    card_border: str
    text: str
    dim: str
    header_ok: str
    warn: str
    late: str
    text_on_warn: str
    void: str
    rush: str
    #: a customer's declared allergy (banner, button, line bar): purple, as kitchens
    #: mark allergen-safe prep; never the LATE red
    allergy: str
    allergy_text: str
    note: str
    selected: str
    start_button: str
    bump_button: str
    button_text: str


@dataclass(frozen=True)
class Theme:
    """One look of the screen: window colours plus :class:`CardColors`."""

    name: str
    window: str
    header: str
    header_border: str
    text: str
    dim: str
    online: str
    offline: str
    banner_bg: str
    banner_text: str
    message_bg: str
    message_text: str
    problems_bg: str
    problems_text: str
    highlight: str
    highlight_text: str
    button: str
    colors: CardColors

    def palette(self) -> QPalette:
        palette = QPalette()
        roles = {
            QPalette.ColorRole.Window: self.window,
            QPalette.ColorRole.WindowText: self.text,
            QPalette.ColorRole.Base: self.window,
            QPalette.ColorRole.AlternateBase: self.header,
            QPalette.ColorRole.Text: self.text,
            QPalette.ColorRole.Button: self.button,
            QPalette.ColorRole.ButtonText: self.text,
            QPalette.ColorRole.Highlight: self.highlight,
            QPalette.ColorRole.HighlightedText: self.highlight_text,
            QPalette.ColorRole.ToolTipBase: self.header,
            QPalette.ColorRole.ToolTipText: self.text,
            QPalette.ColorRole.PlaceholderText: self.dim,
        }
        for role, color in roles.items():
            palette.setColor(role, QColor(color))
        return palette

    def stylesheet(self, scale: float = 1.0) -> str:
        def px(value: float) -> str:
            return f"{max(1, round(value * scale))}px"

        return f"""
QMainWindow, QWidget#central {{ background: {self.window}; }}
QWidget#header {{ background: {self.header}; border-bottom: {px(2)} solid {self.header_border}; }}
QLabel {{ color: {self.text}; }}
QLabel#station {{ font-weight: bold; letter-spacing: 1px; }}
QLabel#dim {{ color: {self.dim}; }}
QLabel#online {{ color: {self.online}; font-weight: bold; }}
QLabel#offline {{ color: {self.offline}; font-weight: bold; }}
QLabel#banner {{ background: {self.banner_bg}; color: {self.banner_text}; font-weight: bold;
    padding: {px(10)}; }}
QLabel#message {{ background: {self.message_bg}; color: {self.message_text}; font-weight: bold;
    padding: {px(8)}; }}
QLabel#problems {{ background: {self.problems_bg}; color: {self.problems_text};
    font-weight: bold; padding: {px(6)} {px(10)}; }}
QListView {{ background: {self.window}; border: none; }}
QDialog {{ background: {self.header}; }}
QLineEdit {{ background: {self.window}; color: {self.text}; border: {px(2)} solid {self.highlight};
    padding: {px(6)}; }}
QPushButton {{ background: {self.button}; color: {self.text}; border: {px(2)} solid
    {self.header_border}; padding: {px(6)} {px(16)}; }}
"""


DARK = Theme(
    name="dark",
    window="#0f1216",
    header="#181d24",
    header_border="#2c3644",
    text="#f4f6f8",
    dim="#a0aab8",
    online="#48bb78",
    offline="#ff5252",
    banner_bg="#c62828",
    banner_text="#ffffff",
    message_bg="#ffd84d",
    message_text="#111111",
    problems_bg="#5a4300",
    problems_text="#ffe08a",
    highlight="#00e5ff",
    highlight_text="#111111",
    button="#2c3644",
    colors=CardColors(
        card_bg="#1c2129",
        card_border="#3a4352",
        text="#f4f6f8",
        dim="#8a94a3",
        header_ok="#2c3644",
        warn="#f6c343",
        late="#e53e3e",
        text_on_warn="#111111",
        void="#780000",
        rush="#ff3d00",
        allergy="#8e24aa",
        allergy_text="#ffffff",
        note="#ffd84d",
        selected="#00e5ff",
        start_button="#2b6cb0",
        bump_button="#2f855a",
        button_text="#ffffff",
    ),
)

LIGHT = Theme(
    name="light",
    window="#eef1f5",
    header="#ffffff",
    header_border="#c3cad5",
    text="#111827",
    dim="#4b5563",
    online="#1f7a3f",
    offline="#c62828",
    banner_bg="#c62828",
    banner_text="#ffffff",
    message_bg="#ffd84d",
    message_text="#111111",
    problems_bg="#fff3c4",
    problems_text="#5a4300",
    highlight="#0077b6",
    highlight_text="#ffffff",
    button="#dde3ea",
    colors=CardColors(
        card_bg="#ffffff",
        card_border="#c3cad5",
        text="#111827",
        dim="#4b5563",
        header_ok="#dde3ea",
        warn="#f6c343",
        late="#d32f2f",
        text_on_warn="#111111",
        void="#b71c1c",
        rush="#e65100",
        allergy="#6a1b9a",
        allergy_text="#ffffff",
        note="#fff3a0",
        selected="#0077b6",
        start_button="#1e5fa8",
        bump_button="#1f7a3f",
        button_text="#ffffff",
    ),
)

#: pure black and white with saturated signal colours (WCAG AAA contrast for text)
HIGH_CONTRAST = Theme(
    name="high-contrast",
    window="#000000",
    header="#000000",
    header_border="#ffffff",
    text="#ffffff",
    dim="#ffffff",
    online="#00ff00",
    offline="#ff4040",
    banner_bg="#ff0000",
    banner_text="#000000",
    message_bg="#ffff00",
    message_text="#000000",
    problems_bg="#ffff00",
    problems_text="#000000",
    highlight="#ffff00",
    highlight_text="#000000",
    button="#000000",
    colors=CardColors(
        card_bg="#000000",
        card_border="#ffffff",
        text="#ffffff",
        dim="#ffffff",
        header_ok="#000000",
        warn="#ffff00",
        late="#ff0000",
        text_on_warn="#000000",
        void="#ff0000",
        rush="#ff00ff",
        allergy="#ff00ff",
        allergy_text="#000000",
        note="#ffff00",
        selected="#00ffff",
        start_button="#0000ff",
        bump_button="#008000",
        button_text="#ffffff",
    ),
)

THEMES: dict[str, Theme] = {theme.name: theme for theme in (DARK, LIGHT, HIGH_CONTRAST)}


def theme_for(name: str) -> Theme:
    """The theme called ``name`` (``dark``, ``light``, ``high-contrast``)."""
    try:
        return THEMES[name]
    except KeyError:
        raise ValueError(f"unknown theme {name!r}; one of {', '.join(THEMES)}") from None


def apply(widget: QWidget, theme: Theme, scale: float = 1.0) -> None:
    """Give ``widget`` (and its children) the theme's palette and stylesheet."""
    widget.setPalette(theme.palette())
    widget.setStyleSheet(theme.stylesheet(scale))


def min_touch_px(screen: QScreen | None = None, mm: float = MIN_TOUCH_MM) -> int:
    """The smallest touch target on ``screen`` (default: the primary screen), in pixels.

    ``mm`` millimetres at the screen's physical DPI, and at least
    :data:`MIN_TOUCH_FLOOR_PX`. A screen that reports a nonsense DPI (0, or a
    virtual screen's guess) is taken as 96 DPI.
    """
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    dpi = screen.physicalDotsPerInch() if screen is not None else 96.0
    if math.isnan(dpi) or not (50.0 <= dpi <= 1000.0):
        dpi = 96.0
    # Widgets are laid out in device-independent pixels.
    ratio = screen.devicePixelRatio() if screen is not None else 1.0
    return max(MIN_TOUCH_FLOOR_PX, math.ceil(mm / 25.4 * dpi / max(ratio, 1.0)))
