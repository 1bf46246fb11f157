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
    font_scale = 1.0
    warn_minutes = 5.0
    late_minutes = 8.0
    snapshot_timeout_seconds = 5.0
    agent_timeout_seconds = 15.0
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from shared.config import check
from shared.settings import MqSettings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class DisplaySettings:
    """``[display]``: how this screen looks and behaves."""

    fullscreen: bool = False
    font_scale: float = 1.0
    warn_minutes: float = 5.0
    late_minutes: float = 8.0
    #: resend a snapshot request when no answer arrives in this time
    snapshot_timeout_seconds: float = 5.0
    #: say "kitchen agent not responding" after this long without a word from it
    #: (the agent sends agent.alive every few seconds)
    agent_timeout_seconds: float = 15.0

    def __post_init__(self) -> None:
        check(0.5 <= self.font_scale <= 4.0, "display.font_scale", "must be 0.5..4.0")
        check(self.warn_minutes > 0, "display.warn_minutes", "must be > 0")
        check(
            self.late_minutes > self.warn_minutes,
            "display.late_minutes",
            "must be greater than display.warn_minutes",
        )
        check(self.snapshot_timeout_seconds > 0, "display.snapshot_timeout_seconds", "must be > 0")


@dataclass(frozen=True)
class DisplayConfig:
    site_id: str
    display_id: str
    station: str
    expo_station: str = "expo"
    mq: MqSettings = field(default_factory=MqSettings)
    display: DisplaySettings = field(default_factory=DisplaySettings)

    def __post_init__(self) -> None:
        for key in ("site_id", "display_id", "station"):
            value = getattr(self, key)
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
