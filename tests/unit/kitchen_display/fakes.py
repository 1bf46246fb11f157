"""In-memory stand-ins for the broker and the edge agent, and ticket factories.

* :class:`FakeBroker` routes frames like ActiveMQ does, on its own delivery thread
  (as stomp.py's receiver thread calls :class:`shared.mq.MqClient` handlers):
  a ``/topic/...`` frame goes to every connected subscriber, a ``/queue/...`` frame
  to one consumer, and waits in the queue while no consumer is connected.
* :class:`FakeMq` is one client of it with :class:`~shared.mq.MqClient`'s interface
  (``subscribe``, ``send``, ``on_state_change``, ``start``, ``close``, ``connected``);
  tests drop and restore its link with :meth:`FakeMq.set_connected`.
* :class:`FakeAgent` plays the site's edge agent: it answers ``snapshot`` with its
  tickets and ``seq``, answers other commands ``ok`` (or refuses them as told) but
  never changes a ticket by itself (or, for the kinds in ``silent``, says nothing);
  tests publish state with :meth:`FakeAgent.publish`.

"""

from __future__ import annotations

import itertools
import queue
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kitchen_display.config import DisplayConfig, DisplaySettings
from shared.errors import MqNotConnected
from shared.model import Ticket, TicketStatus
from shared.mq import Message
from shared.wire import (
    CommandResult,
    SettingsUpdated,
    SiteSettings,
    TicketRemoved,
    TicketUpdated,
    command_queue,
    encode,
    parse_command,
    state_topic,
)

SITE = "ams-01"


# =============================================================================
# Fake broker and client
# =============================================================================


@dataclass
class _Sub:
    sub_id: str
    destination: str
    handler: Callable[[Message], None]
    client: FakeMq


@dataclass(frozen=True)
class Sent:
    """One frame a client sent, as the broker saw it."""

    sender: str
    destination: str
    body: bytes
    headers: dict[str, str]
    persistent: bool


class FakeBroker:
    """An in-memory STOMP broker with one delivery thread."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._subs: list[_Sub] = []
        self._held: dict[str, list[tuple[bytes, dict[str, str]]]] = {}
        self._round_robin = itertools.count()
        self.sent: list[Sent] = []
        self.errors: list[BaseException] = []
        self._thread = threading.Thread(target=self._run, name="fake-broker", daemon=True)
        self._thread.start()

    def client(self, name: str = "client", *, auto_connect: bool = True) -> FakeMq:
        return FakeMq(self, name, auto_connect=auto_connect)

    def sent_to(self, destination: str) -> list[Sent]:
        with self._lock:
            return [frame for frame in self.sent if frame.destination == destination]

    def publish(self, destination: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        """Send a frame from outside any client (a third party on the broker)."""
        self._post(lambda: self._route(destination, body, dict(headers or {})))

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until every frame posted so far has been delivered."""
        done = threading.Event()
        self._post(done.set)
        assert done.wait(timeout), "fake broker did not drain"

    def close(self) -> None:
        self._jobs.put(None)
        self._thread.join(5)

    # --- internals --------------------------------------------------------------------

    def _post(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except BaseException as exc:  # surfaced by the broker fixture
                self.errors.append(exc)

    def _add_sub(self, sub: _Sub) -> None:
        with self._lock:
            self._subs.append(sub)

    def _record(self, frame: Sent) -> None:
        with self._lock:
            self.sent.append(frame)

    def _route(self, destination: str, body: bytes, headers: dict[str, str]) -> None:
        with self._lock:
            live = [
                sub for sub in self._subs if sub.destination == destination and sub.client.connected
            ]
        if destination.startswith("/topic/"):
            targets = live
        elif live:
            targets = [live[next(self._round_robin) % len(live)]]
        else:
            self._held.setdefault(destination, []).append((body, headers))
            return
        for sub in targets:
            self._deliver(sub, body, headers)

    def _deliver(self, sub: _Sub, body: bytes, headers: dict[str, str]) -> None:
        frame_headers = {
            "destination": sub.destination,
            "subscription": sub.sub_id,
            "message-id": uuid.uuid4().hex,
            **headers,
        }
        message = Message(
            destination=sub.destination,
            body=body,
            headers=frame_headers,
            subscription=sub.sub_id,
            ack_id=None,
            generation=sub.client.generation,
        )
        sub.handler(message)

    def _release_held(self) -> None:
        with self._lock:
            held, self._held = self._held, {}
        for destination, frames in held.items():
            for body, headers in frames:
                self._route(destination, body, headers)


class FakeMq:
    """A :class:`shared.mq.MqClient` stand-in attached to a :class:`FakeBroker`."""

    def __init__(self, broker: FakeBroker, name: str, *, auto_connect: bool) -> None:
        self.broker = broker
        self.name = name
        self.auto_connect = auto_connect
        self.generation = 0
        self.started = False
        self.closed = False
        self.subscriptions: list[tuple[str, str]] = []  # (destination, ack) in call order
        #: True: frames sent now are lost on the way (never routed, never confirmed); their
        #: receipt callbacks are told False when the link goes down, as MqClient does
        self.lose_frames = False
        self._unconfirmed: list[Callable[[bool], None]] = []
        self._connected = threading.Event()
        self._callbacks: list[Callable[[bool], None]] = []

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> FakeMq:
        self.started = True
        if self.auto_connect:
            self.set_connected(True)
        return self

    def close(self) -> None:
        self.closed = True
        self.set_connected(False)

    def on_state_change(self, callback: Callable[[bool], None]) -> None:
        self._callbacks.append(callback)

    def subscribe(
        self,
        destination: str,
        handler: Callable[[Message], None],
        *,
        ack: str = "auto",
        headers: dict[str, str] | None = None,
    ) -> str:
        sub_id = uuid.uuid4().hex[:12]
        self.subscriptions.append((destination, ack))
        self.broker._add_sub(_Sub(sub_id, destination, handler, self))
        return sub_id

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        persistent: bool = True,
        receipt_timeout: float | None = None,
        on_receipt: Callable[[bool], None] | None = None,
    ) -> None:
        if not self.connected:
            raise MqNotConnected(f"{self.name}: not connected")
        frame_headers = dict(headers or {})
        frame_headers["persistent"] = "true" if persistent else "false"
        if self.lose_frames:
            if on_receipt is not None:
                self._unconfirmed.append(on_receipt)
            return
        self.broker._record(Sent(self.name, destination, bytes(body), frame_headers, persistent))
        self.broker.publish(destination, bytes(body), frame_headers)
        if on_receipt is not None:
            # the broker took it: the receipt comes on the broker's thread, as stomp.py's
            self.broker._post(lambda: on_receipt(True))

    def set_connected(self, up: bool) -> None:
        """Bring the link up or down; callbacks run on the broker thread, like stomp.py's."""

        def change() -> None:
            if up == self.connected:
                return
            self.generation += 1
            if up:
                self._connected.set()
            else:
                self._connected.clear()
                lost, self._unconfirmed = self._unconfirmed, []
                for on_receipt in lost:
                    on_receipt(False)
            for callback in list(self._callbacks):
                callback(up)
            if up:
                self.broker._release_held()

        self.broker._post(change)


def as_fake(mq: object) -> FakeMq:
    """A display's (or a sync's) broker client, which in these tests is a :class:`FakeMq`."""
    assert isinstance(mq, FakeMq), f"not a FakeMq: {mq!r}"
    return mq


# =============================================================================
# Fake agent
# =============================================================================


class FakeAgent:
    """The site's edge agent, reduced to what a display sees of it."""

    def __init__(self, broker: FakeBroker, site_id: str = SITE) -> None:
        self.broker = broker
        self.site_id = site_id
        self.tickets: dict[str, Ticket] = {}
        self.seq = 0
        self.commands: list[Any] = []
        self.reply_to: dict[str, str] = {}
        #: kind -> (error, detail) or (error, detail, reason) to refuse every command of
        #: that kind (a snapshot too)
        self.refuse: dict[str, tuple[str, ...]] = {}
        #: kinds taken (recorded) but never answered, as a stuck agent or a lost frame
        self.silent: set[str] = set()
        #: False: snapshot requests are recorded (with the state as of then) but not answered
        self.answer_snapshots = True
        self._held_snapshots: list[tuple[str, str, CommandResult]] = []
        self._lock = threading.Lock()
        self.mq = broker.client(f"agent-{site_id}")
        self.mq.subscribe(command_queue(site_id), self._on_command, ack="client-individual")
        self.mq.start()

    # --- what tests call --------------------------------------------------------------

    def publish(self, ticket: Ticket, *, seq: int | None = None, lose: bool = False) -> int:
        """Store ``ticket`` and publish ``ticket.updated`` (``lose``: the frame is lost)."""
        with self._lock:
            seq = self._next_seq(seq)
            self.tickets[ticket.id] = ticket
        if not lose:
            message = TicketUpdated(site_id=self.site_id, seq=seq, ticket=ticket)
            self.broker.publish(state_topic(self.site_id), encode(message))
        return seq

    def remove(self, ticket_id: str, *, seq: int | None = None, lose: bool = False) -> int:
        with self._lock:
            seq = self._next_seq(seq)
            self.tickets.pop(ticket_id, None)
        if not lose:
            message = TicketRemoved(site_id=self.site_id, seq=seq, ticket_id=ticket_id)
            self.broker.publish(state_topic(self.site_id), encode(message))
        return seq

    def publish_settings(
        self, settings: SiteSettings, *, seq: int | None = None, lose: bool = False
    ) -> int:
        """Publish ``site.settings`` (a state message: it takes a ``seq``)."""
        with self._lock:
            seq = self._next_seq(seq)
        if not lose:
            message = SettingsUpdated(site_id=self.site_id, seq=seq, settings=settings)
            self.broker.publish(state_topic(self.site_id), encode(message))
        return seq

    def release_snapshots_with(self, settings: SiteSettings) -> None:
        """Answer the held snapshot requests, each carrying ``settings`` too."""
        with self._lock:
            held, self._held_snapshots = self._held_snapshots, []
        for reply_to, _command_id, result in held:
            answer = result.model_copy(update={"settings": settings})
            self.broker.publish(reply_to, encode(answer))

    def publish_raw(self, body: bytes) -> None:
        """Publish any bytes on the state topic (malformed frames)."""
        self.broker.publish(state_topic(self.site_id), body)

    def snapshot_requests(self) -> list[Any]:
        return [command for command in self.commands if command.type == "snapshot"]

    def commands_of(self, kind: str) -> list[Any]:
        return [command for command in self.commands if command.type == kind]

    def release_snapshots(self) -> None:
        """Answer the held snapshot requests with the state as of their arrival."""
        with self._lock:
            held, self._held_snapshots = self._held_snapshots, []
        for reply_to, _command_id, result in held:
            self.broker.publish(reply_to, encode(result))

    # --- internals --------------------------------------------------------------------

    def _next_seq(self, seq: int | None) -> int:
        if seq is None:
            self.seq += 1
            return self.seq
        self.seq = max(self.seq, seq)
        return seq

    def _on_command(self, message: Message) -> None:
        command = parse_command(message.body)
        reply_to = message.reply_to or ""
        with self._lock:
            self.commands.append(command)
            self.reply_to[command.command_id] = reply_to
            if command.type in self.refuse:
                error, detail, *reason = self.refuse[command.type]
                result = CommandResult(
                    site_id=self.site_id,
                    command_id=command.command_id,
                    ok=False,
                    error=error,
                    detail=detail,
                    reason=reason[0] if reason else None,
                )
            elif command.type == "snapshot":
                open_tickets = tuple(
                    t
                    for t in self.tickets.values()
                    if t.is_open or t.status is TicketStatus.CANCELLED
                )
                result = CommandResult(
                    site_id=self.site_id,
                    command_id=command.command_id,
                    ok=True,
                    seq=self.seq,
                    tickets=open_tickets,
                )
                if not self.answer_snapshots:
                    self._held_snapshots.append((reply_to, command.command_id, result))
                    return
            elif command.type in self.silent:
                return
            else:
                result = CommandResult(site_id=self.site_id, command_id=command.command_id, ok=True)
        if reply_to:
            self.broker.publish(reply_to, encode(result))


# =============================================================================
# Tickets and configs
# =============================================================================

NOW = datetime(2026, 11, 24, 18, 0, 0, tzinfo=UTC)

_counter = itertools.count(1)


def ticket(
    ticket_id: str | None = None,
    *,
    lines: Sequence[tuple[str, str] | dict[str, Any]] | None = None,
    status: str = "accepted",
    priority: str = "normal",
    placed_at: datetime | None = None,
    minutes_ago: float = 1.0,
    number: str | None = None,
    brand: tuple[str, str] = ("b_burger", "Burger Bros"),
    channel: str = "ubereats",
    notes: str = "",
    version: int = 1,
    customer: str = "",
) -> Ticket:
    """A ticket; ``lines`` are ``(station, name)`` pairs or full item dicts."""
    n = next(_counter)
    ticket_id = ticket_id or f"ord_{n:04d}"
    items = []
    for i, line in enumerate(lines or [("grill", "Classic Burger")]):
        if isinstance(line, tuple):
            station, name = line
            line = {"station": station, "name": name}
        item = {
            "line_id": f"l{i + 1}",
            "sku": line["name"].lower().replace(" ", "-"),
            "qty": 1,
            **line,
        }
        items.append(item)
    placed = placed_at or (datetime.now(UTC) - timedelta(minutes=minutes_ago))
    return Ticket.model_validate(
        {
            "id": ticket_id,
            "version": version,
            "site_id": SITE,
            "brand": {"id": brand[0], "name": brand[1]},
            "channel": channel,
            "display_number": number or str(100 + n),
            "placed_at": placed.isoformat(),
            "priority": priority,
            "customer": {"name": customer},
            "notes": notes,
            "items": items,
            "status": status,
        }
    )


def revise(
    base: Ticket, *, station: str | None = None, item: dict[str, Any] | None = None, **fields: Any
) -> Ticket:
    """The next version of ``base``: ``fields`` replaced, and ``item`` fields replaced on
    every line (only ``station``'s lines when given). Validated like a wire ticket, so
    ``status="done"`` becomes the enum."""
    data = base.model_dump(mode="json")
    data["version"] = base.version + 1
    data.update(fields)
    for line in data["items"]:
        if item and (station is None or line["station"] == station):
            line.update(item)
    return Ticket.model_validate(data)


def present(ticket: Ticket | None) -> Ticket:
    """``ticket``, which the test expects to be there (in ``qtbot.waitUntil``: not yet)."""
    assert ticket is not None, "no such ticket"
    return ticket


def with_items(base: Ticket, **item_fields: Any) -> Ticket:
    """``base`` with every line's fields (e.g. ``status="done"``) replaced."""
    return revise(base, item=item_fields)


def display_config(
    station: str = "grill", display_id: str | None = None, **display: Any
) -> DisplayConfig:
    return DisplayConfig(
        site_id=SITE,
        display_id=display_id or f"{station}-1",
        station=station,
        expo_station="expo",
        display=DisplaySettings(**display),
    )
