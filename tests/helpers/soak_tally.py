"""The soak's witness: a client on the site's state topic that counts what the kitchen
did (new, started, bumped, ready, picked up, voids cleared) and sends a lead's commands
(:meth:`StateTally.call`), as :mod:`tests.helpers.soak` needs them."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from shared import wire
from shared.errors import WireError
from shared.mq import Message, MqClient
from tests.helpers.site import wait_until


class StateTally:
    """Listens on the site's state topic and counts what the kitchen did."""

    def __init__(self, mq_url: str, site_id: str) -> None:
        self.site_id = site_id
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._ready: set[str] = set()
        self._bumped: set[str] = set()
        self._started: set[str] = set()
        self.counts = {
            "new": 0,
            "started": 0,
            "bumped at a station": 0,
            "ready": 0,
            "picked up": 0,
            "voids cleared": 0,
        }
        self.alive = 0
        self.last_pickup: float | None = None
        self.pickups_at: list[float] = []
        self.results: dict[str, wire.CommandResult] = {}
        self.reply_queue = f"/queue/kds.{site_id}.replies.soak-{uuid.uuid4().hex[:6]}"
        self.client = MqClient(mq_url, heartbeat_ms=2000, backoff_max=1.0, name="soak-tally")
        self.client.subscribe(wire.state_topic(site_id), self._on_state)
        self.client.subscribe(self.reply_queue, self._on_result)
        self.client.start()

    def close(self) -> None:
        self.client.close()

    def _on_state(self, message: Message) -> None:
        try:
            parsed = wire.parse_state_message(message.body)
        except WireError:
            return
        now = time.monotonic()
        with self._lock:
            if isinstance(parsed, wire.AgentAlive):
                self.alive += 1
            elif isinstance(parsed, wire.TicketUpdated):
                ticket = parsed.ticket
                if ticket.id not in self._seen:
                    self._seen.add(ticket.id)
                    self.counts["new"] += 1
                if ticket.started_at is not None and ticket.id not in self._started:
                    self._started.add(ticket.id)
                    self.counts["started"] += 1
                if set(ticket.bumped_at) - {"expo"} and ticket.id not in self._bumped:
                    self._bumped.add(ticket.id)
                    self.counts["bumped at a station"] += 1
                if ticket.status.value == "ready" and ticket.id not in self._ready:
                    self._ready.add(ticket.id)
                    self.counts["ready"] += 1
            elif isinstance(parsed, wire.TicketRemoved):
                if parsed.reason == "picked_up":
                    self.counts["picked up"] += 1
                    self.last_pickup = now
                    self.pickups_at.append(now)
                elif parsed.reason == "cancelled":
                    self.counts["voids cleared"] += 1

    def _on_result(self, message: Message) -> None:
        try:
            result = wire.parse_result(message.body)
        except WireError:
            return
        with self._lock:
            self.results[result.command_id] = result

    def call(self, kind: str, timeout: float = 15.0, **fields: Any) -> wire.CommandResult:
        """Send a command as a tool would and wait for its result."""
        command = wire.make_command(kind, self.site_id, display_id="soak", **fields)
        wait_until(lambda: self.client.connected, timeout)
        self.client.send(
            wire.command_queue(self.site_id),
            wire.encode(command),
            headers={"reply-to": self.reply_queue},
            receipt_timeout=10,
        )
        result = wait_until(lambda: self.results.get(command.command_id), timeout)
        assert result is not None
        return result

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self.counts)

    def pickups_since(self, since: float) -> int:
        with self._lock:
            return sum(1 for at in self.pickups_at if at >= since)
