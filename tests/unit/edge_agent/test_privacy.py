"""Customer data minimised: names and phones are scrubbed from every table once older
than ``customer_data_retention_days`` (a real SQLite file whose bytes are then searched),
the database files are the agent's only, and a text goes only to a validated number."""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edge_agent.effects import EffectRules, Effects
from edge_agent.kitchen import Kitchen
from edge_agent.outbox import Channel
from edge_agent.retention import (
    DAY,
    PHONE_REMOVED,
    Retention,
    RetentionPolicy,
    scrub_body,
    scrub_order,
    scrub_outbox_body,
)
from edge_agent.store import Store
from shared import wire
from tests.unit.shared.factories import NOW, SITE, order_dict

NAME = "Samantha Verhoeven"
PHONE = "+31612345678"  # E.164: the one a text may go to
RAW_PHONE = "06-1234 5679"  # not E.164: validation drops it, the raw order keeps it
NOTE_PHONE = "06 9876 5432"  # in a free-text note
QUARANTINE_PHONE = "+31655554444"
DEAD_LETTER_PHONE = "+31633332222"
NUMBERS = (PHONE, RAW_PHONE, NOTE_PHONE, QUARANTINE_PHONE, DEAD_LETTER_PHONE)
#: what the file search calls a phone number: a "+" and 7 or more digits (spaces or
#: dashes between them allowed), or a number written as one of the test's were
PHONE_BYTES = re.compile(rb"\+\d(?:[ \-]?\d){6,}")


def _text(kind: str, **fields: Any) -> str:
    return f"{fields['first_name']}, your {fields['brand_name']} order {fields['number']}: {kind}"


class Clock:
    """The store's clock, started 10 days ago."""

    def __init__(self) -> None:
        self.t = time.time() - 10 * DAY

    def __call__(self) -> float:
        return self.t


def _command(kind: str, ticket_id: str, command_id: str) -> bytes:
    return wire.encode(
        wire.make_command(
            kind,
            SITE,
            command_id=command_id,
            ticket_id=ticket_id,
            display_id="expo-1",
            station="expo",
        )
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(store_path: Path, clock: Clock) -> Iterator[Store]:
    store = Store(store_path, clock=clock)
    yield store
    store.close()


def _kitchen(store: Store) -> Kitchen:
    rules = EffectRules(
        site_id=SITE,
        print_on={"expo": ("ready",)},
        label_stations=("expo",),
        sms=True,
        topic_arn="arn:aws:sns:eu-west-1:1:pickups",
        render_text=_text,
    )
    return Kitchen(
        store, SITE, expo_station="expo", clock=lambda: NOW, effects=Effects(store, rules)
    )


def _customer_order(order_id: str, phone: str = PHONE, **fields: Any) -> dict[str, Any]:
    return order_dict(
        id=order_id,
        customer={"name": NAME, "phone": phone, "notify": True},
        notes=f"call {NOTE_PHONE} at the door",
        **fields,
    )


def _file_bytes(path: Path) -> bytes:
    return b"".join(
        p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()
    )


def _customer_data_in(data: bytes) -> list[bytes]:
    found = [m.group(0) for m in PHONE_BYTES.finditer(data)]
    for word in (*NUMBERS, NAME, "Samantha", "Verhoeven"):
        if word.encode() in data:
            found.append(word.encode())
    return found


# --- the scrubbing functions ------------------------------------------------------------


def test_scrub_order_takes_the_name_and_phone_and_keeps_the_rest() -> None:
    order = _customer_order("ord_1")
    order["items"][0]["notes"] = f"ring {PHONE}"
    scrubbed = scrub_order(order)
    assert scrubbed["customer"] == {"notify": True}
    assert scrubbed["notes"] == f"call {PHONE_REMOVED} at the door"
    assert scrubbed["items"][0]["notes"] == f"ring {PHONE_REMOVED}"
    rest = {k: v for k, v in scrubbed.items() if k not in ("customer", "notes", "items")}
    assert rest == {k: v for k, v in order.items() if k not in ("customer", "notes", "items")}
    assert scrubbed["placed_at"] == order["placed_at"]  # a date is no phone number
    assert order["customer"]["name"] == NAME  # the argument is left as it was


def test_scrub_body_of_text_that_is_not_json() -> None:
    raw = f'{{"id": "ord_1", "customer": {{"name": "{NAME}", "phone": "{PHONE}"}}, "items": [tr'
    scrubbed = scrub_body(raw)
    assert NAME not in scrubbed and PHONE not in scrubbed
    assert scrubbed.startswith('{"id": "ord_1", "customer": {}')
    assert scrub_body(f'"phone": "{RAW_PHONE}", call {NOTE_PHONE}') == (
        f'"phone": null, call {PHONE_REMOVED}'
    )


def test_scrub_outbox_bodies() -> None:
    sms = {"order_id": "o", "kind": "ready", "phone": PHONE, "text": "Sam, ready"}
    assert scrub_outbox_body("sms", sms) == {
        "order_id": "o",
        "kind": "ready",
        "phone": "",
        "text": "",
    }
    topic = {"order_id": "o", "text": "Sam, ready", "attributes": {"order_id": "o"}}
    assert scrub_outbox_body("topic", topic) == {**topic, "text": ""}
    label = {"job_id": "j", "first_name": "Sam", "ticket": {"id": "o", "customer": {"name": "Sam"}}}
    assert scrub_outbox_body("label", label) == {
        "job_id": "j",
        "first_name": "",
        "ticket": {"id": "o", "customer": {}},
    }
    report = {"event_id": "e", "type": "ready"}
    assert scrub_outbox_body("lifecycle", report) == report


# --- retention on a real file -------------------------------------------------------------


def _fill(store: Store, clock: Clock) -> Kitchen:
    """Day 0: every kind of row that holds a customer's name or phone."""
    kitchen = _kitchen(store)
    # picked up: ticket, order, print job, label, text and pickup notification (done)
    assert kitchen.apply_order(_customer_order("ord_done")).action == "created"
    for kind in ("bump", "picked_up"):
        assert kitchen.handle_command(_command(kind, "ord_done", f"{kind}-1"), None)
    # still open, with a phone that is not E.164 in the order as the core sent it
    assert kitchen.apply_order(_customer_order("ord_open", phone=RAW_PHONE)).action == "created"
    # refused: quarantined with its raw text (the name and phone in it)
    bad = _customer_order("ord_bad", phone=QUARANTINE_PHONE, items=[])
    assert kitchen.apply_order(bad).action == "quarantined"
    # a refused command frame with a customer in it
    frame = json.dumps({"type": "bump", "customer": {"name": NAME, "phone": DEAD_LETTER_PHONE}})
    kitchen.handle_command(frame.encode(), None)
    # texts: one delivered, one dead (SNS refused it), one still waiting
    texts = {row.key: row for row in store.pending(Channel.NOTIFY)}
    sms = texts.pop("sns:ord_done:ready:sms")
    store.mark_done(sms.id)
    for row in texts.values():
        store.mark_dead(row.id, f"sns refused {PHONE}")
    store.enqueue(
        Channel.NOTIFY,
        "sms",
        "sns:ord_open:ready:sms",
        "ord_open",
        json.dumps({"order_id": "ord_open", "phone": PHONE, "text": f"{NAME}: ready"}).encode(),
    )
    with store.transaction() as conn:  # quarantine rows are stamped with the real time
        conn.execute("UPDATE quarantine SET at = ?", (clock.t,))
    return kitchen


def test_retention_leaves_no_name_or_phone_in_the_file(
    db: Store, store_path: Path, clock: Clock
) -> None:
    _fill(db, clock)
    db.checkpoint()
    before = _customer_data_in(_file_bytes(store_path))
    assert PHONE.encode() in before and NAME.encode() in before and RAW_PHONE.encode() in before

    clock.t += 8 * DAY
    pruned, more = Retention(db, RetentionPolicy(batch_rows=2)).prune(clock.t)
    assert not more and pruned["customer_data"] > 0
    assert pruned["orders"] == pruned["tickets"] == 0  # nothing was deleted: only scrubbed
    # the store is still open: the database, its WAL and its shared memory are searched
    assert _customer_data_in(_file_bytes(store_path)) == []
    assert db.path.stat().st_size > 0 and Path(f"{store_path}-wal").stat().st_size == 0


def test_retention_keeps_everything_else(db: Store, store_path: Path, clock: Clock) -> None:
    kitchen = _fill(db, clock)
    clock.t += 8 * DAY
    kitchen.apply_order(_customer_order("ord_new"))
    Retention(db).prune(clock.t)

    order = db.order("ord_open")
    assert order is not None
    assert order["customer"] == {"notify": True} and order["items"] == _customer_order("x")["items"]
    assert db.order("ord_new") == _customer_order("ord_new")  # younger than the retention
    names = {t.id: t.customer.name for t in kitchen.snapshot("s").tickets or ()}
    assert names == {"ord_open": "", "ord_new": NAME}
    assert db.ticket_status("ord_done") == "cleared"
    # the quarantined order can still be looked at, without its customer
    [entry] = db.quarantined()
    assert entry["order_id"] == "ord_bad" and json.loads(entry["body"])["customer"] == {
        "notify": True
    }
    [letter] = db.dead_letters()
    assert json.loads(letter["body"]) == {"type": "bump", "customer": {}}
    # texts: what was sent and to whom is gone; the waiting one is not sent any more
    rows = {row["key"]: row for row in db.outbox_rows()}
    assert rows["sns:ord_open:ready:sms"]["state"] == "dead"
    assert "retention" in rows["sns:ord_open:ready:sms"]["last_error"]
    assert PHONE not in json.dumps(db.outbox_rows())
    assert rows["print:ord_done:expo:label:ready"]["state"] == "pending"
    # a second round has nothing left to do
    assert Retention(db).prune(clock.t)[0]["customer_data"] == 0


def test_scrub_goes_on_where_the_last_round_stopped(
    db: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    kitchen = _kitchen(db)
    for n in range(7):
        kitchen.apply_order(_customer_order(f"ord_{n}"))
    clock.t += 8 * DAY
    policy = RetentionPolicy(batch_rows=2, max_batches=2)
    with caplog.at_level(logging.INFO, logger="edge.retention"):
        Retention(db, policy).maybe_prune()
    # two batches of two orders and two of their outbox rows: more are left
    assert "scrubbed customer data from 8 older rows (more next round)" in caplog.text
    assert [NAME in json.dumps(db.order(f"ord_{n}")) for n in range(7)] == [False] * 4 + [True] * 3
    Retention(db, policy).prune(clock.t)
    assert not any(NAME in json.dumps(db.order(f"ord_{n}")) for n in range(7))


def test_a_version_that_comes_after_the_scrub_is_scrubbed_too(db: Store, clock: Clock) -> None:
    kitchen = _kitchen(db)
    kitchen.apply_order(_customer_order("ord_late"))
    kitchen.apply_order(_customer_order("ord_other"))
    clock.t += 8 * DAY
    Retention(db).prune(clock.t)
    assert NAME not in json.dumps(db.order("ord_late"))
    # the core sends a new version, with the customer again, 8 days after the first
    assert kitchen.apply_order(_customer_order("ord_late", version=2)).action == "updated"
    assert NAME in json.dumps(db.order("ord_late")) and NAME in (db.ticket_json("ord_late") or "")
    Retention(db).prune(clock.t)
    assert NAME not in json.dumps(db.order("ord_late"))
    assert NAME not in (db.ticket_json("ord_late") or "")
    assert db.order_version("ord_late") == 2


# --- texts: only the validated number -------------------------------------------------------


def test_a_text_goes_only_to_a_validated_e164_number(
    db: Store, caplog: pytest.LogCaptureFixture
) -> None:
    kitchen = _kitchen(db)
    kitchen.apply_order(_customer_order("ord_ok"))
    kitchen.apply_order(_customer_order("ord_raw", phone=RAW_PHONE))
    for ticket_id in ("ord_ok", "ord_raw"):
        with caplog.at_level(logging.WARNING, logger="edge.effects"):
            kitchen.handle_command(_command("bump", ticket_id, f"bump-{ticket_id}"), None)
    texts = [json.loads(row.body) for row in db.pending(Channel.NOTIFY) if row.kind == "sms"]
    assert [(t["order_id"], t["phone"]) for t in texts] == [("ord_ok", PHONE)]
    assert "order ord_raw: no ready text: customer.phone is missing or not an E.164 number" in (
        caplog.text
    )
    assert RAW_PHONE not in caplog.text


# --- file modes ---------------------------------------------------------------------------


def test_database_files_are_private_even_when_an_older_agent_made_them_0644(
    store_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        sqlite3.connect(store_path).close()
        os.chmod(store_path, 0o644)
        with Store(store_path) as store:
            store.set_meta("x", "1")
            files = [store_path, Path(f"{store_path}-wal"), Path(f"{store_path}-shm")]
            modes = [stat.S_IMODE(f.stat().st_mode) for f in files]
    finally:
        os.umask(old)
    assert modes == [0o600, 0o600, 0o600]
