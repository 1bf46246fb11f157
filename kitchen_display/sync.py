"""Keeping the display's copy of the site's tickets in step with the edge agent.

:class:`TicketSync` adapts two plain classes to Qt and the broker:

* :class:`~kitchen_display.replica.TicketReplica` holds the tickets, the site's
  settings and the ``seq``: it applies ``ticket.updated`` / ``ticket.removed`` /
  ``site.settings`` strictly in ``seq`` order, buffers them while a snapshot is
  pending and says when a gap needs a new one (its docstring has the rules).
  A new ``epoch`` (the agent's database was replaced: its ``seq`` started over) drops
  every ticket and asks for the new database's snapshot.
* :class:`~kitchen_display.command_queue.CommandQueue` holds this screen's commands
  until their results come: waiting for the broker, sent, not confirmed (sent again),
  expired; kept in a small file (``DisplayConfig.queue_file``) across restarts.

TicketSync subscribes to the site's state topic and to this display's reply queue,
asks for a ``snapshot`` on every (re)connect (and whenever the replica says so),
resends a snapshot request that gets no answer within
``display.snapshot_timeout_seconds``, and turns what the two classes return into
signals. Every command is sent with a STOMP receipt: one the broker does not confirm
before the connection goes waits to be sent again. One whose ``command.result`` does
not come within ``display.confirm_seconds`` is marked on its card and sent again with
the same ``command_id``; one unanswered ``display.queue_max_age_seconds`` after the
tap expires with a line on the screen.

Threads: the MQ client calls handlers on its own receiver thread. Those handlers
only emit a private signal carrying the raw bytes; a queued connection delivers it
to a slot on the Qt thread, where all parsing and state changes happen.

The display never changes a ticket by itself: :meth:`TicketSync.send_command`
sends a command and the screen changes when the agent publishes the result.
"""

from __future__ import annotations

import logging
import time
from typing import Protocol

from PySide6.QtCore import QCoreApplication, QObject, Qt, QTimer, Signal, Slot

from kitchen_display.command_queue import MAX_QUEUED_COMMANDS, CommandQueue, PendingCommand
from kitchen_display.config import DisplayConfig
from kitchen_display.replica import (
    AgentWatch,
    Change,
    Outcome,
    ProblemsChanged,
    Removed,
    Reset,
    SeqChanged,
    SettingsChanged,
    TicketReplica,
    Update,
    Upserted,
)
from shared.errors import MqError, WireError
from shared.model import Ticket
from shared.mq import Handler, Message, ReceiptCallback, StateCallback
from shared.wire import (
    MAX_FRAME_BYTES,
    AgentAlive,
    CommandResult,
    SiteSettings,
    StateMessage,
    command_queue,
    encode,
    make_command,
    parse_result,
    parse_state_message,
    state_topic,
)

__all__ = ["MAX_QUEUED_COMMANDS", "MqLike", "PendingCommand", "TicketSync"]

log = logging.getLogger("kds.sync")

_STATE = "state"
_REPLY = "reply"
#: after a reply too large to read, the next snapshot request waits twice as long as
#: the last (from ``display.snapshot_timeout_seconds``), up to this
SNAPSHOT_BACKOFF_MAX_SECONDS = 300.0


class MqLike(Protocol):
    """The part of :class:`shared.mq.MqClient` the display uses (tests pass a fake)."""

    @property
    def connected(self) -> bool:
        """Whether the broker connection is up (read on the Qt thread at :meth:`start`)."""
        ...

    def start(self) -> object: ...

    def close(self) -> None: ...

    def subscribe(self, destination: str, handler: Handler, *, ack: str = ...) -> str: ...

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = ...,
        persistent: bool = ...,
        on_receipt: ReceiptCallback | None = ...,
    ) -> object: ...

    def on_state_change(self, callback: StateCallback) -> None: ...


class TicketSync(QObject):
    """The display's replica of the site's open tickets, fed by the agent over MQ.

    Signals (all emitted on the Qt thread):

    * ``ticketUpserted(Ticket)``: a ticket was created or changed.
    * ``ticketRemoved(str)``: a ticket left the board (picked up, cleared, expired).
    * ``ticketsReset(list[Ticket])``: a snapshot replaced every ticket.
    * ``connectionChanged(bool)``: the broker connection went up or down.
    * ``commandFailed(str)``: a command was refused or could not be sent; the text is
      ready for the screen (``"Bump refused: ticket ord_x is cancelled"``).
    * ``commandsExpired(list[Expired])``: commands forgotten unanswered after
      ``display.queue_max_age_seconds`` (the window says which).
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
    #: commands forgotten unanswered after ``display.queue_max_age_seconds``
    #: (list[:class:`~kitchen_display.command_queue.Expired`], oldest first)
    commandsExpired = Signal(list)
    commandResult = Signal(object)
    seqChanged = Signal(int)
    #: the commands waiting to be sent (queued while the broker is unreachable; sent in
    #: order on reconnect) or not confirmed changed; carries how many wait to be sent
    pendingChanged = Signal(int)
    #: the site's shared settings (``site.settings`` or a snapshot's ``settings``)
    #: changed; carries the new :class:`~shared.wire.SiteSettings`
    settingsChanged = Signal(object)

    # Private: emitted on the MQ client's threads, delivered queued to the Qt thread.
    _frameReceived = Signal(str, object)
    _linkChanged = Signal(bool)
    #: (command_id, send number, whether the broker confirmed it)
    _receiptReceived = Signal(str, int, bool)

    def __init__(self, config: DisplayConfig, mq: MqLike, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._config = config
        self._mq = mq
        self._replica = TicketReplica()
        settings = config.display
        self._commands = CommandQueue(
            limit=MAX_QUEUED_COMMANDS,
            confirm_seconds=settings.confirm_seconds,
            max_age_seconds=settings.queue_max_age_seconds,
            path=config.queue_file(),
        )
        #: what the cards were last told (see _commands_changed)
        self._marks: tuple[tuple[str, bool], ...] = ()
        self._agent = AgentWatch(config.display.agent_timeout_seconds)
        self._connected = False
        self._started = False
        self._closed = False

        self._agent_timer = QTimer(self)
        self._agent_timer.setInterval(1000)
        self._agent_timer.timeout.connect(self._on_agent_check)

        self._snapshot_timer = QTimer(self)
        self._snapshot_timer.setSingleShot(True)
        self._snapshot_timer.setInterval(round(config.display.snapshot_timeout_seconds * 1000))
        self._snapshot_timer.timeout.connect(self._on_snapshot_timeout)
        #: replies too large to read since the last snapshot applied
        self._oversized = 0

        #: fires when the command queue has something due (a result overdue, an expiry)
        self._commands_timer = QTimer(self)
        self._commands_timer.setSingleShot(True)
        self._commands_timer.timeout.connect(self._on_commands_due)

        self._frameReceived.connect(self._on_frame, Qt.ConnectionType.QueuedConnection)
        self._linkChanged.connect(self._on_link_changed, Qt.ConnectionType.QueuedConnection)
        self._receiptReceived.connect(self._on_receipt, Qt.ConnectionType.QueuedConnection)

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
        return self._agent.ok

    @property
    def last_seq(self) -> int | None:
        """The ``seq`` of the last applied state message; ``None`` before the first snapshot."""
        return self._replica.last_seq

    @property
    def epoch(self) -> str | None:
        """The epoch of the agent's database the tickets come from (``None``: none heard
        yet, or an agent too old to send one). When it changes, the replica drops every
        ticket at once (``ticketsReset`` with none) and this asks for a snapshot."""
        return self._replica.epoch

    @property
    def settings(self) -> SiteSettings | None:
        """The site's shared settings as last published; ``None`` until the agent sent any."""
        return self._replica.settings

    @property
    def snapshot_pending(self) -> bool:
        return self._replica.snapshot_pending

    @property
    def synced(self) -> bool:
        """Whether the tickets are known to be current (a snapshot arrived, no gap open)."""
        return self._replica.synced

    def tickets(self) -> list[Ticket]:
        """Every ticket the agent has told this display about, in no particular order."""
        return self._replica.tickets()

    def ticket(self, ticket_id: str) -> Ticket | None:
        return self._replica.ticket(ticket_id)

    def recall_candidate(self) -> str | None:
        """The ticket this display bumped last (and has not recalled since), if any."""
        return self._replica.recall_candidate()

    def start(self) -> None:
        """Subscribe (state topic, then reply queue), watch the link and start the client."""
        if self._started:
            return
        self._started = True
        self._mq.subscribe(state_topic(self._config.site_id), self._handle_state_frame, ack="auto")
        self._mq.subscribe(self._config.reply_queue, self._handle_reply_frame, ack="auto")
        self._mq.on_state_change(self._handle_link)
        self._agent_timer.start()
        # commands left from the last run: the stale ones expire now, the rest are sent
        # on connect
        self._on_commands_due()
        self._mq.start()
        if self._mq.connected:
            # Already up (a shared or pre-started client): no callback will tell us.
            self._linkChanged.emit(True)

    def close(self) -> None:
        """Stop timers and close the MQ client. Frames still in flight are dropped."""
        if self._closed:
            return
        self._closed = True
        unanswered = len(self._commands.unanswered())
        if unanswered:
            log.warning(
                "closing with %d commands unanswered (kept in %s for the next start)",
                unanswered,
                self._commands.path,
            )
        self._snapshot_timer.stop()
        self._commands_timer.stop()
        self._agent_timer.stop()
        try:
            self._mq.close()
        except Exception:
            log.exception("closing the MQ client failed")

    def send_command(self, kind: str, /, **fields: object) -> str:
        """Send one command to the site's agent; return its ``command_id``.

        ``display_id`` and ``station`` are filled in from the configuration. The
        command is kept until its result comes: one that cannot be sent now (no
        connection, the send fails, or the broker does not confirm it) waits with its
        ``command_id`` and is sent, in order, on reconnect (the agent de-duplicates by
        ``command_id``); while any command waits, newer ones queue behind it so the
        agent sees them in the order the cook gave them. A ``snapshot`` is never
        queued (every connect asks for one anyway).
        """
        fields.setdefault("display_id", self._config.display_id)
        fields.setdefault("station", self._config.station)
        command = make_command(kind, self._config.site_id, **fields)
        command_id = str(command.command_id)
        headers = {"reply-to": self._config.reply_queue}
        body = encode(command)
        if kind == "snapshot":
            # A snapshot is only worth its answer while we wait for it: it must not pile
            # up in the queue while the agent is down (we ask again on every timeout).
            timeout_ms = round(self._config.display.snapshot_timeout_seconds * 1000)
            headers["expires"] = str(int(time.time() * 1000) + 2 * timeout_ms)
            try:
                self._send(body, headers, persistent=False)
            except MqError as exc:
                log.warning("snapshot request %s not sent: %s", command_id, exc)
            return command_id
        ticket_id = str(fields.get("ticket_id", ""))
        ticket = self._replica.ticket(ticket_id) if ticket_id else None
        number = ticket.display_number if ticket is not None else ""
        dropped = self._commands.add(command_id, kind, ticket_id, body, headers, number=number)
        for gone in dropped:
            self.commandFailed.emit(
                QCoreApplication.translate(
                    "TicketSync",
                    "{kind} dropped: more than {limit} commands waiting for the kitchen",
                ).format(kind=_title(gone.kind), limit=self._commands.limit)
            )
        if self._connected:
            self._commands.flush(self._send_pending)
        self._commands_changed()
        return command_id

    def request_snapshot(self) -> str:
        """Ask the agent for every open ticket; state messages are buffered meanwhile."""
        command_id = self.send_command("snapshot")
        self._replica.snapshot_requested(command_id)
        self._snapshot_timer.start()
        return command_id

    # --- the commands until their results come ----------------------------------------

    def pending_commands(self) -> list[PendingCommand]:
        """Commands waiting to be sent (queued while the broker is unreachable), oldest first."""
        return self._commands.waiting()

    def unconfirmed_commands(self) -> list[PendingCommand]:
        """Sent commands whose result did not come within ``display.confirm_seconds``
        (they are sent again), oldest first."""
        return self._commands.unconfirmed()

    def pending_for(self, ticket_id: str) -> list[str]:
        """The kinds of the queued commands for ``ticket_id`` (``["bump"]``), oldest first.

        For the card's "↻ BUMP PENDING" mark; ``pendingChanged`` says when to look again.
        """
        return self._commands.pending_for(ticket_id)

    def unconfirmed_for(self, ticket_id: str) -> list[str]:
        """The kinds of the not confirmed commands for ``ticket_id``, oldest first (the
        card's "↻ BUMP NOT CONFIRMED"); ``pendingChanged`` says when to look again."""
        return self._commands.unconfirmed_for(ticket_id)

    def flush_pending(self) -> int:
        """Send the queued commands in order (done on every reconnect); return how many
        went. Stops at the first one that cannot be sent; the rest stay queued."""
        if not self._connected:
            return 0
        sent = self._commands.flush(self._send_pending)
        self._commands_changed()
        return sent

    def _send_pending(self, pending: PendingCommand, send: int) -> None:
        command_id = pending.command_id

        def on_receipt(delivered: bool) -> None:  # on an MQ client thread
            self._receiptReceived.emit(command_id, send, delivered)

        self._mq.send(
            command_queue(self._config.site_id),
            pending.body,
            headers=dict(pending.headers),
            persistent=True,
            on_receipt=on_receipt,
        )

    def _send(self, body: bytes, headers: dict[str, str], *, persistent: bool) -> None:
        self._mq.send(
            command_queue(self._config.site_id), body, headers=headers, persistent=persistent
        )

    def _commands_changed(self) -> None:
        """Tell the cards when what waits or is not confirmed changed; arm the timer."""
        marks = tuple((c.command_id, False) for c in self._commands.waiting()) + tuple(
            (c.command_id, True) for c in self._commands.unconfirmed()
        )
        if marks != self._marks:
            self._marks = marks
            self.pendingChanged.emit(len(self._commands.waiting()))
        deadline = self._commands.next_deadline()
        if deadline is None or self._closed:
            self._commands_timer.stop()
            return
        wait_ms = (deadline - time.time()) * 1000
        self._commands_timer.start(max(0, min(round(wait_ms) + 1, 24 * 3600 * 1000)))

    # --- MQ threads: hand everything to the Qt thread ---------------------------------

    def _handle_state_frame(self, message: Message) -> None:
        self._frameReceived.emit(_STATE, bytes(message.body))

    def _handle_reply_frame(self, message: Message) -> None:
        self._frameReceived.emit(_REPLY, bytes(message.body))

    def _handle_link(self, up: bool) -> None:
        self._linkChanged.emit(bool(up))

    # --- Qt thread --------------------------------------------------------------------

    @Slot(str, object)
    def _on_frame(self, channel: str, body: bytes) -> None:
        if self._closed:
            return
        if len(body) > MAX_FRAME_BYTES:
            self._drop_oversized(channel, len(body))
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

    def _drop_oversized(self, channel: str, size: int) -> None:
        """A frame this screen refuses to read: log it, and when it may have been the
        snapshot answer, ask again later and later rather than in a loop."""
        what = "state message" if channel == _STATE else "command result"
        log.error(
            "dropped a %s of %d bytes (this screen reads %d at most)", what, size, MAX_FRAME_BYTES
        )
        if channel != _REPLY or not self._replica.snapshot_pending:
            return
        self._oversized += 1
        base = self._config.display.snapshot_timeout_seconds
        delay = min(base * 2**self._oversized, max(base, SNAPSHOT_BACKOFF_MAX_SECONDS))
        log.warning("the snapshot answer was too large; asking again in %.1fs", delay)
        self._snapshot_timer.start(round(delay * 1000))

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
            self._agent.restart()  # give the agent time to answer
            # The cook's queued commands go first, so the snapshot already shows them.
            self.flush_pending()
            self._resync()
        else:
            self._snapshot_timer.stop()

    @Slot()
    def _on_snapshot_timeout(self) -> None:
        if self._closed or not self._replica.snapshot_pending:
            return
        if not self._connected:
            return  # the next connect asks again
        log.warning(
            "no snapshot answer in %.1fs; asking again",
            self._snapshot_timer.interval() / 1000,
        )
        self.request_snapshot()

    @Slot(str, int, bool)
    def _on_receipt(self, command_id: str, send: int, delivered: bool) -> None:
        if self._closed:
            return
        self._commands.receipt(command_id, send, delivered)
        self._commands_changed()

    @Slot()
    def _on_commands_due(self) -> None:
        if self._closed:
            return
        expired = self._commands.check(self._send_pending)
        if expired:
            self.commandsExpired.emit(expired)
        if self._connected:
            self._commands.flush(self._send_pending)
        self._commands_changed()

    @Slot()
    def _on_agent_check(self) -> None:
        silent = self._agent.check(self._connected)
        if silent is not None:
            log.warning("the kitchen agent has been silent for %.0fs", silent)
            self.agentChanged.emit(False)

    def _heard_from_agent(self) -> None:
        if self._agent.heard():
            log.info("the kitchen agent is back")
            self.agentChanged.emit(True)

    # --- the replica's answers as signals ---------------------------------------------

    def _handle_alive(self, message: AgentAlive) -> None:
        self._announce(self._replica.receive_alive(message))

    def _resync(self) -> None:
        # Answers to requests sent over the old connection may never come.
        self._replica.forget_snapshot_requests()
        self.request_snapshot()

    def _handle_state(self, message: StateMessage) -> None:
        self._announce(self._replica.receive(message))

    def _announce(self, update: Update) -> None:
        """Emit the update's changes in order, then ask for a snapshot if it needs one."""
        for change in update.changes:
            self._emit(change)
        if update.needs_snapshot:
            self.request_snapshot()

    def _emit(self, change: Change) -> None:
        if isinstance(change, Upserted):
            self.ticketUpserted.emit(change.ticket)
        elif isinstance(change, Removed):
            self.ticketRemoved.emit(change.ticket_id)
        elif isinstance(change, Reset):
            self.ticketsReset.emit(list(change.tickets))
        elif isinstance(change, SeqChanged):
            self.seqChanged.emit(change.seq)
        elif isinstance(change, SettingsChanged):
            self.settingsChanged.emit(change.settings)
        elif isinstance(change, ProblemsChanged):
            self.problemsChanged.emit(list(change.problems))

    def _handle_result(self, result: CommandResult) -> None:
        if self._replica.answers_snapshot(result.command_id):
            self._handle_snapshot(result)
            return
        sent = self._commands.answered(result.command_id)
        if sent is None:
            log.debug("result for an unknown or old command %s ignored", result.command_id)
            return
        self._commands_changed()
        if result.ok:
            self._replica.command_accepted(sent.kind, sent.ticket_id)
        else:
            why = result.detail or result.error or "refused"
            log.info("%s %s refused: %s (%s)", sent.kind, sent.ticket_id, why, result.error)
            self.commandFailed.emit(
                QCoreApplication.translate("TicketSync", "{kind} refused: {why}").format(
                    kind=_title(sent.kind), why=why
                )
            )
        self.commandResult.emit(result)

    def _handle_snapshot(self, result: CommandResult) -> None:
        update = self._replica.apply_snapshot(result)
        if update.outcome is Outcome.REFUSED:
            if result.reason == "forbidden":  # the agent's [access] does not know this screen
                self.commandFailed.emit(
                    QCoreApplication.translate(
                        "TicketSync", "This screen may not show site {site}: {why}"
                    ).format(site=self._config.site_id, why=result.detail or result.error)
                )
            return  # the timer sends it again
        self._snapshot_timer.stop()
        self._snapshot_timer.setInterval(
            round(self._config.display.snapshot_timeout_seconds * 1000)
        )
        self._oversized = 0
        self._announce(update)
        # One by one, so each change is announced with the replica in its state.
        for message in self._replica.take_buffered():
            self._handle_state(message)


def _title(kind: str) -> str:
    return kind.replace("_", " ").capitalize()
