"""Bad orders one at a time: the real agent against the real core simulator over HTTP.

Each poison entry is spliced into a feed page as raw text (``push_raw_text``), so the
agent decodes exactly the bytes a broken core would send."""

from __future__ import annotations

from typing import Any

import pytest

from shared.model import TicketStatus
from tests.helpers.fixtures import Site
from tests.helpers.site import line_item, wait_until

pytestmark = pytest.mark.broker


def _poison(order_id: str, tail: str) -> str:
    """An order's JSON text with ``tail`` (raw JSON members) after id and number."""
    return f'{{"id": "{order_id}", "version": 1, "display_number": "D-{order_id[-4:]}", {tail}}}'


def _quarantined(site: Site) -> dict[str, dict[str, Any]]:
    assert site.agent is not None
    return {str(q["order_id"]): q for q in site.agent.store.quarantined()}


def test_poison_orders_are_quarantined_one_by_one_and_good_ones_behind_them_go_on(
    site: Site,
) -> None:
    deep = '"extra": ' + "[" * 1000 + "]" * 1000
    with site.peer() as peer:
        site.sim.push_raw_text(site.site_id, _poison("ord_DEEP", deep))
        huge = site.sim.create_order(site.site_id, total_cents=2**63)
        site.sim.push_raw_text(site.site_id, _poison("ord_LONG", '"n": ' + "9" * 5000))
        site.sim.push_raw_text(site.site_id, _poison("ord_UTF8", '"notes": "bad \udcff byte"'))
        big = site.sim.create_order(site.site_id, version=2**63)
        good = site.sim.create_order(site.site_id)
        assert peer.latest(good["id"]).ticket.status is TicketStatus.ACCEPTED
        wait_until(lambda: len(_quarantined(site)) == 5)
    bad = _quarantined(site)
    assert bad["ord_DEEP"]["field"] == "extra"
    assert "nested too deep" in bad["ord_DEEP"]["error"]
    assert bad["ord_DEEP"]["body"].startswith('{"id": "ord_DEEP"')  # the text as received
    assert bad[huge["id"]]["field"] == "total_cents"
    assert bad["ord_LONG"]["field"] == "n"
    assert bad["ord_UTF8"]["field"] == "notes"
    assert "not valid Unicode" in bad["ord_UTF8"]["error"]
    assert "\\udcff" in bad["ord_UTF8"]["body"]  # JSON escape of the byte 0xff
    assert bad[big["id"]]["field"] == "version" and bad[big["id"]]["version"] is None
    assert site.agent is not None and site.agent.feed.connected


def test_orders_deeper_than_the_limit_but_decodable_are_refused_naming_the_field(
    site: Site,
) -> None:
    with site.peer() as peer:
        site.sim.push_raw_text(site.site_id, _poison("ord_D100", '"x": ' + "[" * 100 + "]" * 100))
        good = site.sim.create_order(site.site_id)
        peer.latest(good["id"])
        bad = wait_until(lambda: _quarantined(site))
    assert bad["ord_D100"]["field"] == "x"
    assert "nested deeper than" in bad["ord_D100"]["error"]


def test_lenient_channel_quantity_and_long_texts_reach_the_screens(site: Site) -> None:
    name = "Burger " + "x" * 250
    note = "n" * 1500
    items = [
        line_item("l1", "Fries", "fry", qty=1000),
        line_item("l2", "Burger", "grill", notes=note) | {"name": name},
    ]
    with site.peer() as peer:
        order = site.sim.create_order(site.site_id, channel="UberEats", items=items)
        absurd = site.sim.create_order(
            site.site_id, items=[line_item("l1", "Fries", "fry", qty=10_001)]
        )
        ticket = peer.latest(order["id"]).ticket
        refused = wait_until(lambda: _quarantined(site))
    assert ticket.channel == "ubereats"
    assert ticket.items[0].qty == 1000
    assert len(ticket.items[1].name) == 200 and ticket.items[1].name.endswith("…")
    assert ticket.items[1].notes.endswith("…") and len(ticket.items[1].notes) == 1000
    assert site.agent is not None
    stored = site.agent.store.order(order["id"])
    assert stored is not None and stored["items"][1]["name"] == name  # the original kept
    assert refused[absurd["id"]]["field"] == "items.0.qty"
    assert "10000" in refused[absurd["id"]]["error"]


def test_an_undecodable_page_is_an_alarm_retried_with_backoff(site: Site) -> None:
    with site.peer() as peer:
        first = site.sim.create_order(site.site_id)
        peer.latest(first["id"])
        site.sim.inject_fault("raw_page", count=3, body='{"orders": [{"id": "ord_X", ')
        wait_until(
            lambda: any(
                any("feed page undecodable: truncated" in p for p in a.problems) for a in peer.alive
            )
        )
        assert site.agent is not None
        assert not site.agent.feed.connected
        # broken pages are retried, not skipped: an order behind them still arrives
        good = site.sim.create_order(site.site_id)
        assert peer.latest(good["id"]).ticket.status is TicketStatus.ACCEPTED
        wait_until(lambda: not site.agent.problems() if site.agent else False)
    assert site.sim.faults.pending() == []
