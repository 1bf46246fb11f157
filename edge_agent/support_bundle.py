"""``edge-agent support-bundle``: one zip a site admin can e-mail to support.

Inside (README.txt says the same): the recent log files of both programs, the config
file with every secret removed, ``--version``, the OS, Python and library versions,
``doctor``'s table (bounded in time: a dead broker does not hang it), the outbox and
quarantine counts and the database's schema version. Never a secret: every line of
every file is masked (:mod:`shared.redact`, which knows each secret the config loaded)
and a secret-looking key of the config is dropped. Never a customer's phone number:
no row of the database goes in (only counts), and phone numbers in the logs are masked.
"""

from __future__ import annotations

import json
import platform
import re
import sqlite3
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from shared import logs, redact

#: a config key whose value is removed whatever the loader thinks of it
_SECRET_KEY = re.compile(r"token|password|secret|api_key|access_key|pin", re.IGNORECASE)
_KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.\"-]+)(\s*=\s*)(.*)$")
#: an E.164 phone number (+31612345678), and a JSON "phone" value however written
_PHONE = re.compile(r"\+\d[\d ]{6,16}\d")
_PHONE_FIELD = re.compile(r'("phone"\s*:\s*)"[^"]*"')
PHONE_MASK = "<phone>"

README = """\
ghost-kds support bundle
========================

Made by `edge-agent support-bundle` on {made} for site {site}.

  README.txt     this file
  version.txt    edge-agent --version: release, build, Python, libraries
  system.txt     the operating system, Python and every installed library's version
  config.toml    {config} with every secret removed (secret keys dropped, and any
                 value equal to a loaded secret replaced by ********)
  doctor.txt     edge-agent doctor: each connection's check (at most {doctor_budget:g} s)
  store.json     the database: schema version, outbox rows per channel and state,
                 quarantined orders (waiting / dealt with), dead letters; counts only
  logs/          the recent log files of edge-agent and kitchen-display on this machine
                 ({log_dir}; logs/service/: the service's, {system_log_dir}),
                 secrets and phone numbers masked

What is never in it: a secret (the core token, broker password, AWS keys, PoS keys,
the lead PIN) and customer data (no database row; phone numbers in logs masked).
"""


def scrub(text: str) -> str:
    """Secrets (every one this process loaded) and phone numbers masked."""
    text = redact.redact(text)
    text = _PHONE_FIELD.sub(rf'\1"{PHONE_MASK}"', text)
    return _PHONE.sub(PHONE_MASK, text)


def config_without_secrets(text: str) -> str:
    """The config file's text, with any secret-looking key's value removed."""
    lines = []
    for line in text.splitlines():
        match = _KEY_LINE.match(line)
        if match and not line.lstrip().startswith("#") and _SECRET_KEY.search(match.group(2)):
            line = f'{match.group(1)}{match.group(2)}{match.group(3)}"<removed>"'
        lines.append(line)
    return scrub("\n".join(lines) + "\n")


def system_text() -> str:
    from importlib import metadata

    lines = [
        f"os: {platform.platform()}",
        f"machine: {platform.machine()}",
        f"python: {platform.python_version()} ({platform.python_implementation()})",
    ]
    try:
        release = Path("/etc/os-release").read_text(encoding="utf-8")
        pretty = re.search(r'^PRETTY_NAME="?([^"\n]*)', release, re.MULTILINE)
        if pretty:
            lines.append(f"distribution: {pretty.group(1)}")
    except OSError:
        pass
    lines.append("libraries:")
    found = sorted(
        {(d.metadata["Name"] or "?", d.version) for d in metadata.distributions()},
        key=lambda item: item[0].lower(),
    )
    lines += [f"  {name}=={version}" for name, version in found]
    return "\n".join(lines) + "\n"


def store_summary(path: Path) -> dict[str, Any]:
    """Counts from the database, read-only (the bundle never changes or migrates it)."""
    if not path.exists():
        return {"path": str(path), "error": "no database file yet"}
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        return {"path": str(path), "error": f"cannot open: {exc}"}
    try:

        def one(sql: str) -> Any:
            try:
                row = db.execute(sql).fetchone()
            except sqlite3.Error as exc:
                return f"unreadable: {exc}"
            return row[0] if row else None

        outbox: dict[str, dict[str, int]] = {}
        try:
            for channel, state, count in db.execute(
                "SELECT channel, state, COUNT(*) FROM outbox GROUP BY channel, state"
            ):
                outbox.setdefault(channel, {})[state] = count
        except sqlite3.Error as exc:
            outbox = {"error": {str(exc): 0}}
        schema = one("SELECT value FROM meta WHERE key = 'schema'")
        return {
            "path": str(path),
            "size_bytes": path.stat().st_size,
            "schema_version": int(schema) if str(schema).isdigit() else schema,
            "seq": one("SELECT value FROM meta WHERE key = 'seq'"),
            "outbox": outbox,
            "quarantine": {
                "waiting": one(
                    "SELECT COUNT(*) FROM quarantine AS q LEFT JOIN quarantine_notes AS n "
                    "ON n.quarantine_id = q.id WHERE n.resolved IS NULL"
                ),
                "total": one("SELECT COUNT(*) FROM quarantine"),
            },
            "dead_letters": one("SELECT COUNT(*) FROM dead_letters"),
            "open_tickets": one("SELECT COUNT(*) FROM tickets WHERE status != 'CLEARED'"),
        }
    finally:
        db.close()


def bounded(work: Callable[[], str], seconds: float, what: str) -> str:
    """``work()``'s text, or a line saying it did not finish within ``seconds``."""
    result: list[str] = []

    def run() -> None:
        try:
            result.append(work())
        except Exception as exc:  # the bundle reports, it does not crash
            result.append(f"{what} failed: {type(exc).__name__}: {exc}\n")

    thread = threading.Thread(target=run, name=f"bundle-{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if result:
        return result[0]
    return f"{what} did not finish within {seconds:g} s (a peer that does not answer?)\n"


def make_bundle(
    config_path: Path,
    out: Path | None,
    *,
    version_text: str,
    doctor_timeout: float = 5.0,
    doctor_budget: float = 60.0,
) -> Path:
    """Write the zip; its path. Loading the config first makes every secret known to
    :mod:`shared.redact` (a config that does not load still has its secrets looked up)."""
    from edge_agent.config import AgentConfig
    from edge_agent.doctor import format_table, run_checks
    from shared.config import load
    from shared.errors import KdsError

    site, store_path, problem = "unknown", None, ""
    try:
        config = load(AgentConfig, config_path)
        site, store_path = config.site_id, config.store.path
    except KdsError as exc:
        problem = f"the config does not load: {exc}"
    now = datetime.now(UTC)
    if out is None:
        out = Path(f"ghost-kds-support-{site}-{now:%Y%m%dT%H%M%SZ}.zip")
    try:
        raw_config = config_path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raw_config = f"# cannot read {config_path}: {exc.strerror}\n"
    doctor_text = bounded(
        lambda: format_table(run_checks(config_path, timeout=doctor_timeout)) + "\n",
        doctor_budget,
        "doctor",
    )
    summary: dict[str, Any] = (
        store_summary(store_path) if store_path else {"error": problem or "no [store] path"}
    )
    log_dir = logs.log_dir()
    readme = README.format(
        made=f"{now:%Y-%m-%d %H:%M:%S} UTC",
        site=site,
        config=config_path,
        doctor_budget=doctor_budget,
        log_dir=log_dir,
        system_log_dir=logs.SYSTEM_LOG_DIR,
    )
    if problem:
        readme += f"\nNote: {problem}\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("README.txt", scrub(readme))
        bundle.writestr("version.txt", scrub(version_text + "\n"))
        bundle.writestr("system.txt", scrub(system_text()))
        bundle.writestr("config.toml", config_without_secrets(raw_config))
        bundle.writestr("doctor.txt", scrub(doctor_text))
        bundle.writestr("store.json", scrub(json.dumps(summary, indent=2) + "\n"))
        for file in logs.log_files():
            try:
                text = file.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                text = f"cannot read {file}: {exc.strerror}\n"
            # the service's folder apart from this shell's own
            inner = "service/" if file.parent == logs.SYSTEM_LOG_DIR != log_dir else ""
            bundle.writestr(f"logs/{inner}{file.name}", scrub(text))
    return out
