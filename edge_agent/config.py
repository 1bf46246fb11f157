"""The edge agent's configuration (``edge-agent run --config FILE``).

Keys (TOML; each overridable as ``KDS_<SECTION>_<KEY>``, top-level as ``KDS_<KEY>``)::

    site_id = "ams-01"                       # KDS_SITE_ID
    stations = ["grill", "fry", "cold", "bar", "expo"]
    expo_station = "expo"                    # "" when the site has no expo
    void_clear_seconds = 1800                # VOID until acknowledged, at most this long
    alive_interval_seconds = 5               # agent.alive on the state topic this often
    quarantine_shown_seconds = 3600          # a refused order's line on every screen
    retry_after_max_seconds = 60             # a server's Retry-After is honoured up to this
    log_level = "INFO"

    [core]
    url = "https://core.example.com"         # KDS_CORE_URL; http:// only on loopback
    # token: keyring "core.token" (edge-agent set-secret core.token) or KDS_CORE_TOKEN
    poll_wait_seconds = 25
    timeout_seconds = 10.0

    [mq]                                     # shared.settings.MqSettings
    url = "stomp+ssl://b-xxxx.mq.eu-west-1.amazonaws.com:61614"
    user = "kds-ams-01"                      # password: keyring "mq.password" / KDS_MQ_PASSWORD
    # ca_file = "/etc/ghost-kds/mq-ca.pem"   # KDS_MQ_CA_FILE; default: the system CA store
    # cert_file, key_file                    # a client certificate, if the broker wants one
    # insecure_skip_verify = false           # true: no certificate check (logged, doctor WARN)

    [store]
    path = "/var/lib/ghost-kds/edge.sqlite3" # KDS_STORE_PATH
    busy_timeout_seconds = 30                # a write waits this long for another's lock
    retention_days = 14                      # closed orders and tickets, failed side effects
    commands_retention_days = 14             # a resent command_id gets its stored result
    dead_letters_retention_days = 30         # refused frames, kept to be looked at
    quarantine_retention_days = 30           # invalid orders, kept to be looked at
    customer_data_retention_days = 7         # then names and phones are scrubbed everywhere
    prune_batch_rows = 200                   # rows per pruning transaction

    [threads]                                # the supervisor of the agent's threads
    max_restarts = 5                         # more within the window: exit 1 (systemd restarts)
    restart_window_seconds = 300
    restart_backoff_initial_seconds = 0.5
    restart_backoff_max_seconds = 30

    [outbox]
    backoff_initial_seconds = 1.0
    backoff_max_seconds = 60.0
    give_up_after_seconds = 86400            # then dead-letter a side effect that never went out
"""

from __future__ import annotations

import ipaddress
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from edge_agent.access import AccessPolicy, AccessSettings
from edge_agent.adapters.http_util import RETRY_AFTER_MAX, RETRY_AFTER_MIN
from edge_agent.notify_templates import Templates
from edge_agent.store import BUSY_TIMEOUT
from edge_agent.supervisor import (
    MAX_RESTARTS,
    RESTART_BACKOFF_INITIAL,
    RESTART_BACKOFF_MAX,
    RESTART_WINDOW,
)
from shared.allergy import DEFAULT_PATTERNS, DEFAULT_SEVERE, AllergyRules
from shared.config import Secret, check, secret_field
from shared.errors import ConfigError
from shared.settings import MqSettings

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost: a URL that never leaves this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
            parts.scheme in ("http", "https") and bool(parts.hostname),
            "core.url",
            f"must be an https:// URL, got {self.url!r}",
        )
        check(
            parts.scheme == "https" or _loopback(parts.hostname or ""),
            "core.url",
            f"must be https:// (the site token goes with every request); plain http:// "
            f"only to this machine (127.0.0.1, ::1, localhost), got {self.url!r}",
        )
        check(0 <= self.poll_wait_seconds <= 30, "core.poll_wait_seconds", "must be 0..30")
        check(self.timeout_seconds > 0, "core.timeout_seconds", "must be > 0")


#: how long the store keeps what is finished (see ``StoreSettings``), in days
DEFAULT_RETENTION_DAYS = 14.0
DEFAULT_COMMANDS_RETENTION_DAYS = 14.0
DEFAULT_PROBLEM_RETENTION_DAYS = 30.0
#: customer names and phones, in every table (dead letters and quarantine too)
DEFAULT_CUSTOMER_DATA_RETENTION_DAYS = 7.0
DEFAULT_PRUNE_BATCH_ROWS = 200


@dataclass(frozen=True)
class StoreSettings:
    """``[store]``: the agent's SQLite database (WAL mode), and how long it keeps what
    is finished (the housekeeping thread prunes it; an open ticket's rows never go)."""

    path: Path
    #: closed orders (picked up, cleared VOID, closed by the core) with their tickets,
    #: and side effects that failed for good
    retention_days: float = DEFAULT_RETENTION_DAYS
    #: commands: within this a resent ``command_id`` gets its stored result again
    commands_retention_days: float = DEFAULT_COMMANDS_RETENTION_DAYS
    dead_letters_retention_days: float = DEFAULT_PROBLEM_RETENTION_DAYS
    quarantine_retention_days: float = DEFAULT_PROBLEM_RETENTION_DAYS
    #: then the customer's name and phone are scrubbed from every row that has them
    #: (orders, tickets, texts and labels, quarantine, dead letters); the rest is kept
    customer_data_retention_days: float = DEFAULT_CUSTOMER_DATA_RETENTION_DAYS
    #: rows deleted per transaction, so the store's lock is never held long
    prune_batch_rows: int = DEFAULT_PRUNE_BATCH_ROWS
    #: how long a write waits for another process's lock before it fails (StoreError)
    busy_timeout_seconds: float = BUSY_TIMEOUT

    def __post_init__(self) -> None:
        check(self.busy_timeout_seconds > 0, "store.busy_timeout_seconds", "must be > 0")
        for key in (
            "retention_days",
            "commands_retention_days",
            "dead_letters_retention_days",
            "quarantine_retention_days",
            "customer_data_retention_days",
        ):
            check(1 <= getattr(self, key) <= 3650, f"store.{key}", "must be 1..3650 days")
        check(1 <= self.prune_batch_rows <= 10_000, "store.prune_batch_rows", "must be 1..10000")


@dataclass(frozen=True)
class ThreadsSettings:
    """``[threads]``: how the agent's supervisor restarts a thread that died."""

    #: more restarts of one thread than this within the window: the agent exits 1
    max_restarts: int = MAX_RESTARTS
    restart_window_seconds: float = RESTART_WINDOW
    restart_backoff_initial_seconds: float = RESTART_BACKOFF_INITIAL
    restart_backoff_max_seconds: float = RESTART_BACKOFF_MAX

    def __post_init__(self) -> None:
        check(self.max_restarts >= 0, "threads.max_restarts", "must be >= 0")
        check(self.restart_window_seconds > 0, "threads.restart_window_seconds", "must be > 0")
        check(
            0 < self.restart_backoff_initial_seconds <= self.restart_backoff_max_seconds,
            "threads.restart_backoff_initial_seconds",
            "must be > 0 and <= threads.restart_backoff_max_seconds",
        )


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


PRINT_TRIGGERS = ("new", "ready")


@dataclass(frozen=True)
class PrinterSettings:
    """``[printers.<station>]``: where that station's tickets (and labels) print."""

    #: ``tcp://host:9100`` (ESC/POS network printer) or ``http(s)://…`` (the PoS print API)
    url: str
    #: when to print this station's kitchen ticket: ``new``, ``ready`` or both
    print_on: tuple[str, ...] = ("new",)
    #: also print the pickup bag label here when the order is ready
    labels: bool = False
    timeout_seconds: float = 5.0
    #: the PoS print API key (keyring ``printers.<station>.api_key``)
    api_key: Secret = secret_field()

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        check(
            parts.scheme in ("tcp", "http", "https") and bool(parts.hostname),
            "printers.url",
            f"must be tcp://host:9100 or http(s)://…, got {self.url!r}",
        )
        for trigger in self.print_on:
            check(
                trigger in PRINT_TRIGGERS,
                "printers.print_on",
                f"must list 'new' and/or 'ready', got {trigger!r}",
            )
        check(self.timeout_seconds > 0, "printers.timeout_seconds", "must be > 0")


@dataclass(frozen=True)
class TemplateSettings:
    """``[sns.templates.<language>]`` (and inside ``[sns.brands.<id>]``): message texts.

    Placeholders: ``{brand}``, ``{number}``, ``{first_name}``, ``{item}``. Empty means
    the built-in text of that language.
    """

    ready: str = ""
    unavailable: str = ""
    cancelled: str = ""


@dataclass(frozen=True)
class BrandNotifySettings:
    """``[sns.brands.<brand_id>]``: a brand's language and its own texts."""

    language: str = ""
    ready: str = ""
    unavailable: str = ""
    cancelled: str = ""


@dataclass(frozen=True)
class SnsSettings:
    """``[sns]``: customer texts and pickup notifications through Amazon SNS.

    Off unless ``sms`` is true or a ``topic_arn`` is set.
    """

    #: empty for AWS; ``http://127.0.0.1:PORT`` for moto's server in tests
    endpoint_url: str = ""
    region: str = "eu-west-1"
    #: pickup notifications for couriers and apps (empty: none)
    topic_arn: str = ""
    #: text the customer (when the order says ``customer.notify``)
    sms: bool = False
    sender_id: str = ""
    language: str = "en"
    #: an AWS profile from ~/.aws (empty: keyring keys, then the standard chain)
    profile: str = ""
    aws_access_key_id: Secret = secret_field()
    aws_secret_access_key: Secret = secret_field()
    templates: dict[str, TemplateSettings] = field(default_factory=dict)
    brands: dict[str, BrandNotifySettings] = field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return self.sms or bool(self.topic_arn)

    def __post_init__(self) -> None:
        try:
            self.texts()
        except ValueError as exc:
            key, _, problem = str(exc).partition(": ")
            raise ConfigError(key if key.startswith("sns") else "sns.templates", problem) from None

    def texts(self) -> Templates:
        """The message templates (built-in texts, the site's, and each brand's)."""
        kinds = ("ready", "unavailable", "cancelled")

        def pick(settings: TemplateSettings | BrandNotifySettings) -> dict[str, str]:
            return {kind: getattr(settings, kind) for kind in kinds if getattr(settings, kind)}

        brands: dict[str, Any] = {}
        for brand_id, brand in self.brands.items():
            own = pick(brand)
            entry: dict[str, Any] = {}
            if brand.language:
                entry["language"] = brand.language
            if own:
                entry["templates"] = {brand.language or self.language: own}
            brands[brand_id] = entry
        return Templates.from_config(
            {
                "language": self.language,
                "templates": {lang: pick(t) for lang, t in self.templates.items() if pick(t)},
                "brands": brands,
            }
        )


@dataclass(frozen=True)
class StatsdSettings:
    """``[statsd]``: DogStatsD metrics for DataDog (empty host: off)."""

    host: str = ""
    port: int = 8125
    namespace: str = "kds"

    def __post_init__(self) -> None:
        check(0 < self.port < 65536, "statsd.port", "must be 1..65535")


@dataclass(frozen=True)
class KafkaSettings:
    """``[kafka]``: lifecycle events for the reporting pipeline (empty bootstrap: off)."""

    bootstrap: str = ""
    topic: str = "kds.lifecycle"
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class AgingRuleSettings:
    """``[aging.brands.<id>]``, ``[aging.channels.<name>]``, ``[aging.stations.<name>]``.

    Minutes; 0 leaves that threshold to the less specific rule.
    """

    warn_minutes: float = 0.0
    late_minutes: float = 0.0
    promised_warn_minutes: float = 0.0


@dataclass(frozen=True)
class AgingSettings:
    """``[aging]``: when cards turn WARN and LATE on every screen of the site.

    The most specific rule wins, threshold by threshold: station > brand > channel >
    these defaults (the industry's: warn at 5 minutes, late at 8).
    """

    warn_minutes: float = 5.0
    late_minutes: float = 8.0
    #: also warn when fewer than this many minutes are left to promised_at (0: off)
    promised_warn_minutes: float = 3.0
    brands: dict[str, AgingRuleSettings] = field(default_factory=dict)
    channels: dict[str, AgingRuleSettings] = field(default_factory=dict)
    stations: dict[str, AgingRuleSettings] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check(
            0 < self.warn_minutes < self.late_minutes,
            "aging.late_minutes",
            "must be greater than aging.warn_minutes (both > 0)",
        )


#: ``allergen_gate`` values: "off" (banner only), "confirm" (the project's screens ask for
#: ALLERGY SEEN before START/BUMP; the agent never refuses a v1 command for it),
#: "enforce" (the agent also refuses start/bump/item_done before it: a deviation from v1)
ALLERGEN_GATES = ("off", "confirm", "enforce")


@dataclass(frozen=True)
class AllergySettings:
    """``[allergy]``: how the site recognises a customer's declared allergy.

    A note or modifier containing one of ``patterns`` (case-insensitive), or naming one
    of ``severe`` (whole words), declares one. Item names and recipe allergens never do.
    """

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    severe: tuple[str, ...] = DEFAULT_SEVERE

    def __post_init__(self) -> None:
        for key, values in (("patterns", self.patterns), ("severe", self.severe)):
            for value in values:
                check(
                    2 <= len(value.strip()) <= 40,
                    f"allergy.{key}",
                    f"entries must be 2..40 characters, got {value!r}",
                )

    def rules(self) -> AllergyRules:
        return AllergyRules(patterns=self.patterns, severe=self.severe)


@dataclass(frozen=True)
class AgentConfig:
    site_id: str
    core: CoreSettings
    store: StoreSettings
    stations: tuple[str, ...] = ("grill", "fry", "cold", "bar", "expo")
    expo_station: str = "expo"
    #: a cancelled ticket stays on screen (VOID) until every station acknowledged it,
    #: or at most this long
    void_clear_seconds: float = 1800.0
    #: a declared allergy: "confirm" (default), "off" or "enforce" (see ALLERGEN_GATES)
    allergen_gate: str = "confirm"
    allergy: AllergySettings = field(default_factory=AllergySettings)
    #: how often the agent says ``agent.alive`` on the state topic
    alive_interval_seconds: float = 5.0
    #: a refused (quarantined) order is a problem line on every screen until a lead
    #: releases or dismisses it (``edge-agent quarantine``), or at most this long
    quarantine_shown_seconds: float = 3600.0
    #: a ``Retry-After`` (core, PoS print API) is honoured within [1 s, this]; at most 60
    retry_after_max_seconds: float = RETRY_AFTER_MAX
    log_level: str = "INFO"
    mq: MqSettings = field(default_factory=MqSettings)
    outbox: OutboxSettings = field(default_factory=OutboxSettings)
    threads: ThreadsSettings = field(default_factory=ThreadsSettings)
    printers: dict[str, PrinterSettings] = field(default_factory=dict)
    sns: SnsSettings = field(default_factory=SnsSettings)
    statsd: StatsdSettings = field(default_factory=StatsdSettings)
    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    aging: AgingSettings = field(default_factory=AgingSettings)
    access: AccessSettings = field(default_factory=AccessSettings)

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
        check(self.quarantine_shown_seconds >= 0, "quarantine_shown_seconds", "must be >= 0")
        check(
            self.allergen_gate in ALLERGEN_GATES,
            "allergen_gate",
            f"must be one of {', '.join(ALLERGEN_GATES)}, got {self.allergen_gate!r}",
        )
        for station in self.printers:
            check(
                station in self.stations,
                f"printers.{station}",
                f"{station!r} is not one of stations {list(self.stations)}",
            )
        check(
            0.1 <= self.alive_interval_seconds <= 3600,
            "alive_interval_seconds",
            "must be 0.1..3600",
        )
        check(
            RETRY_AFTER_MIN <= self.retry_after_max_seconds <= RETRY_AFTER_MAX,
            "retry_after_max_seconds",
            f"must be {RETRY_AFTER_MIN:g}..{RETRY_AFTER_MAX:g}",
        )
        check(
            isinstance(logging.getLevelName(self.log_level.upper()), int),
            "log_level",
            f"must be DEBUG, INFO, WARNING or ERROR, got {self.log_level!r}",
        )
        # names a screen's bad station or an expo role at a site without expo
        AccessPolicy(
            self.access, self.site_id, expo_station=self.expo_station, stations=self.stations
        )
