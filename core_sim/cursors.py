"""Opaque feed cursors: URL-safe base64 of a small JSON object.

A cursor names the site, a position in that site's change log, the epoch of the
simulator instance that issued it and when it was issued (milliseconds since the
simulator started). Clients must treat it as an opaque string.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from core_sim.errors import ApiError


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor."""

    site_id: str
    position: int
    epoch: str
    issued_ms: int

    def encode(self) -> str:
        """The opaque string form."""
        raw = json.dumps(
            {"s": self.site_id, "p": self.position, "e": self.epoch, "t": self.issued_ms},
            separators=(",", ":"),
        ).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_cursor(detail: str) -> ApiError:
    """The ``400 bad_cursor`` error."""
    return ApiError(400, "bad_cursor", detail)


def expired_cursor(detail: str) -> ApiError:
    """The ``410 cursor_expired`` error."""
    return ApiError(410, "cursor_expired", detail)


def decode(text: str) -> Cursor:
    """Parse a cursor string; ``ApiError(400, "bad_cursor")`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise bad_cursor("cursor is not a cursor issued by this server") from exc
    if not isinstance(data, dict):
        raise bad_cursor("cursor is not a cursor issued by this server")
    site, pos, epoch, issued = (data.get(k) for k in ("s", "p", "e", "t"))
    if not (isinstance(site, str) and isinstance(epoch, str)):
        raise bad_cursor("cursor is not a cursor issued by this server")
    return Cursor(site, _count(pos), epoch, _count(issued))


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise bad_cursor("cursor is not a cursor issued by this server")
    return value
