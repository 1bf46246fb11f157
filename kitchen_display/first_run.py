"""The display's first run: where its config lives, and the setup screen's logic.

Where ``kitchen-display`` looks for its config (:func:`config_location`):

1. ``--config FILE`` when given (a file that does not exist yet: the setup screen
   writes it there);
2. else ``/etc/ghost-kds/display.toml`` when it exists (a site-wide file an installer
   or the site admin put there; other systems: ``platformdirs.site_config_path``);
3. else the user's config folder: ``platformdirs.user_config_path("ghost-kds") /
   "display.toml"`` (``$XDG_CONFIG_HOME/ghost-kds/display.toml``, by default
   ``~/.config/ghost-kds/display.toml``), which the setup screen writes.

No file there: the setup screen (:mod:`kitchen_display.setup_screen`) asks for the
site, station, display id and broker, tests the connection (:class:`ConnectionTest`,
off the GUI thread) and saves (:func:`save`): the TOML file (mode 0600, only settings
that are not secret, ``config_version = 1`` on top) and the broker password in the
keyring (``mq.password``), never in the file.

:class:`SetupForm` holds what was typed and checks it; each problem names the field
as the screen labels it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
from PySide6.QtCore import QObject, Signal

from kitchen_display.probe import ANSWER_SECONDS, Outcome, ProbeResult, probe
from shared.config import Secret, keyring_lookup, store_secret
from shared.errors import ConfigError, SecretError
from shared.settings import MqSettings

log = logging.getLogger("kds.setup")

APP_NAME = "ghost-kds"
CONFIG_NAME = "display.toml"
#: the site-wide config on Linux (an installer's or the site admin's)
LINUX_SITE_CONFIG = Path("/etc/ghost-kds") / CONFIG_NAME
#: the key every config file this program writes starts with
CONFIG_VERSION = 1
#: the broker password's name in the keyring (``[mq] password``)
PASSWORD_SECRET = "mq.password"

#: the stations a screen can be set up for: (station, view, suggested display id)
STATIONS: tuple[tuple[str, str, str], ...] = (
    ("grill", "station", "grill-1"),
    ("fry", "station", "fry-1"),
    ("cold", "station", "cold-1"),
    ("bar", "station", "bar-1"),
    ("expo", "station", "expo-1"),
    # a kitchen lead's screen: every ticket of the site, late first (the board view)
    ("lead", "board", "lead-1"),
)
#: the lead's screen is the expo station's, on the board view
LEAD = "lead"
EXPO = "expo"
DEFAULT_PORT = 61613
DEFAULT_TLS_PORT = 61614

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
#: a site or display id is one segment of a destination name (docs/broker-acl.md)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]+\]?$")


def site_config_path() -> Path:
    if sys.platform.startswith("linux"):
        return LINUX_SITE_CONFIG
    return platformdirs.site_config_path(APP_NAME) / CONFIG_NAME


def user_config_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / CONFIG_NAME


def config_location(given: str | None) -> Path:
    """The config file to read, or to write on the first run (see the module)."""
    if given:
        return Path(given).expanduser()
    site = site_config_path()
    if site.is_file():
        return site
    return user_config_path()


@dataclass(frozen=True)
class SetupValues:
    """What the setup screen's fields hold."""

    site_id: str = ""
    station: str = ""
    display_id: str = ""
    host: str = ""
    port: str = str(DEFAULT_PORT)
    tls: bool = False
    user: str = ""
    password: str = ""

    @property
    def url(self) -> str:
        scheme = "stomp+ssl" if self.tls else "stomp"
        host = self.host.strip()
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"  # an IPv6 address
        return f"{scheme}://{host}:{self.port.strip()}"

    @property
    def config_station(self) -> str:
        """The config's ``station`` (the lead's screen is expo's)."""
        return EXPO if self.station == LEAD else self.station

    @property
    def view(self) -> str:
        return "board" if self.station == LEAD else "station"

    def mq_settings(self) -> MqSettings:
        """``[mq]`` with the typed password (a checked form only: raises ConfigError)."""
        return MqSettings(
            url=self.url,
            user=self.user.strip(),
            password=Secret(self.password, "the setup screen"),
        )


def suggested_display_id(station: str) -> str:
    for name, _view, display_id in STATIONS:
        if name == station:
            return display_id
    return f"{station}-1" if station else ""


def suggested_user(site_id: str, display_id: str) -> str:
    """A screen's broker user (``edge-agent broker-acl``): ``kds-{site}-{display_id}``."""
    if not site_id or not display_id:
        return ""
    return f"kds-{site_id}-{display_id}"


class SetupForm(QObject):
    """The setup screen's values and their checks (texts through ``tr``).

    ``problems()`` lists what is wrong, each line naming the field as the screen labels
    it; ``field_problems()`` the same by field name (``"site_id"``), for marking fields.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.values = SetupValues()

    def labels(self) -> dict[str, str]:
        return {
            "site_id": self.tr("Site id"),
            "station": self.tr("Station"),
            "display_id": self.tr("Display id"),
            "host": self.tr("Broker address"),
            "port": self.tr("Port"),
            "user": self.tr("Broker user"),
            "password": self.tr("Password"),
        }

    def field_problems(self) -> dict[str, str]:
        """field -> what is wrong with it (empty: the form is complete)."""
        v = self.values
        found: dict[str, str] = {}
        if not v.site_id.strip():
            found["site_id"] = self.tr("type the site's id (for example ams-01)")
        elif not _ID.match(v.site_id.strip()):
            found["site_id"] = self.tr("only letters, digits, - and _ (for example ams-01)")
        if not v.station:
            found["station"] = self.tr("tap the station this screen is for")
        if not v.display_id.strip():
            found["display_id"] = self.tr("type this screen's id (for example grill-1)")
        elif not _ID.match(v.display_id.strip()):
            found["display_id"] = self.tr("only letters, digits, - and _ (for example grill-1)")
        host = v.host.strip()
        if not host:
            found["host"] = self.tr("type the broker's address (for example 10.0.0.5)")
        elif not _HOST.match(host):
            found["host"] = self.tr("not a host name or IP address: {host}").format(host=host)
        port = v.port.strip()
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            found["port"] = self.tr("a number from 1 to 65535 (usually 61613, TLS 61614)")
        user = v.user.strip()
        if user and not _NAME.match(user):
            found["user"] = self.tr(
                "only letters, digits, . _ and - (for example kds-ams-01-grill-1)"
            )
        return found

    def problems(self) -> list[str]:
        labels = self.labels()
        return [f"{labels[key]}: {text}" for key, text in self.field_problems().items()]

    def config_text(self) -> str:
        """The TOML the setup screen writes (no secret in it)."""
        v = self.values
        when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            f"config_version = {CONFIG_VERSION}",
            f"# Written by kitchen-display's setup screen on {when}.",
            f"# The broker password is in the keyring ({PASSWORD_SECRET}), never in this file.",
            "# Every setting: docs/display.md (packaging/config/display.example.toml).",
            f"site_id = {_toml(v.site_id.strip())}",
            f"display_id = {_toml(v.display_id.strip())}",
            f"station = {_toml(v.config_station)}",
            f'expo_station = "{EXPO}"',
            "",
            "[mq]",
            f"url = {_toml(v.url)}",
            f"user = {_toml(v.user.strip())}",
            "",
            "[display]",
            "fullscreen = true",
            f"view = {_toml(v.view)}",
            "",
        ]
        return "\n".join(lines)


def _toml(text: str) -> str:
    """A TOML basic string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def save(form: SetupForm, path: Path) -> None:
    """Store the password in the keyring, then write the config file at ``path``
    (mode 0600; a folder it creates: 0700). Raises :class:`SecretError` (nothing
    written) or ``OSError``."""
    password = form.values.password
    if password:
        store_secret(PASSWORD_SECRET, password)
    else:
        # no password now: an older one in the keyring would be used instead
        try:
            stale = keyring_lookup(PASSWORD_SECRET)
        except SecretError:
            stale = None
        if stale:
            store_secret(PASSWORD_SECRET, "")
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".display-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(form.config_text())
        os.chmod(temp, 0o600)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    log.info("setup: wrote %s; the broker password is in the keyring", path)


class ConnectionTest(QObject):
    """Runs :func:`kitchen_display.probe.probe` on a thread of its own.

    ``testStarted()`` when a test begins; ``testFinished(ProbeResult)`` when it ends (on
    the GUI thread: the signal is queued). One test at a time: ``start`` returns False
    while one runs.
    """

    testStarted = Signal()
    testFinished = Signal(ProbeResult)

    def __init__(self, answer_seconds: float = ANSWER_SECONDS, parent: QObject | None = None):
        super().__init__(parent)
        self.answer_seconds = answer_seconds
        self._thread: threading.Thread | None = None
        self.last: ProbeResult | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, values: SetupValues) -> bool:
        if self.running:
            return False
        self.testStarted.emit()
        try:
            settings = values.mq_settings()
        except ConfigError as exc:  # a setting the form's checks let through (TLS files)
            self.last = ProbeResult(Outcome.FAILED, values.site_id, values.host, 0, detail=str(exc))
            self.testFinished.emit(self.last)
            return True

        def run() -> None:
            try:
                outcome = probe(
                    settings,
                    values.site_id.strip(),
                    display_id=values.display_id.strip(),
                    station=values.config_station,
                    answer_seconds=self.answer_seconds,
                )
            except Exception as exc:  # never lose the screen's "testing…" state
                log.exception("connection test failed")
                outcome = ProbeResult(
                    Outcome.FAILED, values.site_id, values.host, 0, detail=str(exc)
                )
            self.last = outcome
            try:
                self.testFinished.emit(outcome)
            except RuntimeError:  # the screen closed while the test ran
                log.debug("connection test ended after its screen closed")

        self._thread = threading.Thread(target=run, name="setup-test", daemon=True)
        self._thread.start()
        return True

    def describe(self, result: ProbeResult) -> str:
        """One line for the screen, in its language."""
        where = f"{result.host}:{result.port}"
        site = result.site_id
        outcome = result.outcome
        if outcome is Outcome.CONNECTED:
            if result.tickets == 1:
                text = self.tr("Connected: the agent for site {site} answered, 1 open ticket")
            else:
                text = self.tr(
                    "Connected: the agent for site {site} answered, %n open tickets",
                    "",
                    result.tickets,
                )
            return text.format(site=site)
        if outcome is Outcome.AGENT_REFUSED:
            return self.tr("The agent for site {site} answered but refused: {detail}").format(
                site=site, detail=result.detail
            )
        if outcome is Outcome.UNKNOWN_HOST:
            return self.tr("Unknown host: {host} (check the broker address)").format(
                host=result.host
            )
        if outcome is Outcome.NO_BROKER:
            return self.tr("No broker at {where}").format(where=where)
        if outcome is Outcome.LOGIN_REFUSED:
            return self.tr("The broker refused the login (check the broker user and password)")
        if outcome is Outcome.NOT_AUTHORIZED:
            return self.tr("The broker does not let this user use site {site}: {detail}").format(
                site=site, detail=result.detail
            )
        if outcome is Outcome.CERTIFICATE:
            return self.tr("The broker's certificate was refused: {detail}").format(
                detail=result.detail
            )
        if outcome is Outcome.NO_AGENT:
            return self.tr("No agent for site {site} answered within {seconds} s").format(
                site=site, seconds=f"{self.answer_seconds:g}"
            )
        return self.tr("The connection test failed: {detail}").format(detail=result.detail)
