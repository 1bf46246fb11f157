"""Sounds: a distinct cue for new, rush, changed and voided tickets, repeated while ignored.

* :func:`synthesize` makes the four cues as short WAVs with the ``wave`` module:
  a two-tone chime (new), a fast triple beep (rush), a rising double (changed) and
  a falling tone (void). :func:`ensure_sound_files` writes them once into a cache
  folder, from which Qt plays them.
* :class:`SoundBoard` plays a cue at its ``volume`` and records every cue in
  ``played`` (what tests assert on). It uses ``QSoundEffect`` only when the
  machine has an audio server and Qt an audio output; otherwise it stays silent
  (and says so once in the log), so a box without sound never logs Qt warnings.
* :class:`Escalator` replays the new-ticket cue every ``sound_repeat_seconds``,
  louder each time, while a new ticket sits unacknowledged: until someone taps or
  selects it, or it is started, bumped or leaves the screen.
* :class:`TicketSounds` listens to :class:`~kitchen_display.sync.TicketSync` and
  decides which cue a change deserves by comparing a ticket with its previous
  version. Tickets in the first snapshot after start make no sound (only live
  changes do), and only tickets this screen shows
  (:meth:`~kitchen_display.ticket_model.TicketListModel.shows`) do.
"""

from __future__ import annotations

import enum
import io
import logging
import math
import os
import struct
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QGuiApplication

from shared.model import Priority, Ticket, TicketItem, TicketStatus

if TYPE_CHECKING:
    from kitchen_display.sync import TicketSync

log = logging.getLogger("kds.ui")

SAMPLE_RATE = 22_050


class SoundKind(enum.StrEnum):
    NEW = "new"
    RUSH = "rush"
    CHANGED = "changed"
    VOID = "void"


#: which cue wins when several happen at once (a snapshot after a reconnect)
_URGENCY = (SoundKind.VOID, SoundKind.RUSH, SoundKind.CHANGED, SoundKind.NEW)


# =============================================================================
# The sounds themselves
# =============================================================================


def _tone(start_hz: float, end_hz: float, seconds: float, *, amplitude: float = 0.6) -> list[float]:
    """A sine sweep from ``start_hz`` to ``end_hz`` with a short attack and a decay."""
    count = int(SAMPLE_RATE * seconds)
    attack = max(1, int(SAMPLE_RATE * 0.008))
    samples = []
    phase = 0.0
    for i in range(count):
        t = i / count
        freq = start_hz + (end_hz - start_hz) * t
        phase += 2 * math.pi * freq / SAMPLE_RATE
        envelope = min(1.0, i / attack) * (1.0 - t) ** 1.5
        # a little of the octave makes it cut through kitchen noise
        value = math.sin(phase) + 0.25 * math.sin(2 * phase)
        samples.append(amplitude * envelope * value / 1.25)
    return samples


def _silence(seconds: float) -> list[float]:
    return [0.0] * int(SAMPLE_RATE * seconds)


def _pcm(samples: Iterable[float]) -> bytes:
    """16-bit mono WAV bytes."""
    frames = b"".join(struct.pack("<h", round(max(-1.0, min(1.0, s)) * 32767)) for s in samples)
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(frames)
    return out.getvalue()


def synthesize(kind: SoundKind) -> bytes:
    """The WAV bytes of one cue (mono, 22.05 kHz, under 0.7 s)."""
    if kind is SoundKind.NEW:  # two-tone chime, up a fifth
        samples = _tone(880, 880, 0.18) + _tone(1320, 1320, 0.34)
    elif kind is SoundKind.RUSH:  # fast triple beep, high
        beep = _tone(1760, 1760, 0.08, amplitude=0.7) + _silence(0.05)
        samples = beep * 3
    elif kind is SoundKind.CHANGED:  # rising double
        samples = _tone(520, 780, 0.13) + _silence(0.05) + _tone(780, 1170, 0.16)
    else:  # VOID: one falling tone
        samples = _tone(900, 280, 0.55, amplitude=0.7)
    return _pcm(samples)


def default_sound_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ghost-kds" / "sounds"


def ensure_sound_files(directory: Path | None = None) -> dict[SoundKind, Path]:
    """Write the cues as ``<kind>.wav`` into ``directory`` (rewritten only when they differ)."""
    directory = directory or default_sound_dir()
    directory.mkdir(parents=True, exist_ok=True)
    paths = {}
    for kind in SoundKind:
        path = directory / f"{kind.value}.wav"
        data = synthesize(kind)
        if not path.exists() or path.read_bytes() != data:
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
        paths[kind] = path
    return paths


# =============================================================================
# Playing them
# =============================================================================


class Player(Protocol):
    def play(self, kind: SoundKind, volume: float) -> None: ...


def audio_server_available(env: Mapping[str, str] | None = None) -> bool:
    """Whether a PulseAudio / PipeWire server is there to play to.

    Qt Multimedia logs warnings (and plays nothing) without one; checking for the
    server's socket first keeps a silent box quiet in the log as well.
    """
    env = os.environ if env is None else env
    if env.get("PULSE_SERVER"):
        return True
    runtime = env.get("XDG_RUNTIME_DIR") or f"/run/user/{os.getuid()}"
    candidates = [
        Path(runtime) / "pulse" / "native",
        Path(runtime) / "pipewire-0",
        Path("/run/pulse/native"),
        Path("/var/run/pulse/native"),
    ]
    return any(path.exists() for path in candidates)


class QtPlayer:
    """Plays the cues with ``QSoundEffect`` on the default audio output."""

    def __init__(self, files: Mapping[SoundKind, Path], parent: QObject | None = None) -> None:
        from PySide6.QtMultimedia import QSoundEffect

        self._effects = {}
        for kind, path in files.items():
            effect = QSoundEffect(parent)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effects[kind] = effect

    def play(self, kind: SoundKind, volume: float) -> None:
        effect = self._effects[kind]
        effect.setVolume(volume)
        effect.play()


def make_qt_player(parent: QObject | None = None) -> Player | None:
    """A :class:`QtPlayer`, or ``None`` (with one log line) when this box cannot play.

    Silent on Qt's ``offscreen``/``minimal`` platforms too: nobody is in front of
    such a screen (tests, screenshots), and Qt Multimedia would log its probing.
    """
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        log.info("sound off: no screen (%s platform)", QGuiApplication.platformName())
        return None
    if not audio_server_available():
        log.warning("sound off: no audio server (PulseAudio/PipeWire) on this machine")
        return None
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError as exc:
        log.warning("sound off: Qt Multimedia is not available (%s)", exc)
        return None
    if QMediaDevices.defaultAudioOutput().isNull():
        log.warning("sound off: no audio output device")
        return None
    try:
        files = ensure_sound_files()
    except OSError as exc:
        log.warning("sound off: cannot write the sound files: %s", exc)
        return None
    return QtPlayer(files, parent)


@dataclass(frozen=True)
class Cue:
    """One sound the board was asked to play."""

    kind: SoundKind
    volume: float


#: how many of the latest cues ``SoundBoard.played`` keeps
PLAYED_KEPT = 100


class SoundBoard(QObject):
    """Plays cues at ``volume`` (0..1); ``played`` lists the latest cues asked for.

    ``player``: ``"auto"`` (``QSoundEffect`` when the machine can play sound),
    ``None`` (silent) or any object with ``play(kind, volume)``.
    """

    volumeChanged = Signal(float)
    cuePlayed = Signal(str, float)

    def __init__(
        self,
        *,
        enabled: bool = True,
        volume: float = 0.8,
        player: Player | str | None = "auto",
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._enabled = enabled
        self._volume = _clamp(volume)
        self.played: list[Cue] = []
        if player == "auto":
            self._player: Player | None = make_qt_player(self) if enabled else None
        else:
            self._player = player if not isinstance(player, str) else None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def volume(self) -> float:
        return self._volume

    @volume.setter
    def volume(self, value: float) -> None:
        value = _clamp(value)
        if value != self._volume:
            self._volume = value
            self.volumeChanged.emit(value)

    @Slot(str)
    def play(self, kind: str) -> None:
        """Play ``kind`` (``new``, ``rush``, ``changed``, ``void``) at the set volume."""
        self.play_at(SoundKind(kind), self._volume)

    def play_at(self, kind: SoundKind, volume: float) -> None:
        if not self._enabled:
            return
        volume = _clamp(volume)
        self.played.append(Cue(kind, volume))
        del self.played[:-PLAYED_KEPT]  # a screen runs for days: keep the latest only
        log.info("sound %s at %.0f%%", kind.value, volume * 100)
        self.cuePlayed.emit(kind.value, volume)
        if self._player is not None:
            try:
                self._player.play(kind, volume)
            except Exception:  # a broken audio stack must not take the screen down
                log.exception("playing %s failed", kind.value)


def _clamp(value: float) -> float:
    return max(0.0, min(1.0, float(value)))


# =============================================================================
# Repeating an ignored new ticket
# =============================================================================


class Escalator(QObject):
    """Replays the new-ticket cue, louder each time, while new tickets are unacknowledged.

    Repeat ``n`` (1, 2, ...) plays at ``volume + (1 - volume) * n / 3`` (full volume
    from the third repeat on). ``interval_seconds <= 0`` turns the repeat off.
    """

    #: repeats needed to reach full volume
    STEPS = 3

    def __init__(
        self, board: SoundBoard, interval_seconds: float, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._board = board
        self._pending: set[str] = set()
        self._level = 0
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(interval_seconds * 1000)))
        self._enabled = interval_seconds > 0
        self._timer.timeout.connect(self._on_timeout)

    @property
    def pending(self) -> frozenset[str]:
        """Ticket ids of new tickets nobody has acknowledged yet."""
        return frozenset(self._pending)

    @property
    def level(self) -> int:
        """How many times the cue has been repeated for the current wait."""
        return self._level

    def add(self, ticket_id: str) -> None:
        if not self._enabled:
            return
        self._pending.add(ticket_id)
        if not self._timer.isActive():
            self._level = 0
            self._timer.start()

    @Slot(str)
    def acknowledge(self, ticket_id: str) -> None:
        """Someone saw ``ticket_id`` (selected, tapped, started, bumped): stop its repeat."""
        if ticket_id in self._pending:
            self._pending.discard(ticket_id)
            log.debug("new ticket %s acknowledged", ticket_id)
        if not self._pending:
            self._timer.stop()
            self._level = 0

    def clear(self) -> None:
        self._pending.clear()
        self._timer.stop()
        self._level = 0

    def volume_for(self, level: int) -> float:
        base = self._board.volume
        return min(1.0, base + (1.0 - base) * min(level, self.STEPS) / self.STEPS)

    @Slot()
    def _on_timeout(self) -> None:
        if not self._pending:
            self._timer.stop()
            return
        self._level += 1
        self._board.play_at(SoundKind.NEW, self.volume_for(self._level))


# =============================================================================
# Which change deserves which cue
# =============================================================================


def _edit_key(item: TicketItem) -> tuple[Any, ...]:
    """What the core can edit on a line (not the kitchen's own status)."""
    return (item.sku, item.name, item.qty, item.station, item.modifiers, item.notes, item.allergens)


def classify(previous: Ticket, current: Ticket) -> SoundKind | None:
    """The cue for ``previous`` becoming ``current`` (both versions of one ticket), if any."""
    if current.status is TicketStatus.CANCELLED:
        return SoundKind.VOID if previous.status is not TicketStatus.CANCELLED else None
    if previous.priority is not Priority.RUSH and current.priority is Priority.RUSH:
        return SoundKind.RUSH
    before = {item.line_id: item for item in previous.items}
    if any(
        item.changed and ((old := before.get(item.line_id)) is None or not old.changed)
        for item in current.items
    ):
        return SoundKind.CHANGED
    if current.version > previous.version:
        edited = {i.line_id: _edit_key(i) for i in previous.items} != {
            i.line_id: _edit_key(i) for i in current.items
        } or previous.notes != current.notes
        if edited:
            return SoundKind.CHANGED
    return None


class TicketSounds(QObject):
    """Plays the right cue for each live ticket change this screen shows.

    Connect :meth:`on_upserted`, :meth:`on_removed` and :meth:`on_reset` to
    ``TicketSync``'s ``ticketUpserted``, ``ticketRemoved`` and ``ticketsReset``
    (:meth:`attach` does), and :meth:`acknowledge` to whatever tells that a cook
    has seen a ticket.
    """

    def __init__(
        self,
        board: SoundBoard,
        escalator: Escalator,
        shows: Callable[[Ticket], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.board = board
        self.escalator = escalator
        self._shows = shows
        self._known: dict[str, Ticket] = {}
        self._ever_shown: set[str] = set()
        self._primed = False

    def attach(self, sync: TicketSync) -> TicketSounds:
        sync.ticketUpserted.connect(self.on_upserted)
        sync.ticketRemoved.connect(self.on_removed)
        sync.ticketsReset.connect(self.on_reset)
        return self

    @Slot(str)
    def acknowledge(self, ticket_id: str) -> None:
        self.escalator.acknowledge(ticket_id)

    @Slot(object)
    def on_upserted(self, ticket: Ticket) -> None:
        kind = self._update(ticket)
        if kind is not None and self._primed:
            self.board.play_at(kind, self.board.volume)

    @Slot(str)
    def on_removed(self, ticket_id: str) -> None:
        self._known.pop(ticket_id, None)
        self._ever_shown.discard(ticket_id)
        self.escalator.acknowledge(ticket_id)

    @Slot(list)
    def on_reset(self, tickets: list[Ticket]) -> None:
        """A snapshot: silent the first time; afterwards one cue for what changed meanwhile."""
        wanted = {ticket.id for ticket in tickets}
        for ticket_id in list(self._known):
            if ticket_id not in wanted:
                self.on_removed(ticket_id)
        kinds = {kind for ticket in tickets if (kind := self._update(ticket)) is not None}
        if not self._primed:
            self._primed = True
            self.escalator.clear()
            return
        for kind in _URGENCY:
            if kind in kinds:
                self.board.play_at(kind, self.board.volume)
                break

    def _update(self, ticket: Ticket) -> SoundKind | None:
        """Remember ``ticket``; return the cue it deserves (escalation bookkeeping too)."""
        previous = self._known.get(ticket.id)
        self._known[ticket.id] = ticket
        shown = self._shows(ticket)
        if not shown or ticket.status is not TicketStatus.ACCEPTED:
            # left the screen, started somewhere, voided: nothing left to call for
            self.escalator.acknowledge(ticket.id)
        if not shown:
            return None
        first_time = ticket.id not in self._ever_shown
        self._ever_shown.add(ticket.id)
        if previous is None or (first_time and not self._shows(previous)):
            if ticket.status is TicketStatus.CANCELLED:
                return None  # never seen here: nothing to throw away
            if self._primed and ticket.status is TicketStatus.ACCEPTED:
                self.escalator.add(ticket.id)
            return SoundKind.RUSH if ticket.priority is Priority.RUSH else SoundKind.NEW
        return classify(previous, ticket)
