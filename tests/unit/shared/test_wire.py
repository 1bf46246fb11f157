"""Site protocol v1 messages (shared.wire): round trips, refusals, and fuzzing.

Whatever the bytes, the parsers return a model or raise WireError, nothing else.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from shared import wire
from shared.errors import UnsupportedVersion, WireError
from shared.model import Ticket, TicketStatus
from tests.unit.shared.factories import NOW, PHONE, SITE, ticket

FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,  # the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

EXTRA: dict[str, dict[str, Any]] = {
    "start": {"ticket_id": "ord_1"},
    "bump": {"ticket_id": "ord_1"},
    "recall": {"ticket_id": "ord_1"},
    "item_done": {"ticket_id": "ord_1", "line_id": "l1"},
    "item_undo": {"ticket_id": "ord_1", "line_id": "l1"},
    "prioritize": {"ticket_id": "ord_1", "priority": "rush"},
    "picked_up": {"ticket_id": "ord_1"},
    "set_availability": {"sku": "BB-CLASSIC", "available": False},
    "snapshot": {},
    "item_unavailable": {"ticket_id": "ord_1", "line_id": "l1"},
    "reprint": {"ticket_id": "ord_1", "kind": "label"},
    "ack_allergens": {"ticket_id": "ord_1"},
    "ack_void": {"ticket_id": "ord_1"},
    "fold_stations": {"folds": {"fry": "grill"}},
}
# wire.parse_command, parse_state_message or parse_result
Parser = Callable[[bytes | str | dict[str, Any]], BaseModel]

MODELS: dict[str, type[wire.AnyCommand]] = {
    "start": wire.StartCommand,
    "bump": wire.BumpCommand,
    "recall": wire.RecallCommand,
    "item_done": wire.ItemDoneCommand,
    "item_undo": wire.ItemUndoCommand,
    "prioritize": wire.PrioritizeCommand,
    "picked_up": wire.PickedUpCommand,
    "set_availability": wire.SetAvailabilityCommand,
    "snapshot": wire.SnapshotCommand,
    "item_unavailable": wire.ItemUnavailableCommand,
    "reprint": wire.ReprintCommand,
    "ack_allergens": wire.AckAllergensCommand,
    "ack_void": wire.AckVoidCommand,
    "fold_stations": wire.FoldStationsCommand,
}


def command_dict(kind: str, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "v": 1,
        "type": kind,
        "site_id": SITE,
        "command_id": "0b9e5d",
        "display_id": "grill-1",
        "station": "grill",
        **EXTRA[kind],
    }
    data.update(overrides)
    return data


def ticket_dict() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ticket().model_dump_json(exclude_none=True))
    return data


def updated_dict(**overrides: Any) -> dict[str, Any]:
    data = {
        "v": 1,
        "type": "ticket.updated",
        "site_id": SITE,
        "seq": 5121,
        "at": "2026-11-24T18:14:03.210Z",
        "ticket": ticket_dict(),
    }
    data.update(overrides)
    return data


def removed_dict(**overrides: Any) -> dict[str, Any]:
    data = {
        "v": 1,
        "type": "ticket.removed",
        "site_id": SITE,
        "seq": 5122,
        "at": "2026-11-24T18:14:03.210Z",
        "ticket_id": "ord_01JD2X8Q4ZK3",
        "reason": "picked_up",
    }
    data.update(overrides)
    return data


def result_dict(**overrides: Any) -> dict[str, Any]:
    data = {
        "v": 1,
        "type": "command.result",
        "site_id": SITE,
        "command_id": "0b9e5d",
        "ok": False,
        "error": "invalid_transition",
        "detail": "ticket ord_1 is cancelled",
    }
    data.update(overrides)
    return data


def as_bytes(data: Any) -> bytes:
    return json.dumps(data).encode()


def refusal(parse: Callable[[Any], object], raw: object) -> WireError:
    with pytest.raises(WireError) as info:
        parse(raw)
    return info.value


# --- round trips ---------------------------------------------------------------------------


def test_every_command_type_is_tested() -> None:
    assert set(EXTRA) == set(wire.COMMAND_TYPES) == set(wire.COMMAND_MODELS)


def test_the_command_lists_come_from_one_union() -> None:
    models = typing.get_args(wire.AnyCommand)
    assert len(models) == len(set(models)) == len(wire.COMMAND_TYPES) == 14
    assert {m.model_fields["type"].default: m for m in models} == wire.COMMAND_MODELS
    # the ticket commands are exactly those with a ticket_id
    ticket_commands = set(typing.get_args(wire.TicketCommand))
    assert ticket_commands == {m for m in models if "ticket_id" in m.model_fields}
    for kind in EXTRA:
        assert isinstance(wire.make_command(kind, SITE, **EXTRA[kind]), wire.AnyCommand)


@pytest.mark.parametrize("kind", sorted(EXTRA))
def test_command_round_trip(kind: str) -> None:
    command: wire.AnyCommand = wire.make_command(
        kind, SITE, display_id="grill-1", station="grill", **EXTRA[kind]
    )
    assert type(command) is MODELS[kind]
    assert command.command_id  # a fresh id
    raw = wire.encode(command)
    assert isinstance(raw, bytes)
    body = json.loads(raw.decode("utf-8"))
    assert body["v"] == 1 and body["type"] == kind and body["site_id"] == SITE
    assert body["command_id"] == command.command_id
    for key, value in EXTRA[kind].items():
        assert body[key] == value
    parsed = wire.parse_command(raw)
    assert parsed == command
    assert wire.parse_command(raw.decode()) == command
    assert wire.parse_command(body) == command


def test_make_command_ids_are_unique_unless_given() -> None:
    a = wire.make_command("snapshot", SITE)
    b = wire.make_command("snapshot", SITE)
    assert a.command_id != b.command_id
    assert wire.make_command("snapshot", SITE, command_id="mine").command_id == "mine"


def test_make_command_validates() -> None:
    err = refusal(lambda _: wire.make_command("bump", SITE), None)
    assert err.field == "ticket_id"


def test_ticket_updated_round_trip() -> None:
    message = wire.TicketUpdated(site_id=SITE, seq=7, at=NOW, ticket=ticket())
    parsed = wire.parse_state_message(wire.encode(message))
    assert isinstance(parsed, wire.TicketUpdated)
    assert parsed == message
    assert parsed.ticket.status is TicketStatus.ACCEPTED


def test_ticket_updated_parses_contract_example() -> None:
    parsed = wire.parse_state_message(as_bytes(updated_dict()))
    assert isinstance(parsed, wire.TicketUpdated)
    assert parsed.seq == 5121
    assert parsed.ticket.id == "ord_01JD2X8Q4ZK3"
    assert parsed.at.microsecond == 210_000


def test_ticket_removed_round_trip() -> None:
    message = wire.TicketRemoved(site_id=SITE, seq=8, at=NOW, ticket_id="ord_1", reason="cancelled")
    parsed = wire.parse_state_message(wire.encode(message))
    assert isinstance(parsed, wire.TicketRemoved)
    assert parsed == message
    minimal = removed_dict()
    del minimal["reason"], minimal["at"]
    parsed = wire.parse_state_message(minimal)
    assert isinstance(parsed, wire.TicketRemoved)
    assert parsed.reason == ""


def test_command_result_round_trip_and_snapshot_result() -> None:
    refused = wire.error_result(SITE, "c1", "unknown_ticket", "no open ticket ord_9")
    parsed = wire.parse_result(wire.encode(refused))
    assert parsed == refused
    assert (parsed.ok, parsed.error, parsed.detail) == (
        False,
        "unknown_ticket",
        "no open ticket ord_9",
    )
    snap = wire.CommandResult(site_id=SITE, command_id="c2", ok=True, seq=42, tickets=(ticket(),))
    raw = wire.encode(snap)
    assert b'"error"' not in raw  # None fields are left out
    back = wire.parse_result(raw)
    assert back.seq == 42 and back.tickets is not None and back.tickets[0].id == "ord_01JD2X8Q4ZK3"
    assert wire.parse_result(result_dict()).error == "invalid_transition"


def test_destinations() -> None:
    assert wire.state_topic(SITE) == "/topic/kds.ams-01.state"
    assert wire.command_queue(SITE) == "/queue/kds.ams-01.commands"


# --- the customer's phone never reaches displays -------------------------------------------


def test_phone_never_in_encoded_ticket() -> None:
    t = ticket()
    assert PHONE not in t.model_dump_json()
    message = wire.TicketUpdated(site_id=SITE, seq=1, at=NOW, ticket=t)
    assert PHONE.encode() not in wire.encode(message)
    snap = wire.CommandResult(site_id=SITE, command_id="c", ok=True, seq=1, tickets=(t,))
    assert PHONE.encode() not in wire.encode(snap)


def test_phone_sent_in_a_ticket_is_dropped() -> None:
    data = ticket_dict()
    data["customer"] = {"name": "Sam", "phone": PHONE, "notify": True}
    t = Ticket.model_validate(data)
    assert PHONE not in t.model_dump_json()
    parsed = wire.parse_state_message(updated_dict(ticket=data))
    assert PHONE.encode() not in wire.encode(parsed)


# --- unknown fields ------------------------------------------------------------------------


def test_unknown_fields_are_ignored() -> None:
    cmd = wire.parse_command(command_dict("bump", future={"x": [1, 2]}, hint="new"))
    assert isinstance(cmd, wire.BumpCommand)
    assert not hasattr(cmd, "future")
    t = ticket_dict()
    t["surprise"] = True
    t["items"][0]["colour"] = "red"
    updated = wire.parse_state_message(updated_dict(ticket=t, extra=1))
    assert isinstance(updated, wire.TicketUpdated)
    assert updated.ticket.items[0].qty == 2
    removed = wire.parse_state_message(removed_dict(extra=None))
    assert isinstance(removed, wire.TicketRemoved)
    assert removed.ticket_id == "ord_01JD2X8Q4ZK3"
    assert wire.parse_result(result_dict(trace_id="abc")).ok is False


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "mutate", "field"),
    [
        ("bump", {"command_id": None}, "command_id"),
        ("bump", {"command_id": 123}, "command_id"),
        ("bump", {"command_id": ""}, "command_id"),
        ("bump", {"command_id": "x" * 101}, "command_id"),
        ("bump", {"ticket_id": None}, "ticket_id"),
        ("bump", {"ticket_id": 5}, "ticket_id"),
        ("bump", {"ticket_id": ""}, "ticket_id"),
        ("bump", {"site_id": None}, "site_id"),
        ("bump", {"site_id": ""}, "site_id"),
        ("bump", {"station": 3}, "station"),
        ("bump", {"display_id": ["a"]}, "display_id"),
        ("item_done", {"line_id": None}, "line_id"),
        ("item_undo", {"line_id": 1}, "line_id"),
        ("prioritize", {"priority": "urgent"}, "priority"),
        ("prioritize", {"priority": 1}, "priority"),
        ("prioritize", {"priority": None}, "priority"),
        ("set_availability", {"available": "true"}, "available"),
        ("set_availability", {"available": 0}, "available"),
        ("set_availability", {"sku": None}, "sku"),
    ],
)
def test_command_refusal_names_the_field(kind: str, mutate: dict[str, Any], field: str) -> None:
    data = command_dict(kind)
    for key, value in mutate.items():
        if value is None:
            del data[key]
        else:
            data[key] = value
    err = refusal(wire.parse_command, as_bytes(data))
    assert type(err) is WireError
    assert err.field == field
    assert field in str(err)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (updated_dict(seq="5"), "seq"),
        (updated_dict(seq=0), "seq"),
        (updated_dict(seq=True), "seq"),
        (updated_dict(at=12345), "at"),
        (updated_dict(at="2026-11-24T18:14:03"), "at"),
        (updated_dict(ticket=None), "ticket"),
        (removed_dict(ticket_id=None), "ticket_id"),
        (removed_dict(seq=1.5), "seq"),
    ],
)
def test_state_message_refusal_names_the_field(data: dict[str, Any], field: str) -> None:
    data = {k: v for k, v in data.items() if v is not None}
    err = refusal(wire.parse_state_message, as_bytes(data))
    assert err.field == field


def test_ticket_item_qty_as_string_is_refused() -> None:
    t = ticket_dict()
    t["items"][0]["qty"] = "2"
    err = refusal(wire.parse_state_message, as_bytes(updated_dict(ticket=t)))
    assert err.field == "ticket.items.0.qty"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (result_dict(ok="false"), "ok"),
        (result_dict(command_id=7), "command_id"),
        (result_dict(seq="1"), "seq"),
        (result_dict(tickets=[{"id": "x"}]), "tickets.0.version"),
    ],
)
def test_result_refusal_names_the_field(data: dict[str, Any], field: str) -> None:
    assert refusal(wire.parse_result, as_bytes(data)).field == field


PARSERS: list[Parser] = [wire.parse_command, wire.parse_state_message, wire.parse_result]
VALID: dict[Parser, dict[str, Any]] = {
    wire.parse_command: command_dict("bump"),
    wire.parse_state_message: updated_dict(),
    wire.parse_result: result_dict(),
}


@pytest.mark.parametrize("parse", PARSERS)
def test_unknown_type_is_refused(parse: Parser) -> None:
    for kind in ("shout", "", "BUMP", "ticket.deleted"):
        err = refusal(parse, as_bytes({**VALID[parse], "type": kind}))
        assert type(err) is WireError and err.field == "type"
    err = refusal(parse, as_bytes({**VALID[parse], "type": 5}))
    assert err.field == "type"
    missing = dict(VALID[parse])
    del missing["type"]
    assert refusal(parse, as_bytes(missing)).field == "type"


def test_message_of_another_kind_is_refused_as_unknown_type() -> None:
    assert refusal(wire.parse_command, as_bytes(updated_dict())).field == "type"
    assert refusal(wire.parse_state_message, as_bytes(command_dict("bump"))).field == "type"
    assert refusal(wire.parse_result, as_bytes(command_dict("snapshot"))).field == "type"


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize("version", [2, 0, "1", True, None, [1], {"v": 1}])
def test_other_versions_are_unsupported(parse: Parser, version: Any) -> None:
    data = dict(VALID[parse])
    if version is None:
        del data["v"]
    else:
        data["v"] = version
    with pytest.raises(UnsupportedVersion) as info:
        parse(as_bytes(data))
    assert info.value.field == "v"


@pytest.mark.parametrize("parse", PARSERS)
@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"[]", "object"),
        (b"1", "object"),
        (b'"bump"', "object"),
        (b"null", "object"),
        (b"", "JSON"),
        (b"{not json", "JSON"),
        (b'{"v": 1,}', "JSON"),
        (b"\xff\xfe{}", "UTF-8"),
        ('{"v":1,"type":"bump","site_id":"é"}'.encode("latin-1"), "UTF-8"),
        (b"[" * 100_000, "JSON"),
    ],
)
def test_bad_bodies_are_refused(parse: Parser, raw: bytes, words: str) -> None:
    err = refusal(parse, raw)
    assert type(err) is WireError
    assert words in str(err)


@pytest.mark.parametrize("parse", PARSERS)
def test_non_bytes_bodies_are_refused(parse: Parser) -> None:
    for raw in (None, 12, [1]):
        refusal(parse, raw)


def test_too_large_frame_is_refused() -> None:
    body = as_bytes(command_dict("bump"))
    pad = wire.MAX_FRAME_BYTES + 1 - len(body)
    raw = body[:-1] + b" " * pad + b"}"
    assert len(raw) == wire.MAX_FRAME_BYTES + 1
    assert "too large" in str(refusal(wire.parse_command, raw))
    at_limit = body[:-1] + b" " * (pad - 1) + b"}"
    assert isinstance(wire.parse_command(at_limit), wire.BumpCommand)


@pytest.mark.parametrize("parse", [*PARSERS, wire.peek_command_id])
def test_huge_integer_is_refused_as_wire_error(parse: Callable[[bytes], object]) -> None:
    raw = b'{"v": 1, "type": "bump", "command_id": "c1", "n": ' + b"9" * 5000 + b"}"
    if parse is wire.peek_command_id:
        assert parse(raw) is None  # cannot be decoded, so no id to answer
    else:
        assert "not JSON" in str(refusal(parse, raw))


def test_peek_command_id() -> None:
    assert wire.peek_command_id(as_bytes({"command_id": "abc", "v": 9})) == "abc"
    assert wire.peek_command_id(b"garbage") is None
    assert wire.peek_command_id(as_bytes({"command_id": 5})) is None
    assert wire.peek_command_id(as_bytes({"command_id": ""})) is None
    assert wire.peek_command_id(as_bytes({"command_id": "x" * 101})) is None
    assert wire.peek_command_id(b"\xff") is None


# --- fuzzing -------------------------------------------------------------------------------

# text includes lone surrogates: JSON can carry them as "\\udXXX" escapes in valid UTF-8
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=12,
)
KNOWN_KEYS = sorted(
    {
        "v",
        "type",
        "site_id",
        "command_id",
        "ticket_id",
        "line_id",
        "priority",
        "sku",
        "available",
        "seq",
        "at",
        "ticket",
        "ok",
        "error",
        "tickets",
        "station",
    }
)
KNOWN_VALUES = st.sampled_from(
    [1, 2, SITE, "bump", "snapshot", "ticket.updated", "ticket.removed", "command.result", "c1"]
)
envelope_dicts = st.dictionaries(
    st.sampled_from(KNOWN_KEYS) | st.text(max_size=6),
    KNOWN_VALUES | json_values,
    max_size=10,
)


def model_or_wire_error(parse: Parser, raw: Any) -> None:
    try:
        parsed = parse(raw)
    except WireError:
        return
    # a model that parsed must survive its own encoding (times go out in milliseconds)
    encoded = wire.encode(parsed)
    assert wire.encode(parse(encoded)) == encoded


@FUZZ
@given(raw=st.binary(max_size=300), parse=st.sampled_from(PARSERS))
def test_fuzz_bytes(raw: bytes, parse: Parser) -> None:
    model_or_wire_error(parse, raw)


@FUZZ
@given(data=envelope_dicts, parse=st.sampled_from(PARSERS), as_json=st.booleans())
def test_fuzz_json_dicts(data: dict[str, Any], parse: Parser, as_json: bool) -> None:
    raw: Any = data
    if as_json:
        raw = json.dumps(data)
    model_or_wire_error(parse, raw)


@FUZZ
@given(value=json_values, parse=st.sampled_from(PARSERS))
def test_fuzz_any_json_value(value: Any, parse: Parser) -> None:
    model_or_wire_error(parse, json.dumps(value).encode())


VALID_MESSAGES: list[tuple[Parser, dict[str, Any]]] = [
    *[(wire.parse_command, command_dict(kind)) for kind in sorted(EXTRA)],
    (wire.parse_state_message, updated_dict()),
    (wire.parse_state_message, removed_dict()),
    (wire.parse_result, result_dict()),
    (wire.parse_result, result_dict(ok=True, error=None, detail=None, seq=3, tickets=[])),
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path inside a JSON value (so nested ticket fields get mutated too)."""
    out = []
    if isinstance(value, dict):
        for key, inner in value.items():
            out.append((*prefix, key))
            out.extend(_paths(inner, (*prefix, key)))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out.append((*prefix, i))
            out.extend(_paths(inner, (*prefix, i)))
    return out


@FUZZ
@given(
    case=st.sampled_from(VALID_MESSAGES),
    data=st.data(),
    drop=st.booleans(),
    replacement=json_values,
)
def test_fuzz_mutated_valid_messages(
    case: tuple[Parser, dict[str, Any]],
    data: st.DataObject,
    drop: bool,
    replacement: Any,
) -> None:
    parse, original = case
    message = json.loads(json.dumps(original))
    path = data.draw(st.sampled_from(_paths(message)))
    parent = message
    for part in path[:-1]:
        parent = parent[part]
    if drop and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = replacement
    model_or_wire_error(parse, message)
    model_or_wire_error(parse, json.dumps(message).encode())
