"""``edge-agent setup`` as a site admin runs it, against real peers: the core simulator,
the test broker, moto's SNS and a socket printer. Scripted (``--non-interactive``) and
interactive (a real process answering prompts through a pty); a failing connection;
no secret on the command line, in the written file or in anything printed."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from edge_agent.config import AgentConfig
from shared.config import keyring_lookup, load
from tests.helpers.fixtures import TOKEN
from tests.helpers.moto_server import ACCESS_KEY, REGION, SECRET_KEY, MotoSns
from tests.helpers.net import free_port
from tests.helpers.socket_printer import SocketPrinter

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
MQ_PASSWORD = "setup-mq-pw-7a1d-not-for-output"
SECRETS = (TOKEN, MQ_PASSWORD, ACCESS_KEY, SECRET_KEY)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KDS_") and name != "KDS_TEST_MQ_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    with SocketPrinter() as p:
        yield p


def setup_cli(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "edge_agent", "setup", *args]
    for secret in SECRETS:  # argv is visible in ps: never a secret there
        assert not any(secret in arg for arg in argv)
    return subprocess.run(
        argv,
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def scripted_args(
    tmp_path: Path, core_url: str, mq_url: str, site_id: str, *extra: str
) -> list[str]:
    (tmp_path / "token").write_text(TOKEN + "\n")
    return [
        "--non-interactive",
        "--config",
        str(tmp_path / "etc" / "agent.toml"),
        "--site-id",
        site_id,
        "--store-path",
        str(tmp_path / "edge.sqlite3"),
        "--core-url",
        core_url,
        "--core-token-file",
        str(tmp_path / "token"),
        "--mq-url",
        mq_url,
        "--mq-user",
        "agent-user",
        "--mq-password-file",
        "-",
        "--timeout",
        "2",
        *extra,
    ]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def test_scripted_setup_checks_every_connection_and_writes_a_config_without_secrets(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    moto_sns: MotoSns,
    printer: SocketPrinter,
    tmp_path: Path,
    test_keyring: object,
) -> None:
    topic = moto_sns.create_topic(f"{site_id}-pickups")
    host_port = printer.url.removeprefix("tcp://")
    args = scripted_args(tmp_path, core_sim.url, activemq_url, site_id)
    args += ["--sns-endpoint", moto_sns.url, "--sns-region", REGION, "--sns-topic-arn", topic]
    args += ["--printer", f"grill={host_port}", "--secrets", "keyring"]
    result = setup_cli(
        *args,
        stdin=MQ_PASSWORD + "\n",
        env={"KDS_SNS_AWS_ACCESS_KEY_ID": ACCESS_KEY, "KDS_SNS_AWS_SECRET_ACCESS_KEY": SECRET_KEY},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "core: ok:" in out and "token accepted" in out
    assert "broker: ok:" in out and "send confirmed" in out
    assert "sns: ok:" in out and topic in out
    assert f"printer grill: ok: {printer.url}: online" in out
    assert "systemctl enable --now ghost-kds-edge-agent" in out
    assert "edge-agent doctor --config" in out
    config_path = tmp_path / "etc" / "agent.toml"
    text = config_path.read_text()
    assert text.splitlines()[0] == "config_version = 1"
    assert tomllib.loads(text)["printers"]["grill"]["url"] == printer.url
    assert_no_secret(text, result.stdout, result.stderr)
    # the secrets went to the keyring, and the file loads with them like the service does
    assert keyring_lookup("core.token") == TOKEN
    assert keyring_lookup("mq.password") == MQ_PASSWORD
    assert keyring_lookup("sns.aws_secret_access_key") == SECRET_KEY
    config = load(AgentConfig, config_path)
    assert config.site_id == site_id and config.core.token.reveal() == TOKEN
    assert config.sns.topic_arn == topic


def test_a_refused_token_stops_scripted_setup_naming_the_fix(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path, test_keyring: object
) -> None:
    args = scripted_args(tmp_path, core_sim.url, activemq_url, site_id)
    (tmp_path / "token").write_text("a-wrong-token-for-setup\n")
    result = setup_cli(*args, stdin=MQ_PASSWORD + "\n")
    assert result.returncode == 1
    assert "core: FAIL:" in result.stdout
    assert "the token was refused (401)" in result.stdout
    assert "-> fix: store site" in result.stdout
    assert "the core check failed" in result.stderr and "--skip-checks" in result.stderr
    assert not (tmp_path / "etc" / "agent.toml").exists()
    assert keyring_lookup("core.token") is None
    assert "a-wrong-token-for-setup" not in result.stdout + result.stderr


def test_a_broker_nobody_listens_on_says_so(
    core_sim: CoreSimulator, site_id: str, tmp_path: Path, test_keyring: object
) -> None:
    closed = f"stomp://127.0.0.1:{free_port()}"
    result = setup_cli(*scripted_args(tmp_path, core_sim.url, closed, site_id), stdin="pw12\n")
    assert result.returncode == 1
    assert f"broker: FAIL: {closed}: cannot connect" in result.stdout
    assert "[mq] url" in result.stdout


def test_an_existing_file_is_kept_without_force_with_a_summary(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path, test_keyring: object
) -> None:
    config_path = tmp_path / "etc" / "agent.toml"
    config_path.parent.mkdir()
    config_path.write_text('config_version = 1\nsite_id = "old-site"\n')
    args = scripted_args(tmp_path, core_sim.url, activemq_url, site_id, "--skip-checks")
    result = setup_cli(*args, stdin=MQ_PASSWORD + "\n")
    assert result.returncode == 1
    assert '- site_id = "old-site"' in result.stdout
    assert f'+ site_id = "{site_id}"' in result.stdout
    assert "--force" in result.stderr
    assert "old-site" in config_path.read_text()
    result = setup_cli(*args, "--force", stdin=MQ_PASSWORD + "\n")
    assert result.returncode == 0, result.stderr
    assert site_id in config_path.read_text()
    assert "checking" not in result.stdout  # --skip-checks


@pytest.mark.skipif(
    shutil.which("systemd-creds") is None or os.geteuid() != 0,
    reason="systemd-creds encrypts with the host key as root only",
)
def test_secrets_as_systemd_credentials_decrypt_to_the_values(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path
) -> None:
    creds = tmp_path / "creds"
    args = scripted_args(tmp_path, core_sim.url, activemq_url, site_id)
    units = tmp_path / "systemd"
    args += ["--secrets", "systemd-creds", "--creds-dir", str(creds), "--systemd-dir", str(units)]
    result = setup_cli(*args, stdin=MQ_PASSWORD + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"stored core.token as {creds / 'core.token.cred'} (systemd-creds)" in result.stdout
    dropin = units / "ghost-kds-edge-agent.service.d" / "credentials.conf"
    lines = dropin.read_text().splitlines()
    assert lines[1:] == [
        "[Service]",
        "LoadCredentialEncrypted=",
        f"LoadCredentialEncrypted=core.token:{creds / 'core.token.cred'}",
        f"LoadCredentialEncrypted=mq.password:{creds / 'mq.password.cred'}",
    ]
    for name, value in (("core.token", TOKEN), ("mq.password", MQ_PASSWORD)):
        cred = creds / f"{name}.cred"
        assert cred.stat().st_mode & 0o777 == 0o600
        assert value.encode() not in cred.read_bytes()
        plain = subprocess.run(
            ["systemd-creds", "decrypt", f"--name={name}", str(cred), "-"],
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
        assert plain.decode() == value


class Terminal:
    """A process on a pty of its own: what it prints, and answers typed as a person would."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.master, slave = os.openpty()
        # a session of its own, no controlling terminal: getpass turns echo off on stdin
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT, start_new_session=True
        )
        os.close(slave)
        self.seen = ""
        self._pos = 0

    def expect(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen[self._pos :]:
            if time.monotonic() > deadline:
                raise AssertionError(f"no {text!r} within {timeout}s; saw:\n{self.seen}")
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:  # EIO: the process closed the terminal
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"ended before {text!r}; saw:\n{self.seen}")
                self.seen += chunk.decode(errors="replace")
        self._pos = self.seen.index(text, self._pos) + len(text)

    def answer(self, prompt: str, line: str) -> None:
        self.expect(prompt)
        os.write(self.master, (line + "\n").encode())

    def wait(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    break
                self.seen += chunk.decode(errors="replace")
        return self.proc.wait(timeout=5)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)


def test_interactive_setup_through_a_terminal_re_enters_a_refused_token(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    printer: SocketPrinter,
    tmp_path: Path,
    test_keyring: object,
) -> None:
    config_path = tmp_path / "agent.toml"
    argv = [sys.executable, "-m", "edge_agent", "setup", "--config", str(config_path)]
    term = Terminal([*argv, "--timeout", "2"], env=dict(os.environ))
    try:
        term.answer("Site id (like ams-01): ", site_id)
        term.answer("Database file [", str(tmp_path / "edge.sqlite3"))
        term.answer("Core URL (https://...): ", core_sim.url)
        term.answer("Core token for this site (not shown): ", "a-wrong-token-typed-1")
        term.expect("the token was refused (401)")
        term.answer("[r]e-enter, [k]eep these answers, or [q]uit?", "r")
        term.answer(f"Core URL (https://...) [{core_sim.url}]: ", "")  # keep the URL
        term.answer("Core token for this site (not shown): ", TOKEN)
        term.expect("core: ok:")
        term.answer("Broker URL (stomp+ssl://host:61614): ", activemq_url)
        term.answer(f"Broker user [kds-{site_id}-agent]: ", "")
        term.answer("Broker password (not shown): ", MQ_PASSWORD)
        term.expect("broker: ok:")
        term.answer("Use Amazon SNS (texts, pickup notifications)? [y/N]: ", "n")
        term.answer("Printer station=host:port (empty: none): ", "grill=nowhere")
        term.expect("expected station=host:port")
        closed = f"127.0.0.1:{free_port()}"  # nothing listens there
        term.answer("Printer station=host:port (empty: none): ", f"grill={closed}")
        term.answer("Printer station=host:port (empty: none): ", "")
        term.expect("printer grill: FAIL:")
        term.expect("-> fix: check the printer at tcp://")
        term.answer("[r]e-enter, [k]eep these answers, or [q]uit?", "r")
        term.answer("Printer grill host:port (empty: none): ", printer.url.removeprefix("tcp://"))
        term.expect("printer grill: ok:")
        term.answer("Store the secrets in ", "k")
        term.expect("stored core.token in the keyring")
        term.expect("next steps:")
        assert term.wait() == 0, term.seen
    finally:
        term.close()
    # getpass never echoed what was typed; nothing printed a secret
    assert "a-wrong-token-typed-1" not in term.seen
    assert_no_secret(term.seen, config_path.read_text())
    assert config_path.read_text().startswith("config_version = 1\n")
    assert keyring_lookup("core.token") == TOKEN
    assert keyring_lookup("mq.password") == MQ_PASSWORD
    assert f"wrote {config_path}" in term.seen
    assert tomllib.loads(config_path.read_text())["printers"]["grill"]["url"] == printer.url
