"""Site protocol v1: the JSON messages between the edge agent and the displays.

State messages (agent -> displays, ``/topic/kds.{site}.state``):
``ticket.updated`` and ``ticket.removed``, each with a per-site ``seq``.
Commands (displays -> agent, ``/queue/kds.{site}.commands``): one model per type.
Results (agent -> ``reply-to``): ``command.result``.

Parsing never raises anything but :class:`~shared.errors.WireError` (or its
subclass :class:`~shared.errors.UnsupportedVersion`), whatever the bytes are.
"""

from __future__ import annotations

import json
import typing
import uuid
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic import ValidationError as _PydanticValidationError

from shared.errors import UnsupportedVersion, WireError
from shared.model import (
    NonEmptyStr,
    Priority,
    Ticket,
    Time,
    describe_validation_error,
    find_unencodable,
    first_error_field,
    utcnow,
)

VERSION = 1
MAX_FRAME_BYTES = 4 * 1024 * 1024
#: replies carry an ``expires`` header this far ahead: unread answers do not pile up
REPLY_TTL_MS = 120_000


def state_topic(site_id: str) -> str:
    return f"/topic/kds.{site_id}.state"


def command_queue(site_id: str) -> str:
    return f"/queue/kds.{site_id}.commands"


def new_id() -> str:
    return uuid.uuid4().hex


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Literal[1] = 1
    site_id: NonEmptyStr


def _epoch_or_absent(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except _PydanticValidationError:
        return None  # not a short string: as if absent (an older receiver ignores it too)


#: extension: the name of the agent's database (16 hex digits from this agent), carried
#: by state messages, ``agent.alive`` and snapshot results. A ``seq`` counts within one
#: epoch; a new epoch means a new database whose ``seq`` started over. Optional: a
#: message without one parses exactly as before.
Epoch = Annotated[
    Annotated[StrictStr, Field(min_length=1, max_length=64)] | None,
    WrapValidator(_epoch_or_absent),
]


# --- state messages -------------------------------------------------------------------


class TicketUpdated(_Envelope):
    type: Literal["ticket.updated"] = "ticket.updated"
    seq: Annotated[StrictInt, Field(ge=1)]
    at: Time = Field(default_factory=utcnow)
    ticket: Ticket
    epoch: Epoch = None


class TicketRemoved(_Envelope):
    type: Literal["ticket.removed"] = "ticket.removed"
    seq: Annotated[StrictInt, Field(ge=1)]
    at: Time = Field(default_factory=utcnow)
    ticket_id: NonEmptyStr
    reason: StrictStr = ""  # extension: picked_up, cancelled, expired
    epoch: Epoch = None


#: how the site treats a declared allergy (see ``SiteSettings.allergy_gate``)
AllergenGate = Literal["off", "confirm", "enforce"]


class AgingRule(BaseModel):
    """Warn/late thresholds in minutes since the order was placed (0: not set here)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    warn_minutes: Annotated[float, Field(ge=0, le=600)] = 0
    late_minutes: Annotated[float, Field(ge=0, le=600)] = 0
    #: also warn when fewer than this many minutes are left to ``promised_at`` (0: off)
    promised_warn_minutes: Annotated[float, Field(ge=0, le=600)] = 0


class OutOfStock(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    sku: NonEmptyStr
    name: StrictStr = ""
    since: Time | None = None


class SiteSettings(BaseModel):
    """Extension: what every screen of the site shares, set centrally by the agent.

    ``aging``: the default rule, then per brand, per channel and per station (the most
    specific wins: station > brand > channel > default). ``folds``: stations folded
    into others for quiet hours. ``out_of_stock``: items 86'd at this site.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    expo_station: StrictStr = ""
    #: legacy, from the release before declared allergies: whether screens gate START/BUMP
    #: on a recipe's allergens. Kept as a boolean so that release's screens still parse
    #: settings and snapshots during a fleet upgrade; always false from this release on,
    #: so those screens keep to v1 (START/BUMP) and never wait for an acknowledgement
    #: this agent would refuse.
    allergen_gate: StrictBool = False
    #: a declared allergy (``Ticket.allergy``): "confirm" (screens ask for ALLERGY SEEN
    #: before START/BUMP), "off" (banner only) or "enforce" (the agent refuses too)
    allergy_gate: AllergenGate = "confirm"
    aging: AgingRule = AgingRule(warn_minutes=5, late_minutes=8)
    aging_brands: dict[StrictStr, AgingRule] = Field(default_factory=dict)
    aging_channels: dict[StrictStr, AgingRule] = Field(default_factory=dict)
    aging_stations: dict[StrictStr, AgingRule] = Field(default_factory=dict)
    folds: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    out_of_stock: tuple[OutOfStock, ...] = ()

    def aging_for(self, *, station: str, brand_id: str, channel: str) -> AgingRule:
        """The thresholds for one card, field by field from the most specific rule."""
        station_rule = self.aging_stations.get(station)
        brand_rule = self.aging_brands.get(brand_id)
        channel_rule = self.aging_channels.get(channel)
        if station_rule is None and brand_rule is None and channel_rule is None:
            return self.aging  # the site's own rule (most cards: no specific one)
        rules = [
            station_rule,
            brand_rule,
            channel_rule,
            self.aging,
        ]

        def pick(field: str) -> float:
            for rule in rules:
                if rule is not None and getattr(rule, field):
                    return float(getattr(rule, field))
            return 0.0

        return AgingRule(
            warn_minutes=pick("warn_minutes"),
            late_minutes=pick("late_minutes"),
            promised_warn_minutes=pick("promised_warn_minutes"),
        )

    def stations_shown_at(self, station: str) -> tuple[str, ...]:
        """The stations whose lines a screen of ``station`` shows (its own + folded in)."""
        return (station, *sorted(s for s, into in self.folds.items() if into == station))


class SettingsUpdated(_Envelope):
    """Extension: the site's shared settings changed (a state message: it takes a seq)."""

    type: Literal["site.settings"] = "site.settings"
    seq: Annotated[StrictInt, Field(ge=1)]
    at: Time = Field(default_factory=utcnow)
    settings: SiteSettings
    epoch: Epoch = None


class AgentAlive(_Envelope):
    """Extension: the agent says it is alive, every few seconds, on the state topic.

    ``seq`` is the last state ``seq`` it has published (not a new one), so a display
    that missed the newest message sees the gap even when nothing else happens, and
    a display whose agent stopped talking can say so.
    """

    type: Literal["agent.alive"] = "agent.alive"
    seq: Annotated[StrictInt, Field(ge=0)]
    at: Time = Field(default_factory=utcnow)
    interval_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    #: what the kitchen should know is wrong right now, one short line each
    #: ("printer grill: out of paper, 3 jobs waiting", "core unreachable")
    problems: tuple[Annotated[StrictStr, Field(max_length=200)], ...] = ()
    epoch: Epoch = None


#: what the kitchen publishes with a ``seq`` of its own
StateMessage = TicketUpdated | TicketRemoved | SettingsUpdated
#: everything on the state topic (the one list: ``parse_state_message`` derives from it)
TopicMessage = StateMessage | AgentAlive


# --- commands -------------------------------------------------------------------------


class _Command(_Envelope):
    command_id: Annotated[StrictStr, Field(min_length=1, max_length=100)]
    display_id: StrictStr = ""
    station: StrictStr = ""


class _TicketCommand(_Command):
    ticket_id: NonEmptyStr


class StartCommand(_TicketCommand):
    type: Literal["start"] = "start"


class BumpCommand(_TicketCommand):
    type: Literal["bump"] = "bump"


class RecallCommand(_TicketCommand):
    type: Literal["recall"] = "recall"


class ItemDoneCommand(_TicketCommand):
    type: Literal["item_done"] = "item_done"
    line_id: NonEmptyStr


class ItemUndoCommand(_TicketCommand):
    type: Literal["item_undo"] = "item_undo"
    line_id: NonEmptyStr


class PrioritizeCommand(_TicketCommand):
    type: Literal["prioritize"] = "prioritize"
    priority: Priority


class PickedUpCommand(_TicketCommand):
    type: Literal["picked_up"] = "picked_up"


class AckAllergensCommand(_TicketCommand):
    """Extension: the cook at ``station`` has seen the order's declared allergy (stored
    with the display and the time; required before ``start``/``bump`` there only when
    the site sets ``allergen_gate = "enforce"``, published as ``allergy_gate``)."""

    type: Literal["ack_allergens"] = "ack_allergens"


class AckVoidCommand(_TicketCommand):
    """Extension: the cook at ``station`` has seen that the order is cancelled."""

    type: Literal["ack_void"] = "ack_void"


#: the most stations one ``fold_stations`` may fold (the settings stay small)
MAX_FOLDS = 64


class FoldStationsCommand(_Command):
    """Extension (kitchen leads): fold stations together for quiet hours.

    ``folds`` maps a station to the station whose screens take its lines
    (``{"fry": "grill"}``: grill screens show fry's lines too); an empty map unfolds.
    """

    type: Literal["fold_stations"] = "fold_stations"
    folds: Annotated[
        dict[Annotated[StrictStr, Field(min_length=1, max_length=64)], NonEmptyStr],
        Field(max_length=MAX_FOLDS),
    ]


class ItemUnavailableCommand(_TicketCommand):
    """Extension: the kitchen cannot make this line for this order (it has run out).

    The agent tells the core (event ``unavailable`` with the line's ``sku``) and the
    customer (a text, when they agreed to texts).
    """

    type: Literal["item_unavailable"] = "item_unavailable"
    line_id: NonEmptyStr


class ReprintCommand(_TicketCommand):
    """Extension: print this station's kitchen ticket (or the bag label) again."""

    type: Literal["reprint"] = "reprint"
    kind: Literal["ticket", "label"] = "ticket"


class SetAvailabilityCommand(_Command):
    type: Literal["set_availability"] = "set_availability"
    sku: NonEmptyStr
    available: StrictBool


class SnapshotCommand(_Command):
    type: Literal["snapshot"] = "snapshot"


#: The commands about one ticket (each has a ``ticket_id``) ...
TicketCommand = (
    StartCommand
    | BumpCommand
    | RecallCommand
    | ItemDoneCommand
    | ItemUndoCommand
    | PrioritizeCommand
    | PickedUpCommand
    | AckAllergensCommand
    | AckVoidCommand
    | ItemUnavailableCommand
    | ReprintCommand
)
#: ... and every command: each model is named once, in one of these two unions. The
#: kinds (``COMMAND_TYPES``) and the parser's table (``COMMAND_MODELS``) are derived
#: from them.
AnyCommand = TicketCommand | FoldStationsCommand | SetAvailabilityCommand | SnapshotCommand


def _by_type(union: Any) -> dict[str, Any]:
    """``{"start": StartCommand, ...}`` from a union of models, by each one's ``type``."""
    return {model.model_fields["type"].default: model for model in typing.get_args(union)}


COMMAND_MODELS: dict[str, type[AnyCommand]] = _by_type(AnyCommand)
COMMAND_TYPES: tuple[str, ...] = tuple(COMMAND_MODELS)


class CommandResult(_Envelope):
    type: Literal["command.result"] = "command.result"
    command_id: StrictStr
    ok: StrictBool
    error: StrictStr | None = None
    detail: StrictStr | None = None
    seq: StrictInt | None = None
    tickets: tuple[Ticket, ...] | None = None
    #: extension: the site's shared settings, in a snapshot
    settings: SiteSettings | None = None
    #: extension: the database a snapshot comes from (see ``Epoch``)
    epoch: Epoch = None
    #: extension: why a refusal happened beyond v1's ``error`` (``"forbidden"``: the
    #: sender's role may not send this command; ``error`` is then ``bad_request``)
    reason: StrictStr | None = None


# --- encoding and parsing ---------------------------------------------------------------


def encode(message: BaseModel) -> bytes:
    """The UTF-8 JSON body of a message (``None`` fields left out)."""
    return message.model_dump_json(exclude_none=True).encode("utf-8")


def decode_object(raw: bytes | str) -> dict[str, Any]:
    """Decode a frame body into a JSON object, or raise :class:`WireError`."""
    if isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_FRAME_BYTES:
            raise WireError(f"frame too large ({len(raw)} bytes)")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WireError(f"body is not UTF-8 (byte {exc.start})") from None
    elif isinstance(raw, str):
        text = raw
    else:
        raise WireError(f"body must be bytes or str, got {type(raw).__name__}")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, huge int literals
        raise WireError(f"body is not JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise WireError(f"body must be a JSON object, got {type(data).__name__}")
    return data


def _check_envelope(data: dict[str, Any], allowed_types: tuple[str, ...]) -> str:
    version = data.get("v")
    if type(version) is not int or version != VERSION:  # not 1.0, not true
        raise UnsupportedVersion(f"unsupported protocol version v={version!r:.20}", field="v")
    bad = find_unencodable(data)
    if bad is not None:
        raise WireError(f"{bad}: not valid Unicode text (a lone surrogate)", field=bad)
    kind = data.get("type")
    if not isinstance(kind, str):
        raise WireError("missing or non-string 'type'", field="type")
    if kind not in allowed_types:
        raise WireError(f"unknown message type {kind!r:.40}", field="type")
    return kind


def _validation(exc: _PydanticValidationError, what: str) -> WireError:
    return WireError(
        f"invalid {what}: {describe_validation_error(exc)}", field=first_error_field(exc)
    )


_TOPIC_MODELS: dict[str, type[TopicMessage]] = _by_type(TopicMessage)
_TOPIC_TYPES: tuple[str, ...] = tuple(_TOPIC_MODELS)


def parse_state_message(raw: bytes | str | dict[str, Any]) -> TopicMessage:
    """Parse a message of the state topic; refuse anything else with :class:`WireError`."""
    data = raw if isinstance(raw, dict) else decode_object(raw)
    kind = _check_envelope(data, _TOPIC_TYPES)
    try:
        return _TOPIC_MODELS[kind].model_validate(data)
    except _PydanticValidationError as exc:
        raise _validation(exc, kind) from None


def parse_command(raw: bytes | str | dict[str, Any]) -> AnyCommand:
    """Parse a command (one of the ``*Command`` models) or raise :class:`WireError`."""
    data = raw if isinstance(raw, dict) else decode_object(raw)
    kind = _check_envelope(data, COMMAND_TYPES)
    try:
        return COMMAND_MODELS[kind].model_validate(data)
    except _PydanticValidationError as exc:
        raise _validation(exc, f"{kind} command") from None


def parse_result(raw: bytes | str | dict[str, Any]) -> CommandResult:
    data = raw if isinstance(raw, dict) else decode_object(raw)
    _check_envelope(data, ("command.result",))
    try:
        return CommandResult.model_validate(data)
    except _PydanticValidationError as exc:
        raise _validation(exc, "command.result") from None


def peek_command_id(raw: bytes | str) -> str | None:
    """Best effort: the ``command_id`` of a frame that failed to parse, to answer it."""
    try:
        data = decode_object(raw)
    except WireError:
        return None
    value = data.get("command_id")
    if not isinstance(value, str) or not 0 < len(value) <= 100:
        return None
    try:
        value.encode("utf-8")  # a lone surrogate from a JSON escape cannot be answered
    except UnicodeEncodeError:
        return None
    return value


def make_command(kind: str, site_id: str, /, **fields: Any) -> AnyCommand:
    """Build a validated command with a fresh ``command_id`` (unless one is given)."""
    fields.setdefault("command_id", new_id())
    return parse_command({"v": VERSION, "type": kind, "site_id": site_id, **fields})


#: a refusal's ``detail`` is cut to this many characters (it may quote a ticket's texts)
DETAIL_CHARS = 500


def error_result(
    site_id: str, command_id: str, code: str, detail: str, *, reason: str | None = None
) -> CommandResult:
    if len(detail) > DETAIL_CHARS:
        detail = detail[: DETAIL_CHARS - 1] + "…"
    return CommandResult(
        site_id=site_id, command_id=command_id, ok=False, error=code, detail=detail, reason=reason
    )
