"""``tickets.late`` through the real kitchen: the site's ``[aging]`` rules (shared.aging),
judged at the moment the bump made the ticket ready, on the ticket as it was just before."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from edge_agent.effects import EffectRules, Effects
from edge_agent.kitchen import Kitchen
from edge_agent.store import Store
from shared import wire
from shared.aging import AgeState, age_ticket
from shared.model import Ticket, TicketStatus
from shared.wire import AgingRule, SiteSettings
from tests.helpers.metrics import RecordingMetrics
from tests.unit.shared.factories import SITE, item_dict, order_dict

ORDER_ID = "ord_01JD2X8Q4ZK3"
PLACED = datetime.fromisoformat("2026-11-24T18:01:55+00:00")  # the factories' placed_at
RULES = SiteSettings(
    expo_station="expo",
    aging=AgingRule(warn_minutes=5, late_minutes=8, promised_warn_minutes=3),
)


class Site:
    """A kitchen with its effects wired as the agent wires them, on a settable clock."""

    def __init__(self, store: Store, settings: SiteSettings, **order: Any) -> None:
        self.now = PLACED + timedelta(minutes=1)
        self.metrics = RecordingMetrics()
        effects = Effects(store, EffectRules(site_id=SITE), self.metrics, site_settings=settings)
        self.kitchen = Kitchen(
            store,
            SITE,
            expo_station="expo",
            clock=lambda: self.now,
            effects=effects,
            settings=settings,
        )
        self.store = store
        self.settings = settings
        items = [
            item_dict("l1", "grill", allergens=[]),
            item_dict("l2", "fry", allergens=[]),
        ]
        order.setdefault("promised_at", None)
        outcome = self.kitchen.apply_order(order_dict(items=items, **order))
        assert outcome.action == "created"

    def ticket(self) -> Ticket:
        body = self.store.ticket_json(ORDER_ID)
        assert body is not None
        return Ticket.model_validate_json(body)

    def bump(self, station: str, minutes_after_placed: float) -> None:
        self.now = PLACED + timedelta(minutes=minutes_after_placed)
        raw = wire.encode(
            wire.make_command(
                "bump", SITE, ticket_id=ORDER_ID, station=station, display_id=f"{station}-1"
            )
        )
        result = self.kitchen.handle_command(raw, None)
        assert result is not None and result.ok, result

    def expo_bump(self, minutes_after_placed: float) -> tuple[AgeState, bool]:
        """The board's state the moment before expo bumps, and whether it counted late."""
        board = age_ticket(
            self.ticket(), PLACED + timedelta(minutes=minutes_after_placed), self.settings
        )
        self.bump("expo", minutes_after_placed)
        assert self.ticket().status is TicketStatus.READY
        assert self.metrics.counted.count("tickets.ready") == 1
        return board.state, "tickets.late" in self.metrics.counted


def test_ready_before_late_minutes_is_not_late(store: Store) -> None:
    assert Site(store, RULES).expo_bump(7.9) == (AgeState.WARN, False)


def test_ready_after_late_minutes_is_late(store: Store) -> None:
    assert Site(store, RULES).expo_bump(8.5) == (AgeState.LATE, True)


def test_the_sites_rules_not_a_fixed_eight_minutes(store: Store) -> None:
    relaxed = SiteSettings(expo_station="expo", aging=AgingRule(warn_minutes=10, late_minutes=20))
    assert Site(store, relaxed).expo_bump(15) == (AgeState.WARN, False)


def test_ready_past_the_promise_is_late_before_late_minutes(store: Store) -> None:
    promised = (PLACED + timedelta(minutes=3)).isoformat()
    assert Site(store, RULES, promised_at=promised).expo_bump(4) == (AgeState.LATE, True)


def test_a_station_rule_counts_while_that_station_still_works(store: Store) -> None:
    fast_fry = RULES.model_copy(
        update={"aging_stations": {"fry": AgingRule(warn_minutes=2, late_minutes=3)}}
    )
    # expo bumps while fry (late at 3 minutes) has not finished: late, as the board said
    assert Site(store, fast_fry).expo_bump(4) == (AgeState.LATE, True)


def test_a_station_rule_no_longer_counts_once_that_station_is_done(store: Store) -> None:
    fast_fry = RULES.model_copy(
        update={"aging_stations": {"fry": AgingRule(warn_minutes=2, late_minutes=3)}}
    )
    site = Site(store, fast_fry)
    site.bump("fry", 2)
    site.bump("grill", 3.5)
    # every line is done: the expo station's rule (the site's) at 4 minutes
    assert site.expo_bump(4) == (AgeState.OK, False)
