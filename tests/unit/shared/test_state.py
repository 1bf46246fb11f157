"""Every transition and refusal of the ticket state machine (shared.state)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from shared import state
from shared.errors import BadRequest, CommandRefused, InvalidTransition, UnknownLine
from shared.model import ItemStatus, Priority, Ticket, TicketStatus
from tests.unit.shared.factories import NOW, PHONE, item_dict, later, order, order_dict, ticket

EXPO = "expo"
T1 = later(10)
T2 = later(20)
T3 = later(30)


def statuses(t: Ticket) -> dict[str, ItemStatus]:
    return {i.line_id: i.status for i in t.items}


def refused(exc_type: type[CommandRefused], code: str, call: Callable[[], Any]) -> str:
    with pytest.raises(exc_type) as info:
        call()
    assert info.value.code == code
    return str(info.value)


# --- tickets in each status ----------------------------------------------------------------


def accepted() -> Ticket:
    return ticket()


def in_progress() -> Ticket:
    return state.start(accepted(), "grill", T1, expo_station=EXPO).ticket


def ready() -> Ticket:
    return state.bump(in_progress(), EXPO, T2, expo_station=EXPO).ticket


def picked() -> Ticket:
    return state.picked_up(ready(), T3).ticket


def cancelled() -> Ticket:
    return state.merge_order(in_progress(), order(version=2, status="cancelled"), T2).ticket


BUILDERS: dict[str, Callable[[], Ticket]] = {
    "accepted": accepted,
    "in_progress": in_progress,
    "ready": ready,
    "picked_up": picked,
    "cancelled": cancelled,
}

COMMANDS: dict[str, Callable[[Ticket], state.Transition]] = {
    "start grill": lambda t: state.start(t, "grill", T3, expo_station=EXPO),
    "start fry": lambda t: state.start(t, "fry", T3, expo_station=EXPO),
    "start expo": lambda t: state.start(t, EXPO, T3, expo_station=EXPO),
    "bump grill": lambda t: state.bump(t, "grill", T3, expo_station=EXPO),
    "bump expo": lambda t: state.bump(t, EXPO, T3, expo_station=EXPO),
    "recall grill (no bump)": lambda t: state.recall(
        t, "grill", T3, expo_station=EXPO, last_bump=None
    ),
    "recall expo (bumped l2)": lambda t: state.recall(
        t, EXPO, T3, expo_station=EXPO, last_bump=["l2"]
    ),
    "item_done l2": lambda t: state.item_done(t, "l2", T3),
    "item_undo l2": lambda t: state.item_undo(t, "l2", T3),
    "prioritize rush": lambda t: state.prioritize(t, "rush"),
    "picked_up": lambda t: state.picked_up(t, T3),
}

IT = InvalidTransition
S = TicketStatus
# (from status, command) -> resulting ticket status, or the refusal raised
TABLE: list[tuple[str, str, TicketStatus | type[CommandRefused]]] = [
    ("accepted", "start grill", S.IN_PROGRESS),
    ("accepted", "start fry", S.IN_PROGRESS),
    ("accepted", "start expo", S.IN_PROGRESS),
    ("accepted", "bump grill", S.IN_PROGRESS),
    ("accepted", "bump expo", S.READY),
    ("accepted", "recall grill (no bump)", IT),
    ("accepted", "recall expo (bumped l2)", IT),  # l2 is not done: nothing to recall
    ("accepted", "item_done l2", S.IN_PROGRESS),
    ("accepted", "item_undo l2", IT),
    ("accepted", "prioritize rush", S.ACCEPTED),
    ("accepted", "picked_up", IT),
    ("in_progress", "start grill", IT),  # already started there
    ("in_progress", "start fry", S.IN_PROGRESS),
    ("in_progress", "start expo", IT),
    ("in_progress", "bump grill", S.IN_PROGRESS),
    ("in_progress", "bump expo", S.READY),
    ("in_progress", "recall grill (no bump)", IT),
    ("in_progress", "recall expo (bumped l2)", IT),
    ("in_progress", "item_done l2", S.IN_PROGRESS),
    ("in_progress", "item_undo l2", IT),
    ("in_progress", "prioritize rush", S.IN_PROGRESS),
    ("in_progress", "picked_up", IT),
    ("ready", "start grill", IT),
    ("ready", "start fry", IT),
    ("ready", "start expo", IT),
    ("ready", "bump grill", IT),
    ("ready", "bump expo", IT),
    ("ready", "recall grill (no bump)", IT),
    ("ready", "recall expo (bumped l2)", S.IN_PROGRESS),
    ("ready", "item_done l2", IT),
    ("ready", "item_undo l2", IT),
    ("ready", "prioritize rush", S.READY),
    ("ready", "picked_up", S.PICKED_UP),
    *[("picked_up", command, IT) for command in COMMANDS],
    *[("cancelled", command, IT) for command in COMMANDS],
]


def test_table_covers_every_status_and_command() -> None:
    assert {(f, c) for f, c, _ in TABLE} == {(f, c) for f in BUILDERS for c in COMMANDS}


@pytest.mark.parametrize(("source", "command", "expected"), TABLE)
def test_transition_table(
    source: str, command: str, expected: TicketStatus | type[CommandRefused]
) -> None:
    before = BUILDERS[source]()
    assert before.status.value == source
    if isinstance(expected, TicketStatus):
        result = COMMANDS[command](before)
        assert result.ticket.status is expected
        assert result.previous_status is before.status
        assert result.status_changed == (expected is not before.status)
    else:
        refused(expected, expected.code, lambda: COMMANDS[command](before))


# --- start ---------------------------------------------------------------------------------


def test_start_sets_station_items_in_progress_and_started_at_once() -> None:
    first = state.start(accepted(), "grill", T1, expo_station=EXPO)
    assert statuses(first.ticket) == {
        "l1": ItemStatus.IN_PROGRESS,
        "l2": ItemStatus.PENDING,
        "l3": ItemStatus.IN_PROGRESS,
    }
    assert dict(first.item_changes) == {"l1": ItemStatus.IN_PROGRESS, "l3": ItemStatus.IN_PROGRESS}
    assert first.ticket.started_at == T1
    second = state.start(first.ticket, "fry", T2, expo_station=EXPO)
    assert second.ticket.started_at == T1
    assert statuses(second.ticket)["l2"] is ItemStatus.IN_PROGRESS


def test_start_at_station_without_items_is_refused() -> None:
    detail = refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.start(accepted(), "bar", T1, expo_station=EXPO),
    )
    assert "bar" in detail


def test_start_at_expo_without_expo_station_is_a_station_without_items() -> None:
    refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.start(accepted(), EXPO, T1, expo_station=None),
    )


def test_start_does_not_touch_done_items() -> None:
    t = state.item_done(accepted(), "l1", T1).ticket
    result = state.start(t, "grill", T2, expo_station=EXPO)
    assert statuses(result.ticket)["l1"] is ItemStatus.DONE
    assert statuses(result.ticket)["l3"] is ItemStatus.IN_PROGRESS


# --- bump ----------------------------------------------------------------------------------


def test_bump_at_prep_station_marks_its_items_done() -> None:
    result = state.bump(accepted(), "grill", T1, expo_station=EXPO)
    assert statuses(result.ticket) == {
        "l1": ItemStatus.DONE,
        "l2": ItemStatus.PENDING,
        "l3": ItemStatus.DONE,
    }
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert result.ticket.started_at == T1
    assert set(result.bumped_lines) == {"l1", "l3"}
    assert dict(result.item_changes) == {"l1": ItemStatus.DONE, "l3": ItemStatus.DONE}


def test_bump_every_prep_station_with_expo_does_not_make_ready() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=EXPO).ticket
    t = state.bump(t, "fry", T2, expo_station=EXPO).ticket
    assert all(s is ItemStatus.DONE for s in statuses(t).values())
    assert t.status is TicketStatus.IN_PROGRESS
    assert t.ready_at is None


def test_bump_at_expo_makes_ready_and_marks_remaining_items_done() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=EXPO).ticket
    result = state.bump(t, EXPO, T2, expo_station=EXPO)
    assert result.ticket.status is TicketStatus.READY
    assert result.ticket.ready_at == T2
    assert result.ticket.started_at == T1
    assert result.bumped_lines == ("l2",)
    assert all(s is ItemStatus.DONE for s in statuses(result.ticket).values())


def test_bump_at_expo_of_untouched_ticket_sets_started_at() -> None:
    result = state.bump(accepted(), EXPO, T1, expo_station=EXPO)
    assert result.ticket.status is TicketStatus.READY
    assert result.ticket.started_at == T1 and result.ticket.ready_at == T1


def test_no_expo_last_prep_bump_makes_ready() -> None:
    first = state.bump(accepted(), "grill", T1, expo_station=None)
    assert first.ticket.status is TicketStatus.IN_PROGRESS
    last = state.bump(first.ticket, "fry", T2, expo_station=None)
    assert last.ticket.status is TicketStatus.READY
    assert last.ticket.ready_at == T2
    assert last.status_changed


def test_no_expo_bump_at_expo_name_is_a_station_without_items() -> None:
    refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.bump(accepted(), EXPO, T1, expo_station=None),
    )


def test_empty_expo_station_means_no_expo() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station="").ticket
    assert state.bump(t, "fry", T2, expo_station="").ticket.status is TicketStatus.READY


@pytest.mark.parametrize("expo", [EXPO, None])
def test_bump_twice_at_same_station_is_refused(expo: str | None) -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=expo).ticket
    detail = refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.bump(t, "grill", T2, expo_station=expo),
    )
    assert "already bumped" in detail


def test_bump_at_station_without_items_is_refused() -> None:
    refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.bump(accepted(), "bar", T1, expo_station=EXPO),
    )


def test_bump_expo_twice_is_refused() -> None:
    t = state.bump(accepted(), EXPO, T1, expo_station=EXPO).ticket
    refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.bump(t, EXPO, T2, expo_station=EXPO),
    )


def test_no_expo_bump_after_all_items_done_individually_makes_ready() -> None:
    t = accepted()
    for line in ("l1", "l2", "l3"):
        t = state.item_done(t, line, T1).ticket
    assert t.status is TicketStatus.IN_PROGRESS
    result = state.bump(t, "grill", T2, expo_station=None)
    assert result.ticket.status is TicketStatus.READY


# --- recall --------------------------------------------------------------------------------


def test_recall_after_prep_bump_undoes_exactly_the_bumped_lines() -> None:
    t = state.item_done(accepted(), "l2", T1).ticket
    bumped = state.bump(t, "grill", T2, expo_station=EXPO)
    result = state.recall(
        bumped.ticket, "grill", T3, expo_station=EXPO, last_bump=bumped.bumped_lines
    )
    assert statuses(result.ticket) == {
        "l1": ItemStatus.IN_PROGRESS,
        "l2": ItemStatus.DONE,
        "l3": ItemStatus.IN_PROGRESS,
    }
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert not result.status_changed
    assert dict(result.item_changes) == {"l1": ItemStatus.IN_PROGRESS, "l3": ItemStatus.IN_PROGRESS}


def test_recall_after_expo_bump_returns_ready_ticket_to_in_progress() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=EXPO).ticket
    bumped = state.bump(t, EXPO, T2, expo_station=EXPO)
    assert bumped.ticket.status is TicketStatus.READY
    result = state.recall(bumped.ticket, EXPO, T3, expo_station=EXPO, last_bump=bumped.bumped_lines)
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert result.ticket.ready_at is None
    assert result.status_changed and result.previous_status is TicketStatus.READY
    assert statuses(result.ticket) == {
        "l1": ItemStatus.DONE,
        "l2": ItemStatus.IN_PROGRESS,
        "l3": ItemStatus.DONE,
    }


def test_recall_expo_bump_that_changed_no_lines_still_unreadies() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=EXPO).ticket
    t = state.bump(t, "fry", T1, expo_station=EXPO).ticket
    bumped = state.bump(t, EXPO, T2, expo_station=EXPO)
    assert bumped.bumped_lines == ()
    result = state.recall(bumped.ticket, EXPO, T3, expo_station=EXPO, last_bump=[])
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert result.item_changes == ()


def test_recall_after_last_prep_bump_without_expo_unreadies() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=None).ticket
    bumped = state.bump(t, "fry", T2, expo_station=None)
    assert bumped.ticket.status is TicketStatus.READY
    result = state.recall(bumped.ticket, "fry", T3, expo_station=None, last_bump=["l2"])
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert result.ticket.ready_at is None
    assert statuses(result.ticket)["l2"] is ItemStatus.IN_PROGRESS


def test_recall_with_no_bump_is_refused() -> None:
    t = in_progress()
    detail = refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.recall(t, "grill", T2, expo_station=EXPO, last_bump=None),
    )
    assert "no bump" in detail


def test_recall_of_lines_no_longer_done_is_refused() -> None:
    bumped = state.bump(accepted(), "fry", T1, expo_station=EXPO)
    undone = state.item_undo(bumped.ticket, "l2", T2).ticket
    refused(
        InvalidTransition,
        "invalid_transition",
        lambda: state.recall(undone, "fry", T3, expo_station=EXPO, last_bump=bumped.bumped_lines),
    )


def test_recall_ignores_lines_the_ticket_no_longer_has() -> None:
    bumped = state.bump(accepted(), "fry", T1, expo_station=EXPO)
    result = state.recall(bumped.ticket, "fry", T2, expo_station=EXPO, last_bump=["l2", "gone"])
    assert dict(result.item_changes) == {"l2": ItemStatus.IN_PROGRESS}


# --- item_done / item_undo -----------------------------------------------------------------


def test_item_done_then_undo() -> None:
    done = state.item_done(accepted(), "l3", T1)
    assert statuses(done.ticket)["l3"] is ItemStatus.DONE
    assert done.ticket.status is TicketStatus.IN_PROGRESS
    assert done.ticket.started_at == T1
    assert done.item_changes == (("l3", ItemStatus.DONE),)
    undo = state.item_undo(done.ticket, "l3", T2)
    assert statuses(undo.ticket)["l3"] is ItemStatus.IN_PROGRESS
    assert undo.item_changes == (("l3", ItemStatus.IN_PROGRESS),)
    assert undo.ticket.started_at == T1


def test_item_done_twice_is_refused() -> None:
    t = state.item_done(accepted(), "l1", T1).ticket
    refused(InvalidTransition, "invalid_transition", lambda: state.item_done(t, "l1", T2))


def test_item_undo_of_pending_line_is_refused() -> None:
    refused(InvalidTransition, "invalid_transition", lambda: state.item_undo(accepted(), "l1", T1))


@pytest.mark.parametrize("action", [state.item_done, state.item_undo])
def test_unknown_line_is_refused(action: Callable[..., state.Transition]) -> None:
    detail = refused(UnknownLine, "unknown_line", lambda: action(in_progress(), "l99", T2))
    assert "l99" in detail


def test_unknown_line_on_closed_ticket_is_an_invalid_transition() -> None:
    refused(InvalidTransition, "invalid_transition", lambda: state.item_done(ready(), "l99", T3))


# --- prioritize ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["rush", Priority.RUSH])
def test_prioritize_rush(value: str | Priority) -> None:
    result = state.prioritize(in_progress(), value)
    assert result.ticket.priority is Priority.RUSH
    assert result.changed
    back = state.prioritize(result.ticket, "normal")
    assert back.ticket.priority is Priority.NORMAL and back.changed


def test_prioritize_same_priority_is_no_change() -> None:
    t = in_progress()
    result = state.prioritize(t, "normal")
    assert not result.changed
    assert result.ticket == t


@pytest.mark.parametrize("value", ["urgent", "", "RUSH", "x" * 500])
def test_prioritize_bad_priority_is_bad_request(value: str) -> None:
    refused(BadRequest, "bad_request", lambda: state.prioritize(in_progress(), value))


# --- picked_up -----------------------------------------------------------------------------


def test_picked_up_from_ready() -> None:
    result = state.picked_up(ready(), T3)
    assert result.ticket.status is TicketStatus.PICKED_UP
    assert result.ticket.picked_up_at == T3
    assert not result.ticket.is_open


# --- orders from the core ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order_status", "expected"),
    [
        ("placed", TicketStatus.ACCEPTED),
        ("accepted", TicketStatus.ACCEPTED),
        ("in_progress", TicketStatus.ACCEPTED),
        ("ready", TicketStatus.ACCEPTED),
        ("cancelled", TicketStatus.CANCELLED),
        ("picked_up", TicketStatus.PICKED_UP),
    ],
)
def test_ticket_from_order_status(order_status: str, expected: TicketStatus) -> None:
    t = state.ticket_from_order(order(status=order_status), NOW)
    assert t.status is expected


def test_ticket_from_order_copies_fields_and_drops_phone() -> None:
    o = order()
    t = state.ticket_from_order(o, NOW)
    assert (t.id, t.version, t.site_id) == (o.id, o.version, o.site_id)
    assert t.brand == o.brand
    assert (t.channel, t.display_number, t.notes) == ("ubereats", "A-1042", "Ring the bell")
    assert (t.placed_at, t.promised_at, t.priority) == (o.placed_at, o.promised_at, o.priority)
    assert t.customer.name == "Sam"
    assert not hasattr(t.customer, "phone")
    assert PHONE not in t.model_dump_json()
    assert t.accepted_at == NOW
    assert t.started_at is None and t.ready_at is None and t.picked_up_at is None
    assert [i.line_id for i in t.items] == ["l1", "l2", "l3"]
    assert all(i.status is ItemStatus.PENDING and not i.changed for i in t.items)
    first = t.items[0]
    assert (first.qty, first.station, first.notes) == (2, "grill", "well done")
    assert first.allergens == ("gluten", "milk")
    assert first.modifiers[0].name == "No onions"


@pytest.mark.parametrize(("ticket_version", "order_version"), [(2, 1), (1, 1), (5, 4)])
def test_merge_older_or_equal_version_is_ignored(ticket_version: int, order_version: int) -> None:
    t = ticket(version=ticket_version)
    o = order(version=order_version, notes="changed", status="cancelled")
    result = state.merge_order(t, o, T1)
    assert not result.changed
    assert result.ticket == t


def test_merge_older_version_after_newer_is_ignored() -> None:
    t = ticket(version=3)
    result = state.merge_order(t, order(version=2, status="cancelled"), T1)
    assert not result.changed and result.ticket.status is TicketStatus.ACCEPTED


def test_merge_cancellation_voids_the_ticket() -> None:
    t = state.bump(in_progress(), "grill", T1, expo_station=EXPO).ticket
    result = state.merge_order(t, order(version=2, status="cancelled"), T2)
    assert result.changed
    assert result.ticket.status is TicketStatus.CANCELLED
    assert result.previous_status is TicketStatus.IN_PROGRESS
    assert result.ticket.version == 2
    assert statuses(result.ticket) == statuses(t)


def test_merge_cancellation_of_ready_ticket() -> None:
    result = state.merge_order(ready(), order(version=2, status="cancelled"), T3)
    assert result.ticket.status is TicketStatus.CANCELLED


def test_merge_edited_line_is_marked_changed_and_reset() -> None:
    t = state.bump(accepted(), "grill", T1, expo_station=EXPO).ticket
    t = state.item_done(t, "l2", T1).ticket
    items = order_dict()["items"]
    items[0]["qty"] = 3
    result = state.merge_order(t, order(version=2, items=items), T2)
    got = {i.line_id: i for i in result.ticket.items}
    assert got["l1"].qty == 3
    assert got["l1"].changed and got["l1"].status is ItemStatus.PENDING
    # unchanged lines keep their kitchen status and are not marked
    assert got["l2"].status is ItemStatus.DONE and not got["l2"].changed
    assert got["l3"].status is ItemStatus.DONE and not got["l3"].changed
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert result.ticket.version == 2


def test_merge_new_line_is_added_pending_and_changed() -> None:
    items = [*order_dict()["items"], item_dict("l4", "fry")]
    result = state.merge_order(in_progress(), order(version=2, items=items), T2)
    got = {i.line_id: i for i in result.ticket.items}
    assert list(got) == ["l1", "l2", "l3", "l4"]
    assert got["l4"].status is ItemStatus.PENDING and got["l4"].changed
    assert got["l1"].status is ItemStatus.IN_PROGRESS and not got["l1"].changed


def test_merge_removed_line_disappears() -> None:
    items = order_dict()["items"][:2]
    result = state.merge_order(in_progress(), order(version=2, items=items), T2)
    assert [i.line_id for i in result.ticket.items] == ["l1", "l2"]


def test_merge_ready_ticket_gaining_work_goes_back_to_in_progress() -> None:
    items = [*order_dict()["items"], item_dict("l4", "fry")]
    result = state.merge_order(ready(), order(version=2, items=items), T3)
    assert result.ticket.status is TicketStatus.IN_PROGRESS
    assert result.ticket.ready_at is None
    assert result.status_changed


def test_merge_ready_ticket_without_new_work_stays_ready() -> None:
    t = ready()
    result = state.merge_order(t, order(version=2, priority="rush", notes="hurry"), T3)
    assert result.ticket.status is TicketStatus.READY
    assert result.ticket.ready_at == t.ready_at
    assert result.ticket.priority is Priority.RUSH
    assert result.ticket.notes == "hurry"
    assert not result.status_changed


def test_merge_core_picked_up() -> None:
    result = state.merge_order(ready(), order(version=2, status="picked_up"), T3)
    assert result.ticket.status is TicketStatus.PICKED_UP
    assert result.ticket.picked_up_at == T3


def test_merge_updates_order_fields_but_never_the_phone() -> None:
    o = order(
        version=2,
        display_number="A-2000",
        customer={"name": "Alex", "phone": "+31699999999", "notify": True},
    )
    result = state.merge_order(in_progress(), o, T2)
    assert result.ticket.display_number == "A-2000"
    assert result.ticket.customer.name == "Alex"
    assert "+31699999999" not in result.ticket.model_dump_json()


def test_merge_keeps_kitchen_times() -> None:
    t = in_progress()
    result = state.merge_order(t, order(version=2, notes="x"), T3)
    assert result.ticket.accepted_at == t.accepted_at
    assert result.ticket.started_at == T1
