"""``edge-agent doctor``: check every connection a site depends on, say how to fix each.

Each check returns a :class:`Check` (ok / failed / skipped, what it found, and for a
failure one line on how to fix it). The command prints them as a table and exits
with status 1 if any failed, so it can gate an install script or a monitoring probe.
Secrets are never printed: a check reports where a secret came from, not its value.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from edge_agent import wiring
from edge_agent.config import AgentConfig
from shared.config import Secret, env_name, load, secrets_of
from shared.errors import ConfigError, SecretError


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, FAIL, skip
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "FAIL", detail, fix)


def warn(name: str, detail: str, fix: str) -> Check:
    """Worth a look, not a failure (the exit status stays 0)."""
    return Check(name, "WARN", detail, fix)


def skip(name: str, detail: str) -> Check:
    return Check(name, "skip", detail)


def _guard(name: str, fix: str, probe: Callable[[], Check]) -> Check:
    try:
        return probe()
    except Exception as exc:  # a doctor reports, it does not crash
        return fail(name, f"{type(exc).__name__}: {exc}"[:300], fix)


def run_checks(config_path: Path | str, *, timeout: float = 5.0) -> list[Check]:
    try:
        config = load(AgentConfig, config_path)
    except ConfigError as exc:
        return [
            fail(
                "config",
                f"{exc.key}: {exc.problem}",
                f"fix {exc.key} in {config_path} or set {env_name(None, exc.key)}",
            )
        ]
    except SecretError as exc:
        return [fail("config", str(exc), "see README 'Secrets'")]
    except Exception as exc:
        return [fail("config", f"{type(exc).__name__}: {exc}", "see README 'Configuration'")]
    return [ok("config", f"{config_path}: site {config.site_id}"), *_checks(config, timeout)]


def _checks(config: AgentConfig, timeout: float) -> Iterator[Check]:
    yield _guard("keyring", "see README 'Secrets'", _keyring)
    for name, secret in secrets_of(config):
        if secret or name == "core.token":
            yield _secret(name, secret)
    yield _guard("store", f"make {config.store.path.parent} writable", lambda: _store(config))
    yield _guard("quarantine", QUARANTINE_FIX, lambda: _quarantine(config))
    yield check_core(config, timeout)
    seen = _BrokerProbe()
    yield check_broker(config, timeout, seen)
    yield _access(config, seen)
    yield check_sns(config)
    for station in sorted(config.printers):
        yield check_printer(config, station)
    yield _guard("kafka", "check [kafka] bootstrap and the broker", lambda: _kafka(config))
    yield _statsd(config)


def check_core(config: AgentConfig, timeout: float) -> Check:
    """The core's health, then an authenticated call with the site's token."""
    return _guard(
        "core",
        "check [core] url, the network, and the token (edge-agent set-secret core.token)",
        lambda: _core(config, timeout),
    )


def check_broker(config: AgentConfig, timeout: float, seen: _BrokerProbe | None = None) -> Check:
    """A STOMP login with [mq] user and password, a subscription and a confirmed send."""
    probe = _BrokerProbe() if seen is None else seen
    return _guard(
        "broker",
        "check [mq] url, user, password (set-secret mq.password) and the broker",
        lambda: _broker(config, timeout, probe),
    )


def check_sns(config: AgentConfig) -> Check:
    """SNS with the configured keys (the topic, when one is set); skip when off."""
    return _guard("sns", "check [sns] and the AWS credentials", lambda: _sns(config))


def check_printer(config: AgentConfig, station: str) -> Check:
    """A connection to ``[printers.<station>]`` and its status."""
    return _guard(
        f"printer {station}",
        f"check the printer at {config.printers[station].url}: power, network, paper, cover",
        lambda: _printer(config, station),
    )


def _keyring() -> Check:
    import keyring
    from keyring.backends import fail as fail_backend

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if os.environ.get("CREDENTIALS_DIRECTORY"):
        return ok("keyring", f"service credentials in $CREDENTIALS_DIRECTORY (and {name})")
    if isinstance(backend, fail_backend.Keyring):
        return fail(
            "keyring",
            "no usable keyring backend (a headless box has no Secret Service)",
            "run the agent under systemd with LoadCredentialEncrypted= (README 'Secrets'), "
            "or set PYTHON_KEYRING_BACKEND to a working backend",
        )
    return ok("keyring", name)


def _secret(name: str, secret: Secret) -> Check:
    """Where the configuration found ``name`` (the lookup every program uses:
    :func:`shared.config.load`), never its value."""
    label = f"secret {name}"
    if not secret:
        return fail(
            label, "not set", f"edge-agent set-secret {name} (or set {env_name(None, name)})"
        )
    return ok(label, f"from {secret.source}")


#: free space next to the database below which ``doctor`` warns, and fails (MiB)
LOW_DISK_MIB = 100
FULL_DISK_MIB = 5


def store_fix(kind: str, path: Path) -> str:
    """How a site admin fixes each kind of store trouble (``StoreError.kind``)."""
    folder = path.parent
    fixes = {
        "disk_full": (
            f"free space on the disk holding {folder}; the agent carries on by itself "
            "once there is room ([store] retention keeps the database small)"
        ),
        "read_only": (
            f"make {path} and {folder} writable for the agent, and check the disk is "
            f"not mounted read-only (findmnt -T {folder})"
        ),
        "io": (
            f"the disk holding {folder} reports errors: check dmesg, replace the disk, "
            f"restore {path} from a backup"
        ),
        "corrupt": (
            f"stop the agent, move {path} (and its -wal and -shm files) aside, then restore "
            "the last backup or start empty (open orders come back from the core)"
        ),
    }
    return fixes.get(kind, f"make {folder} writable for the agent")


def _store(config: AgentConfig) -> Check:
    from edge_agent.errors import StoreError
    from edge_agent.store import TROUBLE_WORDS, Store

    path = config.store.path
    try:
        store = Store(path)  # runs PRAGMA quick_check
    except StoreError as exc:
        return fail("store", f"cannot open {path}: {exc}"[:300], store_fix(exc.kind, path))
    with store:
        if store.damage:
            detail = f"{path} is damaged (quick_check): {store.damage}"
            return fail("store", detail[:300], store_fix("corrupt", path))
        try:
            store.set_meta("doctor_checked_at", str(time.time()))  # a real write
        except StoreError as exc:
            words = TROUBLE_WORDS.get(exc.kind, exc.kind)
            detail = f"{path} cannot be written ({words}): {exc}"
            return fail("store", detail[:300], store_fix(exc.kind, path))
        stats = store.outbox_stats()
        dead = sum(channel.get("dead", 0) for channel in stats.values())
        pending = sum(channel.get("pending", 0) for channel in stats.values())
        quarantined = len(store.quarantined())
        version = store.schema_version
    free = shutil.disk_usage(path.parent).free / 2**20
    detail = (
        f"{path} (schema version {version}): {pending} pending, {dead} dead-lettered, "
        f"{quarantined} quarantined orders, {free:.0f} MiB free"
    )
    if free < FULL_DISK_MIB:
        return fail("store", f"{detail}: the disk is full", store_fix("disk_full", path))
    if dead:
        return fail("store", detail, "edge-agent outbox --dead shows the reasons")
    if free < LOW_DISK_MIB:
        return warn("store", f"{detail}: the disk is nearly full", store_fix("disk_full", path))
    return ok("store", detail)


QUARANTINE_FIX = "edge-agent quarantine list, then show / release / dismiss each"


def _quarantine(config: AgentConfig) -> Check:
    """Refused orders nobody released or dismissed: FAIL while they are still on the
    screens (a kitchen may be missing an order right now), WARN once older."""
    from edge_agent.store import Store

    with Store(config.store.path) as store:
        waiting = store.quarantined(unresolved_since=0.0)
    if not waiting:
        return ok("quarantine", "no refused orders waiting")
    recent = [q for q in waiting if q["at"] >= time.time() - config.quarantine_shown_seconds]
    newest = waiting[-1]
    detail = (
        f"{len(waiting)} refused orders waiting ({len(recent)} on the screens); newest: "
        f"order {newest['label']}: {newest['summary']}"
    )[:300]
    if recent:
        return fail("quarantine", detail, QUARANTINE_FIX)
    return warn("quarantine", detail, QUARANTINE_FIX)


def _core(config: AgentConfig, timeout: float) -> Check:
    from edge_agent.errors import CoreAuthError, CoreUnavailable

    with wiring.core_client(config, timeout=timeout) as core:
        started = time.monotonic()
        try:
            if not core.health():
                return fail("core", f"{config.core.url}: health is not ok", "ask the core team")
        except CoreUnavailable as exc:
            return fail(
                "core", f"{config.core.url}: unreachable: {exc}", "check [core] url and the network"
            )
        try:
            brands = core.menu().get("brands", [])
        except CoreAuthError as exc:
            return fail(
                "core",
                f"{config.core.url}: reachable, but the token was refused ({exc.status})",
                f"store site {config.site_id}'s token: edge-agent set-secret core.token",
            )
        ms = (time.monotonic() - started) * 1000
    return ok(
        "core", f"{config.core.url}: healthy, token accepted, {len(brands)} brands ({ms:.0f} ms)"
    )


@dataclass
class _BrokerProbe:
    """What the broker check saw, for the access check after it."""

    reached: bool = False
    #: the ``JMSXUserID`` the broker stamped on the doctor's own probe message ("" none)
    stamped: str | None = None


def _broker(config: AgentConfig, timeout: float, seen: _BrokerProbe) -> Check:
    import threading

    from edge_agent.access import USER_HEADER
    from shared import wire
    from shared.errors import MqNotAuthorized
    from shared.mq import Message, mq_client_from_settings

    # not the agent's client-id: a running agent holds it, and ActiveMQ refuses a second
    client = mq_client_from_settings(
        config.mq, name="doctor", heartbeat_ms=0, connect_timeout=timeout
    )
    client.subscribe(wire.state_topic(config.site_id), lambda message: None)
    # a probe queue of the doctor's own (broker-acl lets the agent's user read and
    # write kds.{site}.doctor.>): the probe comes back stamped with the sender when
    # the broker populates JMSXUserID
    probe = f"/queue/kds.{config.site_id}.doctor.{uuid.uuid4().hex[:8]}"
    back = threading.Event()

    def _on_probe(message: Message) -> None:
        seen.stamped = message.headers.get(USER_HEADER, "")
        back.set()

    client.subscribe(probe, _on_probe)
    client.start()
    try:
        if not client.wait_connected(timeout * 2):
            if client.certificate_refused:
                return fail(
                    "broker",
                    f"{config.mq.url}: {client.last_error}",
                    "set [mq] ca_file to the PEM of the CA that signed the broker's "
                    "certificate, and check the certificate is for this host name",
                )
            if client.last_refusal is not None:
                return fail(
                    "broker",
                    f"{config.mq.url}: {client.last_refusal}",
                    "check [mq] user and its password (edge-agent set-secret mq.password) "
                    "against the broker's users and authorization map "
                    "(edge-agent broker-acl, docs/broker-acl.md)",
                )
            return fail(
                "broker",
                f"{config.mq.url}: cannot connect ({client.last_error or 'no answer'})",
                "check [mq] url, the network and the broker's STOMP connector",
            )
        try:
            client.send(
                probe,
                b"{}",
                persistent=False,
                receipt_timeout=timeout,
                headers={"expires": str(int(time.time() * 1000) + 1000)},
            )
        except MqNotAuthorized as exc:
            return fail(
                "broker",
                f"{config.mq.url}: {exc}",
                "the broker's authorization map must let [mq] user read and write "
                f"kds.{config.site_id}.doctor.> (edge-agent broker-acl, docs/broker-acl.md)",
            )
        seen.reached = True
        back.wait(timeout)
    finally:
        client.close()
    detail = f"{config.mq.url}: connected, subscribed, send confirmed"
    if config.mq.insecure_skip_verify:
        return warn(
            "broker",
            f"{detail}; insecure_skip_verify = true: the broker's certificate is NOT verified",
            "set [mq] ca_file to the broker's CA (PEM) and remove insecure_skip_verify",
        )
    return ok("broker", detail)


ACCESS_FIX = (
    "list every screen in [access.screens.<display_id>] with its role, and lock the "
    "broker per site (edge-agent broker-acl; docs/security.md)"
)


def _access(config: AgentConfig, seen: _BrokerProbe) -> Check:
    """Who may command this site: the role map, and whether the broker vouches for senders."""
    from edge_agent.access import USER_HEADER

    policy = wiring.access_policy(config)
    detail = policy.describe()
    if not policy.enabled:
        return warn("access", detail, ACCESS_FIX)
    if config.access.identity == "display_id":
        if seen.stamped:
            detail += f'; the broker stamps {USER_HEADER}: identity = "broker" would verify'
        return warn(
            "access",
            detail,
            'set populateJMSXUserID="true" and useAuthenticatedPrincipalForJMSXUserID='
            '"true" on the broker, then [access] identity = "broker"',
        )
    if not seen.reached:
        return skip("access", f"{detail}; the broker was not reached to see its stamp")
    if not seen.stamped:
        return fail(
            "access",
            f"{detail}, but the broker did not stamp {USER_HEADER} on a probe: every "
            f"command will be refused",
            'set populateJMSXUserID="true" and useAuthenticatedPrincipalForJMSXUserID='
            '"true" on the broker (docs/security.md), or [access] identity = "display_id"',
        )
    return ok("access", f"{detail}; the broker stamped this agent as {seen.stamped!r}")


def _sns(config: AgentConfig) -> Check:
    notifier = wiring.notifier(config)
    if notifier is None:
        return skip("sns", "off ([sns] sms = false and no topic_arn)")
    with notifier:
        detail = notifier.check(config.sns.topic_arn or None)
    return ok("sns", detail)


def _printer(config: AgentConfig, station: str) -> Check:
    printer = wiring.printer(config, station)
    try:
        detail = printer.check()
    finally:
        printer.close()
    return ok(f"printer {station}", f"{config.printers[station].url}: {detail}")


def _kafka(config: AgentConfig) -> Check:
    sink = wiring.report_sink(config)
    if sink is None:
        return skip("kafka", "off (no [kafka] bootstrap)")
    with sink:
        lines = sink.check().splitlines()
    topic = next((line for line in lines if line.startswith("topic ")), "")
    return ok("kafka", "; ".join(part for part in (lines[0], topic) if part))


def _statsd(config: AgentConfig) -> Check:
    if not config.statsd.host:
        return skip("statsd", "off (no [statsd] host)")
    return ok(
        "statsd",
        f"{config.statsd.host}:{config.statsd.port} (UDP: sent blind; check DataDog for kds.*)",
    )


def format_table(checks: list[Check]) -> str:
    width = max(len(c.name) for c in checks)
    lines = [f"{'CHECK':<{width}}  STATUS  DETAIL"]
    for check in checks:
        lines.append(f"{check.name:<{width}}  {check.status:<6}  {check.detail}")
        if check.fix:
            lines.append(f"{'':<{width}}          -> fix: {check.fix}")
    failed = sum(c.failed for c in checks)
    lines.append("")
    lines.append("all checks passed" if not failed else f"{failed} check(s) failed")
    return "\n".join(lines)
