"""The display's themes (``[display] theme``): dark (default), light and high-contrast.

A :class:`Theme` has a name, the window colours (applied as a palette and a
stylesheet by :func:`apply`) and :class:`CardColors`, every colour of a ticket card
(``theme.colors.card_bg``, ``theme.colors.late``, ...), for
:mod:`kitchen_display.card_style`. Everything that is a size in the stylesheet scales
with ``font_scale``.

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


#: the scroll bars' thickness, as Fusion's own (the card wall lays its cards out in the
#: width less this, so a wall wraps where it did). The theme styles the bars flat: Fusion
#: paints its bars with gradients, which Qt's raster engine fills across its thread pool;
#: each move of a card changes the wall's height and so repaints the bar (~1.1 ms of a
#: ~6 ms move, 300 cards, Qt offscreen on 2 cores; flat: ~0.09 ms)
SCROLL_BAR_PX = 14

#: a delivery channel's badge colours (background, text), shared by dark and light
_CHANNELS: tuple[tuple[str, str, str], ...] = (
    ("ubereats", "#06c167", "#000000"),
    ("uber_eats", "#06c167", "#000000"),
    ("doordash", "#ff3008", "#000000"),
    ("deliveroo", "#00ccbc", "#000000"),
    ("justeat", "#ff8000", "#000000"),
    ("just_eat", "#ff8000", "#000000"),
    ("thuisbezorgd", "#ff8000", "#000000"),
    ("grubhub", "#ff8000", "#000000"),
    ("app", "#ffffff", "#000000"),
    ("web", "#ffffff", "#000000"),
)

#: high contrast: DoorDash's red lighter, for 7:1 with black text
_HIGH_CONTRAST_CHANNELS = tuple(
    (name, "#ff7a59" if name == "doordash" else bg, fg) for name, bg, fg in _CHANNELS
)


@dataclass(frozen=True)
class CardColors:
    """Every colour of a ticket card, for :mod:`kitchen_display.card_style`.

    Text colours come with the surface they are drawn on (``late`` / ``text_on_late``,
    ``rush`` / ``rush_text``, ...); ``tests/unit/kitchen_display/test_card_contrast.py``
    holds each pair to WCAG contrast (4.5:1, 7:1 in high contrast).
    """

    # the card
    card_bg: str
    card_border: str
    selected: str
    # body text on card_bg: lines and modifiers; waiting, done, "contains", "also at"
    text: str
    dim: str
    # the header band by aging state, and its text (number, timer, brand, customer)
    header_ok: str
    text_on_ok: str
    warn: str
    text_on_warn: str
    late: str
    text_on_late: str
    # the aging cue chip (WARN 5:12 / DUE IN 2:30; LATE +3:12), also "↻ BUMP PENDING"
    cue_warn_bg: str
    cue_warn_text: str
    cue_late_bg: str
    cue_late_text: str
    # a cancelled order: the veil over the card (void, void_alpha of 255) and its word
    void: str
    void_alpha: int
    void_text: str
    void_chip: str
    void_chip_text: str
    # chips
    rush: str
    rush_text: str
    started: str
    started_text: str
    fold: str
    fold_text: str
    # body texts on card_bg besides text / dim (changed and note also mark their line)
    changed: str
    note: str
    order_note_bg: str
    order_note_text: str
    # a customer's declared allergy (banner, button, line bar): purple, as kitchens
    # mark allergen-safe prep; never the LATE red
    allergy: str
    allergy_text: str
    # expo's station headings (folded-in stations' headings: heading_fold), on card_bg
    heading_fold: str
    progress_done: str
    progress_working: str
    progress_pending: str
    # buttons (button_idle: START on a ticket already started)
    start_button: str
    bump_button: str
    button_idle: str
    button_text: str
    void_button: str
    void_button_text: str
    # channel badges: (channel, background, text); any other channel: badge / badge_text
    badge: str
    badge_text: str
    channels: tuple[tuple[str, str, str], ...]
    # the brand's logo disc and bar: its hue at this saturation and value (0-255); the
    # letter is whichever of brand_text_dark / brand_text_light reads better on it
    brand_saturation: int
    brand_value: int
    brand_text_dark: str
    brand_text_light: str

    def channel(self, channel: str) -> tuple[str, str]:
        """``(background, text)`` of ``channel``'s badge."""
        name = channel.lower()
        for known, bg, fg in self.channels:
            if known == name:
                return bg, fg
        return self.badge, self.badge_text


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
QListView, CardWall {{ background: {self.window}; border: none; }}
QDialog {{ background: {self.header}; }}
QLineEdit {{ background: {self.window}; color: {self.text}; border: {px(2)} solid {self.highlight};
    padding: {px(6)}; }}
QPushButton {{ background: {self.button}; color: {self.text}; border: {px(2)} solid
    {self.header_border}; padding: {px(6)} {px(16)}; }}
QScrollBar:vertical {{ background: {self.header}; width: {SCROLL_BAR_PX}px; margin: 0;
    border: none; }}
QScrollBar:horizontal {{ background: {self.header}; height: {SCROLL_BAR_PX}px; margin: 0;
    border: none; }}
QScrollBar::handle {{ background: {self.dim}; border-radius: 4px; }}
QScrollBar::handle:vertical {{ min-height: {px(40)}; }}
QScrollBar::handle:horizontal {{ min-width: {px(40)}; }}
QScrollBar::handle:pressed {{ background: {self.highlight}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; border: none;
    background: none; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
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
        selected="#00e5ff",
        text="#f4f6f8",
        dim="#8a94a3",
        header_ok="#2c3644",
        text_on_ok="#f4f6f8",
        warn="#f6c343",
        text_on_warn="#111111",
        late="#c62828",
        text_on_late="#ffffff",
        cue_warn_bg="#111111",
        cue_warn_text="#f6c343",
        cue_late_bg="#f4f6f8",
        cue_late_text="#b71c1c",
        void="#780000",
        void_alpha=185,
        void_text="#ffffff",
        void_chip="#c62828",
        void_chip_text="#ffffff",
        rush="#ff3d00",
        rush_text="#111111",
        started="#2b6cb0",
        started_text="#ffffff",
        fold="#805ad5",
        fold_text="#ffffff",
        changed="#ff9f1c",
        note="#ffd84d",
        order_note_bg="#ffd84d",
        order_note_text="#111111",
        allergy="#8e24aa",
        allergy_text="#ffffff",
        heading_fold="#b794f4",
        progress_done="#48bb78",
        progress_working="#63b3ed",
        progress_pending="#a0aec0",
        start_button="#2b6cb0",
        bump_button="#2f855a",
        button_idle="#3a4352",
        button_text="#ffffff",
        void_button="#ffffff",
        void_button_text="#111111",
        badge="#e2e8f0",
        badge_text="#111111",
        channels=_CHANNELS,
        brand_saturation=170,
        brand_value=235,
        brand_text_dark="#000000",
        brand_text_light="#ffffff",
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
        selected="#0077b6",
        text="#111827",
        dim="#4b5563",
        header_ok="#dde3ea",
        text_on_ok="#111827",
        warn="#f6c343",
        text_on_warn="#111111",
        late="#c62828",
        text_on_late="#ffffff",
        cue_warn_bg="#111111",
        cue_warn_text="#f6c343",
        cue_late_bg="#ffffff",
        cue_late_text="#b71c1c",
        void="#8e0000",
        void_alpha=200,
        void_text="#ffffff",
        void_chip="#b71c1c",
        void_chip_text="#ffffff",
        rush="#e65100",
        rush_text="#111111",
        started="#1e5fa8",
        started_text="#ffffff",
        fold="#6b46c1",
        fold_text="#ffffff",
        changed="#b45309",
        note="#854d0e",
        order_note_bg="#ffd84d",
        order_note_text="#111111",
        allergy="#6a1b9a",
        allergy_text="#ffffff",
        heading_fold="#6b46c1",
        progress_done="#1f7a3f",
        progress_working="#1e5fa8",
        progress_pending="#4b5563",
        start_button="#1e5fa8",
        bump_button="#1f7a3f",
        button_idle="#4b5563",
        button_text="#ffffff",
        void_button="#111827",
        void_button_text="#ffffff",
        badge="#e2e8f0",
        badge_text="#111111",
        channels=_CHANNELS,
        brand_saturation=170,
        brand_value=235,
        brand_text_dark="#000000",
        brand_text_light="#ffffff",
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
        selected="#00ffff",
        text="#ffffff",
        dim="#ffffff",
        header_ok="#000000",
        text_on_ok="#ffffff",
        warn="#ffff00",
        text_on_warn="#000000",
        late="#a00000",
        text_on_late="#ffffff",
        cue_warn_bg="#000000",
        cue_warn_text="#ffff00",
        cue_late_bg="#ffffff",
        cue_late_text="#a00000",
        void="#a00000",
        void_alpha=220,
        void_text="#ffffff",
        void_chip="#a00000",
        void_chip_text="#ffffff",
        rush="#ff9900",
        rush_text="#000000",
        started="#0000ff",
        started_text="#ffffff",
        fold="#ffffff",
        fold_text="#000000",
        changed="#ffa500",
        note="#ffff00",
        order_note_bg="#ffff00",
        order_note_text="#000000",
        allergy="#cc88ff",
        allergy_text="#000000",
        heading_fold="#ffffff",
        progress_done="#00ff00",
        progress_working="#00ffff",
        progress_pending="#ffffff",
        start_button="#0000ff",
        bump_button="#006000",
        button_idle="#404040",
        button_text="#ffffff",
        void_button="#ffffff",
        void_button_text="#000000",
        badge="#ffffff",
        badge_text="#000000",
        channels=_HIGH_CONTRAST_CHANNELS,
        brand_saturation=90,
        brand_value=255,
        brand_text_dark="#000000",
        brand_text_light="#ffffff",
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
