"""The kitchen display's configuration (``kitchen-display --config FILE``).

Keys (TOML, each overridable as ``KDS_<SECTION>_<KEY>``; top-level as ``KDS_<KEY>``)::

    site_id = "ams-01"          # KDS_SITE_ID
    display_id = "grill-1"      # KDS_DISPLAY_ID (also --display-id)
    station = "grill"           # KDS_STATION   (also --station)
    expo_station = "expo"       # the site's expo station; "" when the site has none

    [mq]                        # see shared.settings.MqSettings
    url = "stomp://127.0.0.1:61613"
    user = ""                   # password: keyring "mq.password" or KDS_MQ_PASSWORD

    [display]
    fullscreen = false
    kiosk = false               # full screen, no cursor, exit only with the lead PIN
    font_scale = 1.0
    theme = "dark"              # dark | light | high-contrast
    language = "en"             # en | nl (also --language)
    warn_minutes = 5.0
    late_minutes = 8.0
    snapshot_timeout_seconds = 5.0
    agent_timeout_seconds = 15.0
    confirm_seconds = 5.0       # no command.result in this time: "not confirmed", sent again
    queue_max_age_seconds = 120.0  # an unanswered command expires (with a notice) after this
    queue_path = ""             # "": $XDG_STATE_HOME/ghost-kds/<site_id>.<display_id>.commands.json
    sound = true
    volume = 0.8                # 0.0..1.0
    sound_repeat_seconds = 20.0 # repeat (louder) while a new ticket is unacknowledged; 0: off
    # lead_pin: never in the file; its hash from kitchen-display set-pin (keyring
    #           "display.lead_pin"), or KDS_DISPLAY_LEAD_PIN (set-pin --print)
    view = "station"            # station | expo | board (also --view)

    [keys]                      # bump-bar keys, Qt key names (QKeySequence)
    bump = ["B", "Return", "Enter"]
    ...                         # see KeySettings
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from shared.config import Secret, check, secret_field
from shared.errors import ConfigError
from shared.settings import MqSettings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

THEMES = ("dark", "light", "high-contrast")
LANGUAGES = ("en", "nl")
VIEWS = ("station", "expo", "board")

#: a command with no ``command.result`` in this time is "not confirmed" and sent again
CONFIRM_SECONDS = 5.0
#: a command still unanswered this long after the tap expires (with a notice): a bump
#: from minutes ago must not fire blindly when the kitchen is back
QUEUE_MAX_AGE_SECONDS = 120.0

#: friendlier spellings accepted in [keys] for Qt's key names
_KEY_ALIASES = {
    "pagedown": "PgDown",
    "pageup": "PgUp",
    "escape": "Esc",
    "delete": "Del",
    "insert": "Ins",
}


@dataclass(frozen=True)
class DisplaySettings:
    """``[display]``: how this screen looks and behaves."""

    fullscreen: bool = False
    #: full screen, no cursor, no accidental close (a lead exits with Ctrl+Alt+Q and the PIN)
    kiosk: bool = False
    font_scale: float = 1.0
    #: "dark", "light" or "high-contrast"
    theme: str = "dark"
    #: the screen's language: "en" or "nl"
    language: str = "en"
    warn_minutes: float = 5.0
    late_minutes: float = 8.0
    #: resend a snapshot request when no answer arrives in this time
    snapshot_timeout_seconds: float = 5.0
    #: say "kitchen agent not responding" after this long without a word from it
    #: (the agent sends agent.alive every few seconds)
    agent_timeout_seconds: float = 15.0
    #: a command with no ``command.result`` in this time: its card says "not confirmed"
    #: and it is sent again with the same ``command_id`` (after 1x, 2x, 4x this)
    confirm_seconds: float = CONFIRM_SECONDS
    #: a command still unanswered this long after the tap (unsent while offline, or
    #: never answered) expires, with a notice on the screen
    queue_max_age_seconds: float = QUEUE_MAX_AGE_SECONDS
    #: the small file the unanswered commands are kept in across restarts;
    #: "" means ``$XDG_STATE_HOME/ghost-kds/<site_id>.<display_id>.commands.json``
    #: (``~/.local/state`` without ``XDG_STATE_HOME``)
    queue_path: str = ""
    #: play sounds for new, rush, changed and voided tickets
    sound: bool = True
    #: 0.0 (silent) .. 1.0
    volume: float = 0.8
    #: replay the new-ticket sound, louder each time, while a new ticket is not
    #: acknowledged (selected, tapped, started); 0 turns the repeat off
    sound_repeat_seconds: float = 20.0
    #: the lead PIN's salted hash (secret: ``kitchen-display set-pin`` stores it in the
    #: keyring as "display.lead_pin"; KDS_DISPLAY_LEAD_PIN); see kitchen_display.lead_pin
    lead_pin: Secret = secret_field()
    #: the view at start: "station" (this station's cards), "expo" (whole orders and the
    #: ready shelf) or "board" (every ticket for kitchen leads); also ``--view``
    view: str = "station"
    #: ticket cards: "compact" (more on screen) or "large"
    card_size: str = "large"

    @property
    def full_screen(self) -> bool:
        return self.fullscreen or self.kiosk

    def __post_init__(self) -> None:
        check(0.5 <= self.font_scale <= 4.0, "display.font_scale", "must be 0.5..4.0")
        check(
            self.theme in THEMES,
            "display.theme",
            f"must be one of {', '.join(THEMES)}, got {self.theme!r}",
        )
        check(
            self.language in LANGUAGES,
            "display.language",
            f"must be one of {', '.join(LANGUAGES)}, got {self.language!r}",
        )
        check(0.0 <= self.volume <= 1.0, "display.volume", "must be 0.0..1.0")
        check(self.sound_repeat_seconds >= 0, "display.sound_repeat_seconds", "must be >= 0")
        check(
            self.card_size in ("compact", "large"),
            "display.card_size",
            f"must be compact or large, got {self.card_size!r}",
        )
        check(self.warn_minutes > 0, "display.warn_minutes", "must be > 0")
        check(
            self.late_minutes > self.warn_minutes,
            "display.late_minutes",
            "must be greater than display.warn_minutes",
        )
        check(self.snapshot_timeout_seconds > 0, "display.snapshot_timeout_seconds", "must be > 0")
        check(self.confirm_seconds > 0, "display.confirm_seconds", "must be > 0")
        check(
            self.queue_max_age_seconds > self.confirm_seconds,
            "display.queue_max_age_seconds",
            "must be greater than display.confirm_seconds",
        )
        check(
            self.view in VIEWS,
            "display.view",
            f"must be one of {', '.join(VIEWS)}, got {self.view!r}",
        )


_MODIFIER_BITS = 0xFE000000
_NO_KEY = (int(Qt.Key.Key_unknown), 0)


def combined(sequence: QKeySequence) -> int:
    """The first key of ``sequence`` as one int (key | modifiers), as ``QKeyEvent`` gives it."""
    return int(sequence[0].toCombined())  # type: ignore[index]


def parse_key(name: str, key: str) -> QKeySequence:
    """One key (``"B"``, ``"Return"``, ``"PgDown"``, ``"Ctrl+Alt+Q"``) or a ConfigError."""
    text = _KEY_ALIASES.get(name.strip().lower(), name.strip())
    sequence = QKeySequence.fromString(text, QKeySequence.SequenceFormat.PortableText)
    if not text or sequence.count() != 1 or combined(sequence) & ~_MODIFIER_BITS in _NO_KEY:
        raise ConfigError(key, f"unknown key {name!r} (use Qt key names: B, Return, PgDown, Left)")
    return sequence


@dataclass(frozen=True)
class KeySettings:
    """``[keys]``: which bump-bar / keyboard keys do what (Qt key names)."""

    select_next: tuple[str, ...] = ("Right",)
    select_previous: tuple[str, ...] = ("Left",)
    first: tuple[str, ...] = ("Home",)
    last: tuple[str, ...] = ("End",)
    start: tuple[str, ...] = ("S",)
    bump: tuple[str, ...] = ("B", "Return", "Enter")
    recall: tuple[str, ...] = ("R",)
    reprint: tuple[str, ...] = ("P",)
    page_next: tuple[str, ...] = ("PgDown",)
    page_previous: tuple[str, ...] = ("PgUp",)
    undo: tuple[str, ...] = ("U", "Backspace")
    all_day: tuple[str, ...] = ("A",)
    recall_list: tuple[str, ...] = ("L",)
    #: kiosk mode: ask for the lead PIN and exit
    exit: tuple[str, ...] = ("Ctrl+Alt+Q",)

    def __post_init__(self) -> None:
        seen: dict[int, str] = {}
        for action, names in self.bindings().items():
            for name in names:
                where = f"keys.{action}"
                combo = combined(parse_key(name, where))
                other = seen.get(combo)
                if other is not None and other != action:
                    raise ConfigError(where, f"key {name!r} is already used for keys.{other}")
                seen[combo] = action

    @classmethod
    def actions(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def bindings(self) -> dict[str, tuple[str, ...]]:
        """action -> its key names, as written in ``[keys]``."""
        return {action: tuple(names) for action, names in asdict(self).items()}

    def sequences(self) -> dict[str, tuple[QKeySequence, ...]]:
        """action -> its keys, parsed."""
        return {
            action: tuple(parse_key(name, f"keys.{action}") for name in names)
            for action, names in self.bindings().items()
        }


@dataclass(frozen=True)
class DisplayConfig:
    site_id: str
    display_id: str
    station: str
    expo_station: str = "expo"
    mq: MqSettings = field(default_factory=MqSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)
    keys: KeySettings = field(default_factory=KeySettings)

    def __post_init__(self) -> None:
        for key, value in (
            ("site_id", self.site_id),
            ("display_id", self.display_id),
            ("station", self.station),
        ):
            check(
                bool(_NAME.match(value)),
                key,
                f"must be a short name (letters, digits, . _ -), got {value!r}",
            )

    @property
    def is_expo(self) -> bool:
        return bool(self.expo_station) and self.station == self.expo_station

    @property
    def reply_queue(self) -> str:
        return f"/queue/kds.{self.site_id}.replies.{self.display_id}"

    def queue_file(self, env: Mapping[str, str] | None = None) -> Path:
        """Where this screen keeps its unanswered commands (``[display] queue_path``)."""
        if self.display.queue_path:
            return Path(self.display.queue_path).expanduser()
        env = os.environ if env is None else env
        base = Path(env.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
        return base / "ghost-kds" / f"{self.site_id}.{self.display_id}.commands.json"
