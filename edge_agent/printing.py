"""What the kitchen printers print: a device-independent document model (no I/O).

A :class:`Receipt` is a list of :class:`Line` objects already wrapped to the paper
width (42 characters on 80 mm paper, 21 in ``large`` = double width), plus an
optional QR code and a cut. The printer adapters turn it into ESC/POS bytes
(:mod:`edge_agent.adapters.printer_escpos`) or into the PoS print API's JSON
(:mod:`edge_agent.adapters.printer_http`); :func:`receipt_to_text` makes the text a
person reads (tests, ``--dry-run``, docs/printing.md).

Text is kept as it is, non-ASCII included; the ESC/POS adapter picks a code page and
replaces what the printer cannot print.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Literal

from shared.model import Priority, Ticket, TicketItem, TicketStatus

#: characters per line on 80 mm paper (font A); a ``large`` line holds half as many
WIDTH = 42
LARGE_WIDTH = WIDTH // 2
#: indentation of modifiers, notes and allergens under their item
INDENT = 4

Align = Literal["left", "center", "right"]
Size = Literal["normal", "large"]
Kind = Literal["ticket", "label"]


@dataclass(frozen=True)
class Line:
    """One printed line. ``indent`` spaces are printed unstyled before ``text``
    (so an inverted allergen line does not start with a black box)."""

    text: str = ""
    bold: bool = False
    invert: bool = False
    size: Size = "normal"
    align: Align = "left"
    indent: int = 0

    @property
    def width(self) -> int:
        """How many characters fit on this line at its size."""
        return LARGE_WIDTH if self.size == "large" else WIDTH


@dataclass(frozen=True)
class Receipt:
    """One print job: a kitchen ticket or a bag label."""

    kind: Kind
    title: str
    lines: tuple[Line, ...]
    qr: str | None = None
    cut: bool = True


# --- helpers ----------------------------------------------------------------------------


def wrap(
    text: str,
    *,
    bold: bool = False,
    invert: bool = False,
    size: Size = "normal",
    align: Align = "left",
    indent: int = 0,
    hanging: int = 0,
) -> list[Line]:
    """``text`` as lines that fit the paper; continuation lines get ``hanging`` more
    indentation. Words longer than a line are broken. Never returns an empty list."""
    width = (LARGE_WIDTH if size == "large" else WIDTH) - indent
    wrapper = textwrap.TextWrapper(
        width,
        subsequent_indent=" " * hanging,
        break_long_words=True,
        break_on_hyphens=False,
    )
    lines: list[Line] = []
    for paragraph in text.splitlines() or [""]:
        for n, part in enumerate(wrapper.wrap(paragraph) or [""]):
            extra = hanging if n else 0
            lines.append(Line(part[extra:], bold, invert, size, align, indent + extra))
    return lines


def _rule(char: str = "-") -> Line:
    return Line(char * WIDTH)


def _two_columns(left: str, right: str, *, bold: bool = False) -> list[Line]:
    room = WIDTH - len(right) - 1
    if room >= len(left) and room > 0:
        return [Line(left + " " * (WIDTH - len(left) - len(right)) + right, bold=bold)]
    return [*wrap(left, bold=bold), *wrap(right, bold=bold, align="right")]


def _clock(value: datetime, tz: tzinfo | None) -> str:
    return value.astimezone(tz).strftime("%H:%M")


def first_name(name: str) -> str:
    """The first word of a customer's name (``"Sam de Vries"`` -> ``"Sam"``)."""
    words = name.split()
    return words[0] if words else ""


def _item_lines(item: TicketItem) -> list[Line]:
    head = f"{item.qty} x {item.name}"
    if item.changed:
        head += " (CHANGED)"
    lines = wrap(head, bold=True, hanging=INDENT)
    for mod in item.modifiers:
        text = f"- {mod.qty} x {mod.name}" if mod.qty > 1 else f"- {mod.name}"
        lines += wrap(text, indent=INDENT, hanging=2)
    if item.notes:
        lines += wrap(f"NOTE: {item.notes}", bold=True, indent=INDENT, hanging=6)
    if item.allergens:
        allergens = ", ".join(a.upper() for a in item.allergens)
        lines += wrap(f"ALLERGENS: {allergens}", bold=True, invert=True, indent=INDENT)
    return lines


# --- documents --------------------------------------------------------------------------


def render_ticket(ticket: Ticket, station: str, *, placed_tz: tzinfo | None = None) -> Receipt:
    """The kitchen ticket of ``station``: header, that station's lines, order note.

    A station without lines of its own on the ticket (expo) gets every line, grouped
    by station. Times are printed in ``placed_tz`` (default: the machine's local zone).
    """
    lines: list[Line] = []
    lines += wrap(ticket.brand.name, bold=True, size="large", align="center")
    lines += wrap(ticket.display_number, bold=True, size="large", align="center")
    lines += _two_columns(ticket.channel.upper(), station.upper(), bold=True)
    if ticket.priority == Priority.RUSH:
        lines += wrap("*** RUSH ***", bold=True, invert=True, size="large", align="center")
    if ticket.status == TicketStatus.CANCELLED:
        lines += wrap("*** VOID ***", bold=True, invert=True, size="large", align="center")
    if ticket.allergy:
        # the customer's declared allergy: the first thing a cook reads on the ticket
        lines += wrap("*** ALLERGY ***", bold=True, invert=True, size="large", align="center")
        for declared in ticket.allergy:
            lines += wrap(declared, bold=True, invert=True, align="center")
    if ticket.version > 1:
        lines += wrap(f"UPDATED ORDER (v{ticket.version})", bold=True, align="center")
    placed = f"Placed {_clock(ticket.placed_at, placed_tz)}"
    due = f"Due {_clock(ticket.promised_at, placed_tz)}" if ticket.promised_at else ""
    lines += _two_columns(placed, due)
    lines.append(_rule())

    own = ticket.items_at(station)
    if own:
        for item in own:
            lines += _item_lines(item)
    else:
        for other in ticket.stations():
            lines += wrap(f"[{other.upper()}]", bold=True)
            for item in ticket.items_at(other):
                lines += _item_lines(item)
    lines.append(_rule())

    if ticket.notes:
        lines += wrap(f"ORDER NOTE: {ticket.notes}", bold=True, hanging=INDENT)
    elsewhere = [s for s in ticket.stations() if s != station]
    if own and elsewhere:
        lines += wrap("also at: " + ", ".join(elsewhere), hanging=INDENT)
    lines += wrap(ticket.id, align="center")
    return Receipt(
        kind="ticket",
        title=f"{ticket.display_number} {station}",
        lines=tuple(lines),
        qr=None,
        cut=True,
    )


def render_label(ticket: Ticket, customer_first_name: str) -> Receipt:
    """The pickup bag label: brand, number, first name, channel, QR of the order id."""
    lines: list[Line] = []
    lines += wrap(ticket.brand.name, bold=True, size="large", align="center")
    lines += wrap(ticket.display_number, bold=True, size="large", align="center")
    if customer_first_name.strip():
        lines += wrap(customer_first_name.strip(), bold=True, size="large", align="center")
    lines += wrap(ticket.channel.upper(), bold=True, align="center")
    count = sum(item.qty for item in ticket.items)
    lines += wrap(f"{count} item{'s' if count != 1 else ''}", align="center")
    return Receipt(
        kind="label",
        title=f"{ticket.display_number} label",
        lines=tuple(lines),
        qr=ticket.id,
        cut=True,
    )


# --- text -------------------------------------------------------------------------------


def _place(line: Line) -> str:
    body = " " * line.indent + line.text
    if line.align == "center":
        return body.center(WIDTH).rstrip()
    if line.align == "right":
        return body.rjust(WIDTH)
    return body.rstrip()


def receipt_to_text(receipt: Receipt) -> str:
    """What a person reads on the paper, as plain text: styles and sizes are not
    shown, the QR code is ``[QR: <data>]``, the cut a dashed line."""
    out = [_place(line) for line in receipt.lines]
    if receipt.qr is not None:
        out.append(f"[QR: {receipt.qr}]".center(WIDTH).rstrip())
    if receipt.cut:
        out.append("- " * (WIDTH // 2 - 3) + "cut")
    return "\n".join(out) + "\n"
