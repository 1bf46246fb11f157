"""The kitchen sends bounded copies of huge orders; the store and commands keep them whole."""

from __future__ import annotations

import json

import pytest

from edge_agent.kitchen import Kitchen
from edge_agent.outbox import Channel
from edge_agent.store import Store
from shared import wire
from shared.model import ItemStatus, Ticket
from shared.wire_form import DISPLAY_MESSAGE_BYTES, SETTINGS_BYTES, TICKET_MESSAGE_BYTES
from tests.unit.edge_agent.test_kitchen import ORDER_ID, command, handled, rows
from tests.unit.shared.factories import NOW, SITE, item_dict, order_dict

NOTE = "well done, no salt, " * 49  # 980 characters


@pytest.fixture
def kitchen(store: Store) -> Kitchen:
    return Kitchen(store, SITE, expo_station="expo", clock=lambda: NOW)


def last_state(store: Store) -> tuple[int, wire.TicketUpdated]:
    row = [r for r in rows(store, Channel.MQ) if r.kind == "state"][-1]
    message = wire.parse_state_message(row.body)
    assert isinstance(message, wire.TicketUpdated)
    return len(row.body), message


def stored(store: Store, ticket_id: str = ORDER_ID) -> Ticket:
    body = store.ticket_json(ticket_id)
    assert body is not None
    return Ticket.model_validate_json(body)


def test_ten_thousand_lines_go_out_under_64_kib_and_a_left_out_line_can_be_done(
    kitchen: Kitchen, store: Store
) -> None:
    items = [item_dict(f"l{i}", "grill") for i in range(10_000)]
    kitchen.apply_order(order_dict(items=items))
    size, message = last_state(store)
    assert size <= TICKET_MESSAGE_BYTES
    shown = len(message.ticket.items)
    assert shown < 10_000 and message.ticket.more_lines == {"grill": 10_000 - shown}
    assert len(stored(store).items) == 10_000 and stored(store).more_lines == {}

    result = handled(kitchen, command("item_done", station="grill", line_id="l9999"))
    assert result.ok, result.detail
    assert stored(store).items[-1].status is ItemStatus.DONE
    size, message = last_state(store)
    assert size <= TICKET_MESSAGE_BYTES and "l9999" not in {i.line_id for i in message.ticket.items}


def test_a_snapshot_of_many_huge_orders_is_one_answer_within_512_kib(
    kitchen: Kitchen, store: Store
) -> None:
    items = [item_dict(f"l{i}", "grill", notes=NOTE) for i in range(1100)]  # ~1 MB each
    ids = [f"ord_{n:03d}" for n in range(12)]
    for order_id in ids:
        kitchen.apply_order(order_dict(id=order_id, items=items))
    kitchen.apply_order(order_dict(id="ord_small"))
    result = kitchen.snapshot("c-snap")
    body = wire.encode(result)
    assert len(body) <= DISPLAY_MESSAGE_BYTES
    parsed = wire.parse_result(body)
    assert parsed.tickets is not None and parsed.seq == store.current_seq()
    by_id = {t.id: t for t in parsed.tickets}
    assert set(by_id) == {*ids, "ord_small"}
    assert all(len(by_id[i].items) + by_id[i].more_lines["grill"] == 1100 for i in ids)
    assert len(by_id["ord_small"].items) == 3 and by_id["ord_small"].more_lines == {}


def test_settings_with_hundreds_of_86d_items_go_out_bounded_and_stay_whole_in_the_store(
    kitchen: Kitchen, store: Store
) -> None:
    skus = [f"SKU-{n:04d}-" + "x" * 190 for n in range(300)]
    for sku in skus:
        assert handled(kitchen, command("set_availability", sku=sku, available=False)).ok
    row = [r for r in rows(store, Channel.MQ) if r.kind == "state"][-1]
    message = wire.parse_state_message(row.body)
    assert isinstance(message, wire.SettingsUpdated) and len(row.body) <= SETTINGS_BYTES + 1024
    assert 0 < len(message.settings.out_of_stock) < 300
    assert message.settings.out_of_stock[-1].sku == skus[-1]  # the newest are kept
    assert [o.sku for o in kitchen.settings().out_of_stock] == skus
    snapshot = kitchen.snapshot("c-snap").settings
    assert snapshot is not None and snapshot.out_of_stock == message.settings.out_of_stock


def test_folding_more_than_64_stations_at_once_is_refused(kitchen: Kitchen) -> None:
    folds = {f"s{n}": "grill" for n in range(wire.MAX_FOLDS + 1)}
    frame = {"v": 1, "type": "fold_stations", "site_id": SITE, "command_id": "c-fold"}
    result = handled(kitchen, json.dumps({**frame, "folds": folds}).encode())
    assert not result.ok and result.error == "bad_request" and "folds" in (result.detail or "")
    assert handled(kitchen, command("fold_stations", folds={"fry": "grill"})).ok
