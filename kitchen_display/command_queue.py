"""The display's own commands: those waiting for the broker, and those awaiting a result.

Plain logic (no Qt): :class:`~kitchen_display.sync.TicketSync` feeds it and turns what
it returns into signals.

* The *offline queue*: a command that cannot be sent now (no connection, or the send
  failed) waits here with its ``command_id`` and is sent, oldest first, on reconnect
  (the agent de-duplicates by ``command_id``, so a resend is harmless). At most
  ``limit`` wait; beyond that the oldest is dropped (and reported). Queued commands
  never expire: they wait until they are sent, dropped by the limit, or the display
  closes. (A ``snapshot`` request is never queued: it carries an ``expires`` header
  instead; see :meth:`TicketSync.send_command`.)
* The *awaited results*: every non-snapshot command sent or queued is remembered
  (``command_id`` -> kind and ticket) until its ``command.result`` comes; at most
  ``max_awaited``, the oldest forgotten first.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from shared.errors import MqError

log = logging.getLogger("kds.sync.queue")

#: how many commands wait while the broker is unreachable (then the oldest is dropped)
MAX_QUEUED_COMMANDS = 500
#: how many sent commands are remembered while their results are outstanding
MAX_AWAITED_RESULTS = 500


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


@dataclass(frozen=True)
class AwaitedResult:
    """What a sent command was, for when its ``command.result`` arrives."""

    kind: str
    ticket_id: str


#: sends one queued command; raises :class:`~shared.errors.MqError` when it cannot
SendPending = Callable[[PendingCommand], None]


class CommandQueue:
    """The offline queue (oldest first) and the commands whose results are awaited."""

    def __init__(
        self,
        *,
        limit: int = MAX_QUEUED_COMMANDS,
        max_awaited: int = MAX_AWAITED_RESULTS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limit = limit
        self._max_awaited = max_awaited
        self._clock = clock
        self._queue: deque[PendingCommand] = deque()
        self._awaited: OrderedDict[str, AwaitedResult] = OrderedDict()

    # --- the offline queue ------------------------------------------------------------

    @property
    def limit(self) -> int:
        """How many commands may wait; the oldest is dropped beyond that."""
        return self._limit

    def __len__(self) -> int:
        return len(self._queue)

    def commands(self) -> list[PendingCommand]:
        """The queued commands, oldest first."""
        return list(self._queue)

    def pending_for(self, ticket_id: str) -> list[str]:
        """The kinds of the queued commands for ``ticket_id`` (``["bump"]``), oldest first."""
        return [pending.kind for pending in self._queue if pending.ticket_id == ticket_id]

    def enqueue(
        self,
        command_id: str,
        kind: str,
        ticket_id: str,
        body: bytes,
        headers: Mapping[str, str],
    ) -> list[PendingCommand]:
        """Queue one encoded command behind the others; return the ones dropped to make
        room (oldest first; usually none). A dropped command's result is no longer
        awaited."""
        pending = PendingCommand(
            command_id, kind, ticket_id, self._clock(), body, tuple(headers.items())
        )
        self._queue.append(pending)
        log.info(
            "%s %s %s queued until the kitchen is reachable (%d waiting)",
            pending.kind,
            pending.command_id,
            pending.ticket_id,
            len(self._queue),
        )
        dropped: list[PendingCommand] = []
        while len(self._queue) > self._limit:
            oldest = self._queue.popleft()
            self._awaited.pop(oldest.command_id, None)
            log.warning(
                "queue full: dropped the oldest queued %s %s %s",
                oldest.kind,
                oldest.command_id,
                oldest.ticket_id,
            )
            dropped.append(oldest)
        return dropped

    def flush(self, send: SendPending) -> int:
        """Send the queued commands in order with ``send``; return how many went.

        Stops at the first one ``send`` refuses (it raises
        :class:`~shared.errors.MqError`); that one and the rest stay queued.
        """
        sent = 0
        while self._queue:
            pending = self._queue[0]
            try:
                send(pending)
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
                self._clock() - pending.queued_at,
            )
        return sent

    # --- results still to come --------------------------------------------------------

    def expect_result(self, command_id: str, kind: str, ticket_id: str) -> None:
        """Remember a command until its result comes (the oldest forgotten beyond
        ``max_awaited``)."""
        self._awaited[command_id] = AwaitedResult(kind, ticket_id)
        while len(self._awaited) > self._max_awaited:
            self._awaited.popitem(last=False)

    def take_result(self, command_id: str) -> AwaitedResult | None:
        """The command a result answers, forgotten now; ``None`` for an unknown or old one."""
        return self._awaited.pop(command_id, None)
