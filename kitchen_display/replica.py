"""The display's copy of the site's tickets, kept in ``seq`` order (plain logic, no Qt).

:class:`TicketReplica` holds what the agent has told this display: the open tickets,
the site's shared settings, the last applied ``seq``, the agent's problems and the
tickets this display bumped (for recall). It applies state messages strictly in
``seq`` order and says when a snapshot is needed::

    seq <= last          ignored (a duplicate, e.g. after an agent restart): STALE
    seq == last + 1      applied: APPLIED
    seq >  last + 1      a gap: kept for later, ask for a snapshot: RESYNC
    no snapshot yet      kept for later, ask for a snapshot: RESYNC
    a snapshot pending   kept for later: BUFFERED
    another ``epoch``    a new database (its seq started over): everything dropped,
                         kept for later, ask for a snapshot: RESYNC

The ``epoch`` (an optional field of state messages, ``agent.alive`` and snapshot
results) names the agent's database; a ``seq`` only counts within one. When it
changes, the tickets, the ``seq`` and this display's recall history are dropped at
once (a :class:`Reset` to no tickets: nothing stale stays on screen) until the new
database's snapshot arrives; buffered messages of another epoch are never applied.
Messages without an ``epoch`` (an older agent) are handled as before.

Each call returns an :class:`Update`: its :class:`Outcome` and the changes to
announce, in order. The caller (:class:`~kitchen_display.sync.TicketSync`) sends the
snapshot requests, registers their ``command_id`` with :meth:`snapshot_requested`,
and after :meth:`apply_snapshot` feeds :meth:`take_buffered` back to :meth:`receive`
one by one (so each change is announced with the replica in the state it describes).

:class:`AgentWatch` says when the agent has gone silent, and when it is back.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from shared.model import Ticket
from shared.wire import (
    AgentAlive,
    CommandResult,
    SettingsUpdated,
    SiteSettings,
    StateMessage,
    TicketRemoved,
    TicketUpdated,
)

log = logging.getLogger("kds.sync.replica")

#: how many of this display's bumps ``R`` (recall) can walk back through
MAX_RECALL_HISTORY = 50
#: the most state messages kept while waiting for a snapshot; one more drops them all
#: and asks for a fresh snapshot (which covers them)
MAX_BUFFERED = 1000


class Outcome(enum.Enum):
    """What became of a state message, an ``agent.alive`` or a snapshot answer."""

    #: applied: the replica is at the message's ``seq`` (or the snapshot's)
    APPLIED = "applied"
    #: a duplicate or older ``seq``: ignored
    STALE = "stale"
    #: a snapshot is outstanding: kept until it arrives
    BUFFERED = "buffered"
    #: a gap, no snapshot yet, or ``agent.alive`` disagrees: ask for a snapshot
    #: (a state message is kept until it arrives)
    RESYNC = "resync"
    #: ``agent.alive`` agrees with the replica (or cannot tell yet): nothing to do
    IN_STEP = "in_step"
    #: a snapshot answer that was refused or incomplete: wait for the retry
    REFUSED = "refused"


@dataclass(frozen=True)
class Upserted:
    """A ticket was created or changed."""

    ticket: Ticket


@dataclass(frozen=True)
class Removed:
    """A ticket this display knew left the board."""

    ticket_id: str


@dataclass(frozen=True)
class Reset:
    """A snapshot replaced every ticket."""

    tickets: tuple[Ticket, ...]


@dataclass(frozen=True)
class SeqChanged:
    """The last applied ``seq``."""

    seq: int


@dataclass(frozen=True)
class SettingsChanged:
    """The site's shared settings changed."""

    settings: SiteSettings


@dataclass(frozen=True)
class ProblemsChanged:
    """The agent's list of current problems changed."""

    problems: tuple[str, ...]


Change = Upserted | Removed | Reset | SeqChanged | SettingsChanged | ProblemsChanged


@dataclass(frozen=True)
class Update:
    """The outcome of one input and the changes to announce, in order."""

    outcome: Outcome
    changes: tuple[Change, ...] = ()

    @property
    def needs_snapshot(self) -> bool:
        return self.outcome is Outcome.RESYNC


class TicketReplica:
    """The site's open tickets as this display knows them, and what goes with them."""

    def __init__(self) -> None:
        self._tickets: dict[str, Ticket] = {}
        self._settings: SiteSettings | None = None
        self._last_seq: int | None = None
        #: command_ids of snapshot requests still unanswered (a resend adds one)
        self._snapshot_ids: set[str] = set()
        self._buffer: list[StateMessage] = []
        self._problems: tuple[str, ...] = ()
        #: tickets this display bumped (accepted), oldest first
        self._bumped: list[str] = []
        #: the agent database's epoch the tickets and ``seq`` belong to (None: unknown)
        self._epoch: str | None = None

    # --- what it knows ----------------------------------------------------------------

    @property
    def last_seq(self) -> int | None:
        """The ``seq`` of the last applied state message; ``None`` before the first snapshot."""
        return self._last_seq

    @property
    def epoch(self) -> str | None:
        """The epoch of the agent's database as last heard; ``None`` until one was."""
        return self._epoch

    @property
    def settings(self) -> SiteSettings | None:
        """The site's shared settings as last published; ``None`` until the agent sent any."""
        return self._settings

    @property
    def problems(self) -> tuple[str, ...]:
        """The agent's current problems, as its last ``agent.alive`` listed them."""
        return self._problems

    @property
    def snapshot_pending(self) -> bool:
        return bool(self._snapshot_ids)

    @property
    def synced(self) -> bool:
        """Whether the tickets are known to be current (a snapshot arrived, no gap open)."""
        return self._last_seq is not None and not self._snapshot_ids

    @property
    def buffered(self) -> tuple[StateMessage, ...]:
        """The state messages kept until a snapshot arrives, as they came."""
        return tuple(self._buffer)

    def tickets(self) -> list[Ticket]:
        """Every ticket the agent has told this display about, in no particular order."""
        return list(self._tickets.values())

    def ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    def recall_candidate(self) -> str | None:
        """The ticket this display bumped last (and has not recalled since), if any."""
        return self._bumped[-1] if self._bumped else None

    # --- state messages ---------------------------------------------------------------

    def receive(self, message: StateMessage) -> Update:
        """Apply ``message`` if it is the next ``seq``; keep it or ignore it otherwise."""
        if message.epoch is not None and self._is_new_epoch(message.epoch):
            changes = self._start_over(message.epoch)
            self._keep(message)
            return Update(Outcome.RESYNC, changes)
        if self._snapshot_ids:
            if not self._keep(message):
                return Update(Outcome.RESYNC)
            return Update(Outcome.BUFFERED)
        last = self._last_seq
        if last is None:
            log.info("state message seq %d before any snapshot; asking for one", message.seq)
            self._keep(message)
            return Update(Outcome.RESYNC)
        if message.seq <= last:
            log.debug("ignored state message seq %d (last applied %d)", message.seq, last)
            return Update(Outcome.STALE)
        if message.seq == last + 1:
            return Update(Outcome.APPLIED, self._apply(message))
        log.warning("seq gap: got %d after %d; asking for a snapshot", message.seq, last)
        self._keep(message)
        return Update(Outcome.RESYNC)

    def _keep(self, message: StateMessage) -> bool:
        """Buffer ``message`` until a snapshot arrives; False when the buffer was full:
        then nothing is kept, and only a snapshot asked for from now covers them."""
        if len(self._buffer) < MAX_BUFFERED:
            self._buffer.append(message)
            return True
        log.warning(
            "more than %d state messages while waiting for a snapshot: dropped them; "
            "asking for a fresh snapshot",
            MAX_BUFFERED,
        )
        self._buffer = []
        # an answer to an earlier request is older than the messages just dropped
        self._snapshot_ids.clear()
        return False

    def _is_new_epoch(self, epoch: str) -> bool:
        """Whether ``epoch`` names another database than the one the replica holds."""
        if self._epoch is None:
            self._epoch = epoch
            return False
        return epoch != self._epoch

    def _start_over(self, epoch: str) -> tuple[Change, ...]:
        """The agent has another database: drop everything of the old one."""
        log.warning(
            "agent database changed (epoch %s -> %s): dropping %d tickets and seq %s; resyncing",
            self._epoch,
            epoch,
            len(self._tickets),
            self._last_seq,
        )
        self._epoch = epoch
        self._tickets = {}
        self._last_seq = None
        self._buffer = [m for m in self._buffer if m.epoch == epoch]
        # answers to requests made before may come from the old database
        self._snapshot_ids.clear()
        self._bumped = []
        return (Reset(()),)

    def _apply(self, message: StateMessage) -> tuple[Change, ...]:
        self._last_seq = message.seq
        changes: list[Change] = []
        if isinstance(message, TicketUpdated):
            self._tickets[message.ticket.id] = message.ticket
            changes.append(Upserted(message.ticket))
        elif (
            isinstance(message, TicketRemoved)
            and self._tickets.pop(message.ticket_id, None) is not None
        ):
            changes.append(Removed(message.ticket_id))
        elif isinstance(message, SettingsUpdated):
            changes.extend(self._set_settings(message.settings))
        changes.append(SeqChanged(message.seq))
        return tuple(changes)

    def _set_settings(self, settings: SiteSettings) -> tuple[Change, ...]:
        if settings == self._settings:
            return ()
        self._settings = settings
        log.info("site settings changed (folds: %s)", dict(settings.folds) or "none")
        return (SettingsChanged(settings),)

    def receive_alive(self, message: AgentAlive) -> Update:
        """``agent.alive`` carries the last published seq: a silent gap shows here."""
        changes: tuple[Change, ...] = ()
        if message.problems != self._problems:
            self._problems = message.problems
            changes = (ProblemsChanged(message.problems),)
        if message.epoch is not None and self._is_new_epoch(message.epoch):
            return Update(Outcome.RESYNC, (*changes, *self._start_over(message.epoch)))
        last = self._last_seq
        if self._snapshot_ids or last is None or message.seq == last:
            return Update(Outcome.IN_STEP, changes)
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
        return Update(Outcome.RESYNC, changes)

    # --- snapshots --------------------------------------------------------------------

    def snapshot_requested(self, command_id: str) -> None:
        """A snapshot request went out: buffer state messages until it is answered."""
        self._snapshot_ids.add(command_id)

    def forget_snapshot_requests(self) -> None:
        """Answers to requests sent over an old connection may never come: forget them
        (call :meth:`snapshot_requested` for the new request right after)."""
        self._snapshot_ids.clear()

    def answers_snapshot(self, command_id: str) -> bool:
        """Whether a ``command.result`` with ``command_id`` answers a pending snapshot."""
        return command_id in self._snapshot_ids

    def apply_snapshot(self, result: CommandResult) -> Update:
        """Replace every ticket with the snapshot in ``result`` (an answer to a pending
        request: see :meth:`answers_snapshot`).

        Then feed :meth:`take_buffered` to :meth:`receive`: the messages kept meanwhile.
        A refused or incomplete answer changes nothing (REFUSED): the request stays
        pending and is sent again on timeout.
        """
        if not result.ok or result.seq is None or result.tickets is None:
            log.warning(
                "snapshot refused or incomplete (%s: %s); retrying",
                result.error,
                result.detail,
            )
            return Update(Outcome.REFUSED)
        self._snapshot_ids.clear()
        if result.epoch is not None and result.epoch != self._epoch:
            if self._epoch is not None:
                log.warning("snapshot from another agent database (epoch %s)", result.epoch)
                self._bumped = []
            self._epoch = result.epoch
        if self._epoch is not None:
            # messages kept meanwhile from another database never apply to this one
            self._buffer = [m for m in self._buffer if m.epoch in (None, self._epoch)]
        self._tickets = {ticket.id: ticket for ticket in result.tickets}
        self._last_seq = result.seq
        log.info("snapshot: %d tickets at seq %d", len(self._tickets), result.seq)
        changes: list[Change] = []
        if result.settings is not None:
            # Before the tickets, so the model filters them with the new folds.
            changes.extend(self._set_settings(result.settings))
        changes.append(Reset(tuple(self._tickets.values())))
        changes.append(SeqChanged(result.seq))
        return Update(Outcome.APPLIED, tuple(changes))

    def take_buffered(self) -> list[StateMessage]:
        """The kept state messages in ``seq`` order, removed from the buffer."""
        buffered = sorted(self._buffer, key=lambda message: message.seq)
        self._buffer = []
        return buffered

    # --- this display's accepted commands ---------------------------------------------

    def command_accepted(self, kind: str, ticket_id: str) -> None:
        """The agent accepted this display's command: a bump becomes the recall
        candidate, a recall of it takes it back off."""
        if kind == "bump" and ticket_id:
            if ticket_id in self._bumped:
                self._bumped.remove(ticket_id)
            self._bumped.append(ticket_id)
            del self._bumped[:-MAX_RECALL_HISTORY]
        elif kind == "recall" and ticket_id in self._bumped:
            self._bumped.remove(ticket_id)


class AgentWatch:
    """Whether the agent is talking: silent for longer than ``timeout`` seconds (while
    the broker is up) means it is not."""

    def __init__(self, timeout: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = timeout
        self._clock = clock
        self._ok = True
        self._seen = clock()

    @property
    def ok(self) -> bool:
        return self._ok

    def heard(self) -> bool:
        """The agent said something (a state message or a result); True if it had been
        silent until now (it is back)."""
        self._seen = self._clock()
        if self._ok:
            return False
        self._ok = True
        return True

    def restart(self) -> None:
        """The broker link came up: give the agent the whole timeout to answer."""
        self._seen = self._clock()

    def check(self, connected: bool) -> float | None:
        """How long the agent has been silent, when it has just become too long (else
        ``None``). Only while ``connected``: a lost broker link says it all."""
        silent = self._clock() - self._seen
        if connected and self._ok and silent > self._timeout:
            self._ok = False
            return silent
        return None
