"""The kitchen (edge_agent.kitchen.Kitchen) driven directly against a real store."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from edge_agent.kitchen import Kitchen
from edge_agent.outbox import Channel
from edge_agent.store import OutboxRow, Store
from shared import wire
from shared.model import ItemStatus, TicketStatus
from tests.unit.shared.factories import NOW, PHONE, SITE, item_dict, order_dict

ORDER_ID = "ord_01JD2X8Q4ZK3"
REPLY = "/queue/kds.ams-01.replies.grill-1"
FAR_FUTURE = 4_000_000_000.0


@pytest.fixture
def changes() -> list[int]:
    return []


@pytest.fixture
def kitchen(store: Store, changes: list[int]) -> Iterator[Kitchen]:
    # default settings: the v1 behaviour (the allergy gate has tests of its own)
    yield Kitchen(
        store,
        SITE,
        expo_station="expo",
        clock=lambda: NOW,
        on_change=lambda: changes.append(1),
    )


def rows(store: Store, channel: str) -> list[OutboxRow]:
    return store.due(channel, limit=10_000, now=FAR_FUTURE)


def state_messages(store: Store) -> list[Any]:
    return [wire.parse_state_message(r.body) for r in rows(store, Channel.MQ) if r.kind == "state"]


def replies(store: Store) -> list[tuple[OutboxRow, wire.CommandResult]]:
    return [(r, wire.parse_result(r.body)) for r in rows(store, Channel.MQ) if r.kind == "reply"]


def core_events(store: Store) -> list[dict[str, Any]]:
    return [
        {**json.loads(r.body), "_dest": r.dest, "_key": r.key, "_kind": r.kind}
        for r in rows(store, Channel.CORE)
    ]


def command(kind: str, command_id: str | None = None, **fields: Any) -> bytes:
    fields.setdefault("display_id", "grill-1")
    if command_id is not None:
        fields["command_id"] = command_id
    if kind not in ("set_availability", "snapshot"):
        fields.setdefault("ticket_id", ORDER_ID)
    return wire.encode(wire.make_command(kind, SITE, **fields))


def handled(kitchen: Kitchen, raw: bytes) -> wire.CommandResult:
    """The result of ``raw`` applied without a reply-to (a command always gets one)."""
    result = kitchen.handle_command(raw, None)
    assert result is not None
    return result


def raw_command(**fields: Any) -> bytes:
    data = {"v": 1, "site_id": SITE, "command_id": "c-raw", "ticket_id": ORDER_ID, **fields}
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


def seqs(store: Store) -> list[int]:
    return [m.seq for m in state_messages(store)]


# --- orders from the core ------------------------------------------------------------------


def test_valid_order_creates_ticket_state_row_and_core_event(
    store: Store, kitchen: Kitchen, changes: list[int]
) -> None:
    outcome = kitchen.apply_order(order_dict())
    assert (outcome.action, outcome.order_id) == ("created", ORDER_ID)
    assert changes == [1]
    assert store.order_version(ORDER_ID) == 1
    assert store.current_seq() == 1
    (row,) = [r for r in rows(store, Channel.MQ)]
    assert (row.kind, row.key, row.dest) == ("state", "state:1", "/topic/kds.ams-01.state")
    assert PHONE.encode() not in row.body
    (message,) = state_messages(store)
    assert isinstance(message, wire.TicketUpdated)
    assert message.seq == 1 and message.site_id == SITE
    assert message.ticket.status is TicketStatus.ACCEPTED
    assert message.ticket.accepted_at == NOW
    (event,) = core_events(store)
    assert event["_kind"] == "event" and event["_dest"] == ORDER_ID
    assert event["_key"] == event["event_id"]
    assert (event["type"], event["status"], event["actor"]) == ("status", "accepted", "agent")
    assert event["at"] == "2026-11-24T18:05:00.000Z"


def test_same_version_again_is_a_duplicate(store: Store, kitchen: Kitchen) -> None:
    kitchen.apply_order(order_dict())
    before = store.outbox_rows()
    outcome = kitchen.apply_order(order_dict(notes="changed but same version"))
    assert outcome.action == "duplicate"
    assert store.outbox_rows() == before
    assert store.current_seq() == 1


def test_malformed_order_is_quarantined_and_the_feed_goes_on(
    store: Store, kitchen: Kitchen, caplog: pytest.LogCaptureFixture
) -> None:
    bad = order_dict(id="ord_BAD", version=4)
    bad["items"][0]["qty"] = "2"
    with caplog.at_level(logging.ERROR, logger="edge.feed"):
        outcome = kitchen.apply_order(bad)
    assert outcome.action == "quarantined" and outcome.order_id == "ord_BAD"
    (record,) = [r for r in caplog.records if r.name == "edge.feed"]
    assert record.levelno == logging.ERROR
    assert "items.0.qty" in record.getMessage() and "ord_BAD" in record.getMessage()
    (entry,) = store.quarantined()
    assert (entry["order_id"], entry["version"], entry["field"]) == ("ord_BAD", 4, "items.0.qty")
    assert json.loads(entry["body"]) == bad
    assert store.outbox_rows() == [] and store.current_seq() == 0
    assert store.ticket_json("ord_BAD") is None
    assert kitchen.apply_order(order_dict()).action == "created"
    assert seqs(store) == [1]


@pytest.mark.parametrize("raw", [[1, 2], "order", None, 42, {}])
def test_non_order_values_are_quarantined(store: Store, kitchen: Kitchen, raw: Any) -> None:
    assert kitchen.apply_order(raw).action == "quarantined"
    (entry,) = store.quarantined()
    assert entry["order_id"] is None


def test_quarantine_with_non_int_version_and_id(store: Store, kitchen: Kitchen) -> None:
    kitchen.apply_order(order_dict(id=5, version="3"))
    (entry,) = store.quarantined()
    assert entry["order_id"] is None and entry["version"] is None
    assert entry["field"] in ("id", "version")


def test_order_for_another_site_is_quarantined(
    store: Store, kitchen: Kitchen, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="edge.feed"):
        outcome = kitchen.apply_order(order_dict(site_id="rot-02"))
    assert outcome.action == "quarantined"
    (entry,) = store.quarantined()
    assert entry["field"] == "site_id"
    assert "site_id" in caplog.text
    assert store.outbox_rows() == []


def test_new_version_merges(store: Store, kitchen: Kitchen) -> None:
    kitchen.apply_order(order_dict())
    v2 = order_dict(version=2, priority="rush")
    v2["items"][1]["qty"] = 3
    outcome = kitchen.apply_order(v2)
    assert outcome.action == "updated"
    assert store.order_version(ORDER_ID) == 2
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketUpdated) and last.seq == 2
    assert last.ticket.version == 2 and last.ticket.priority.value == "rush"
    changed = {i.line_id: i.changed for i in last.ticket.items}
    assert changed == {"l1": False, "l2": True, "l3": False}
    assert len(core_events(store)) == 1  # only "accepted"
    assert kitchen.apply_order(order_dict()).action == "duplicate"  # older version


def test_cancellation_shows_void_then_clear_voids_removes_it(
    store: Store, kitchen: Kitchen
) -> None:
    kitchen.apply_order(order_dict())
    kitchen.apply_order(order_dict(version=2, status="cancelled"))
    cancelled = state_messages(store)[-1]
    assert isinstance(cancelled, wire.TicketUpdated)
    assert cancelled.ticket.status is TicketStatus.CANCELLED
    snap = kitchen.snapshot("s1")
    assert snap.tickets is not None and [t.status for t in snap.tickets] == ["cancelled"]
    assert kitchen.clear_voids(older_than_seconds=3600) == 0
    assert kitchen.clear_voids(older_than_seconds=0) == 1
    removed = state_messages(store)[-1]
    assert isinstance(removed, wire.TicketRemoved)
    assert (removed.seq, removed.ticket_id, removed.reason) == (3, ORDER_ID, "cancelled")
    snap = kitchen.snapshot("s2")
    assert snap.tickets == () and snap.seq == 3
    assert kitchen.clear_voids(older_than_seconds=0) == 0


def test_cleared_void_does_not_come_back_with_a_later_version(
    store: Store, kitchen: Kitchen
) -> None:
    kitchen.apply_order(order_dict())
    kitchen.apply_order(order_dict(version=2, status="cancelled"))
    assert kitchen.clear_voids(older_than_seconds=0) == 1
    kitchen.apply_order(order_dict(version=3, status="cancelled", notes="refunded"))
    assert isinstance(state_messages(store)[-1], wire.TicketRemoved)
    snap = kitchen.snapshot("s")
    assert snap.tickets == ()


def test_order_arriving_cancelled_is_not_shown(store: Store, kitchen: Kitchen) -> None:
    assert kitchen.apply_order(order_dict(status="cancelled")).action == "ignored"
    assert store.outbox_rows() == []
    assert kitchen.apply_order(order_dict(status="cancelled")).action == "duplicate"


def test_core_pick_up_removes_the_ticket(store: Store, kitchen: Kitchen) -> None:
    kitchen.apply_order(order_dict())
    kitchen.handle_command(command("bump", station="expo"), None)
    kitchen.apply_order(order_dict(version=2, status="picked_up"))
    removed = state_messages(store)[-1]
    assert isinstance(removed, wire.TicketRemoved) and removed.reason == "picked_up"
    assert kitchen.snapshot("s").tickets == ()
    # later versions of a finished order change nothing
    assert kitchen.apply_order(order_dict(version=3, notes="x")).action == "ignored"


# --- commands ------------------------------------------------------------------------------


@pytest.fixture
def with_order(kitchen: Kitchen, store: Store) -> Kitchen:
    kitchen.apply_order(order_dict())
    return kitchen


def test_bump_stores_state_reply_and_core_events(
    store: Store, with_order: Kitchen, changes: list[int]
) -> None:
    result = with_order.handle_command(command("bump", "c-bump", station="grill"), REPLY)
    assert result is not None and result.ok and result.command_id == "c-bump"
    assert changes == [1, 1]
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketUpdated) and last.seq == 2
    assert last.ticket.status is TicketStatus.IN_PROGRESS
    assert {i.line_id: i.status for i in last.ticket.items} == {
        "l1": ItemStatus.DONE,
        "l2": ItemStatus.PENDING,
        "l3": ItemStatus.DONE,
    }
    ((reply_row, reply),) = replies(store)
    assert reply_row.dest == REPLY and reply_row.key == "reply:c-bump"
    assert int(reply_row.headers["expires"]) > 0
    assert reply == result
    events = core_events(store)[1:]
    assert [(e["type"], e["status"]) for e in events] == [
        ("status", "in_progress"),
        ("item_status", "done"),
        ("item_status", "done"),
    ]
    assert {e.get("line_id") for e in events[1:]} == {"l1", "l3"}
    assert all(e["actor"] == "display:grill-1" and e["station"] == "grill" for e in events)
    assert all(e["_dest"] == ORDER_ID for e in events)
    assert json.loads(store.command_result("c-bump") or "{}")["ok"] is True


def test_same_command_twice_gives_same_result_and_no_new_state(
    store: Store, with_order: Kitchen
) -> None:
    raw = command("bump", "c-1", station="grill")
    first = with_order.handle_command(raw, REPLY)
    state_before = [r.key for r in rows(store, Channel.MQ) if r.kind == "state"]
    core_before = core_events(store)
    second = with_order.handle_command(raw, REPLY)
    assert second == first
    assert [r.key for r in rows(store, Channel.MQ) if r.kind == "state"] == state_before
    assert core_events(store) == core_before
    assert store.current_seq() == 2
    assert [reply for _, reply in replies(store)] == [first, first]  # answered again
    assert with_order.handle_command(raw, None) == first


def test_refused_command_is_stored_and_repeats_the_refusal(
    store: Store, with_order: Kitchen
) -> None:
    raw = command("picked_up", "c-early")
    result = with_order.handle_command(raw, REPLY)
    assert result is not None and not result.ok
    assert result.error == "invalid_transition" and ORDER_ID in (result.detail or "")
    assert store.current_seq() == 1
    # the ticket becomes ready; the same command id still gets the stored refusal
    assert handled(with_order, command("bump", station="expo")).ok
    again = with_order.handle_command(raw, REPLY)
    assert again == result
    assert [reply.error for _, reply in replies(store)] == ["invalid_transition"] * 2


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (command("bump", ticket_id="ord_NOPE", station="grill"), "unknown_ticket"),
        (command("item_done", line_id="l99"), "unknown_line"),
        (command("item_undo", line_id="l1"), "invalid_transition"),
        (command("bump", station="bar"), "invalid_transition"),
        (command("recall", station="grill"), "invalid_transition"),
        (command("bump"), "bad_request"),  # no station
        (command("start"), "bad_request"),
        (command("recall"), "bad_request"),
        (raw_command(type="prioritize", priority="urgent"), "bad_request"),
        (raw_command(type="bump", station=5), "bad_request"),
        (raw_command(type="bump", site_id="rot-02", station="grill"), "bad_request"),
        (raw_command(type="bump", v=2, station="grill"), "unsupported_version"),
        (raw_command(type="shout"), "bad_request"),
    ],
)
def test_refusal_codes(store: Store, with_order: Kitchen, raw: bytes, code: str) -> None:
    result = with_order.handle_command(raw, REPLY)
    assert result is not None and not result.ok
    assert result.error == code
    assert result.site_id == SITE
    ((reply_row, reply),) = replies(store)
    assert reply.error == code and reply_row.dest == REPLY
    assert store.current_seq() == 1


def test_garbage_bytes_are_dead_lettered_without_reply(store: Store, with_order: Kitchen) -> None:
    for raw in (b"\xff\xfe garbage", b"not json", b"[1, 2]", b'{"v": 1}'):
        assert with_order.handle_command(raw, REPLY) is None
    letters = store.dead_letters()
    assert [d["source"] for d in letters] == ["commands"] * 4
    assert letters[0]["body"] == b"\xff\xfe garbage"
    assert replies(store) == []


def test_garbage_with_a_command_id_gets_bad_request(store: Store, with_order: Kitchen) -> None:
    raw = b'{"command_id": "c-garbage", "v": 1, "type": "bump", "ticket_id": 5}'
    result = with_order.handle_command(raw, REPLY)
    assert result is not None and result.command_id == "c-garbage"
    assert (result.ok, result.error) == (False, "bad_request")
    assert len(store.dead_letters()) == 1
    ((_, reply),) = replies(store)
    assert reply.command_id == "c-garbage"


def test_v2_command_is_unsupported_version(store: Store, with_order: Kitchen) -> None:
    raw = json.dumps({"v": 2, "type": "bump", "command_id": "c-v2", "site_id": SITE}).encode()
    result = with_order.handle_command(raw, REPLY)
    assert result is not None and result.error == "unsupported_version"
    assert result.command_id == "c-v2"


def test_command_for_another_site(store: Store, with_order: Kitchen) -> None:
    raw = wire.encode(wire.make_command("bump", "rot-02", ticket_id=ORDER_ID, station="grill"))
    result = with_order.handle_command(raw, REPLY)
    assert (
        result is not None and result.error == "bad_request" and "rot-02" in (result.detail or "")
    )
    assert store.current_seq() == 1


def test_garbage_with_unencodable_command_id_is_handled(store: Store, with_order: Kitchen) -> None:
    raw = b'{"v": 1, "type": "bump", "command_id": "c\\ud800"}'
    result = with_order.handle_command(raw, REPLY)
    assert result is None or result.error == "bad_request"


def test_huge_integer_frame_is_dead_lettered(store: Store, with_order: Kitchen) -> None:
    raw = b'{"v": 1, "type": "bump", "command_id": "c-big", "x": ' + b"7" * 5000 + b"}"
    with_order.handle_command(raw, REPLY)
    assert len(store.dead_letters()) == 1


def test_full_ticket_life_through_commands(store: Store, with_order: Kitchen) -> None:
    k = with_order
    assert handled(k, command("start", station="grill")).ok
    assert handled(k, command("item_done", line_id="l2")).ok
    assert handled(k, command("item_undo", line_id="l2")).ok
    assert handled(k, command("prioritize", priority="rush")).ok
    seq_before = store.current_seq()
    # same priority again: ok, but nothing changes
    assert handled(k, command("prioritize", priority="rush")).ok
    assert store.current_seq() == seq_before
    assert handled(k, command("bump", station="expo")).ok
    ready = state_messages(store)[-1]
    assert isinstance(ready, wire.TicketUpdated) and ready.ticket.status is TicketStatus.READY
    assert handled(k, command("recall", station="expo")).ok
    recalled = state_messages(store)[-1]
    assert recalled.ticket.status is TicketStatus.IN_PROGRESS
    assert handled(k, command("bump", station="expo")).ok
    assert handled(k, command("picked_up")).ok
    gone = state_messages(store)[-1]
    assert isinstance(gone, wire.TicketRemoved) and gone.reason == "picked_up"
    assert seqs(store) == list(range(1, store.current_seq() + 1))  # no gaps
    statuses = [e["status"] for e in core_events(store) if e["type"] == "status"]
    assert statuses == ["accepted", "in_progress", "ready", "in_progress", "ready", "picked_up"]
    items = [(e["line_id"], e["status"]) for e in core_events(store) if e["type"] == "item_status"]
    assert items[:2] == [("l2", "done"), ("l2", "in_progress")]
    # a picked-up ticket is no longer known to commands
    after = k.handle_command(command("bump", station="grill"), None)
    assert after is not None and after.error == "unknown_ticket"


def test_commands_on_a_cancelled_ticket_are_invalid_transitions(
    store: Store, with_order: Kitchen
) -> None:
    with_order.apply_order(order_dict(version=2, status="cancelled"))
    result = with_order.handle_command(command("bump", station="grill"), None)
    assert result is not None and result.error == "invalid_transition"
    assert "cancelled" in (result.detail or "")


def test_set_availability_enqueues_a_core_change(store: Store, with_order: Kitchen) -> None:
    raw = command("set_availability", "c-86", sku="BB-CLASSIC", available=False)
    result = with_order.handle_command(raw, REPLY)
    assert result is not None and result.ok
    (change,) = [e for e in core_events(store) if e["_kind"] == "availability"]
    assert change["_dest"] == "BB-CLASSIC" and change["available"] is False
    assert change["_key"] == "avail:c-86"
    with_order.handle_command(raw, REPLY)
    assert len([e for e in core_events(store) if e["_kind"] == "availability"]) == 1


def test_snapshot_returns_open_tickets_and_current_seq(store: Store, kitchen: Kitchen) -> None:
    kitchen.apply_order(order_dict())
    kitchen.apply_order(order_dict(id="ord_2", items=[item_dict("l1", "fry")]))
    kitchen.apply_order(order_dict(id="ord_3"))
    kitchen.handle_command(command("bump", ticket_id="ord_3", station="expo"), None)
    kitchen.handle_command(command("picked_up", ticket_id="ord_3"), None)
    result = kitchen.handle_command(command("snapshot", "c-snap"), REPLY)
    assert result is not None and result.ok
    assert result.seq == store.current_seq() == 5
    assert result.tickets is not None
    assert [t.id for t in result.tickets] == [ORDER_ID, "ord_2"]
    assert all(PHONE not in t.model_dump_json() for t in result.tickets)
    # snapshots are read-only: not stored, nothing queued (the agent answers directly)
    assert store.command_result("c-snap") is None
    assert replies(store) == []
    direct = kitchen.snapshot("x")
    assert direct.seq == 5 and direct.tickets == result.tickets


def test_close_missing_closes_tickets_the_core_no_longer_lists(
    store: Store, kitchen: Kitchen
) -> None:
    kitchen.apply_order(order_dict())
    kitchen.apply_order(order_dict(id="ord_2"))
    assert kitchen.close_missing({"ord_2"}) == 1
    removed = state_messages(store)[-1]
    assert isinstance(removed, wire.TicketRemoved) and removed.ticket_id == ORDER_ID
    assert [t.id for t in kitchen.snapshot("s").tickets or ()] == ["ord_2"]


def test_command_for_another_site_is_answered_every_time(store: Store, with_order: Kitchen) -> None:
    raw = wire.encode(
        wire.make_command("bump", "rot-02", command_id="c-x", ticket_id=ORDER_ID, station="grill")
    )
    with_order.handle_command(raw, REPLY)
    with_order.handle_command(raw, REPLY)
    assert [reply.error for _, reply in replies(store)] == ["bad_request", "bad_request"]


# --- issue 4: allergen gate, VOID acknowledgement, folds, 86 list ------------------------


ALLERGY_NOTE = "ALLERGY: peanuts, severe"


def allergy_order(**overrides: Any) -> dict[str, Any]:
    """The factory order (recipe allergens on every line) with a declared allergy."""
    return order_dict(notes=ALLERGY_NOTE, **overrides)


@pytest.fixture
def gated(store: Store) -> Kitchen:
    """The site opted in to ``allergen_gate = "enforce"`` (a deviation from v1)."""
    kitchen = Kitchen(
        store,
        SITE,
        expo_station="expo",
        clock=lambda: NOW,
        settings=wire.SiteSettings(expo_station="expo", allergy_gate="enforce"),
    )
    kitchen.apply_order(allergy_order())
    return kitchen


def test_recipe_allergens_never_gate_anything(store: Store, kitchen: Kitchen) -> None:
    # every line of the factory order has recipe allergens (gluten, milk): v1 applies
    kitchen.apply_order(order_dict())
    for station in ("grill", "fry"):
        assert handled(kitchen, command("start", station=station)).ok
        assert handled(kitchen, command("bump", station=station)).ok
    assert handled(kitchen, command("bump", station="expo")).ok
    assert store.ticket_status(ORDER_ID) == "ready"
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketUpdated) and last.ticket.allergy == ()


def test_a_declared_allergy_is_stored_on_the_ticket(store: Store, kitchen: Kitchen) -> None:
    edited = order_dict()
    edited["items"][1]["modifiers"] = [{"name": "No sesame", "qty": 1}]
    kitchen.apply_order(edited)
    [created] = [m for m in state_messages(store) if isinstance(m, wire.TicketUpdated)]
    assert created.ticket.allergy == ("Item l2: No sesame",)
    assert [i.allergy for i in created.ticket.items] == [False, True, False]


def test_default_settings_never_refuse_for_a_declared_allergy(
    store: Store, kitchen: Kitchen
) -> None:
    # "confirm" (the default): the project's screens ask first; the agent keeps to v1
    assert kitchen.settings().allergy_gate == "confirm"
    assert kitchen.settings().allergen_gate is False  # older screens: no recipe gate
    kitchen.apply_order(allergy_order())
    assert handled(kitchen, command("start", station="grill")).ok
    done = kitchen.handle_command(command("item_done", line_id="l1", station="grill"), None)
    assert done is not None and done.ok
    assert handled(kitchen, command("bump", station="fry")).ok
    assert handled(kitchen, command("bump", station="expo")).ok
    assert store.ticket_status(ORDER_ID) == "ready"


def test_ack_is_stored_with_who_where_and_when(store: Store, kitchen: Kitchen) -> None:
    kitchen.apply_order(allergy_order())
    ack = command("ack_allergens", station="grill", display_id="grill-2")
    assert handled(kitchen, ack).ok
    again = command("ack_allergens", station="grill", display_id="grill-1")
    assert handled(kitchen, again).ok
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketUpdated)
    [seen] = last.ticket.allergy_acks
    assert (seen.station, seen.display_id, seen.at) == ("grill", "grill-2", NOW)
    # the export's allergy_acks table reads this step
    [step] = [e for e in store.lifecycle() if e["kind"] == "allergy_seen"]
    assert (step["station"], step["actor"]) == ("grill", "grill-2")


def test_ack_without_a_declared_allergy_is_refused(kitchen: Kitchen) -> None:
    kitchen.apply_order(order_dict())  # recipe allergens only
    refused = kitchen.handle_command(command("ack_allergens", station="grill"), None)
    assert refused is not None and refused.error == "invalid_transition"
    assert "no declared allergy" in (refused.detail or "")


def test_enforce_refuses_start_and_bump_until_seen(store: Store, gated: Kitchen) -> None:
    refused = gated.handle_command(command("start", station="grill"), None)
    assert refused is not None and refused.error == "invalid_transition"
    assert "ALLERGY: peanuts" in (refused.detail or "")
    assert handled(gated, command("bump", station="grill")).error == ("invalid_transition")
    assert handled(gated, command("ack_allergens", station="grill")).ok
    assert handled(gated, command("start", station="grill")).ok
    # seen at grill is not seen at expo
    assert handled(gated, command("bump", station="expo")).error == ("invalid_transition")
    ticket = wire.parse_state_message(rows(store, Channel.MQ)[-1].body)
    assert isinstance(ticket, wire.TicketUpdated)
    assert [a.station for a in ticket.ticket.allergy_acks] == ["grill"]


def test_void_leaves_once_every_station_acknowledged(store: Store, gated: Kitchen) -> None:
    cancelled = order_dict(version=2, status="cancelled")
    gated.apply_order(cancelled)
    stations = ["grill", "fry", "expo"]
    for station in stations[:-1]:
        assert handled(gated, command("ack_void", station=station)).ok
        assert store.ticket_status(ORDER_ID) == "cancelled"
    assert handled(gated, command("ack_void", station="expo")).ok
    assert store.ticket_status(ORDER_ID) == "cleared"
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketRemoved) and last.reason == "cancelled"


def test_ack_void_of_an_open_ticket_is_refused(gated: Kitchen) -> None:
    result = gated.handle_command(command("ack_void", station="grill"), None)
    assert result is not None and result.error == "invalid_transition"


def test_fold_stations_publishes_settings_and_snapshot_carries_them(
    store: Store, gated: Kitchen
) -> None:
    folded = gated.handle_command(command("fold_stations", folds={"fry": "grill"}), None)
    assert folded is not None and folded.ok
    last = state_messages(store)[-1]
    assert isinstance(last, wire.SettingsUpdated) and last.settings.folds == {"fry": "grill"}
    assert last.settings.stations_shown_at("grill") == ("grill", "fry")
    snapshot = gated.snapshot("s1")
    assert snapshot.settings is not None and snapshot.settings.folds == {"fry": "grill"}
    bad = gated.handle_command(command("fold_stations", folds={"fry": "fry"}), None)
    assert bad is not None and bad.error == "bad_request"


def test_86_list_follows_set_availability(store: Store, gated: Kitchen) -> None:
    sku = order_dict()["items"][0]["sku"]
    gated.handle_command(command("set_availability", sku=sku, available=False), None)
    settings = gated.settings()
    assert [(o.sku, o.name) for o in settings.out_of_stock] == [
        (sku, order_dict()["items"][0]["name"])
    ]
    gated.handle_command(command("set_availability", sku=sku, available=True), None)
    assert gated.settings().out_of_stock == ()


def test_enforce_covers_item_done_too(gated: Kitchen) -> None:
    refused = gated.handle_command(command("item_done", line_id="l1", station="grill"), None)
    assert refused is not None and refused.error == "invalid_transition"
    assert handled(gated, command("ack_allergens", station="grill")).ok
    done = gated.handle_command(command("item_done", line_id="l1", station="grill"), None)
    assert done is not None and done.ok


def test_an_edit_that_adds_an_allergy_needs_a_new_look(store: Store, gated: Kitchen) -> None:
    assert handled(gated, command("ack_allergens", station="grill")).ok
    unchanged = allergy_order(version=2)
    unchanged["items"][0]["qty"] = 3
    gated.apply_order(unchanged)
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketUpdated) and len(last.ticket.allergy_acks) == 1
    edited = allergy_order(version=3)
    edited["items"][0]["notes"] = "allergic to shellfish"
    gated.apply_order(edited)
    last = state_messages(store)[-1]
    assert isinstance(last, wire.TicketUpdated) and last.ticket.allergy_acks == ()
    refused = gated.handle_command(command("start", station="grill"), None)
    assert refused is not None and refused.error == "invalid_transition"


def test_a_cleared_void_cannot_come_back(store: Store, gated: Kitchen) -> None:
    gated.apply_order(order_dict(version=2, status="cancelled"))
    assert gated.clear_voids(older_than_seconds=-1) == 1
    before = len(state_messages(store))
    late = gated.handle_command(command("ack_void", station="fry"), None)  # queued offline
    assert late is not None and late.error == "unknown_ticket"
    assert store.ticket_status(ORDER_ID) == "cleared"
    assert len(state_messages(store)) == before
    assert ORDER_ID not in {t.id for t in gated.snapshot("s").tickets or ()}


# --- upgrading from the release before declared allergies ------------------------------


def test_an_agent_upgraded_over_an_older_store_starts_and_keeps_to_v1(store: Store) -> None:
    # the previous release stored its settings with allergen_gate as a boolean (true)
    old = {"expo_station": "expo", "allergen_gate": True, "aging": {"warn_minutes": 5}}
    store.set_meta("site_settings", json.dumps(old))
    kitchen = Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)
    settings = kitchen.settings()
    assert settings.allergy_gate == "confirm" and settings.allergen_gate is False
    kitchen.apply_order(allergy_order())
    assert handled(kitchen, command("start", station="grill")).ok


def test_settings_parse_across_releases() -> None:
    # an older agent's snapshot settings (no allergy_gate) parse on this release
    old = wire.SiteSettings.model_validate({"expo_station": "expo", "allergen_gate": True})
    assert old.allergy_gate == "confirm"
    # and this release's carry a boolean allergen_gate (false) for older screens
    new = json.loads(wire.SiteSettings(allergy_gate="enforce").model_dump_json())
    assert new["allergen_gate"] is False and new["allergy_gate"] == "enforce"
