"""The edge agent's configuration (``edge-agent run --config FILE``).

Keys (TOML; each overridable as ``KDS_<SECTION>_<KEY>``, top-level as ``KDS_<KEY>``)::

    site_id = "ams-01"                       # KDS_SITE_ID
    stations = ["grill", "fry", "cold", "bar", "expo"]
    expo_station = "expo"                    # "" when the site has no expo
    void_clear_seconds = 300                 # cancelled tickets stay on screen (VOID) this long
    alive_interval_seconds = 5               # agent.alive on the state topic this often
    log_level = "INFO"

    [core]
    url = "https://core.example.com"         # KDS_CORE_URL
    # token: keyring "core.token" (edge-agent set-secret core.token) or KDS_CORE_TOKEN
    poll_wait_seconds = 25
    timeout_seconds = 10.0

    [mq]                                     # shared.settings.MqSettings
    url = "stomp+ssl://b-xxxx.mq.eu-west-1.amazonaws.com:61614"
    user = "kds-ams-01"                      # password: keyring "mq.password" / KDS_MQ_PASSWORD

    [store]
    path = "/var/lib/ghost-kds/edge.sqlite3" # KDS_STORE_PATH

    [outbox]
    backoff_initial_seconds = 1.0
    backoff_max_seconds = 60.0
    give_up_after_seconds = 86400            # then dead-letter a side effect that never went out
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from shared.config import Secret, check, secret_field
from shared.settings import MqSettings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass(frozen=True)
class CoreSettings:
    """``[core]``: the company's core server."""

    url: str
    token: Secret = secret_field(required=True)
    poll_wait_seconds: int = 25
    timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        check(
            parts.scheme in ("http", "https") and bool(parts.netloc),
            "core.url",
            f"must be an http(s):// URL, got {self.url!r}",
        )
        check(0 <= self.poll_wait_seconds <= 30, "core.poll_wait_seconds", "must be 0..30")
        check(self.timeout_seconds > 0, "core.timeout_seconds", "must be > 0")


@dataclass(frozen=True)
class StoreSettings:
    """``[store]``: the agent's SQLite database (WAL mode)."""

    path: Path


@dataclass(frozen=True)
class OutboxSettings:
    """``[outbox]``: how side effects are retried."""

    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 60.0
    give_up_after_seconds: float = 86_400.0

    def __post_init__(self) -> None:
        check(self.backoff_initial_seconds > 0, "outbox.backoff_initial_seconds", "must be > 0")
        check(
            self.backoff_max_seconds >= self.backoff_initial_seconds,
            "outbox.backoff_max_seconds",
            "must be >= outbox.backoff_initial_seconds",
        )
        check(self.give_up_after_seconds > 0, "outbox.give_up_after_seconds", "must be > 0")


@dataclass(frozen=True)
class AgentConfig:
    site_id: str
    core: CoreSettings
    store: StoreSettings
    stations: tuple[str, ...] = ("grill", "fry", "cold", "bar", "expo")
    expo_station: str = "expo"
    void_clear_seconds: float = 300.0
    #: how often the agent says ``agent.alive`` on the state topic
    alive_interval_seconds: float = 5.0
    log_level: str = "INFO"
    mq: MqSettings = field(default_factory=MqSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)

    def __post_init__(self) -> None:
        check(
            bool(_NAME.match(self.site_id)),
            "site_id",
            f"must be a short name, got {self.site_id!r}",
        )
        check(bool(self.stations), "stations", "must list at least one station")
        for station in self.stations:
            check(bool(_NAME.match(station)), "stations", f"bad station name {station!r}")
        check(
            not self.expo_station or self.expo_station in self.stations,
            "expo_station",
            f"{self.expo_station!r} is not one of stations {list(self.stations)}",
        )
        check(self.void_clear_seconds >= 0, "void_clear_seconds", "must be >= 0")
        check(
            0.1 <= self.alive_interval_seconds <= 3600,
            "alive_interval_seconds",
            "must be 0.1..3600",
        )
        check(
            isinstance(logging.getLevelName(self.log_level.upper()), int),
            "log_level",
            f"must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}",
        )
