"""Keeping the display's copy of the site's tickets in step with the edge agent.

:class:`TicketSync` is plain logic (no widgets). It subscribes to the site's state
topic and to this display's reply queue, asks for a ``snapshot`` on every
(re)connect, applies ``ticket.updated`` / ``ticket.removed`` messages strictly in
``seq`` order, and heals gaps with a new snapshot::

    seq <= last          ignored (a duplicate, e.g. after an agent restart)
    seq == last + 1      applied
    seq >  last + 1      a gap: ask for a snapshot, buffer until it arrives

While a snapshot is pending every state message is buffered; when the answer
arrives (matched by ``command_id``) the tickets are replaced by it, ``last`` is
set to its ``seq`` and the buffered messages newer than that are applied. A
snapshot request that gets no answer within
``display.snapshot_timeout_seconds`` is sent again.

Threads: the MQ client calls handlers on its own receiver thread. Those handlers
only emit a private signal carrying the raw bytes; a queued connection delivers it
to a slot on the Qt thread, where all parsing and state changes happen.

The display never changes a ticket by itself: :meth:`TicketSync.send_command`
sends a command and the screen changes when the agent publishes the result.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot

from kitchen_display.config import DisplayConfig
from shared.errors import MqError, WireError
from shared.model import Ticket
from shared.wire import (
    AgentAlive,
    CommandResult,
    SettingsUpdated,
    SiteSettings,
    StateMessage,
    TicketRemoved,
    TicketUpdated,
    command_queue,
    encode,
    make_command,
    parse_result,
    parse_state_message,
    state_topic,
)

log = logging.getLogger("kds.sync")

#: how many sent commands are remembered while their results are outstanding
_MAX_PENDING_COMMANDS = 500
#: how many of this display's bumps ``R`` (recall) can walk back through
_MAX_RECALL_HISTORY = 50

#: how many commands wait while the broker is unreachable (then the oldest is dropped)
MAX_QUEUED_COMMANDS = 500

_STATE = "state"
_REPLY = "reply"


class MqLike(Protocol):
    """The part of :class:`shared.mq.MqClient` the display uses (tests pass a fake)."""

    def start(self) -> Any: ...

    def close(self) -> None: ...

    def subscribe(self, destination: str, handler: Any, *, ack: str = ...) -> str: ...

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = ...,
        persistent: bool = ...,
    ) -> None: ...

    def on_state_change(self, callback: Any) -> None: ...


@dataclass(frozen=True)
class PendingCommand:
    """A cook's command waiting for the broker (kept with its ``command_id``)."""

    command_id: str
    kind: str
    ticket_id: str
    #: ``time.time()`` when it was queued
    queued_at: float
    body: bytes
    headers: tuple[tuple[str, str], ...]


class TicketSync(QObject):
    """The display's replica of the site's open tickets, fed by the agent over MQ.

    Signals (all emitted on the Qt thread):

    * ``ticketUpserted(Ticket)``: a ticket was created or changed.
    * ``ticketRemoved(str)``: a ticket left the board (picked up, cleared, expired).
    * ``ticketsReset(list[Ticket])``: a snapshot replaced every ticket.
    * ``connectionChanged(bool)``: the broker connection went up or down.
    * ``commandFailed(str)``: a command was refused or could not be sent; the text is
      ready for the screen (``"Bump refused: ticket ord_x is cancelled"``).
    * ``commandResult(CommandResult)``: every result for a command of this display.
    * ``seqChanged(int)``: the last applied state ``seq``.
    * ``settingsChanged(SiteSettings)``: the site's shared settings changed (a
      ``site.settings`` message, or a snapshot that carries different ones).
    """

    ticketUpserted = Signal(object)
    ticketRemoved = Signal(str)
    ticketsReset = Signal(list)
    connectionChanged = Signal(bool)
    #: False when the broker is up but the agent has said nothing for
    #: ``display.agent_timeout_seconds`` (no ``agent.alive``, state or result)
    agentChanged = Signal(bool)
    #: the agent's list of current problems (agent.alive), emitted when it changes
    problemsChanged = Signal(list)
    commandFailed = Signal(str)
    commandResult = Signal(object)
    seqChanged = Signal(int)
    #: commands queued while the broker is unreachable (count); sent in order on reconnect
    pendingChanged = Signal(int)
    #: the site's shared settings (``site.settings`` or a snapshot's ``settings``)
    #: changed; carries the new :class:`~shared.wire.SiteSettings`
    settingsChanged = Signal(object)

    # Private: emitted on the MQ client's threads, delivered queued to the Qt thread.
    _frameReceived = Signal(str, object)
    _linkChanged = Signal(bool)

    def __init__(self, config: DisplayConfig, mq: MqLike, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._config = config
        self._mq = mq
        self._tickets: dict[str, Ticket] = {}
        self._settings: SiteSettings | None = None
        self._last_seq: int | None = None
        self._connected = False
        self._started = False
        self._closed = False
        #: command_ids of snapshot requests still unanswered (a resend adds one)
        self._snapshot_ids: set[str] = set()
        self._buffer: list[StateMessage] = []
        #: command_id -> (kind, ticket_id) for results still to come
        self._commands: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._bumped: list[str] = []
        #: commands not sent yet (no connection), oldest first
        self._queue: deque[PendingCommand] = deque()

        self._agent_ok = True
        self._problems: tuple[str, ...] = ()
        self._agent_seen = time.monotonic()
        self._agent_timer = QTimer(self)
        self._agent_timer.setInterval(1000)
        self._agent_timer.timeout.connect(self._on_agent_check)

        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.setInterval(round(config.display.snapshot_timeout_seconds * 1000))
        self._snapshot_timer.timeout.connect(self._on_snapshot_timeout)

        self._frameReceived.connect(self._on_frame, Qt.ConnectionType.QueuedConnection)
        self._linkChanged.connect(self._on_link_changed, Qt.ConnectionType.QueuedConnection)

    # --- public API -------------------------------------------------------------------

    @property
    def config(self) -> DisplayConfig:
        return self._config

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (as last reported on the Qt thread)."""
        return self._connected

    @property
    def agent_ok(self) -> bool:
        """False once the agent has been silent for ``display.agent_timeout_seconds``."""
        return self._agent_ok

    @property
    def last_seq(self) -> int | None:
        """The ``seq`` of the last applied state message; ``None`` before the first snapshot."""
        return self._last_seq

    @property
    def settings(self) -> SiteSettings | None:
        """The site's shared settings as last published; ``None`` until the agent sent any."""
        return self._settings

    @property
    def snapshot_pending(self) -> bool:
        return bool(self._snapshot_ids)

    @property
    def synced(self) -> bool:
        """Whether the tickets are known to be current (a snapshot arrived, no gap open)."""
        return self._last_seq is not None and not self._snapshot_ids

    def tickets(self) -> list[Ticket]:
        """Every ticket the agent has told this display about, in no particular order."""
        return list(self._tickets.values())

    def ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def recall_candidate(self) -> str | None:
        """The ticket this display bumped last (and has not recalled since), if any."""
        return self._bumped[-1] if self._bumped else None

    def start(self) -> None:
        """Subscribe (state topic, then reply queue), watch the link and start the client."""
        if self._started:
            return
        self._started = True
        self._mq.subscribe(state_topic(self._config.site_id), self._handle_state_frame, ack="auto")
        self._mq.subscribe(self._config.reply_queue, self._handle_reply_frame, ack="auto")
        self._mq.on_state_change(self._handle_link)
        self._agent_timer.start()
        self._mq.start()
        if getattr(self._mq, "connected", False):
            # Already up (a shared or pre-started client): no callback will tell us.
            self._linkChanged.emit(True)

    def close(self) -> None:
        """Stop timers and close the MQ client. Frames still in flight are dropped."""
        if self._closed:
            return
        self._closed = True
        if self._queue:
            log.warning("closing with %d commands never sent", len(self._queue))
        self._snapshot_timer.stop()
        self._agent_timer.stop()
        try:
            self._mq.close()
        except Exception:
            log.exception("closing the MQ client failed")

    def send_command(self, kind: str, /, **fields: Any) -> str:
        """Send one command to the site's agent; return its ``command_id``.

        ``display_id`` and ``station`` are filled in from the configuration. A command
        that cannot be sent now (no connection, or the send fails) is queued with its
        ``command_id`` and sent, in order, on reconnect (the agent de-duplicates by
        ``command_id``); while any command waits, newer ones queue behind it so the
        agent sees them in the order the cook gave them. A ``snapshot`` is never
        queued (every connect asks for one anyway).
        """
        fields.setdefault("display_id", self._config.display_id)
        fields.setdefault("station", self._config.station)
        command = make_command(kind, self._config.site_id, **fields)
        ticket_id = str(fields.get("ticket_id", ""))
        if kind != "snapshot":
            self._commands[command.command_id] = (kind, ticket_id)
            while len(self._commands) > _MAX_PENDING_COMMANDS:
                self._commands.popitem(last=False)
        headers = {"reply-to": self._config.reply_queue}
        if kind == "snapshot":
            # A snapshot is only worth its answer while we wait for it: it must not pile
            # up in the queue while the agent is down (we ask again on every timeout).
            timeout_ms = round(self._config.display.snapshot_timeout_seconds * 1000)
            headers["expires"] = str(int(time.time() * 1000) + 2 * timeout_ms)
        body = encode(command)
        if kind != "snapshot" and self._queue and self._connected:
            # left over from a send that failed while the link stayed up: try them first
            self.flush_pending()
        if kind != "snapshot" and (self._queue or not self._connected):
            self._enqueue(
                PendingCommand(
                    str(command.command_id),
                    kind,
                    ticket_id,
                    time.time(),
                    body,
                    tuple(headers.items()),
                )
            )
            return str(command.command_id)
        try:
            self._mq.send(
                command_queue(self._config.site_id),
                body,
                headers=headers,
                persistent=kind != "snapshot",
            )
        except MqError as exc:
            log.warning("%s command %s not sent: %s", kind, command.command_id, exc)
            if kind != "snapshot":
                self._enqueue(
                    PendingCommand(
                        str(command.command_id),
                        kind,
                        ticket_id,
                        time.time(),
                        body,
                        tuple(headers.items()),
                    )
                )
        else:
            log.debug("sent %s %s %s", kind, command.command_id, ticket_id)
        return str(command.command_id)

    # --- the offline command queue ----------------------------------------------------

    def pending_commands(self) -> list[PendingCommand]:
        """Commands queued while the broker is unreachable, oldest first."""
        return list(self._queue)

    def pending_for(self, ticket_id: str) -> list[str]:
        """The kinds of the queued commands for ``ticket_id`` (``["bump"]``), oldest first.

        For the card's "⏳ BUMP pending" mark; ``pendingChanged`` says when to look again.
        """
        return [pending.kind for pending in self._queue if pending.ticket_id == ticket_id]

    def flush_pending(self) -> int:
        """Send the queued commands in order (done on every reconnect); return how many
        went. Stops at the first one that cannot be sent; the rest stay queued."""
        sent = 0
        while self._queue and self._connected:
            pending = self._queue[0]
            try:
                self._mq.send(
                    command_queue(self._config.site_id),
                    pending.body,
                    headers=dict(pending.headers),
                    persistent=True,
                )
            except MqError as exc:
                log.warning(
                    "queued %s %s still not sent: %s", pending.kind, pending.command_id, exc
                )
                break
            self._queue.popleft()
            sent += 1
            log.info(
                "sent queued %s %s %s (waited %.0fs)",
                pending.kind,
                pending.command_id,
                pending.ticket_id,
                time.time() - pending.queued_at,
            )
        if sent:
            self.pendingChanged.emit(len(self._queue))
        return sent

    def _enqueue(self, pending: PendingCommand) -> None:
        self._queue.append(pending)
        log.info(
            "%s %s %s queued until the kitchen is reachable (%d waiting)",
            pending.kind,
            pending.command_id,
            pending.ticket_id,
            len(self._queue),
        )
        while len(self._queue) > MAX_QUEUED_COMMANDS:
            dropped = self._queue.popleft()
            self._commands.pop(dropped.command_id, None)
            log.warning(
                "queue full: dropped the oldest queued %s %s %s",
                dropped.kind,
                dropped.command_id,
                dropped.ticket_id,
            )
            self.commandFailed.emit(
                QCoreApplication.translate(
                    "TicketSync",
                    "{kind} dropped: more than {limit} commands waiting for the kitchen",
                ).format(kind=_title(dropped.kind), limit=MAX_QUEUED_COMMANDS)
            )
        self.pendingChanged.emit(len(self._queue))

    def request_snapshot(self) -> str:
        """Ask the agent for every open ticket; state messages are buffered meanwhile."""
        command_id = self.send_command("snapshot")
        self._snapshot_ids.add(command_id)
        self._snapshot_timer.start()
        return command_id

    # --- MQ threads: hand everything to the Qt thread ---------------------------------

    def _handle_state_frame(self, message: Any) -> None:
        self._frameReceived.emit(_STATE, bytes(message.body))

    def _handle_reply_frame(self, message: Any) -> None:
        self._frameReceived.emit(_REPLY, bytes(message.body))

    def _handle_link(self, up: bool) -> None:
        self._linkChanged.emit(bool(up))

    # --- Qt thread --------------------------------------------------------------------

    @Slot(str, object)
    def _on_frame(self, channel: str, body: bytes) -> None:
        if self._closed:
            return
        if channel == _STATE:
            try:
                message = parse_state_message(body)
            except WireError as exc:
                log.warning("dropped a malformed state message: %s", exc)
                return
            if message.site_id != self._config.site_id:
                log.warning("dropped a state message for site %s", message.site_id)
                return
            self._heard_from_agent()
            if isinstance(message, AgentAlive):
                self._handle_alive(message)
            else:
                self._handle_state(message)
        else:
            try:
                result = parse_result(body)
            except WireError as exc:
                log.warning("dropped a malformed command result: %s", exc)
                return
            self._heard_from_agent()
            self._handle_result(result)

    @Slot(bool)
    def _on_link_changed(self, up: bool) -> None:
        if self._closed:
            return
        if up == self._connected:
            return  # e.g. start() saw a live client and its callback said so too
        self._connected = up
        log.info("broker connection %s", "up" if up else "lost")
        self.connectionChanged.emit(up)
        if up:
            self._agent_seen = time.monotonic()  # give the agent time to answer
            # The cook's queued commands go first, so the snapshot already shows them.
            self.flush_pending()
            self._resync()
        else:
            self._snapshot_timer.stop()

    @Slot()
    def _on_snapshot_timeout(self) -> None:
        if self._closed or not self._snapshot_ids:
            return
        if not self._connected:
            return  # the next connect asks again
        log.warning(
            "no snapshot answer in %.1fs; asking again",
            self._config.display.snapshot_timeout_seconds,
        )
        self.request_snapshot()

    @Slot()
    def _on_agent_check(self) -> None:
        silent = time.monotonic() - self._agent_seen
        if self._connected and self._agent_ok and silent > self._agent_timeout:
            self._agent_ok = False
            log.warning("the kitchen agent has been silent for %.0fs", silent)
            self.agentChanged.emit(False)

    def _heard_from_agent(self) -> None:
        self._agent_seen = time.monotonic()
        if not self._agent_ok:
            self._agent_ok = True
            log.info("the kitchen agent is back")
            self.agentChanged.emit(True)

    @property
    def _agent_timeout(self) -> float:
        return self._config.display.agent_timeout_seconds

    # --- the seq / snapshot logic -----------------------------------------------------

    def _handle_alive(self, message: AgentAlive) -> None:
        """``agent.alive`` carries the last published seq: a silent gap shows here."""
        if message.problems != self._problems:
            self._problems = message.problems
            self.problemsChanged.emit(list(message.problems))
        last = self._last_seq
        if self._snapshot_ids or last is None or message.seq == last:
            return
        if message.seq > last:
            log.warning(
                "agent is at seq %d, this screen at %d; asking for a snapshot", message.seq, last
            )
        else:
            log.warning(
                "agent's seq went back from %d to %d (a new database?); resyncing",
                last,
                message.seq,
            )
        self.request_snapshot()

    def _resync(self) -> None:
        # Answers to requests sent over the old connection may never come.
        self._snapshot_ids.clear()
        self.request_snapshot()

    def _handle_state(self, message: StateMessage) -> None:
        if self._snapshot_ids:
            self._buffer.append(message)
            return
        last = self._last_seq
        if last is None:
            log.info("state message seq %d before any snapshot; asking for one", message.seq)
            self._buffer.append(message)
            self.request_snapshot()
        elif message.seq <= last:
            log.debug("ignored state message seq %d (last applied %d)", message.seq, last)
        elif message.seq == last + 1:
            self._apply(message)
        else:
            log.warning("seq gap: got %d after %d; asking for a snapshot", message.seq, last)
            self._buffer.append(message)
            self.request_snapshot()

    def _apply(self, message: StateMessage) -> None:
        self._last_seq = message.seq
        if isinstance(message, TicketUpdated):
            self._tickets[message.ticket.id] = message.ticket
            self.ticketUpserted.emit(message.ticket)
        elif (
            isinstance(message, TicketRemoved)
            and self._tickets.pop(message.ticket_id, None) is not None
        ):
            self.ticketRemoved.emit(message.ticket_id)
        elif isinstance(message, SettingsUpdated):
            self._set_settings(message.settings)
        self.seqChanged.emit(message.seq)

    def _set_settings(self, settings: SiteSettings) -> None:
        if settings == self._settings:
            return
        self._settings = settings
        log.info("site settings changed (folds: %s)", dict(settings.folds) or "none")
        self.settingsChanged.emit(settings)

    def _handle_result(self, result: CommandResult) -> None:
        if result.command_id in self._snapshot_ids:
            self._handle_snapshot(result)
            return
        pending = self._commands.pop(result.command_id, None)
        if pending is None:
            log.debug("result for an unknown or old command %s ignored", result.command_id)
            return
        kind, ticket_id = pending
        if result.ok:
            if kind == "bump" and ticket_id:
                if ticket_id in self._bumped:
                    self._bumped.remove(ticket_id)
                self._bumped.append(ticket_id)
                del self._bumped[:-_MAX_RECALL_HISTORY]
            elif kind == "recall" and ticket_id in self._bumped:
                self._bumped.remove(ticket_id)
        else:
            why = result.detail or result.error or "refused"
            log.info("%s %s refused: %s (%s)", kind, ticket_id, why, result.error)
            self.commandFailed.emit(
                QCoreApplication.translate("TicketSync", "{kind} refused: {why}").format(
                    kind=_title(kind), why=why
                )
            )
        self.commandResult.emit(result)

    def _handle_snapshot(self, result: CommandResult) -> None:
        if not result.ok or result.seq is None or result.tickets is None:
            log.warning(
                "snapshot refused or incomplete (%s: %s); retrying",
                result.error,
                result.detail,
            )
            return  # the timer sends it again
        self._snapshot_ids.clear()
        self._snapshot_timer.stop()
        self._tickets = {ticket.id: ticket for ticket in result.tickets}
        self._last_seq = result.seq
        log.info("snapshot: %d tickets at seq %d", len(self._tickets), result.seq)
        if result.settings is not None:
            # Before the tickets, so the model filters them with the new folds.
            self._set_settings(result.settings)
        self.ticketsReset.emit(list(self._tickets.values()))
        self.seqChanged.emit(result.seq)
        buffered = sorted(self._buffer, key=lambda message: message.seq)
        self._buffer = []
        for message in buffered:
            self._handle_state(message)


def _title(kind: str) -> str:
    return kind.replace("_", " ").capitalize()
