"""The kitchen's side effects beyond the screens: prints, customer texts, reporting, metrics.

:class:`Effects` is called by :class:`~edge_agent.kitchen.Kitchen` inside the store
transaction of the change that causes the effect, and only *enqueues* outbox rows
(or, for metrics, sends a best-effort UDP datagram). The outbox workers deliver.

Idempotency keys make each effect happen once per cause:

=============================  ==============================================
``print:{ticket}:{station}:{kind}:{trigger}``  one kitchen ticket / bag label per trigger
``reprint:{command_id}``       one reprint per display command
``sns:{order}:{kind}:sms``     one text per (order, kind): ready, cancelled
``sns:{order}:unavailable:{line}:sms``  one "item unavailable" text per line
``sns:{order}:{kind}:topic``   one pickup/courier notification per (order, kind)
``report:{event_id}``          one Kafka lifecycle event per lifecycle step
=============================  ==============================================

Rows go to their channel with ``dest`` chosen so that one stuck destination never
holds back the others: a printer's jobs queue per station (an offline printer
waits alone), notifications and reports per order.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from edge_agent.outbox import Channel
from edge_agent.ports import Metrics, NoMetrics
from edge_agent.store import Store
from shared.aging import late_when_ready
from shared.model import Customer, Ticket, TicketItem
from shared.wire import SiteSettings

log = logging.getLogger("edge.effects")


#: ``render(kind, brand_id=..., brand_name=..., number=..., first_name=..., item=...)``
RenderText = Callable[..., str]


@dataclass(frozen=True)
class EffectRules:
    """What to print, text and report, from the agent's configuration."""

    site_id: str
    #: station -> triggers (``new``, ``ready``) for its kitchen ticket
    print_on: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: stations whose printer also prints the pickup bag label on ready
    label_stations: tuple[str, ...] = ()
    sms: bool = False
    topic_arn: str = ""
    render_text: RenderText | None = None
    report: bool = False


def first_name(name: str) -> str:
    return name.strip().split(" ", 1)[0] if name.strip() else ""


class Effects:
    def __init__(
        self,
        store: Store,
        rules: EffectRules,
        metrics: Metrics | None = None,
        *,
        site_settings: SiteSettings | None = None,
    ) -> None:
        self._store = store
        self.rules = rules
        self.metrics: Metrics = metrics or NoMetrics()
        #: the site's aging rules (``[aging]``), for ``tickets.late``
        self.site_settings = site_settings or SiteSettings()

    def ready_late(self, ticket: Ticket, *, before: Ticket | None = None) -> bool:
        """Whether the ready ``ticket`` counts in ``tickets.late``: it was LATE by the
        site's aging rules at ``ready_at``, as the board and expo showed it the moment
        before (``before``: the ticket just before it turned ready); the rule every
        screen uses (:func:`shared.aging.late_when_ready`)."""
        return late_when_ready(ticket, self.site_settings, before=before)

    # --- called by the kitchen, inside its transaction ---------------------------------

    def on_lifecycle(
        self,
        ticket: Ticket,
        kind: str,
        *,
        station: str,
        event_id: str,
        at: str,
        seconds_since_received: float | None,
        before: Ticket | None = None,
    ) -> None:
        """``ticket`` took the lifecycle step ``kind``; ``before``: the ticket as it was
        just before the command that made the step (for ``tickets.late``)."""
        self._report(ticket, kind, station, event_id, at, seconds_since_received)
        self._metrics(ticket, kind, station, seconds_since_received, before)
        if kind == "received":
            self._print_tickets(ticket, "new")
        elif kind == "ready":
            self._print_tickets(ticket, "ready")
            self._print_labels(ticket)
            self._notify(ticket, "ready")
        elif kind == "cancelled":
            self._notify(ticket, "cancelled")

    def on_item_unavailable(self, ticket: Ticket, item: TicketItem) -> None:
        self._notify(ticket, "unavailable", item=item)

    def reprint(self, ticket: Ticket, station: str, kind: str, command_id: str) -> bool:
        """A reprint asked for from a display; ``False`` if that station has no printer."""
        if kind == "label":
            printer = station if station in self.rules.label_stations else None
            printer = printer or next(iter(self.rules.label_stations), None)
        else:
            printer = station if station in self.rules.print_on else None
        if printer is None:
            return False
        self._enqueue_print(f"reprint:{command_id}", printer, kind, ticket, station=station)
        return True

    # --- printing -------------------------------------------------------------------------

    def _print_tickets(self, ticket: Ticket, trigger: str) -> None:
        for station, triggers in self.rules.print_on.items():
            if trigger in triggers and ticket.items_at(station):
                key = f"print:{ticket.id}:{station}:ticket:{trigger}"
                self._enqueue_print(key, station, "ticket", ticket, station=station)

    def _print_labels(self, ticket: Ticket) -> None:
        for station in self.rules.label_stations:
            key = f"print:{ticket.id}:{station}:label:ready"
            self._enqueue_print(key, station, "label", ticket, station=station)

    def _enqueue_print(
        self, key: str, printer: str, kind: str, ticket: Ticket, *, station: str
    ) -> None:
        body = {
            "job_id": key,
            "kind": kind,
            "station": station,
            "first_name": first_name(ticket.customer.name),
            "ticket": ticket.model_dump(mode="json", exclude_none=True),
        }
        self._store.enqueue(Channel.PRINT, kind, key, printer, json.dumps(body).encode())

    # --- customer and courier notifications ----------------------------------------------

    def _notify(self, ticket: Ticket, kind: str, *, item: TicketItem | None = None) -> None:
        render = self.rules.render_text
        if render is None or not (self.rules.sms or self.rules.topic_arn):
            return
        customer = self._customer(ticket.id)
        text = render(
            kind,
            brand_id=ticket.brand.id,
            brand_name=ticket.brand.name,
            number=ticket.display_number,
            first_name=first_name(ticket.customer.name),
            item=item.name if item else "",
        )
        suffix = f"{kind}:{item.line_id}" if item else kind
        if self.rules.sms and customer.notify and not customer.phone:
            log.warning(
                "order %s: no %s text: customer.phone is missing or not an E.164 number",
                ticket.id,
                kind,
            )
        elif self.rules.sms and customer.notify:
            body: dict[str, Any] = {
                "order_id": ticket.id,
                "kind": kind,
                "phone": customer.phone,
                "text": text,
            }
            self._store.enqueue(
                Channel.NOTIFY,
                "sms",
                f"sns:{ticket.id}:{suffix}:sms",
                ticket.id,
                json.dumps(body).encode(),
            )
        if self.rules.topic_arn:
            attributes = {
                "site": self.rules.site_id,
                "brand": ticket.brand.id,
                "channel": ticket.channel,
                "order_id": ticket.id,
                "kind": kind,
            }
            body = {
                "order_id": ticket.id,
                "kind": kind,
                "topic_arn": self.rules.topic_arn,
                "text": text,
                "attributes": attributes,
            }
            self._store.enqueue(
                Channel.NOTIFY,
                "topic",
                f"sns:{ticket.id}:{suffix}:topic",
                ticket.id,
                json.dumps(body).encode(),
            )

    def _customer(self, order_id: str) -> Customer:
        """The order's customer as validated (a phone only in E.164 form, else none):
        the stored order is the core's JSON as it came."""
        order = self._store.order(order_id) or {}
        try:
            return Customer.model_validate(order.get("customer") or {})
        except ValidationError:  # the order was valid when stored; scrubbed or not
            return Customer()

    # --- reporting ----------------------------------------------------------------------

    def _report(
        self,
        ticket: Ticket,
        kind: str,
        station: str,
        event_id: str,
        at: str,
        seconds_since_received: float | None,
    ) -> None:
        if not self.rules.report:
            return
        event: dict[str, Any] = {
            "v": 1,
            "event_id": event_id,
            "type": kind,
            "order_id": ticket.id,
            "site_id": self.rules.site_id,
            "brand": ticket.brand.id,
            "channel": ticket.channel,
            "station": station,
            "at": at,
            "seconds_since_received": seconds_since_received,
        }
        self._store.enqueue(
            Channel.REPORT,
            "lifecycle",
            f"report:{event_id}",
            ticket.id,
            json.dumps(event).encode(),
        )

    def _metrics(
        self,
        ticket: Ticket,
        kind: str,
        station: str,
        seconds: float | None,
        before: Ticket | None = None,
    ) -> None:
        tags = {"brand": ticket.brand.id, "channel": ticket.channel}
        if station:
            tags["station"] = station
        try:
            if kind == "received":
                self.metrics.increment("tickets.received", tags=tags)
            elif kind == "station_bumped" and seconds is not None:
                self.metrics.histogram("ticket.station_time", seconds, tags=tags)
            elif kind == "ready":
                self.metrics.increment("tickets.ready", tags=tags)
                if seconds is not None:
                    self.metrics.histogram("ticket.time_to_ready", seconds, tags=tags)
                if self.ready_late(ticket, before=before):
                    self.metrics.increment("tickets.late", tags=tags)
            elif kind in ("picked_up", "cancelled", "recalled", "started"):
                self.metrics.increment(f"tickets.{kind}", tags=tags)
        except Exception:  # metrics are best effort, never a reason to fail a change
            log.debug("metric for %s failed", kind, exc_info=True)
