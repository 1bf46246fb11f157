"""The domain model: orders as the core sends them, tickets as the kitchen sees them.

Orders follow the core API contract (see ``docs/protocols.md``); tickets follow the
site protocol. Both are pydantic models that ignore unknown fields and refuse a
missing required field or a wrong type (no silent coercion of ``"2"`` to ``2``).
"""

from __future__ import annotations

import enum
import json
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from shared.errors import WireError

log = logging.getLogger("kds.model")


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with milliseconds and ``Z``: ``2026-11-24T18:02:11.532Z``."""
    # isoformat is C code (strftime took 6% of the agent's ingest): "...11.532+00:00"
    return value.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def utcnow() -> datetime:
    return datetime.now(UTC)


def _time_text(value: Any) -> Any:
    # RFC 3339 strings only on the wire: refuse the numbers pydantic would take as epochs.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("must be an RFC 3339 time string")
    return value


Time = Annotated[
    AwareDatetime,
    BeforeValidator(_time_text),
    PlainSerializer(format_time, return_type=str),
]
NonEmptyStr = Annotated[StrictStr, Field(min_length=1, max_length=200)]
#: the most of one line or modifier an order may ask for; more is refused as absurd
MAX_QTY = 10_000
Qty = Annotated[StrictInt, Field(ge=1, le=MAX_QTY)]
#: SQLite's INTEGER is signed 64-bit: a larger number cannot be stored
MAX_INT64 = 2**63 - 1
Int64 = Annotated[StrictInt, Field(ge=-MAX_INT64 - 1, le=MAX_INT64)]
#: an order nested deeper than this (in fields we ignore, too) is refused
MAX_ORDER_DEPTH = 32
#: screens show at most this many characters of a name; a longer one is cut with "…"
NAME_CHARS = 200
#: ... and of a note
NOTE_CHARS = 1000


def _cut(limit: int) -> Any:
    def cut(value: Any) -> Any:
        if isinstance(value, str) and len(value) > limit:
            return value[: limit - 1] + "…"
        return value

    return BeforeValidator(cut)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


#: a name the core may send longer than a screen shows: cut, never a reason to refuse
Name = Annotated[StrictStr, Field(min_length=1, max_length=NAME_CHARS), _cut(NAME_CHARS)]
Note = Annotated[StrictStr, Field(max_length=NOTE_CHARS), _cut(NOTE_CHARS)]


class OrderStatus(enum.StrEnum):
    PLACED = "placed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"


class TicketStatus(enum.StrEnum):
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    READY = "ready"
    PICKED_UP = "picked_up"
    CANCELLED = "cancelled"


class ItemStatus(enum.StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class Priority(enum.StrEnum):
    NORMAL = "normal"
    RUSH = "rush"


OPEN_STATUSES = frozenset({TicketStatus.ACCEPTED, TicketStatus.IN_PROGRESS, TicketStatus.READY})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Brand(_Model):
    id: NonEmptyStr
    name: Name


class Modifier(_Model):
    name: Name
    qty: Qty = 1


_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _lenient_phone(value: Any) -> Any:
    if value is None or (isinstance(value, str) and _E164.match(value)):
        return value
    log.warning("order field customer.phone ignored: not an E.164 number")
    return None


class Customer(_Model):
    name: Annotated[StrictStr, _cut(NAME_CHARS)] = ""
    #: E.164; anything else is dropped (with a log line), not a reason to refuse the order
    phone: Annotated[StrictStr | None, BeforeValidator(_lenient_phone)] = None
    notify: StrictBool = False


class OrderItem(_Model):
    line_id: NonEmptyStr
    sku: NonEmptyStr
    name: Name
    qty: Qty
    station: NonEmptyStr
    prep_seconds: Annotated[StrictInt, Field(ge=0, le=86_400)] = 0
    modifiers: tuple[Modifier, ...] = ()
    allergens: tuple[StrictStr, ...] = ()
    notes: Note = ""


class Order(_Model):
    """One order version as the core's feed delivers it."""

    id: NonEmptyStr
    version: Annotated[StrictInt, Field(ge=1, le=MAX_INT64)]
    site_id: NonEmptyStr
    brand: Brand
    #: any case from the core ("UberEats"); the kitchen keeps it lower case
    channel: Annotated[
        StrictStr, BeforeValidator(_lower), Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    ]
    display_number: NonEmptyStr
    placed_at: Time
    promised_at: Time | None = None
    priority: Priority = Priority.NORMAL
    status: OrderStatus
    customer: Customer = Customer()
    notes: Note = ""
    items: Annotated[tuple[OrderItem, ...], Field(min_length=1)]
    total_cents: Int64 | None = None


class TicketCustomer(_Model):
    """What a display may know of the customer: the name, never the phone."""

    name: StrictStr = ""


class TicketItem(_Model):
    line_id: NonEmptyStr
    sku: NonEmptyStr
    name: NonEmptyStr
    qty: Qty
    station: NonEmptyStr
    prep_seconds: Annotated[StrictInt, Field(ge=0)] = 0
    modifiers: tuple[Modifier, ...] = ()
    allergens: tuple[StrictStr, ...] = ()
    notes: StrictStr = ""
    status: ItemStatus = ItemStatus.PENDING
    changed: StrictBool = False  # extension: the core edited this line in a later version
    unavailable: StrictBool = False  # extension: the kitchen cannot make it for this order
    #: extension: this line's note or a modifier declares a customer's allergy
    allergy: StrictBool = False


class AllergyAck(_Model):
    """Extension: a cook at ``station`` saw the order's declared allergy."""

    station: NonEmptyStr
    display_id: StrictStr = ""
    at: Time


class Ticket(_Model):
    """One order as the kitchen sees it, with the kitchen's own state."""

    id: NonEmptyStr
    version: Annotated[StrictInt, Field(ge=1)]
    site_id: NonEmptyStr | None = None
    brand: Brand
    channel: StrictStr
    display_number: NonEmptyStr
    placed_at: Time
    promised_at: Time | None = None
    priority: Priority = Priority.NORMAL
    customer: TicketCustomer = TicketCustomer()
    notes: StrictStr = ""
    items: tuple[TicketItem, ...]
    status: TicketStatus
    accepted_at: Time | None = None
    started_at: Time | None = None
    ready_at: Time | None = None
    picked_up_at: Time | None = None
    # extensions (optional on the wire; older receivers ignore them)
    #: the customer's declared allergies, as written ("ALLERGY: peanuts", "Pad Thai: No
    #: peanuts"), found by the site's rules (:mod:`shared.allergy`); empty: none declared
    allergy: tuple[StrictStr, ...] = ()
    #: who saw the declared allergy, where and when (one per station)
    allergy_acks: tuple[AllergyAck, ...] = ()
    #: stations that acknowledged this ticket's VOID (it leaves their screen)
    void_acked: tuple[StrictStr, ...] = ()
    #: when each station last bumped it (for the recall list)
    bumped_at: dict[StrictStr, Time] = Field(default_factory=dict)
    #: lines left out of this copy to keep the message small, per station (only ever
    #: set on the copy sent to the screens: :mod:`shared.wire_form`; the store, the
    #: printed ticket and commands have every line)
    more_lines: dict[StrictStr, Annotated[StrictInt, Field(ge=1)]] = Field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def allergy_ack(self, station: str) -> AllergyAck | None:
        """The acknowledgement of the declared allergy at ``station``, if any."""
        return next((ack for ack in self.allergy_acks if ack.station == station), None)

    def stations(self) -> list[str]:
        """Stations with lines on this ticket, in first-seen order."""
        seen: dict[str, None] = {}
        for item in self.items:
            seen.setdefault(item.station, None)
        return list(seen)

    def items_at(self, station: str) -> tuple[TicketItem, ...]:
        return tuple(item for item in self.items if item.station == station)

    def station_done(self, station: str) -> bool:
        lines = self.items_at(station)
        return bool(lines) and all(item.status == ItemStatus.DONE for item in lines)


def first_error_field(exc: ValidationError) -> str | None:
    """The dotted location of the first validation error (``items.0.qty``)."""
    errors = exc.errors()
    if not errors:
        return None
    return ".".join(str(part) for part in errors[0]["loc"]) or None


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming each bad field: ``items.0.qty: Input should be a valid integer``."""
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    more = len(exc.errors()) - 5
    if more > 0:
        parts.append(f"(+{more} more)")
    return "; ".join(parts)


def find_unencodable(value: Any, path: str = "") -> str | None:
    """The dotted path of the first string that is not valid Unicode (a lone surrogate
    from a JSON ``\\ud83d`` escape), or ``None``. Such text cannot be stored or sent on."""
    if not path and _all_encodable(value):
        return None  # the usual case, in C: no path is built
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path or "(root)"
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if isinstance(key, str) and find_unencodable(key) is not None:
            return where
        found = find_unencodable(item, where)
        if found is not None:
            return found
    return None


@dataclass(frozen=True)
class UndecodedOrder:
    """One entry of a feed page that is not JSON Python can hold (nested too deep, a
    number too long), kept as its text with what could be read of it."""

    text: str
    reason: str
    field: str | None = None
    order_id: str | None = None
    version: int | None = None
    display_number: str | None = None


def _all_encodable(value: Any) -> bool:
    """Every string in a JSON-like value (keys too) is valid Unicode; ``False`` also when
    it is not JSON-like (the caller then looks closer)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, TypeError, ValueError, RecursionError):
        return False
    return True


def _depth_within(value: Any, limit: int) -> bool:
    """``value`` nests at most ``limit`` deep (containers only are visited, no paths)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth >= limit:
            return False
        for item in node.values() if isinstance(node, dict) else node:
            if isinstance(item, dict | list):
                stack.append((item, depth + 1))
    return True


def find_too_deep(value: Any, limit: int = MAX_ORDER_DEPTH) -> str | None:
    """The dotted path where ``value`` nests deeper than ``limit``, or ``None`` (no recursion)."""
    if _depth_within(value, limit):
        return None  # the usual case: no path is built
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        node, path, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth >= limit:
            return path or "(root)"
        pairs = node.items() if isinstance(node, dict) else enumerate(node)
        for key, item in pairs:
            stack.append((item, f"{path}.{key}" if path else str(key), depth + 1))
    return None


def parse_order(data: Any) -> Order:
    """Validate one order object from the core; raise :class:`WireError` naming the field."""
    if isinstance(data, UndecodedOrder):
        raise WireError(
            f"invalid order {data.order_id or '?'!s:.60}: {data.reason}", field=data.field
        )
    if not isinstance(data, dict):
        raise WireError(f"order must be a JSON object, got {type(data).__name__}")
    deep = find_too_deep(data)
    if deep is not None:
        field = deep.split(".")[0]
        raise WireError(
            f"invalid order {data.get('id', '?')!s:.60}: {field}: nested deeper than "
            f"{MAX_ORDER_DEPTH} levels",
            field=field,
        )
    bad = find_unencodable(data)
    if bad is not None:
        raise WireError(
            f"invalid order {data.get('id', '?')!s:.60}: {bad}: not valid Unicode text", field=bad
        )
    try:
        return Order.model_validate(data)
    except ValidationError as exc:
        raise WireError(
            f"invalid order {data.get('id', '?')!s:.60}: {describe_validation_error(exc)}",
            field=first_error_field(exc),
        ) from None
