"""Decoding a feed page one order at a time.

``json.loads`` takes a page whole: one order nested a thousand levels deep
(``RecursionError``), one integer of 5,000 digits or one invalid UTF-8 byte makes
the whole page fail, and the feed would fetch that page forever. So when the page
does not decode at once, this module splits it without recursion: the top-level
object, its ``cursor``, and each element of its ``orders`` array as its own text.
Each element is then decoded alone; one that cannot be becomes an
:class:`~shared.model.UndecodedOrder` (quarantined by the kitchen with the reason)
and the others go on. Invalid UTF-8 is kept as lone surrogates
(``surrogateescape``), which order validation refuses naming the field.

A page whose frame itself is broken (truncated, not JSON) raises
:class:`PageUndecodable`.
"""

from __future__ import annotations

import json
from typing import Any

from shared.model import UndecodedOrder

_WS = " \t\r\n"
#: the shallow fields of an undecodable order worth naming in its quarantine row
_NAMED = ("id", "version", "display_number")


class PageUndecodable(ValueError):
    """The page's frame (the object, ``orders``, ``cursor``) is not JSON."""


def decode_page(content: bytes) -> tuple[Any, Any]:
    """``(orders, cursor)`` of a feed page; ``orders`` is a list when the page has one.

    Whole-page decoding first; the order-by-order split only when that fails."""
    try:
        body = json.loads(content)
    except (ValueError, RecursionError):
        return _split_page(content.decode("utf-8", "surrogateescape"))
    if not isinstance(body, dict):
        raise PageUndecodable("not a JSON object")
    return body.get("orders"), body.get("cursor")


def decode_order(text: str) -> Any:
    """One order's JSON text: the decoded value, or an :class:`UndecodedOrder` saying why."""
    try:
        return json.loads(text)
    except RecursionError:
        reason = "nested too deep to decode"
    except ValueError as exc:
        reason = f"not valid JSON: {exc}"[:200]
    return _undecoded(text, reason)


def _undecoded(text: str, reason: str) -> UndecodedOrder:
    named: dict[str, Any] = {}
    field: str | None = None
    try:
        members = _members(text, _skip_ws(text, 0))
    except PageUndecodable:
        members = []
    for key, start, end in members:
        try:
            value = json.loads(text[start:end])
        except (ValueError, RecursionError):
            field = field or key
            continue
        if key in _NAMED:
            named[key] = value
    order_id, version, number = (named.get(k) for k in _NAMED)
    return UndecodedOrder(
        text=text,
        reason=f"{field}: {reason}" if field else reason,
        field=field,
        order_id=order_id if isinstance(order_id, str) else None,
        version=version if isinstance(version, int) and not isinstance(version, bool) else None,
        display_number=number if isinstance(number, str) else None,
    )


def _split_page(text: str) -> tuple[Any, Any]:
    start = _skip_ws(text, 0)
    orders: Any = None
    cursor: Any = None
    for key, value_start, value_end in _members(text, start):
        if key == "orders":
            orders = [decode_order(t) for t in _elements(text, value_start)]
        elif key == "cursor":
            try:
                cursor = json.loads(text[value_start:value_end])
            except (ValueError, RecursionError) as exc:
                raise PageUndecodable(f"cursor: {exc}") from None
    return orders, cursor


def _members(text: str, i: int) -> list[tuple[str, int, int]]:
    """``(key, value start, value end)`` of the object starting at ``text[i]``."""
    if not text.startswith("{", i):
        raise PageUndecodable(f"not a JSON object (at char {i})")
    found: list[tuple[str, int, int]] = []
    i = _skip_ws(text, i + 1)
    if text.startswith("}", i):
        return found
    while True:
        key_end = _skip_string(text, i)
        try:
            key = json.loads(text[i:key_end])
        except ValueError as exc:
            raise PageUndecodable(f"bad key at char {i}: {exc}") from None
        i = _skip_ws(text, key_end)
        if not text.startswith(":", i):
            raise PageUndecodable(f"':' expected at char {i}")
        value_start = _skip_ws(text, i + 1)
        value_end = _skip_value(text, value_start)
        found.append((str(key), value_start, value_end))
        i = _skip_ws(text, value_end)
        if text.startswith("}", i):
            return found
        if not text.startswith(",", i):
            raise PageUndecodable(f"',' or '}}' expected at char {i}")
        i = _skip_ws(text, i + 1)


def _elements(text: str, i: int) -> list[str]:
    """The text of each element of the array starting at ``text[i]``."""
    if not text.startswith("[", i):
        return []  # not a list: the client reports the page's shape
    found: list[str] = []
    i = _skip_ws(text, i + 1)
    if text.startswith("]", i):
        return found
    while True:
        end = _skip_value(text, i)
        found.append(text[i:end])
        i = _skip_ws(text, end)
        if text.startswith("]", i):
            return found
        if not text.startswith(",", i):
            raise PageUndecodable(f"',' or ']' expected at char {i}")
        i = _skip_ws(text, i + 1)


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WS:
        i += 1
    return i


def _skip_string(text: str, i: int) -> int:
    if not text.startswith('"', i):
        raise PageUndecodable(f"string expected at char {i}")
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            return i + 1
        i += 1
    raise PageUndecodable("truncated (in a string)")


def _skip_value(text: str, i: int) -> int:
    """The end of the JSON value starting at ``text[i]``, found without recursion."""
    depth = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
        elif c in "[{":
            depth += 1
            i += 1
        elif c in "]}":
            if depth == 0:
                return i
            depth -= 1
            i += 1
        elif c == ",":
            if depth == 0:
                return i
            i += 1
        elif c in _WS and depth == 0:
            return i
        else:
            i += 1
        if depth == 0 and c in '"]}':
            return i
    raise PageUndecodable("truncated")  # a value at the very end: the page was cut
