"""STOMP over TLS that always verifies, against a real ActiveMQ with SSL connectors.

The module starts its own broker (in its own folder) with two ``stomp+ssl://``
connectors: one plain TLS, one that wants a client certificate. Its certificate is
made here by a test CA (openssl, keytool). The agent and a display connect with
``[mq] ca_file``; with another CA's file, or to an impostor holding a certificate for
another name, the connection is refused before any frame is sent, and the log line
and ``edge-agent doctor`` both say it was the certificate.
"""

from __future__ import annotations

import logging
import os
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core_sim.server import CoreSimulator
from edge_agent.doctor import Check
from kitchen_display.app import DisplayApp, build_display
from kitchen_display.config import DisplayConfig
from shared.config import Secret, load
from shared.mq import MqClient, mq_client_from_settings
from shared.settings import MqSettings
from tests.helpers.activemq import ActiveMQ, SslConnector
from tests.helpers.doctor import doctor_checks
from tests.helpers.fixtures import TOKEN, Site, make_site
from tests.helpers.net import free_port
from tests.helpers.site import line_item, wait_until
from tests.helpers.tls import CertAuthority, Issued

pytestmark = pytest.mark.broker

PASSWORD = "kds-test-store"
WAIT = 20.0
WAIT_MS = 20_000


@dataclass(frozen=True)
class TlsBroker:
    broker: ActiveMQ
    ca: CertAuthority
    other_ca: CertAuthority
    client: Issued

    @property
    def url(self) -> str:
        return self.broker.ssl_url


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    base = tmp_path_factory.mktemp("mq-tls")
    ca = CertAuthority.create(base / "ca", "KDS test CA")
    other_ca = CertAuthority.create(base / "other-ca", "Some other CA")
    keystore = ca.issue("broker", ["127.0.0.1", "localhost"]).pkcs12(PASSWORD)
    ssl_connector = SslConnector(keystore, PASSWORD, truststore=ca.truststore(PASSWORD))
    with ActiveMQ(base / "broker", broker_name="kds-tls", ssl=ssl_connector) as broker:
        yield TlsBroker(broker, ca, other_ca, ca.issue("client", ["kds-client"]))


def settings(url: str, **tls: object) -> MqSettings:
    return MqSettings(url=url, heartbeat_ms=2000, reconnect_max_seconds=1.0, **tls)  # type: ignore[arg-type]


def refused(client: MqClient) -> str:
    """Wait for a failed connect and return its error."""
    client.start()
    try:
        return wait_until(lambda: client.last_error, WAIT)
    finally:
        client.close()


class Impostor:
    """A TLS listener on 127.0.0.1 holding ``cert``; records every byte a client sends
    after the handshake (the STOMP frame with login and passcode, if it trusted us)."""

    def __init__(self, cert: Issued) -> None:
        self.port = free_port()
        self.received = b""
        self.handshakes = 0
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.load_cert_chain(str(cert.cert), str(cert.key))
        self._sock = socket.create_server(("127.0.0.1", self.port))
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="impostor", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"stomp+ssl://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                raw, _ = self._sock.accept()
            except TimeoutError:
                continue
            try:
                with self._context.wrap_socket(raw, server_side=True) as tls:
                    self.handshakes += 1
                    tls.settimeout(2.0)
                    while chunk := tls.recv(4096):
                        self.received += chunk
            except OSError:  # the client refused our certificate, or hung up
                raw.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


@pytest.fixture
def impostor_of_another_name(tls_broker: TlsBroker) -> Iterator[Impostor]:
    """Signed by the trusted CA, but for another host: only the name check refuses it."""
    impostor = Impostor(tls_broker.ca.issue("impostor", ["mq.example.com"]))
    yield impostor
    impostor.close()


# --- connecting with the CA file ---------------------------------------------------------


def test_the_agent_and_a_display_connect_with_the_ca_file(
    tls_broker: TlsBroker, core_sim: CoreSimulator, site_id: str, tmp_path: Path, qtbot: QtBot
) -> None:
    env = {"KDS_MQ_CA_FILE": str(tls_broker.ca.cert)}
    site = make_site(core_sim, site_id, tls_broker.url, tmp_path, env=env)
    assert site.config().mq.ca_file == tls_broker.ca.cert
    display_toml = tmp_path / "display.toml"  # the display's own file, the same variable
    display_toml.write_text(
        f'site_id = "{site_id}"\ndisplay_id = "grill-1"\nstation = "grill"\n'
        f'[mq]\nurl = "{tls_broker.url}"\nheartbeat_ms = 2000\n'
    )
    config = load(DisplayConfig, display_toml, env=env, secrets=None)
    assert config.mq.ca_file == tls_broker.ca.cert
    # the display as kitchen_display/app.py builds it, its connection from [mq]
    mq = mq_client_from_settings(config.mq, name="display-grill-1")
    display = build_display(config, mq, sound_player=None)
    display.start(show=True)
    try:
        qtbot.waitExposed(display.window, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: mq.connected, timeout=WAIT_MS)
        site.start_agent()  # the agent's relay over TLS too (start_agent waits for it)
        order = core_sim.create_order(site_id, items=[line_item("l1", "Burger", "grill")])
        number = f"#{order['display_number']}"
        qtbot.waitUntil(lambda: number in card(display, order["id"]), timeout=WAIT_MS)
    finally:
        display.close()
        site.stop_agent()


def card(display: DisplayApp, ticket_id: str) -> list[str]:
    """What the grill screen shows on the ticket's card (nothing while it has none)."""
    index = display.model.index_of(ticket_id)
    return display.delegate.card_texts(index) if index.isValid() else []


def test_a_client_certificate_is_sent_to_a_broker_that_wants_one(tls_broker: TlsBroker) -> None:
    url = tls_broker.broker.client_auth_url
    with_cert = settings(
        url,
        ca_file=tls_broker.ca.cert,
        cert_file=tls_broker.client.cert,
        key_file=tls_broker.client.key,
    )
    client = mq_client_from_settings(with_cert, name="with-cert").start()
    try:
        assert client.wait_connected(WAIT), client.last_error
    finally:
        client.close()
    # without one the broker hangs up: not the client refusing a certificate
    error = refused(mq_client_from_settings(settings(url, ca_file=tls_broker.ca.cert), name="no"))
    assert "certificate was refused" not in error


# --- refusing ------------------------------------------------------------------------------


def test_a_certificate_from_another_ca_is_refused_and_named_in_log_and_doctor(
    tls_broker: TlsBroker,
    core_sim: CoreSimulator,
    site_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = settings(tls_broker.url, ca_file=tls_broker.other_ca.cert)
    with caplog.at_level(logging.WARNING, logger="kds.mq"):
        error = refused(mq_client_from_settings(wrong, name="agent-wrong-ca"))
    assert error.startswith("the broker's certificate was refused: "), error
    assert "unable to get local issuer certificate" in error
    line = next(r for r in caplog.records if "agent-wrong-ca: cannot connect" in r.getMessage())
    assert line.levelno == logging.ERROR
    assert "the broker's certificate was refused" in line.getMessage()

    env = {"KDS_MQ_CA_FILE": str(tls_broker.other_ca.cert), "KDS_CORE_TOKEN": TOKEN}
    site = make_site(core_sim, site_id, tls_broker.url, tmp_path, env=env)
    checks = _doctor(site, env, monkeypatch)
    broker = checks["broker"]
    assert broker.failed
    assert broker.detail == f"{tls_broker.url}: {error}"
    assert "cannot connect" not in broker.detail
    assert "[mq] ca_file" in broker.fix


def test_a_certificate_for_another_name_is_refused_before_the_passcode_is_sent(
    impostor_of_another_name: Impostor, tls_broker: TlsBroker
) -> None:
    trusting = settings(
        impostor_of_another_name.url, ca_file=tls_broker.ca.cert, user="kds", password=Secret("pw")
    )
    error = refused(mq_client_from_settings(trusting, name="agent-impostor"))
    assert error.startswith("the broker's certificate was refused: "), error
    assert "Hostname mismatch" in error or "IP address mismatch" in error
    assert impostor_of_another_name.handshakes == 0
    assert impostor_of_another_name.received == b""


def test_insecure_skip_verify_is_logged_at_start_and_shown_by_doctor(
    tls_broker: TlsBroker,
    core_sim: CoreSimulator,
    site_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    insecure = settings(tls_broker.url, insecure_skip_verify=True)
    with caplog.at_level(logging.WARNING, logger="kds.mq"):
        client = mq_client_from_settings(insecure, name="lab").start()
        try:
            assert client.wait_connected(WAIT), client.last_error
        finally:
            client.close()
    warning = next(r for r in caplog.records if "insecure_skip_verify" in r.getMessage())
    assert warning.levelno == logging.WARNING
    assert "NOT verified" in warning.getMessage()

    env = {"KDS_MQ_INSECURE_SKIP_VERIFY": "true", "KDS_CORE_TOKEN": TOKEN}
    site = make_site(core_sim, site_id, tls_broker.url, tmp_path, env=env)
    broker = _doctor(site, env, monkeypatch)["broker"]
    assert broker.status == "WARN"
    assert "connected, subscribed, send confirmed" in broker.detail
    assert "insecure_skip_verify = true" in broker.detail
    assert "[mq] ca_file" in broker.fix


def test_insecure_skip_verify_does_send_to_an_impostor(
    impostor_of_another_name: Impostor,
) -> None:
    """The other side of the test above: with the check off the impostor does get the
    passcode (what stomp.py 8.1 did without being asked), so its empty record there
    means the check refused it."""
    lab = settings(
        impostor_of_another_name.url, insecure_skip_verify=True, user="kds", password=Secret("pw")
    )
    client = mq_client_from_settings(lab, name="lab").start()
    try:
        wait_until(lambda: b"\npasscode:pw\n" in impostor_of_another_name.received, WAIT)
    finally:
        client.close()


def _doctor(site: Site, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, Check]:
    """``edge-agent doctor`` on the site's file with ``env`` as the only KDS_* settings."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return doctor_checks(site.config_path)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("KDS_") and name != "KDS_TEST_MQ_URL":
            monkeypatch.delenv(name)
