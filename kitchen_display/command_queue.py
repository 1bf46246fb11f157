"""The display's own commands until the kitchen answers them, kept across restarts.

Plain logic (no Qt; the clock is injectable): :class:`~kitchen_display.sync.TicketSync`
feeds it and turns what it returns into signals.

Every command the cook gives (not a ``snapshot`` request: that carries an ``expires``
header instead, see :meth:`TicketSync.send_command`) is an *entry* here, by its
``command_id`` and in the order given, until its ``command.result`` comes
(:meth:`CommandQueue.answered`):

* *Waiting*: not sent yet (no connection, the send failed, or the connection went before
  the broker confirmed the frame with its receipt). :meth:`CommandQueue.flush` sends the
  waiting ones oldest first (on every reconnect and before each new command); the card
  says ``↻ BUMP PENDING``.
* *Sent*: with no result within ``confirm_seconds`` it is *not confirmed* (the card says
  so) and :meth:`CommandQueue.check` sends it again with the same ``command_id`` (the
  agent de-duplicates by it, so a resend is harmless): ``confirm_seconds`` x 1, 2, 4, ...
  after the send before, at most :data:`MAX_RESENDS` times; then it only waits.
* *Expired*: an entry still unanswered ``max_age_seconds`` after the tap is forgotten and
  :meth:`CommandQueue.check` returns it for a notice on the screen: a bump from ten
  minutes ago must not fire blindly when the kitchen comes back. (One the broker already
  took may still be applied by the agent: the notice says it was never answered.)
* At most ``limit`` entries; beyond that the oldest is dropped (and returned).

With a ``path`` the entries are kept in a small JSON file (:class:`QueueFile`), rewritten
atomically whenever one comes or goes, so they survive a display restart: loaded as
waiting, they are sent on the first connect (and expire as usual).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.errors import MqError

log = logging.getLogger("kds.sync.queue")

#: how many unanswered commands are kept (then the oldest is dropped)
MAX_QUEUED_COMMANDS = 500
#: how many times a command without a result is sent again
MAX_RESENDS = 3
#: the file's format version
FILE_VERSION = 1


@dataclass(frozen=True)
class PendingCommand:
    """A cook's command until its result comes (kept with its ``command_id``)."""

    command_id: str
    kind: str
    ticket_id: str
    #: ``time.time()`` when the cook gave it
    queued_at: float
    body: bytes
    headers: tuple[tuple[str, str], ...]
    #: the ticket's number as its card shows it (for notices); ``""`` when unknown
    number: str = ""

    def label(self) -> str:
        """``bump #1042`` (the card's number; the ticket id when it was not known)."""
        kind = self.kind.replace("_", " ")
        if self.number:
            return f"{kind} #{self.number}"
        return f"{kind} {self.ticket_id}".rstrip()


@dataclass(frozen=True)
class Expired:
    """A command forgotten unanswered after ``max_age_seconds``."""

    command: PendingCommand
    #: the broker confirmed a send of it (the agent may still apply it)
    sent: bool


@dataclass
class _Entry:
    command: PendingCommand
    #: when it was last sent; ``None`` while it waits to be sent
    sent_at: float | None = None
    #: how many times it was sent
    sends: int = 0
    #: the broker confirmed one of its sends (a RECEIPT)
    receipted: bool = False
    #: a send of it got no result in time (and none has come since)
    unconfirmed: bool = False


#: sends one command (the int: its send number, for the receipt); raises
#: :class:`~shared.errors.MqError` when it cannot
SendPending = Callable[[PendingCommand, int], None]


class CommandQueue:
    """The unanswered commands, oldest first: waiting, sent, not confirmed."""

    def __init__(
        self,
        *,
        limit: int = MAX_QUEUED_COMMANDS,
        confirm_seconds: float = 5.0,
        max_age_seconds: float = 120.0,
        max_resends: int = MAX_RESENDS,
        path: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._limit = limit
        self._confirm = confirm_seconds
        self._max_age = max_age_seconds
        self._max_resends = max_resends
        self._clock = clock
        self._file = QueueFile(path, clock=clock) if path is not None else None
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        if self._file is not None:
            for command in self._file.load():
                self._entries[command.command_id] = _Entry(command)
            if self._entries:
                log.info(
                    "%d unanswered commands from the last run, sent on connect (%s)",
                    len(self._entries),
                    self._file.path,
                )

    @property
    def limit(self) -> int:
        """How many commands may wait for their results; the oldest is dropped beyond that."""
        return self._limit

    @property
    def path(self) -> Path | None:
        """The file the commands are kept in (``None``: in memory only)."""
        return self._file.path if self._file is not None else None

    # --- what is where ----------------------------------------------------------------

    def unanswered(self) -> list[PendingCommand]:
        """Every command still without its result, oldest first."""
        return [entry.command for entry in self._entries.values()]

    def waiting(self) -> list[PendingCommand]:
        """The commands waiting to be sent, oldest first."""
        return [entry.command for entry in self._entries.values() if entry.sent_at is None]

    def unconfirmed(self) -> list[PendingCommand]:
        """The sent commands whose result did not come in time, oldest first."""
        return [
            entry.command
            for entry in self._entries.values()
            if entry.sent_at is not None and entry.unconfirmed
        ]

    def pending_for(self, ticket_id: str) -> list[str]:
        """The kinds of the waiting commands for ``ticket_id`` (``["bump"]``), oldest first."""
        return [c.kind for c in self.waiting() if c.ticket_id == ticket_id]

    def unconfirmed_for(self, ticket_id: str) -> list[str]:
        """The kinds of the not confirmed commands for ``ticket_id``, oldest first."""
        return [c.kind for c in self.unconfirmed() if c.ticket_id == ticket_id]

    # --- changes ----------------------------------------------------------------------

    def add(
        self,
        command_id: str,
        kind: str,
        ticket_id: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        number: str = "",
    ) -> list[PendingCommand]:
        """Keep one encoded command behind the others, waiting to be sent; return the
        ones dropped to make room (oldest first; usually none)."""
        command = PendingCommand(
            command_id, kind, ticket_id, self._clock(), body, tuple(headers.items()), number
        )
        self._entries[command_id] = _Entry(command)
        dropped: list[PendingCommand] = []
        while len(self._entries) > self._limit:
            _id, oldest = self._entries.popitem(last=False)
            log.warning(
                "queue full: dropped the oldest unanswered %s %s %s",
                oldest.command.kind,
                oldest.command.command_id,
                oldest.command.ticket_id,
            )
            dropped.append(oldest.command)
        self._save()
        return dropped

    def flush(self, send: SendPending) -> int:
        """Send the waiting commands in order with ``send``; return how many went.

        Stops at the first one ``send`` refuses (it raises
        :class:`~shared.errors.MqError`); that one and the rest keep waiting.
        """
        sent = 0
        for entry in list(self._entries.values()):
            if entry.sent_at is not None:
                continue
            command = entry.command
            try:
                send(command, entry.sends + 1)
            except MqError as exc:
                log.warning("%s %s not sent yet: %s", command.kind, command.command_id, exc)
                break
            waited = self._clock() - command.queued_at
            entry.sent_at = self._clock()
            entry.sends += 1
            sent += 1
            log.log(
                logging.INFO if waited >= 1.0 else logging.DEBUG,
                "sent %s %s %s (waited %.0fs)",
                command.kind,
                command.command_id,
                command.ticket_id,
                waited,
            )
        return sent

    def receipt(self, command_id: str, send: int, delivered: bool) -> None:
        """The broker's word on send number ``send`` of a command: it took the frame
        (``delivered``), or the connection went first: then it waits to be sent again."""
        entry = self._entries.get(command_id)
        if entry is None or entry.sends != send or entry.sent_at is None:
            return  # answered, expired or sent again since
        if delivered:
            entry.receipted = True
        else:
            log.info(
                "%s %s not confirmed by the broker: sent again", entry.command.kind, command_id
            )
            entry.sent_at = None

    def answered(self, command_id: str) -> PendingCommand | None:
        """The command a result answers, forgotten now; ``None`` for an unknown or
        expired one."""
        entry = self._entries.pop(command_id, None)
        if entry is None:
            return None
        self._save()
        return entry.command

    def check(self, send: SendPending) -> list[Expired]:
        """What is due now: expire the commands older than ``max_age_seconds`` (returned,
        oldest first), and mark each sent one whose result is overdue *not confirmed* and
        send it again with ``send`` (while it has resends left; one that cannot be sent
        waits to be sent)."""
        now = self._clock()
        expired = [
            Expired(entry.command, entry.receipted)
            for entry in self._entries.values()
            if now - entry.command.queued_at >= self._max_age
        ]
        for gone in expired:
            del self._entries[gone.command.command_id]
            log.warning(
                "%s %s %s expired %s after %.0fs",
                gone.command.kind,
                gone.command.command_id,
                gone.command.ticket_id,
                "unanswered" if gone.sent else "unsent",
                now - gone.command.queued_at,
            )
        for entry in self._entries.values():
            due = self._resend_at(entry)
            if due is None or now < due:
                continue
            if not entry.unconfirmed:
                log.warning(
                    "%s %s %s: no result in %.1fs",
                    entry.command.kind,
                    entry.command.command_id,
                    entry.command.ticket_id,
                    now - (entry.sent_at or now),
                )
            entry.unconfirmed = True
            if entry.sends > self._max_resends:
                continue  # no resends left: it waits for its result or its age
            try:
                send(entry.command, entry.sends + 1)
            except MqError as exc:
                log.info(
                    "%s %s waits to be sent: %s", entry.command.kind, entry.command.command_id, exc
                )
                entry.sent_at = None
                continue
            entry.sent_at = now
            entry.sends += 1
            log.info(
                "sent %s %s again (send %d)",
                entry.command.kind,
                entry.command.command_id,
                entry.sends,
            )
        if expired:
            self._save()
        return expired

    def next_deadline(self) -> float | None:
        """When :meth:`check` has something to do next (a clock time); ``None``: never."""
        deadlines = [entry.command.queued_at + self._max_age for entry in self._entries.values()]
        for entry in self._entries.values():
            due = self._resend_at(entry)
            if due is not None and not (entry.unconfirmed and entry.sends > self._max_resends):
                deadlines.append(due)
        return min(deadlines, default=None)

    def _resend_at(self, entry: _Entry) -> float | None:
        """When a sent entry's result is overdue: ``confirm_seconds`` x 1, 2, 4, ..."""
        if entry.sent_at is None:
            return None
        return entry.sent_at + self._confirm * (1 << max(0, entry.sends - 1))

    def _save(self) -> None:
        if self._file is not None:
            self._file.save(self.unanswered())


class QueueFile:
    """The unanswered commands in a small JSON file: ``{"v": 1, "commands": [...]}``.

    :meth:`save` rewrites it whole and atomically (a temporary file beside it, flushed to
    disk, then ``os.replace``), so a crash or power cut leaves the old file or the new
    one, never half of one. :meth:`load` never raises: a file it cannot read (not JSON,
    another version, a command with a bad field) is logged, naming what is wrong, and
    set aside as ``<name>.corrupt-<time>`` for a look; the good commands in it are kept.
    A file that cannot be written is logged and the commands live on in memory.
    """

    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._failing = False

    def load(self) -> list[PendingCommand]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            self._set_aside(f"cannot be read: {exc}")
            return []
        try:
            document = json.loads(text)
        except ValueError as exc:
            self._set_aside(f"is not JSON: {exc}")
            return []
        if not isinstance(document, dict) or document.get("v") != FILE_VERSION:
            self._set_aside(f"is not a version {FILE_VERSION} command queue")
            return []
        raw = document.get("commands")
        if not isinstance(raw, list):
            self._set_aside("commands: must be a list")
            return []
        commands: list[PendingCommand] = []
        problems: list[str] = []
        for n, item in enumerate(raw):
            try:
                commands.append(_decode(item))
            except ValueError as exc:
                problems.append(f"commands[{n}].{exc}")
        if problems:
            self._set_aside("; ".join(problems) + f" (kept the other {len(commands)})")
            self.save(commands)
        return commands

    def save(self, commands: Iterable[PendingCommand]) -> None:
        document = {"v": FILE_VERSION, "commands": [_encode(c) for c in commands]}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            if not self._failing:
                log.warning(
                    "cannot write the command queue %s (%s): kept in memory only", self.path, exc
                )
            self._failing = True
            return
        if self._failing:
            log.info("the command queue %s is written again", self.path)
        self._failing = False

    def _set_aside(self, problem: str) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{int(self._clock())}")
        try:
            os.replace(self.path, aside)
        except OSError as exc:
            log.warning("command queue %s %s; cannot set it aside: %s", self.path, problem, exc)
            return
        log.warning("command queue %s %s; set aside as %s", self.path, problem, aside.name)


def _encode(command: PendingCommand) -> dict[str, Any]:
    return {
        "command_id": command.command_id,
        "kind": command.kind,
        "ticket_id": command.ticket_id,
        "number": command.number,
        "queued_at": command.queued_at,
        "headers": dict(command.headers),
        "body": command.body.decode("utf-8"),
    }


def _decode(item: object) -> PendingCommand:
    """One command of the file; ``ValueError("field: problem")`` when it is not one."""
    if not isinstance(item, dict):
        raise ValueError("*: must be an object")

    def text(key: str, *, empty: bool = True) -> str:
        value = item.get(key, "" if key == "number" else None)
        if not isinstance(value, str) or (not empty and not value):
            raise ValueError(f"{key}: must be a {'' if empty else 'non-empty '}string")
        return value

    queued_at = item.get("queued_at")
    if not isinstance(queued_at, int | float) or isinstance(queued_at, bool):
        raise ValueError("queued_at: must be a number")
    headers = item.get("headers")
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ValueError("headers: must be an object of strings")
    return PendingCommand(
        command_id=text("command_id", empty=False),
        kind=text("kind", empty=False),
        ticket_id=text("ticket_id"),
        queued_at=float(queued_at),
        body=text("body", empty=False).encode("utf-8"),
        headers=tuple(headers.items()),
        number=text("number"),
    )
