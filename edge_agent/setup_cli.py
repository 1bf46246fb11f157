"""``edge-agent setup``: a site admin's first configuration of the agent, checked as it goes.

Interactive (prompts; secrets read with :func:`getpass.getpass`, never echoed) or
scripted (``--non-interactive``: every answer a flag). A secret is never a command
line value (``ps`` shows argv): it comes from a file (``--core-token-file PATH``, ``-``
for stdin) or the environment (``KDS_CORE_TOKEN``, ``KDS_MQ_PASSWORD``,
``KDS_SNS_AWS_ACCESS_KEY_ID``, ``KDS_SNS_AWS_SECRET_ACCESS_KEY``).

Each connection is tested as soon as its answers are in, with ``edge-agent doctor``'s
own checks (the core's health and an authenticated call, a broker login with a
confirmed send, SNS, a TCP connection to each printer). A failure says what failed and
how to fix it; interactively the admin re-enters the answers or keeps them, scripted the
command exits 1 (``--skip-checks`` skips them all).

Secrets go to the OS keyring (``--secrets keyring``) or become systemd credentials
(``--secrets systemd-creds``: ``systemd-creds encrypt --name=core.token -
/etc/ghost-kds/core.token.cred``, what the unit's ``LoadCredentialEncrypted=`` lines
load). The rest is written to the config file (``config_version = 1`` first), which is
never overwritten without ``--force``.
"""

from __future__ import annotations

import argparse
import getpass
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from edge_agent import doctor
from edge_agent.config import AgentConfig
from shared import redact
from shared.config import CONFIG_VERSION, load, store_secret
from shared.errors import ConfigError, KdsError, SecretError

DEFAULT_CONFIG = Path("/etc/ghost-kds/agent.toml")
DEFAULT_CREDS_DIR = Path("/etc/ghost-kds")
DEFAULT_STORE = Path("/var/lib/ghost-kds/edge.sqlite3")
DEFAULT_STATIONS = ("grill", "fry", "cold", "bar", "expo")
SERVICE = "ghost-kds-edge-agent"

#: each secret: its flag (a file to read it from) and its environment variable
SECRET_SOURCES = {
    "core.token": ("core_token_file", "KDS_CORE_TOKEN"),
    "mq.password": ("mq_password_file", "KDS_MQ_PASSWORD"),
    "sns.aws_access_key_id": ("sns_access_key_id_file", "KDS_SNS_AWS_ACCESS_KEY_ID"),
    "sns.aws_secret_access_key": ("sns_secret_access_key_file", "KDS_SNS_AWS_SECRET_ACCESS_KEY"),
}


class SetupError(KdsError):
    """An answer or a step of ``setup`` failed; the message says how to fix it."""


@dataclass
class Answers:
    site_id: str = ""
    stations: tuple[str, ...] = DEFAULT_STATIONS
    store_path: Path = DEFAULT_STORE
    core_url: str = ""
    mq_url: str = ""
    mq_user: str = ""
    sns: bool = False
    sns_endpoint: str = ""
    sns_region: str = "eu-west-1"
    sns_topic_arn: str = ""
    sns_sms: bool = False
    #: station -> tcp://host:port
    printers: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)

    def toml(self) -> str:
        """The config file: every answer but the secrets."""

        def q(text: str) -> str:
            return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

        stations = ", ".join(q(s) for s in self.stations)
        expo = "expo" if "expo" in self.stations else ""
        lines = [
            f"config_version = {CONFIG_VERSION}",
            "# Written by `edge-agent setup`. Secrets are not in this file: they are in",
            "# the keyring or systemd credentials (see docs/admin.md).",
            f"site_id = {q(self.site_id)}",
            f"stations = [{stations}]",
            f"expo_station = {q(expo)}",
            "",
            "[core]",
            f"url = {q(self.core_url)}",
            "",
            "[store]",
            f"path = {q(str(self.store_path))}",
        ]
        if self.mq_url:  # not yet while the core is checked
            lines += ["", "[mq]", f"url = {q(self.mq_url)}", f"user = {q(self.mq_user)}"]
        if self.sns:
            lines += ["", "[sns]", f"region = {q(self.sns_region)}"]
            if self.sns_endpoint:
                lines.append(f"endpoint_url = {q(self.sns_endpoint)}")
            if self.sns_topic_arn:
                lines.append(f"topic_arn = {q(self.sns_topic_arn)}")
            lines.append(f"sms = {'true' if self.sns_sms else 'false'}")
        for station, url in sorted(self.printers.items()):
            lines += ["", f"[printers.{station}]", f"url = {q(url)}"]
        return "\n".join(lines) + "\n"

    def config(self) -> AgentConfig:
        """The configuration these answers make, secrets included (for the checks)."""
        env = {
            env_key: self.secrets[name]
            for name, (_flag, env_key) in SECRET_SOURCES.items()
            if self.secrets.get(name)
        }
        with tempfile.TemporaryDirectory(prefix="kds-setup-") as folder:
            path = Path(folder) / "agent.toml"
            path.write_text(self.toml(), encoding="utf-8")
            return load(AgentConfig, path, env=env, secrets=None)


def printer_url(text: str) -> tuple[str, str]:
    """``grill=10.0.0.5:9100`` -> ``("grill", "tcp://10.0.0.5:9100")``."""
    name, sep, target = text.partition("=")
    host, colon, port = target.strip().rpartition(":")
    if not sep or not name.strip() or not colon or not host or not port.isdigit():
        raise SetupError(f"printer {text!r}: expected station=host:port, like grill=10.0.0.5:9100")
    return name.strip(), f"tcp://{host}:{int(port)}"


# --- talking to the admin ------------------------------------------------------------


class Prompter:
    """Questions on the terminal (``input`` and ``getpass``)."""

    def __init__(self, ask: Callable[[str], str] = input) -> None:
        self._ask = ask

    def text(self, question: str, default: str = "") -> str:
        shown = f"{question} [{default}]: " if default else f"{question}: "
        while True:
            answer = self._ask(shown).strip() or default
            if answer:
                return answer
            print("  an answer is needed")

    def optional(self, question: str) -> str:
        return self._ask(f"{question} (empty: none): ").strip()

    def secret(self, question: str) -> str:
        while True:
            value = getpass.getpass(f"{question} (not shown): ").strip()
            if value:
                redact.remember(value)
                return value
            print("  an answer is needed")

    def yes(self, question: str, default: bool = False) -> bool:
        hint = "Y/n" if default else "y/N"
        answer = self._ask(f"{question} [{hint}]: ").strip().lower()
        return default if not answer else answer.startswith("y")

    def choice(self, question: str, options: str) -> str:
        while True:
            answer = self._ask(f"{question} ").strip().lower()[:1]
            if answer and answer in options:
                return answer


def _secret_from_flags(args: argparse.Namespace, name: str, stdin_used: list[bool]) -> str:
    flag, env_key = SECRET_SOURCES[name]
    source = getattr(args, flag, None)
    if source == "-":
        if stdin_used:
            raise SetupError("only one secret can come from stdin ('-')")
        stdin_used.append(True)
        value = sys.stdin.readline().rstrip("\r\n")
    elif source:
        try:
            value = Path(source).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise SetupError(f"--{flag.replace('_', '-')}: cannot read {source}: {exc}") from exc
    else:
        value = os.environ.get(env_key, "")
    if value:
        redact.remember(value)
    return value


# --- the steps -------------------------------------------------------------------------


def _report(check: doctor.Check) -> None:
    print(f"  {check.name}: {check.status}: {redact.redact(check.detail)}")
    if check.fix:
        print(f"    -> fix: {redact.redact(check.fix)}")


class Setup:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.interactive = not args.non_interactive
        self.ask = Prompter()
        self.answers = Answers()
        self._stdin_used: list[bool] = []

    def _secret(self, name: str, question: str) -> str:
        value = _secret_from_flags(self.args, name, self._stdin_used)
        if value or not self.interactive:
            return value
        return self.ask.secret(question)

    def _value(self, flag: str, question: str, default: str = "") -> str:
        value = getattr(self.args, flag, None)
        if value:
            return str(value)
        if not self.interactive:
            if default:
                return default
            raise SetupError(f"--{flag.replace('_', '-')} is required with --non-interactive")
        return self.ask.text(question, default)

    def _checked(
        self, what: str, ask: Callable[[bool], None], check: Callable[[], list[doctor.Check]]
    ) -> None:
        """Ask (``ask(again)``), then test; on a failure re-ask or keep (interactive) or
        stop (scripted)."""
        again = False
        while True:
            ask(again)
            if self.args.skip_checks:
                return
            print(f"checking {what} ...")
            try:
                checks = check()
            except ConfigError as exc:
                checks = [doctor.fail(what, f"{exc.key}: {exc.problem}", f"correct {exc.key}")]
            for result in checks:
                _report(result)
            if not any(c.failed for c in checks):
                return
            if not self.interactive:
                raise SetupError(
                    f"the {what} check failed (see above); fix it and run setup again, "
                    "or add --skip-checks"
                )
            choice = self.ask.choice("[r]e-enter, [k]eep these answers, or [q]uit?", "rkq")
            if choice == "k":
                return
            if choice == "q":
                raise SetupError("setup stopped; nothing was written")
            again = True
            self._forget(what)

    def _forget(self, what: str) -> None:
        """A re-entry asks again even for what flags gave."""
        flags = {
            "core": ("core_url", "core_token_file"),
            "broker": ("mq_url", "mq_user", "mq_password_file"),
            "sns": ("sns_endpoint", "sns_region", "sns_topic_arn"),
        }.get(what, ())
        for flag in flags:
            setattr(self.args, flag, None)

    def run(self) -> int:
        a = self.answers
        a.site_id = self._value("site_id", "Site id (like ams-01)")
        if self.args.stations:
            a.stations = tuple(s.strip() for s in self.args.stations.split(",") if s.strip())
        a.store_path = Path(self._value("store_path", "Database file", str(DEFAULT_STORE)))
        timeout = self.args.timeout

        def ask_core(_again: bool) -> None:
            a.core_url = self._value("core_url", "Core URL (https://...)", a.core_url)
            a.secrets["core.token"] = self._secret("core.token", "Core token for this site")
            if not a.secrets["core.token"]:
                raise SetupError("no core token: give --core-token-file or set KDS_CORE_TOKEN")

        self._checked("core", ask_core, lambda: [doctor.check_core(a.config(), timeout)])

        def ask_broker(_again: bool) -> None:
            a.mq_url = self._value("mq_url", "Broker URL (stomp+ssl://host:61614)", a.mq_url)
            a.mq_user = self._value("mq_user", "Broker user", a.mq_user or f"kds-{a.site_id}-agent")
            a.secrets["mq.password"] = self._secret("mq.password", "Broker password")

        self._checked("broker", ask_broker, lambda: [doctor.check_broker(a.config(), timeout)])

        a.sns = bool(self.args.sns_region or self.args.sns_topic_arn or self.args.sns_sms) or (
            self.interactive and self.ask.yes("Use Amazon SNS (texts, pickup notifications)?")
        )
        if a.sns:

            def ask_sns(_again: bool) -> None:
                a.sns_endpoint = self.args.sns_endpoint or (
                    self.ask.optional("SNS endpoint URL (empty: AWS)") if self.interactive else ""
                )
                a.sns_region = self._value("sns_region", "SNS region", a.sns_region)
                a.sns_topic_arn = self.args.sns_topic_arn or (
                    self.ask.optional("Pickup topic ARN") if self.interactive else ""
                )
                a.sns_sms = bool(self.args.sns_sms) or (
                    self.interactive and self.ask.yes("Text customers (SMS)?")
                )
                if not (a.sns_topic_arn or a.sns_sms):
                    raise SetupError("SNS needs a topic ARN (--sns-topic-arn) or --sns-sms")
                a.secrets["sns.aws_access_key_id"] = self._secret(
                    "sns.aws_access_key_id", "AWS access key id"
                )
                a.secrets["sns.aws_secret_access_key"] = self._secret(
                    "sns.aws_secret_access_key", "AWS secret access key"
                )

            self._checked("sns", ask_sns, lambda: [doctor.check_sns(a.config())])

        for text in self.args.printer or []:
            station, url = printer_url(text)
            a.printers[station] = url
        while self.interactive and not self.args.printer:
            text = self.ask.optional("Printer station=host:port")
            if not text:
                break
            try:
                station, url = printer_url(text)
            except SetupError as exc:
                print(f"  {exc}")
                continue
            a.printers[station] = url
        for station in sorted(a.printers):

            def ask_printer(again: bool, station: str = station) -> None:
                while again:  # a new address for this station (empty: leave it out)
                    text = self.ask.optional(f"Printer {station} host:port")
                    if not text:
                        del a.printers[station]
                        return
                    try:
                        a.printers[station] = printer_url(f"{station}={text}")[1]
                        return
                    except SetupError as exc:
                        print(f"  {exc}")

            def check_printer(station: str = station) -> list[doctor.Check]:
                if station not in a.printers:
                    return []
                return [doctor.check_printer(a.config(), station)]

            self._checked(f"printer {station}", ask_printer, check_printer)
        a.config()  # every answer valid together (a printer's station is one of stations)
        self._write_config()
        self._store_secrets()
        self._next_steps()
        return 0

    def _write_config(self) -> None:
        path = Path(self.args.config)
        text = self.answers.toml()
        if path.exists():
            old = path.read_text(encoding="utf-8", errors="replace")
            if old == text:
                print(f"{path} already says this; not rewritten")
                return
            print(f"{path} exists; what would change:")
            print(_summary(old, text))
            if not self.args.force and (
                not self.interactive or not self.ask.yes(f"Overwrite {path}?")
            ):
                raise SetupError(f"{path} exists: not overwritten (add --force to replace it)")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        # no secrets in it; the service user must read it
        tmp.chmod(0o644)
        tmp.replace(path)
        print(f"wrote {path}")

    def _store_secrets(self) -> None:
        if self.args.secrets is None:
            if self.interactive:
                can = shutil.which("systemd-creds") is not None and os.geteuid() == 0
                hint = (
                    "[s]ystemd-creds (recommended here) or [k]eyring?"
                    if can
                    else ("[k]eyring or [s]ystemd-creds (needs root)?")
                )
                picked = self.ask.choice(f"Store the secrets in {hint}", "sk")
                self.args.secrets = "systemd-creds" if picked == "s" else "keyring"
            else:
                self.args.secrets = "keyring"
        mode = self.args.secrets
        creds: dict[str, Path] = {}
        for name, value in self.answers.secrets.items():
            if not value:
                continue
            if mode == "systemd-creds":
                creds[name] = encrypt_credential(name, value, Path(self.args.creds_dir))
                print(f"stored {name} as {creds[name]} (systemd-creds)")
            else:
                store_secret(name, value)
                print(f"stored {name} in the keyring")
        if creds:
            dropin = write_credentials_dropin(creds, Path(self.args.systemd_dir))
            print(f"wrote {dropin}: the service loads {', '.join(creds)}")

    def _next_steps(self) -> None:
        config = self.args.config
        print("\nnext steps:")
        if self.args.secrets == "systemd-creds":
            print("  - systemctl daemon-reload                 # reads the credentials drop-in")
        else:
            print("  - the service reads the keyring of its user (ghost-kds): on a headless box")
            print("    prefer --secrets systemd-creds (README 'Secrets')")
        print(f"  - edge-agent doctor --config {config}     # every check again")
        print(f"  - systemctl enable --now {SERVICE}")
        print(f"  - journalctl -u {SERVICE} -f                # its log")


def _summary(old: str, new: str) -> str:
    """A short diff: the lines only in the old file (-) and only in the new one (+)."""
    import difflib

    lines = [
        line
        for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    shown = [f"  {line[0]} {redact.redact(line[1:])}" for line in lines[:40] if line[1:].strip()]
    return "\n".join(shown) or "  (only blank lines)"


def write_credentials_dropin(creds: dict[str, Path], systemd_dir: Path) -> Path:
    """``{systemd_dir}/ghost-kds-edge-agent.service.d/credentials.conf``: one
    ``LoadCredentialEncrypted=NAME:PATH`` for each stored secret, so the service finds
    exactly the credentials setup made (the unit's own line for core.token is cleared
    first: a drop-in may not add a second credential of one name)."""
    folder = systemd_dir / f"{SERVICE}.service.d"
    folder.mkdir(parents=True, exist_ok=True, mode=0o755)
    lines = [
        "# written by edge-agent setup: the secrets it stored with systemd-creds",
        "[Service]",
        "LoadCredentialEncrypted=",
        *(f"LoadCredentialEncrypted={name}:{path}" for name, path in creds.items()),
    ]
    path = folder / "credentials.conf"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o644)
    return path


def encrypt_credential(name: str, value: str, folder: Path) -> Path:
    """``systemd-creds encrypt --name=NAME - FOLDER/NAME.cred`` with the value on stdin."""
    tool = shutil.which("systemd-creds")
    if tool is None:
        raise SecretError(
            "systemd-creds not found (systemd 250 or newer): use --secrets keyring instead"
        )
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.cred"
    result = subprocess.run(
        [tool, "encrypt", f"--name={name}", "-", str(target)],
        input=value,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if result.returncode != 0:
        problem = redact.redact(result.stderr.strip())[:300]
        raise SecretError(
            f"systemd-creds could not encrypt {name} ({problem}); run setup as root, "
            "or use --secrets keyring"
        )
    target.chmod(0o600)
    return target


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "setup",
        help="configure this site's agent, testing each connection",
        description=__doc__.split("\n")[0] if __doc__ else None,
    )
    p.add_argument("--config", default=str(DEFAULT_CONFIG), help=f"default {DEFAULT_CONFIG}")
    p.add_argument("--non-interactive", action="store_true", help="no prompts: every answer a flag")
    p.add_argument("--force", action="store_true", help="overwrite an existing config file")
    p.add_argument("--skip-checks", action="store_true", help="do not test the connections")
    p.add_argument("--timeout", type=float, default=5.0, help="per check, seconds")
    p.add_argument(
        "--secrets",
        choices=("keyring", "systemd-creds"),
        help="where the secrets go (default: asked; keyring with --non-interactive)",
    )
    p.add_argument("--creds-dir", default=str(DEFAULT_CREDS_DIR), help="for systemd-creds files")
    p.add_argument(
        "--systemd-dir",
        default="/etc/systemd/system",
        help="where the credentials drop-in goes (with --secrets systemd-creds)",
    )
    p.add_argument("--site-id")
    p.add_argument("--stations", help="comma-separated (default grill,fry,cold,bar,expo)")
    p.add_argument("--store-path", help=f"default {DEFAULT_STORE}")
    p.add_argument("--core-url")
    p.add_argument("--mq-url")
    p.add_argument("--mq-user")
    p.add_argument("--sns-endpoint", help="empty: AWS")
    p.add_argument("--sns-region")
    p.add_argument("--sns-topic-arn")
    p.add_argument("--sns-sms", action="store_true", help="text customers")
    p.add_argument(
        "--printer", action="append", metavar="STATION=HOST:PORT", help="repeat for each"
    )
    for name, (flag, env_key) in SECRET_SOURCES.items():
        p.add_argument(
            f"--{flag.replace('_', '-')}",
            metavar="PATH",
            help=f"file holding {name} ('-': stdin; default ${env_key})",
        )
    p.set_defaults(func=run_setup)


def run_setup(args: argparse.Namespace) -> int:
    import logging

    logging.basicConfig(level=logging.CRITICAL)  # each check's result says it all
    try:
        return Setup(args).run()
    except SetupError as exc:
        print(f"edge-agent setup: {redact.redact(str(exc))}", file=sys.stderr)
        return 1
    except (EOFError, KeyboardInterrupt):
        print("\nedge-agent setup: stopped; nothing was written", file=sys.stderr)
        return 1
