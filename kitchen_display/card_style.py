"""How a ticket card looks: fonts, metrics, pens and brushes, built once.

A :class:`CardStyle` is made from a :class:`~kitchen_display.theme.Theme` (its
:class:`~kitchen_display.theme.CardColors`, the one card palette) and the sizes
(font scale, card size, the smallest touch target); the delegate makes a new one
when any of them changes and paints every card from it.

Every text is drawn with an :class:`Ink`: the text's pen *and* the surface it sits
on. :attr:`CardStyle.inks` is that table (``header.late``: the number on a LATE
header, ``chip.rush``, ``block.note``, ``button.bump.pressed``, ...); the painter
takes the colours of a text and of its background from one entry, and
``tests/unit/kitchen_display/test_card_contrast.py`` holds every entry, in every
theme, to WCAG contrast. Brand logo letters (the brand's own hue) are
:meth:`CardStyle.logo_ink`.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from PySide6.QtGui import QBrush, QColor, QFont, QFontMetrics, QPen

from kitchen_display.card_content import Block, Chip
from kitchen_display.theme import CardColors, Theme
from kitchen_display.ticket_model import StationProgress
from shared.aging import AgeState

BASE_CARD_WIDTH = 300
MIN_BUTTON_HEIGHT = 48
# ``[display] card_size`` -> (width factor, font factor)
CARD_SIZES: dict[str, tuple[float, float]] = {"compact": (0.8, 0.84), "large": (1.0, 1.0)}

# the block kinds drawn in the plain text / dim colour on the card's body
_TEXT_BLOCKS = ("line", "modifier")
_DIM_BLOCKS = ("waiting", "done", "unavailable", "also", "contains", "more")


def relative_luminance(color: QColor) -> float:
    """WCAG 2 relative luminance of an (opaque) colour: sRGB linearised, weighted."""

    def linear(channel: float) -> float:
        return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * linear(color.redF())
        + 0.7152 * linear(color.greenF())
        + 0.0722 * linear(color.blueF())
    )


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio of two opaque colours, 1.0 to 21.0."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def composite(top: QColor, under: QColor) -> QColor:
    """``top`` (maybe translucent) painted over the opaque ``under``."""
    alpha = top.alphaF()
    return QColor.fromRgbF(
        top.redF() * alpha + under.redF() * (1 - alpha),
        top.greenF() * alpha + under.greenF() * (1 - alpha),
        top.blueF() * alpha + under.blueF() * (1 - alpha),
    )


class Ink:
    """A text colour and the surface it is drawn on, with the pen and brush for both.

    ``bg`` may be translucent (the VOID veil); ``over`` are then the surfaces it can lie
    on, and :meth:`backgrounds` what the text really stands on.
    """

    __slots__ = ("bg", "brush", "fg", "over", "pen")

    def __init__(self, fg: QColor, bg: QColor, over: tuple[QColor, ...] = ()) -> None:
        self.fg = fg
        self.bg = bg
        self.over = over
        self.pen = QPen(fg)
        self.brush = QBrush(bg)

    def backgrounds(self) -> tuple[QColor, ...]:
        """The opaque colours the text is read against."""
        if self.bg.alpha() == 255 or not self.over:
            return (self.bg,)
        return tuple(composite(self.bg, under) for under in self.over)

    def contrast(self) -> float:
        """The worst WCAG contrast of the text against what it stands on."""
        return min(contrast_ratio(self.fg, bg) for bg in self.backgrounds())


def pressed_color(bg: QColor, fg: QColor) -> QColor:
    """A button's colour while a finger is on it: away from its text's lightness, so the
    label only gets easier to read (a white button with dark text: a little darker)."""
    if relative_luminance(fg) > relative_luminance(bg):
        pressed = bg.darker(135)
    elif bg.lightness() < 230:
        pressed = bg.lighter(130)
    else:
        pressed = bg.darker(112)  # too light to lighten
    return QColor(pressed.name())  # 8 bits a channel, as painted


@dataclass(frozen=True)
class Fonts:
    number: QFont
    timer: QFont
    brand: QFont
    logo: QFont
    badge: QFont
    chip: QFont
    customer: QFont
    button: QFont
    void: QFont
    # block kind -> font
    blocks: dict[str, QFont]


class CardStyle:
    """Fonts, metrics, pens and brushes of the cards in one theme at one size."""

    def __init__(
        self,
        theme: Theme,
        *,
        scale: float = 1.0,
        card_size: str = "large",
        min_touch_px: int = MIN_BUTTON_HEIGHT,
    ) -> None:
        if card_size not in CARD_SIZES:
            raise ValueError(f"card size must be one of {', '.join(CARD_SIZES)}, got {card_size!r}")
        self.theme = theme
        self.scale = scale
        self.card_size = card_size
        width_factor, font_factor = CARD_SIZES[card_size]
        fs = scale * font_factor
        self.fonts = _fonts(fs)
        self.block_metrics = {kind: QFontMetrics(f) for kind, f in self.fonts.blocks.items()}
        self.fm_brand = QFontMetrics(self.fonts.brand)
        self.fm_badge = QFontMetrics(self.fonts.badge)
        self.fm_chip = QFontMetrics(self.fonts.chip)
        self.fm_customer = QFontMetrics(self.fonts.customer)

        self.pad = round(10 * fs)
        self.gap = round(4 * fs)
        self.indent = round(22 * fs)
        self.box_pad = round(4 * fs)
        self.radius = 8 * fs
        self.bar_h = max(6, round(10 * fs))
        self.mark_w = max(4, round(6 * scale))  # the allergy bar beside a line
        self.note_mark_w = max(2, round(3 * scale))
        self.note_mark_dx = round(8 * scale)
        self.badge_pad = round(14 * scale)
        self.chip_pad = round(12 * scale)
        self.gap_block_h = round(6 * scale)
        self.width = round(BASE_CARD_WIDTH * scale * width_factor)
        self.button_h = max(MIN_BUTTON_HEIGHT, int(min_touch_px), round(54 * scale))
        self.number_h = QFontMetrics(self.fonts.number).height()
        self.brand_h = max(self.fm_brand.height(), self.fm_badge.height() + 8)
        self.chip_h = self.fm_chip.height() + round(6 * fs)
        self.header_h = (
            self.bar_h + self.pad + self.number_h + self.brand_h + self.gap + self.chip_h
        ) + self.pad
        self.footer_h = self.pad + self.button_h + self.pad

        c = theme.colors
        self.colors: CardColors = c
        card = QColor(c.card_bg)
        self.card_brush = QBrush(card)
        self.border_pen = QPen(QColor(c.card_border), 1.0)
        self.selected_pen = QPen(QColor(c.selected), max(3.0, 4 * scale))
        # marks beside a line (no text on them)
        self.allergy_mark = QBrush(QColor(c.allergy))
        self.changed_mark = QBrush(QColor(c.changed))
        self.note_mark = QBrush(QColor(c.note))
        self.inks: dict[str, Ink] = _inks(c)
        self._logo_inks: dict[int, Ink] = {}

    # --- which ink ------------------------------------------------------------------

    def header_ink(self, age: AgeState) -> Ink:
        """The header band (its fill) and its texts: number, timer, brand, customer."""
        return self.inks[f"header.{age.value}"]

    def chip_ink(self, chip: Chip, age: AgeState) -> Ink:
        if chip.kind == "cue":
            return self.inks["cue.late" if age is AgeState.LATE else "cue.warn"]
        return self.inks[f"chip.{chip.kind}"]

    def channel_ink(self, channel: str) -> Ink:
        key = f"channel.{channel.lower()}"
        return self.inks[key] if key in self.inks else self.inks["channel"]

    def block_ink(self, block: Block) -> Ink:
        if block.kind == "heading":
            return self.inks[f"heading.{block.progress.value if block.progress else 'fold'}"]
        return self.inks[f"block.{block.kind}"]

    def button_ink(self, action: str, *, started: bool = False, pressed: bool = False) -> Ink:
        name = "started" if action == "start" and started else action
        return self.inks[f"button.{name}.pressed" if pressed else f"button.{name}"]

    # --- brands ---------------------------------------------------------------------

    @staticmethod
    def brand_hue(brand_id: str) -> int:
        """A stable hue for a brand (same id, same hue, on every screen)."""
        return zlib.crc32(brand_id.encode("utf-8")) % 360

    def brand_color(self, brand_id: str) -> QColor:
        """The brand's bar and logo disc: its hue in this theme's saturation and value."""
        return self.logo_ink(self.brand_hue(brand_id)).bg

    def logo_ink(self, hue: int) -> Ink:
        """The logo letter on a brand disc of ``hue``: the theme's dark or light brand
        text, whichever reads better."""
        ink = self._logo_inks.get(hue)
        if ink is None:
            c = self.colors
            disc = QColor.fromHsv(hue % 360, c.brand_saturation, c.brand_value)
            dark, light = QColor(c.brand_text_dark), QColor(c.brand_text_light)
            better = dark if contrast_ratio(dark, disc) >= contrast_ratio(light, disc) else light
            ink = self._logo_inks[hue] = Ink(better, disc)
        return ink

    def all_inks(self) -> Iterator[tuple[str, Ink]]:
        """Every ink a card can be painted with: the table, and a logo of every hue."""
        yield from self.inks.items()
        for hue in range(360):
            yield f"logo.{hue}", self.logo_ink(hue)


def _fonts(fs: float) -> Fonts:
    def font(px: float, *, bold: bool = False, italic: bool = False) -> QFont:
        f = QFont()
        f.setFamilies(["DejaVu Sans", "Noto Sans", "Sans Serif"])
        f.setPixelSize(max(8, round(px * fs)))
        f.setBold(bold)
        f.setItalic(italic)
        return f

    timer = font(28, bold=True)
    timer.setFamilies(["DejaVu Sans Mono", "Noto Sans Mono", "Monospace"])
    line = font(20, bold=True)
    done = font(17)
    done.setStrikeOut(True)
    return Fonts(
        number=font(30, bold=True),
        timer=timer,
        brand=font(18, bold=True),
        logo=font(16, bold=True),
        badge=font(13, bold=True),
        chip=font(15, bold=True),
        customer=font(14),
        button=font(20, bold=True),
        void=font(46, bold=True),
        blocks={
            "line": line,
            "changed": line,
            "waiting": font(19),
            "unavailable": done,
            "done": done,
            "fire": font(15, bold=True),
            "modifier": font(17),
            "note": font(16, bold=True, italic=True),
            "allergy": font(18, bold=True),
            "contains": font(14),
            "order_note": font(16, bold=True),
            "heading": font(15, bold=True),
            "also": font(15, italic=True),
            "more": font(16, bold=True),
        },
    )


def _inks(c: CardColors) -> dict[str, Ink]:
    """The table: what each text of a card is drawn in, and on."""

    def ink(fg: str, bg: str) -> Ink:
        return Ink(QColor(fg), QColor(bg))

    card = c.card_bg
    inks = {
        "header.ok": ink(c.text_on_ok, c.header_ok),
        "header.warn": ink(c.text_on_warn, c.warn),
        "header.late": ink(c.text_on_late, c.late),
        "cue.warn": ink(c.cue_warn_text, c.cue_warn_bg),
        "cue.late": ink(c.cue_late_text, c.cue_late_bg),
        "chip.void": ink(c.void_chip_text, c.void_chip),
        "chip.rush": ink(c.rush_text, c.rush),
        "chip.rush_up": ink(c.rush_text, c.rush),
        "chip.started": ink(c.started_text, c.started),
        "chip.fold": ink(c.fold_text, c.fold),
        "chip.pending": ink(c.cue_warn_text, c.cue_warn_bg),
        "channel": ink(c.badge_text, c.badge),
        "block.changed": ink(c.changed, card),
        "block.fire": ink(c.note, card),
        "block.note": ink(c.note, card),
        "block.allergy": ink(c.allergy_text, c.allergy),
        "block.order_note": ink(c.order_note_text, c.order_note_bg),
        "heading.fold": ink(c.heading_fold, card),
        f"heading.{StationProgress.DONE.value}": ink(c.progress_done, card),
        f"heading.{StationProgress.IN_PROGRESS.value}": ink(c.progress_working, card),
        f"heading.{StationProgress.PENDING.value}": ink(c.progress_pending, card),
    }
    for kind in _TEXT_BLOCKS:
        inks[f"block.{kind}"] = ink(c.text, card)
    for kind in _DIM_BLOCKS:
        inks[f"block.{kind}"] = ink(c.dim, card)
    for name, bg, fg in c.channels:
        inks[f"channel.{name}"] = ink(fg, bg)
    veil = QColor(c.void)
    veil.setAlpha(c.void_alpha)
    # the veil lies over the body and the header (a cancelled ticket does not age: OK)
    inks["void"] = Ink(QColor(c.void_text), veil, (QColor(card), QColor(c.header_ok)))
    buttons = {
        "start": (c.button_text, c.start_button),
        "started": (c.button_text, c.button_idle),
        "bump": (c.button_text, c.bump_button),
        "ack_allergens": (c.allergy_text, c.allergy),
        "ack_void": (c.void_button_text, c.void_button),
    }
    for name, (fg, bg) in buttons.items():
        inks[f"button.{name}"] = ink(fg, bg)
        inks[f"button.{name}.pressed"] = Ink(QColor(fg), pressed_color(QColor(bg), QColor(fg)))
    return inks
