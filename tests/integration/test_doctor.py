"""``edge-agent doctor`` against real peers: the test broker, the core simulator, a
socket printer, moto's SNS, a Kafka-compatible broker (tansu) and a UDP port.

It loads the configuration as ``edge-agent run`` does (secrets from the environment,
``$CREDENTIALS_DIRECTORY`` or the keyring), builds the same adapters
(:mod:`edge_agent.wiring`), says where each secret came from, never its value, and
exits 1 with a fix for every failed check.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from edge_agent.__main__ import main
from edge_agent.doctor import Check, format_table, run_checks
from edge_agent.outbox import Channel
from edge_agent.store import SCHEMA_VERSION, Store
from shared.config import store_secret
from tests.helpers.doctor import doctor_checks
from tests.helpers.fixtures import TOKEN, Site, make_site
from tests.helpers.kafka_broker import KafkaBroker
from tests.helpers.moto_server import ACCESS_KEY, REGION, SECRET_KEY, MotoSns
from tests.helpers.net import free_port
from tests.helpers.socket_printer import SocketPrinter

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2.0  # per check: a refused connection fails within 2 x this
MQ_PASSWORD = "mq-pw-5d0c-not-for-logs"
POS_KEY = "pos-api-key-9e2b-not-for-logs"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets: no KDS_* setting or credentials from outside."""
    for name in list(os.environ):
        if name.startswith("KDS_") and name != "KDS_TEST_MQ_URL":
            monkeypatch.delenv(name)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)


@pytest.fixture
def credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "credentials"
    directory.mkdir(mode=0o700)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(directory))
    return directory


@pytest.fixture
def printer() -> Iterator[SocketPrinter]:
    with SocketPrinter() as p:
        yield p


def doctor(site: Site, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``edge-agent doctor --config FILE``, in this process: (exit status, output)."""
    status = main(["doctor", "--config", str(site.config_path), "--timeout", str(TIMEOUT)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_healthy_site_passes_every_check(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    credentials: Path,
    test_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    printer: SocketPrinter,
    moto_sns: MotoSns,
    kafka_broker: KafkaBroker,
    capsys: pytest.CaptureFixture[str],
) -> None:
    topic_arn = moto_sns.create_topic(f"{site_id}-pickups")
    kafka_broker.create_topic("kds.lifecycle")
    extra = f"""
[printers.grill]
url = "{printer.url}"

[sns]
endpoint_url = "{moto_sns.url}"
region = "{REGION}"
topic_arn = "{topic_arn}"

[kafka]
bootstrap = "{kafka_broker.bootstrap}"
timeout_seconds = 5

[statsd]
host = "127.0.0.1"
port = {free_port()}
"""
    site = make_site(core_sim, site_id, activemq_url, tmp_path, extra=extra)
    # one secret from each source: systemd credentials, the keyring, the environment
    (credentials / "core.token").write_text(TOKEN + "\n", encoding="utf-8")
    store_secret("mq.password", MQ_PASSWORD)
    monkeypatch.setenv("KDS_SNS_AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("KDS_SNS_AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    # the agent runs meanwhile, on the same broker (the doctor's connection must not
    # clash with the agent's client-id)
    site.env.update(
        KDS_MQ_PASSWORD=MQ_PASSWORD,
        KDS_SNS_AWS_ACCESS_KEY_ID=ACCESS_KEY,
        KDS_SNS_AWS_SECRET_ACCESS_KEY=SECRET_KEY,
    )
    site.start_agent()
    try:
        checks = doctor_checks(site.config_path, timeout=TIMEOUT)
        status, output = doctor(site, capsys)
    finally:
        site.stop_agent()

    # the one warning: this site has no [access] role map (v1: anyone may command it)
    assert [name for name, check in checks.items() if check.status != "ok"] == ["access"]
    assert checks["access"].status == "WARN"
    assert "commands are NOT authorised" in checks["access"].detail
    assert "[access.screens." in checks["access"].fix
    assert list(checks) == [
        "config",
        "keyring",
        "secret core.token",
        "secret mq.password",
        "secret sns.aws_access_key_id",
        "secret sns.aws_secret_access_key",
        "store",
        "quarantine",
        "core",
        "broker",
        "access",
        "sns",
        "printer grill",
        "kafka",
        "statsd",
    ]
    assert checks["keyring"].detail.startswith("service credentials in $CREDENTIALS_DIRECTORY")
    assert checks["secret core.token"].detail == (
        "from the service credentials ($CREDENTIALS_DIRECTORY/core.token)"
    )
    assert checks["secret mq.password"].detail == "from the keyring (service ghost-kds)"
    assert checks["secret sns.aws_secret_access_key"].detail == (
        "from the environment (KDS_SNS_AWS_SECRET_ACCESS_KEY)"
    )
    assert "token accepted" in checks["core"].detail
    assert checks["broker"].detail == f"{activemq_url}: connected, subscribed, send confirmed"
    assert topic_arn in checks["sns"].detail
    assert checks["printer grill"].detail == f"{printer.url}: online, paper ok"
    assert "topic kds.lifecycle: 1 partition(s)" in checks["kafka"].detail
    assert status == 0
    assert output.rstrip().endswith("all checks passed")
    for secret in (TOKEN, MQ_PASSWORD, SECRET_KEY):
        assert secret not in output


def test_failures_say_what_failed_and_how_to_fix_it(
    core_sim: CoreSimulator,
    site_id: str,
    tmp_path: Path,
    test_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    printer: SocketPrinter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    closed = f"stomp://127.0.0.1:{free_port()}"  # nothing listens there
    extra = f'[printers.grill]\nurl = "{printer.url}"\n'
    site = make_site(core_sim, site_id, closed, tmp_path, extra=extra)
    monkeypatch.setenv("KDS_CORE_TOKEN", "an-expired-token")
    printer.go_offline()

    checks = doctor_checks(site.config_path, timeout=TIMEOUT)
    failed = {name: check for name, check in checks.items() if check.failed}
    assert sorted(failed) == ["broker", "core", "printer grill"]
    assert "the token was refused (401)" in failed["core"].detail
    assert "edge-agent set-secret core.token" in failed["core"].fix
    assert failed["broker"].detail.startswith(f"{closed}: cannot connect (")
    assert "[mq] url" in failed["broker"].fix
    assert "PrinterUnavailable" in failed["printer grill"].detail
    assert failed["printer grill"].fix.startswith(f"check the printer at {printer.url}")
    # what is off is skipped, not failed
    assert {checks[n].status for n in ("sns", "kafka", "statsd")} == {"skip"}
    assert checks["secret core.token"].detail == "from the environment (KDS_CORE_TOKEN)"

    status, output = doctor(site, capsys)
    assert status == 1
    assert output.rstrip().endswith("3 check(s) failed")
    assert output.count("-> fix:") == 4  # the three failures and the open [access]
    assert "an-expired-token" not in output


def test_a_missing_token_is_the_one_failure_and_names_the_fix(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    credentials: Path,
    test_keyring: object,
    capsys: pytest.CaptureFixture[str],
) -> None:
    site = make_site(core_sim, site_id, activemq_url, tmp_path)
    [check] = run_checks(site.config_path, timeout=TIMEOUT)
    assert (check.name, check.status) == ("config", "FAIL")
    assert check.detail == (
        "core.token: no secret set: run set-secret core.token or set KDS_CORE_TOKEN"
    )
    assert check.fix == f"fix core.token in {site.config_path} or set KDS_CORE_TOKEN"
    status, output = doctor(site, capsys)
    assert status == 1 and "1 check(s) failed" in output


def test_no_keyring_backend_fails_the_config_check_with_the_way_out(
    core_sim: CoreSimulator, site_id: str, activemq_url: str, tmp_path: Path, no_keyring: object
) -> None:
    site = make_site(core_sim, site_id, activemq_url, tmp_path)
    [check] = run_checks(site.config_path, timeout=TIMEOUT)
    assert (check.name, check.status) == ("config", "FAIL")
    assert "keyring unavailable for core.token" in check.detail
    assert check.fix == "see README 'Secrets'"


def test_dead_letters_fail_the_store_check(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    test_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    site = make_site(core_sim, site_id, activemq_url, tmp_path)
    monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)
    with Store(site.store_path) as store:
        store.enqueue(Channel.CORE, "event", "k1", "ord-1", b"{}")
        [row] = store.pending(Channel.CORE)
        store.mark_dead(row.id, "core refused it: 422")
    checks = doctor_checks(site.config_path, timeout=TIMEOUT)
    assert checks["store"].failed
    assert "1 dead-lettered" in checks["store"].detail
    assert f"(schema version {SCHEMA_VERSION})" in checks["store"].detail
    assert checks["store"].fix == "edge-agent outbox --dead shows the reasons"
    assert [c.name for c in checks.values() if c.failed] == ["store"]


def test_the_table_lines_up_and_counts_failures() -> None:
    table = format_table(
        [
            Check("config", "ok", "a.toml: site s"),
            Check("printer grill", "FAIL", "offline", "switch it on"),
            Check("kafka", "skip", "off"),
        ]
    )
    assert table.splitlines() == [
        "CHECK          STATUS  DETAIL",
        "config         ok      a.toml: site s",
        "printer grill  FAIL    offline",
        "                       -> fix: switch it on",
        "kafka          skip    off",
        "",
        "1 check(s) failed",
    ]


def test_secrets_never_reach_the_output_or_the_logs(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    credentials: Path,
    test_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # a PoS print API that is not there: the check fails with the client's error
    extra = f'[printers.expo]\nurl = "http://127.0.0.1:{free_port()}/print"\n'
    site = make_site(core_sim, site_id, activemq_url, tmp_path, extra=extra)
    (credentials / "core.token").write_text(TOKEN, encoding="utf-8")
    store_secret("mq.password", MQ_PASSWORD)
    monkeypatch.setenv("KDS_PRINTERS_EXPO_API_KEY", POS_KEY)
    secrets = (TOKEN, MQ_PASSWORD, POS_KEY)

    with caplog.at_level(logging.DEBUG):
        status, output = doctor(site, capsys)
    assert status == 1  # the printer is not there
    assert "secret core.token" in output and "secret printers.expo.api_key" in output
    for secret in secrets:
        assert secret not in output
        assert secret not in caplog.text

    # the real command line, as an admin runs it, with the library loggers at DEBUG
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env["KDS_PRINTERS_EXPO_API_KEY"] = POS_KEY
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import logging, sys; from edge_agent.__main__ import main; "
            "logging.basicConfig(level=logging.DEBUG); "
            "sys.exit(main(sys.argv[1:]))",
            "doctor",
            "--config",
            str(site.config_path),
            "--timeout",
            str(TIMEOUT),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    [line] = [line for line in result.stdout.splitlines() if line.startswith("secret mq.")]
    assert " ".join(line.split()) == "secret mq.password ok from the keyring (service ghost-kds)"
    assert "DEBUG" in result.stderr  # the logs were on
    for secret in secrets:
        assert secret not in result.stdout
        assert secret not in result.stderr


def test_the_agent_never_logs_its_secrets(
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A whole order through the agent with every logger at DEBUG (stomp.py sends the
    password in CONNECT, the core adapter the token in every request)."""
    from tests.helpers.site import line_item, wait_until

    site = make_site(
        core_sim, site_id, activemq_url, tmp_path, env={"KDS_MQ_PASSWORD": MQ_PASSWORD}
    )
    with caplog.at_level(logging.DEBUG):
        agent = site.start_agent()
        try:
            with site.peer() as peer:
                order = site.sim.create_order(site_id, items=[line_item("l1", "Fries", "fry")])
                peer.latest(order["id"])
                assert peer.call("start", ticket_id=order["id"], station="fry").ok
                wait_until(lambda: agent.store.outbox_depths().get("core", (0, None))[0] == 0)
        finally:
            site.stop_agent()
    loggers = {record.name.split(".")[0] for record in caplog.records}
    assert {"edge", "kds", "stomp"} <= loggers  # the logs were on
    # and the core adapter's, request by request (it no longer goes through httpx's client)
    assert any(r.name == "edge.core" and " /api/v1/sites/" in r.message for r in caplog.records)
    assert TOKEN not in caplog.text
    assert MQ_PASSWORD not in caplog.text
