"""Secrets never leak: the real programs, run with known secrets, through their normal
and their error paths, never show one in what they print, log or store.

One module-scoped world (a broker that wants a password, the core simulator, moto's SNS,
a PoS print API) and one ``edge-agent run`` with ``log_level = "DEBUG"`` (orders in,
a print after a 401 and a 500, a text, a refused topic publish, core faults), then:
the agent's error runs (a wrong token, the core down, a wrong MQ password), a bad config,
``doctor`` (healthy and failing, every library logger at DEBUG), ``outbox`` (and
``--dead``), ``export``, ``quarantine list``, ``set-secret``, ``kitchen-display`` (as a
process, with the right and a wrong MQ password), ``kitchen-display set-pin`` and a lead
unlocking a kiosk screen (a wrong PIN, then the right one). Every output, log line, file
and database row is searched for every secret in its raw form and in the encodings a
log would show it in (:func:`forms`): no hit.

Secrets come from the keyring (keyrings.alt's file backend, as ``set-secret`` stores
them) in the main run and from ``KDS_*`` in the error runs.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, quote_plus

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from core_sim.server import CoreSimulator
from tests.helpers.activemq import ActiveMQ
from tests.helpers.moto_server import REGION, MotoSns
from tests.helpers.net import free_port
from tests.helpers.pos_server import PosServer
from tests.helpers.site import ROOT, SitePeer, agent_toml, line_item, unique_site, wait_until

pytestmark = [pytest.mark.broker, pytest.mark.slow]

MQ_USER = "kds-leak"
CORE_TOKEN = "core.tok_7Hq2ZvXw9LpR4mKd+x/Q"
MQ_PASSWORD = "mq+Pw/7Rt8Vn2Lk6Jz=S"
AWS_KEY_ID = "AKIALEAKQ7W3E9R2T5YU"
AWS_SECRET = "leak/Sk+9fT2xV7bN4mQ1wE8rY6uI3oP0aS5dF=g"
POS_KEY = "pos-key_Wm5Tn8Bx2Qc7Vz4L+/="
LEAD_PIN = "73914628501736295184"
#: what an admin mistypes is as secret as what they meant
WRONG_CORE_TOKEN = "core.tok_WRONG9Ty3Ue6Io1Pa4Sd"
WRONG_MQ_PASSWORD = "mq+Pw/WRONG5Gh8Jk2Lz=X"
WRONG_PIN = "86420135792468013579"
SECRETS = {
    "core.token": CORE_TOKEN,
    "mq.password": MQ_PASSWORD,
    "sns.aws_access_key_id": AWS_KEY_ID,
    "sns.aws_secret_access_key": AWS_SECRET,
    "printers.grill.api_key": POS_KEY,
    "the lead PIN": LEAD_PIN,
    "a wrong core.token": WRONG_CORE_TOKEN,
    "a wrong mq.password": WRONG_MQ_PASSWORD,
    "a wrong lead PIN": WRONG_PIN,
}
#: user names a secret may be paired with (HTTP Basic, a URL's user info)
USERS = (MQ_USER, "", AWS_KEY_ID)
PHONE = "+31612345670"
CTRL_ALT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
WAIT = 30.0

#: ``python -c`` running a program's ``main`` with every logger at DEBUG, the library
#: loggers set explicitly (as an operator chasing a problem would)
DEBUG_MAIN = (
    "import logging, sys, importlib; "
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr); "
    "[logging.getLogger(n).setLevel(logging.DEBUG) for n in "
    "('botocore', 'boto3', 'urllib3', 'stomp.py', 'httpx', 'httpcore')]; "
    "sys.exit(importlib.import_module(sys.argv[1]).main(sys.argv[2:]))"
)


def forms(secret: str) -> dict[str, str]:
    """``secret`` as a log, a header or a dump could show it: name -> text."""
    raw = secret.encode()
    found = {
        "raw": secret,
        "repr": repr(secret),
        "json": json.dumps(secret),
        "url-encoded": quote(secret, safe=""),
        "form-encoded": quote_plus(secret),
        "base64": base64.b64encode(raw).decode().rstrip("="),
        "base64url": base64.urlsafe_b64encode(raw).decode().rstrip("="),
        "hex": raw.hex(),
        "STOMP-escaped": secret.replace("\\", "\\\\").replace(":", "\\c"),
        "bytes repr": repr(raw)[2:-1],
    }
    if len(secret) >= 14:
        found["middle"] = secret[4:-4]  # a mask that shows too much
    for user in USERS:
        pair = base64.b64encode(f"{user}:{secret}".encode()).decode().rstrip("=")
        found[f"base64 of {user or '(no user)'}:secret"] = pair
    return found


def leaks_in(label: str, text: str, secrets: dict[str, str]) -> list[str]:
    """Every (secret, form) found in ``text``, with the text around it."""
    hits = []
    for name, secret in secrets.items():
        for form, needle in forms(secret).items():
            at = text.find(needle)
            if at >= 0:
                around = text[max(0, at - 80) : at + len(needle) + 40]
                hits.append(f"{label}: {name} ({form}) in ...{around!r}...")
                break  # one form is enough to say so
    return hits


_record_lock = threading.Lock()


class Job:
    """One command for :meth:`World.run_many`: :meth:`World.run`'s arguments."""

    def __init__(self, *argv: str, **options: Any) -> None:
        self.argv, self.options = argv, options


@dataclass
class World:
    """The peers, the files and everything the programs showed (label -> text)."""

    tmp: Path
    broker: ActiveMQ
    sim: CoreSimulator
    moto: MotoSns
    pos: PosServer
    site_id: str
    env: dict[str, str]
    keyring_file: Path
    state_dir: Path
    #: the broker's start (a JVM: seconds), while the secrets are stored
    broker_started: Future[None] | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    #: secrets found only after start (the stored form of the lead PIN)
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))

    def record(self, label: str, text: str) -> None:
        with _record_lock:
            self.outputs[label] = self.outputs.get(label, "") + text

    def broker_up(self) -> ActiveMQ:
        if self.broker_started is not None:
            self.broker_started.result(timeout=120)
        return self.broker

    def run_many(self, *jobs: Job) -> list[subprocess.CompletedProcess[str]]:
        """The commands side by side (none may write what another reads)."""
        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(lambda job: self.run(*job.argv, **job.options), jobs))

    def run(
        self,
        label: str,
        *argv: str,
        env: dict[str, str] | None = None,
        stdin: str = "",
        debug: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """``python -m argv...`` (``debug``: its ``main`` under :data:`DEBUG_MAIN`)."""
        command = ["-c", DEBUG_MAIN, *argv] if debug else ["-m", *argv]
        result = subprocess.run(
            [sys.executable, *command],
            cwd=ROOT,
            env={**self.env, **(env or {})},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.record(label, f"$ {' '.join(argv)}\n{result.stdout}{result.stderr}")
        return result

    def start(self, label: str, *argv: str, env: dict[str, str] | None = None) -> Program:
        log = self.tmp / f"{label.replace(' ', '-')}.log"
        return Program(self, label, log, list(argv), {**self.env, **(env or {})})

    def leaks(self, *prefixes: str) -> list[str]:
        hits: list[str] = []
        for label, text in self.outputs.items():
            if not prefixes or label.startswith(prefixes):
                hits += leaks_in(label, text, self.secrets)
        return hits

    def agent_config(
        self,
        name: str,
        *,
        core_url: str | None = None,
        sns_url: str | None = None,
        topic: str = "kds-leak-pickups",
        pos_url: str | None = None,
        store: Path | None = None,
    ) -> Path:
        """An agent.toml for this world (``log_level = "DEBUG"``, ``[mq] user``)."""
        text = agent_toml(
            site_id=self.site_id,
            core_url=core_url or self.sim.url,
            mq_url=self.broker.url,
            store_path=store or self.tmp / "edge.sqlite3",
            poll_wait=1,
            extra=f"""
[printers.grill]
url = "{pos_url or self.pos.url}"
print_on = ["new"]
timeout_seconds = 2

[sns]
endpoint_url = "{sns_url or self.moto.url}"
region = "{REGION}"
sms = true
topic_arn = "{self.moto.topic_arn(topic)}"
""",
        )
        text = text.replace('log_level = "INFO"', 'log_level = "DEBUG"')
        text = text.replace("[mq]\n", f'[mq]\nuser = "{MQ_USER}"\n')
        path = self.tmp / name
        path.write_text(text)
        return path

    def display_config(self, name: str, *, kiosk: bool = False) -> Path:
        path = self.tmp / name
        path.write_text(
            f'site_id = "{self.site_id}"\ndisplay_id = "{path.stem}"\nstation = "grill"\n'
            f'[mq]\nurl = "{self.broker.url}"\nuser = "{MQ_USER}"\nheartbeat_ms = 2000\n'
            "reconnect_max_seconds = 1.0\n"
            f"[display]\nsound = false\nkiosk = {'true' if kiosk else 'false'}\n"
        )
        return path


class Program:
    """A long-running program (``edge-agent run``, ``kitchen-display``) as a process,
    its stdout and stderr in one log file."""

    def __init__(
        self, world: World, label: str, log: Path, argv: list[str], env: dict[str, str]
    ) -> None:
        self.world, self.label, self.log_path = world, label, log
        out: IO[bytes]
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", *argv], cwd=ROOT, env=env, stdout=out, stderr=out
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, *needles: str, timeout: float = WAIT) -> None:
        def seen() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.label} exited {self.proc.returncode}:\n{self.log()}")
            text = self.log()
            return all(needle in text for needle in needles)

        try:
            wait_until(seen, timeout)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{self.label} wrote:\n{self.log()[-4000:]}") from None

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.world.record(self.label, self.log())
        return self.proc.returncode


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("leak")
    site_id = unique_site()
    data_home, state_dir = tmp / "xdg-data", tmp / "xdg-state"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KDS_", "AWS_")) and k != "CREDENTIALS_DIRECTORY"
    }
    env.update(
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(data_home),
        XDG_STATE_HOME=str(state_dir),
        QT_QPA_PLATFORM="offscreen",
        PYTHONUNBUFFERED="1",
        # nothing of the machine's own AWS set-up
        AWS_CONFIG_FILE=str(tmp / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    broker = ActiveMQ(tmp / "mq", broker_name="kds-leak", users={MQ_USER: MQ_PASSWORD})
    starter = ThreadPoolExecutor(max_workers=1)
    sim = CoreSimulator(sites={site_id: CORE_TOKEN}, seed=11).start()
    moto = MotoSns()
    pos = PosServer()
    w = World(
        tmp=tmp,
        broker=broker,
        sim=sim,
        moto=moto,
        pos=pos,
        site_id=site_id,
        env=env,
        keyring_file=data_home / "python_keyring" / "keyring_pass.cfg",
        state_dir=state_dir,
        broker_started=starter.submit(broker.start),
    )
    try:
        yield w
    finally:
        starter.shutdown()
        pos.close()
        moto.stop()
        sim.close()
        broker.stop()


def no_leaks(world: World, *prefixes: str) -> None:
    """Fail listing every secret found in the outputs whose label starts so."""
    hits = world.leaks(*prefixes)
    assert not hits, f"{len(hits)} leak(s):\n" + "\n".join(hits)


def _keyring_get(world: World, name: str) -> str | None:
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(world.keyring_file)
    value: str | None = backend.get_password("ghost-kds", name)
    return value


@pytest.fixture(scope="module")
def stored(world: World) -> World:
    """Every secret stored as an admin would: ``edge-agent set-secret`` and
    ``kitchen-display set-pin`` (and their refusals)."""
    secret = ("edge_agent", "set-secret")
    pin = ("kitchen_display", "set-pin")
    # each of these writes the keyring file: one after the other
    for name, value in (
        ("core.token", CORE_TOKEN),
        ("mq.password", MQ_PASSWORD),
        ("sns.aws_access_key_id", AWS_KEY_ID),
        ("sns.aws_secret_access_key", AWS_SECRET),
        ("printers.grill.api_key", POS_KEY),
    ):
        result = world.run("set-secret", *secret, name, stdin=value + "\n")
        assert result.returncode == 0, result.stderr
        assert _keyring_get(world, name) == value
    assert world.run("set-pin", *pin, stdin=f"{LEAD_PIN}\n{LEAD_PIN}\n").returncode == 0
    stored_pin = _keyring_get(world, "display.lead_pin")
    assert stored_pin is not None and stored_pin.startswith("scrypt$")
    world.secrets["the lead PIN's stored hash"] = stored_pin
    # refused, and --print (which shows a hash, a new salt each time: what it is for)
    results = world.run_many(
        Job("set-secret refused", *secret, "display.lead_pin", stdin=LEAD_PIN + "\n"),
        Job("set-secret refused", *secret, "core.url", stdin=CORE_TOKEN + "\n"),
        Job("set-secret refused", *secret, "core.token", stdin="\n"),
        Job("set-pin refused", *pin, stdin=f"{LEAD_PIN}\n{WRONG_PIN}\n"),
        Job("set-pin refused", *pin, stdin=f"{WRONG_PIN[:4]}\n"),
        Job("set-pin --print", *pin, "--print", stdin=f"{LEAD_PIN}\n{LEAD_PIN}\n"),
    )
    assert [r.returncode for r in results] == [2, 2, 2, 2, 2, 0], [r.stderr for r in results]
    assert results[-1].stdout.startswith("scrypt$")
    assert _keyring_get(world, "core.token") == CORE_TOKEN
    assert _keyring_get(world, "display.lead_pin") == stored_pin
    return world


def _pending(db: Path, channel: str, state: str = "pending") -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        [(count,)] = conn.execute(
            "SELECT count(*) FROM outbox WHERE channel = ? AND state = ?", (channel, state)
        ).fetchall()
    return int(count)


@pytest.fixture(scope="module")
def ran(stored: World) -> World:
    """The normal day: doctor, then ``edge-agent run`` at DEBUG with the keyring's
    secrets while orders flow, a print goes through a 401 and a 500, a text is sent,
    the pickup topic refuses (deleted), and the core's feed fails twice."""
    w = stored
    w.broker_up()
    topic = w.moto.create_topic("kds-leak-pickups")
    config = w.agent_config("agent.toml")
    db = w.tmp / "edge.sqlite3"
    doctor = w.run(
        "doctor healthy", "edge_agent.__main__", "doctor", "--config", str(config), debug=True
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "DEBUG" in doctor.stderr  # the library logs were on

    agent = w.start("agent run", "edge_agent", "run", "--config", str(config))
    try:
        agent.wait_log(
            "core feed connected", f"edge-mq: connected to 127.0.0.1:{w.broker.stomp_port}"
        )
        # a PoS that quotes the key it refused (some do): its answer is logged and stored
        w.pos.fail_next(401, body=json.dumps({"error": f"unknown key {POS_KEY}"}))
        w.pos.fail_next(500)
        with SitePeer(w.broker.url, w.site_id, user=MQ_USER, password=MQ_PASSWORD) as peer:
            order = w.sim.create_order(
                w.site_id,
                customer={"name": "Ana", "phone": PHONE, "notify": True},
                items=[line_item("l1", "Burger", "grill")],
            )
            peer.latest(order["id"])
            wait_until(lambda: len(w.pos.jobs) >= 3, WAIT)  # 401, 500, then printed
            assert {job.headers.get("authorization") for job in w.pos.jobs} == {f"Bearer {POS_KEY}"}
            w.sim.inject_fault("error503", endpoint="feed")
            w.sim.inject_fault("cut_off", endpoint="feed")
            w.moto.delete_topic(topic)  # the pickup notification is refused
            assert peer.call("start", ticket_id=order["id"], station="grill").ok
            assert peer.call("bump", ticket_id=order["id"], station="expo").ok
            wait_until(
                lambda: [m for m in w.moto.sms_messages() if m["phone_number"] == PHONE], WAIT
            )
            wait_until(lambda: _pending(db, "notify", "dead") == 1, WAIT)
            wait_until(lambda: _pending(db, "core") == 0 and w.sim.events(order["id"]), WAIT)
            wait_until(lambda: not w.sim.faults.pending(), WAIT)
            agent.wait_log("core feed unavailable")
    finally:
        assert agent.stop() == 0, agent.log()[-4000:]
    return w


def test_set_secret_and_set_pin_never_show_a_secret(stored: World) -> None:
    no_leaks(stored, "set-secret", "set-pin")


def test_the_agent_at_debug_never_logs_a_secret(ran: World) -> None:
    log = ran.outputs["agent run"]
    assert "DEBUG" in log and "dead-lettered" in log and "PoS answered 401" in log
    no_leaks(ran, "agent run", "doctor healthy")


def test_the_database_and_the_display_files_hold_no_secret(ran: World) -> None:
    db = ran.tmp / "edge.sqlite3"
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        tables = [
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        for table in tables:
            rows = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            ran.record(f"database table {table}", "\n".join(repr(row) for row in rows))
    assert "outbox" in tables
    for path in sorted(ran.tmp.glob("edge.sqlite3*")):  # the file, -wal, -shm
        ran.record(f"database file {path.name}", path.read_bytes().decode("latin-1"))
    no_leaks(ran, "database")


def test_outbox_export_and_quarantine_show_no_secret(ran: World) -> None:
    config = str(ran.tmp / "agent.toml")
    pending = ran.run("outbox", "edge_agent", "outbox", "--config", config)
    dead = ran.run("outbox --dead", "edge_agent", "outbox", "--config", config, "--dead")
    assert pending.returncode == 0 and dead.returncode == 0, pending.stderr + dead.stderr
    assert json.loads(dead.stdout)["rows"], "the refused topic publish is dead-lettered"
    out = ran.tmp / "export"
    export = ran.run(
        "export",
        "edge_agent",
        "export",
        "--config",
        config,
        "--since",
        "2020-01-01T00:00Z",
        "--out",
        str(out),
    )
    assert export.returncode == 0, export.stderr
    for path in sorted(out.iterdir()):
        ran.record(f"export file {path.name}", path.read_text())
    quarantine = ran.run("quarantine", "edge_agent", "quarantine", "list", "--config", config)
    assert quarantine.returncode == 0, quarantine.stderr
    no_leaks(ran, "outbox", "export", "quarantine")


def test_the_support_bundle_holds_no_secret_and_no_phone(ran: World) -> None:
    """The zip an admin e-mails: every file in it, decompressed, and the zip itself."""
    out = ran.tmp / "support.zip"
    config = str(ran.tmp / "agent.toml")
    result = ran.run(
        "support-bundle",
        "edge_agent",
        "support-bundle",
        "--config",
        config,
        "--out",
        str(out),
        "--timeout",
        "2",
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(out) as bundle:
        names = bundle.namelist()
        for name in names:
            ran.record(f"support-bundle {name}", bundle.read(name).decode("utf-8", "replace"))
    ran.record("support-bundle zip file", out.read_bytes().decode("latin-1"))
    # the agent's own log file (the debug run above) is in it
    assert "logs/edge-agent.log" in names, names
    assert "DEBUG" in ran.outputs["support-bundle logs/edge-agent.log"]
    no_leaks(ran, "support-bundle")
    bundled = "\n".join(t for label, t in ran.outputs.items() if label.startswith("support-"))
    assert PHONE not in bundled and PHONE[1:] not in bundled


def _env_secrets(*, token: str = CORE_TOKEN, mq_password: str = MQ_PASSWORD) -> dict[str, str]:
    """Every secret from the environment (as a container passes them)."""
    return {
        "KDS_CORE_TOKEN": token,
        "KDS_MQ_PASSWORD": mq_password,
        "KDS_SNS_AWS_ACCESS_KEY_ID": AWS_KEY_ID,
        "KDS_SNS_AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "KDS_PRINTERS_GRILL_API_KEY": POS_KEY,
    }


def test_the_agent_s_error_paths_never_log_a_secret(stored: World) -> None:
    """From the environment, at DEBUG: the core down, then the broker refusing a wrong
    password; and a wrong core token (401). Then ``doctor`` of both, failing."""
    w = stored
    w.broker_up()
    down = w.agent_config(
        "agent-down.toml",
        core_url=f"http://127.0.0.1:{free_port()}",
        sns_url=f"http://127.0.0.1:{free_port()}",
        store=w.tmp / "down.sqlite3",
    )
    wrong_token = w.agent_config("agent-401.toml", store=w.tmp / "401.sqlite3")
    debug = ("--log-level", "DEBUG")
    refused = w.start(
        "agent refused",
        "edge_agent", "run", "--config", str(down), *debug,
        env=_env_secrets(mq_password=WRONG_MQ_PASSWORD),
    )  # fmt: skip
    unauthorized = w.start(
        "agent 401",
        "edge_agent", "run", "--config", str(wrong_token), *debug,
        env=_env_secrets(token=WRONG_CORE_TOKEN),
    )  # fmt: skip
    try:
        refused.wait_log("core feed unavailable", "MQ refused the login of user")
        unauthorized.wait_log("core refused our token")
    finally:
        assert refused.stop() == 0 and unauthorized.stop() == 0

    # both doctors check the printer: each is refused, quoting the key
    w.pos.fail_next(401, 2, body=json.dumps({"error": f"unknown key {POS_KEY}"}))
    down_doctor, wrong_token_doctor = w.run_many(
        Job(
            "doctor failing",
            "edge_agent.__main__", "doctor", "--config", str(down), "--timeout", "2",
            env=_env_secrets(mq_password=WRONG_MQ_PASSWORD),
            debug=True,
        ),
        Job(
            "doctor failing 401",
            "edge_agent", "doctor", "--config", str(wrong_token), "--timeout", "2",
            env=_env_secrets(token=WRONG_CORE_TOKEN),
        ),
    )  # fmt: skip
    assert down_doctor.returncode == 1, down_doctor.stdout + down_doctor.stderr
    assert "API key refused" in down_doctor.stdout
    assert wrong_token_doctor.returncode == 1, wrong_token_doctor.stdout
    no_leaks(w, "agent refused", "agent 401", "doctor failing")


def test_a_bad_config_never_shows_a_secret(stored: World) -> None:
    """A secret written into the file where it does not belong, a file that is not
    TOML around one, a bad setting next to secrets from the environment."""
    w = stored
    good = w.agent_config("agent-bad-base.toml").read_text()
    cases = {
        "token in the file": good.replace("[core]\n", f'[core]\ntoken = "{CORE_TOKEN}"\n'),
        "password in the file": good.replace("[mq]\n", f'[mq]\npassword = "{MQ_PASSWORD}"\n'),
        "key in the file": good.replace(
            "[printers.grill]\n", f'[printers.grill]\napi_key = "{POS_KEY}"\n'
        ),
        "not TOML": good.replace("[core]\n", f'[core]\ntoken = "{CORE_TOKEN}\n'),
        "a bad setting": good.replace("heartbeat_ms = 2000", f'heartbeat_ms = "{MQ_PASSWORD}"'),
    }
    jobs = []
    for name, text in cases.items():
        path = w.tmp / f"bad-{name.replace(' ', '-')}.toml"
        path.write_text(text)
        # every command loads the config the same way; doctor reports it in its table
        for command in ("run", "doctor") if name == "a bad setting" else ("run",):
            label = f"bad config: {name}: {command}"
            jobs.append(
                Job(label, "edge_agent", command, "--config", str(path), env=_env_secrets())
            )
    display = w.tmp / "display-bad.toml"
    display.write_text(
        w.display_config("display-bad-base.toml").read_text() + f'lead_pin = "{LEAD_PIN}"\n'
    )
    env = {"KDS_MQ_PASSWORD": MQ_PASSWORD}
    jobs.append(Job("bad config: display", "kitchen_display", "--config", str(display), env=env))
    results = w.run_many(*jobs)
    assert {r.returncode for r in results} <= {1, 2}, [r.stdout + r.stderr for r in results]
    assert "mq.heartbeat_ms: must be an integer" in w.outputs["bad config: a bad setting: run"]
    no_leaks(w, "bad config")


def test_a_display_process_never_logs_its_password(stored: World) -> None:
    """``kitchen-display`` at DEBUG (stomp.py logs its frames: CONNECT has the
    passcode) with the keyring's password and PIN hash, and one with a wrong password."""
    w = stored
    w.broker_up()
    config = w.display_config("grill-1.toml")
    wrong = w.display_config("grill-2.toml")
    args = ("--log-level", "DEBUG")
    right = w.start("display", "kitchen_display", "--config", str(config), *args)
    refused = w.start(
        "display refused",
        "kitchen_display", "--config", str(wrong), *args,
        env={"KDS_MQ_PASSWORD": WRONG_MQ_PASSWORD},
    )  # fmt: skip
    try:
        right.wait_log("display-grill-1: connected to", "sending frame")
        refused.wait_log("MQ refused the login of user", "sending frame")
    finally:
        # SIGINT quits the Qt loop (not a kiosk screen's: it refuses to close)
        right.stop(signal.SIGINT)
        refused.stop(signal.SIGINT)
    assert "passcode:********" in w.outputs["display"]
    for path in sorted(w.state_dir.rglob("*")):
        if path.is_file():
            w.record(f"display file {path.name}", path.read_text(errors="replace"))
    no_leaks(w, "display")


def test_a_lead_unlocking_a_kiosk_screen_never_shows_the_pin(
    stored: World,
    qtbot: QtBot,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A kiosk screen (in this process, as the GUI tests drive one) with the keyring's
    password and PIN hash, every logger at DEBUG: a wrong PIN, then the right one."""
    from kitchen_display.app import build_display
    from kitchen_display.config import DisplayConfig
    from shared.config import load
    from shared.mq import mq_client_from_settings

    w = stored
    w.broker_up()
    path = w.display_config("lead-1.toml", kiosk=True)
    config = load(DisplayConfig, path, env={}, secrets=lambda name: _keyring_get(w, name))
    assert config.mq.password.reveal() == MQ_PASSWORD
    assert config.display.lead_pin.reveal() == w.secrets["the lead PIN's stored hash"]

    def enter(pin: str) -> None:
        gate = app.window.lead_gate
        qtbot.keyClick(app.view, Qt.Key.Key_Q, CTRL_ALT)
        qtbot.waitUntil(lambda: gate.dialog is not None and gate.dialog.isVisible())
        assert gate.dialog is not None
        qtbot.keyClicks(gate.dialog.edit, pin)
        qtbot.keyClick(gate.dialog.edit, Qt.Key.Key_Return)

    with caplog.at_level(logging.DEBUG):
        client = mq_client_from_settings(config.mq, name="display-lead-1")
        app = build_display(config, client, sound_player=None)
        try:
            app.start(show=True)
            qtbot.waitExposed(app.window)
            qtbot.waitUntil(lambda: client.connected, timeout=int(WAIT * 1000))
            enter(WRONG_PIN)
            qtbot.waitUntil(lambda: "kiosk exit refused: wrong PIN" in caplog.text)
            assert app.window.isVisible()
            enter(LEAD_PIN)
            qtbot.waitUntil(lambda: not app.window.isVisible())
        finally:
            app.close()
    assert "kiosk exit with the lead PIN" in caplog.text
    assert "passcode:********" in caplog.text  # stomp.py's frames were logged
    captured = capfd.readouterr()
    w.record("lead unlock: log", caplog.text)
    w.record("lead unlock: output", captured.out + captured.err)
    no_leaks(w, "lead unlock")
