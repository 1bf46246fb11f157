"""`edge-agent broker-acl`'s configuration enforced by a real ActiveMQ 5.17.

Raw stomp.py clients (not the project's MqClient) show what the broker itself allows
and how it says no: a refused login is an ERROR frame and a closed connection; a
refused SUBSCRIBE or SEND is an ERROR frame (with the frame's ``receipt-id``) and the
connection stays open. Then a real agent, logged in as its generated user, serves a
screen user, and the project's client names the refusals (MqNotAuthorized).
"""

from __future__ import annotations

import logging
import shutil
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import stomp

from core_sim.server import CoreSimulator
from edge_agent.__main__ import main
from edge_agent.broker_acl import Fleet
from edge_agent.doctor import run_checks
from shared import wire
from shared.errors import MqLoginRefused, MqNotAuthorized
from shared.model import Ticket, TicketStatus
from shared.mq import MqClient, TlsOptions
from tests.helpers.activemq import ActiveMQ
from tests.helpers.fixtures import TOKEN, make_site
from tests.helpers.net import port_in_use
from tests.helpers.site import line_item, wait_until, write_agent_config
from tests.helpers.tls import CertAuthority

pytestmark = pytest.mark.broker

A, B = "acl-a", "acl-b"
FLEET = Fleet.parse([f"{A}:grill-1,fry-1,expo-1,lead-1", f"{B}:grill-1"])


@dataclass
class AclBroker:
    broker: ActiveMQ
    passwords: dict[str, str]

    def login(self, user: str) -> tuple[str, str]:
        return user, self.passwords[user]


@pytest.fixture(scope="module")
def acl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AclBroker]:
    passwords = FLEET.passwords()
    broker = ActiveMQ(
        tmp_path_factory.mktemp("acl") / "mq",
        broker_name="kds-test-acl",
        auth=FLEET.broker_auth(passwords),
    )
    with broker:
        yield AclBroker(broker, passwords)


@dataclass
class Frames:
    """What one raw stomp.py connection received (ERROR, RECEIPT, MESSAGE frames)."""

    errors: list[Any] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    messages: list[Any] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)


class _Recorder(stomp.ConnectionListener):  # type: ignore[misc]
    def __init__(self, frames: Frames) -> None:
        self.frames = frames

    def on_error(self, frame: Any) -> None:
        self.frames.errors.append(frame)

    def on_receipt(self, frame: Any) -> None:
        self.frames.receipts.append(frame.headers["receipt-id"])

    def on_message(self, frame: Any) -> None:
        self.frames.messages.append(frame)

    def on_disconnected(self) -> None:
        self.frames.disconnected.set()


@pytest.fixture
def connect(acl: AclBroker) -> Iterator[Any]:
    opened: list[Any] = []

    def _connect(user: str | None, password: str | None = None) -> tuple[Any, Frames]:
        conn = stomp.Connection12([("127.0.0.1", acl.broker.stomp_port)], heartbeats=(0, 0))
        frames = Frames()
        conn.set_listener("rec", _Recorder(frames))
        if user is not None and password is None:
            password = acl.passwords[user]
        conn.connect(user, password, wait=False)
        opened.append(conn)
        return conn, frames

    yield _connect
    for conn in opened:
        if conn.is_connected():
            conn.disconnect()


def _connected(conn: Any) -> Any:
    wait_until(conn.is_connected, 10)
    return conn


def _error_for(frames: Frames, receipt: str) -> Any:
    return wait_until(
        lambda: next((e for e in frames.errors if e.headers.get("receipt-id") == receipt), None),
        10,
    )


def _refused(
    conn: Any,
    frames: Frames,
    action: str,
    destination: str,
    probe: str = f"/queue/kds.{A}.commands",
) -> str:
    """Do ``action`` (``subscribe``/``send``) with a receipt; return the ERROR's words,
    after checking the connection still works (a SEND to ``probe`` is confirmed)."""
    receipt = uuid.uuid4().hex
    if action == "subscribe":
        conn.subscribe(destination, id=uuid.uuid4().hex[:8], headers={"receipt": receipt})
    else:
        conn.send(destination, "{}", headers={"receipt": receipt})
    error = _error_for(frames, receipt)
    assert receipt not in frames.receipts
    # the connection stays open: the next frame is answered
    receipt = uuid.uuid4().hex
    conn.send(probe, "{}", headers={"receipt": receipt})
    wait_until(lambda: receipt in frames.receipts, 10)
    assert conn.is_connected()
    return str(error.headers["message"])


def _ok(conn: Any, frames: Frames, action: str, destination: str, **headers: str) -> None:
    receipt = uuid.uuid4().hex
    if action == "subscribe":
        conn.subscribe(destination, id=uuid.uuid4().hex[:8], headers={"receipt": receipt})
    else:
        conn.send(destination, "{}", headers={"receipt": receipt, **headers})
    wait_until(lambda: receipt in frames.receipts, 10)
    assert not [e for e in frames.errors if e.headers.get("receipt-id") == receipt]


def test_no_login_and_a_wrong_password_are_refused_and_the_connection_closed(
    connect: Any,
) -> None:
    for user, password, named in (
        (None, None, "null"),
        (f"kds-{A}-grill-1", "not-the-password", f"kds-{A}-grill-1"),
        ("nobody", "x", "nobody"),
    ):
        conn, frames = connect(user, password or "")
        wait_until(frames.errors.copy, 10)
        assert frames.errors[0].headers["message"] == f"User name [{named}] or password is invalid."
        assert frames.disconnected.wait(10)
        assert not conn.is_connected()


def test_a_screen_reaches_only_its_own_site_and_its_own_replies(connect: Any) -> None:
    user = f"kds-{A}-grill-1"
    conn, frames = connect(user)
    _connected(conn)
    assert _refused(conn, frames, "subscribe", f"/topic/kds.{B}.state") == (
        f"User {user} is not authorized to read from: topic://kds.{B}.state"
    )
    assert _refused(conn, frames, "send", f"/queue/kds.{B}.commands") == (
        f"User {user} is not authorized to write to: queue://kds.{B}.commands"
    )
    for site in (A, B):  # no screen may publish state, its own site's neither
        assert _refused(conn, frames, "send", f"/topic/kds.{site}.state") == (
            f"User {user} is not authorized to write to: topic://kds.{site}.state"
        )
    assert _refused(conn, frames, "subscribe", f"/queue/kds.{A}.replies.fry-1") == (
        f"User {user} is not authorized to read from: queue://kds.{A}.replies.fry-1"
    )
    for other in (f"/queue/kds.{A}.commands", "/queue/anything", f"/queue/kds.{A}.doctor.x"):
        message = _refused(conn, frames, "subscribe", other)
        assert message.startswith(f"User {user} is not authorized to read from: queue://")
    # what it may do
    _ok(conn, frames, "subscribe", f"/topic/kds.{A}.state")
    _ok(conn, frames, "subscribe", f"/queue/kds.{A}.replies.grill-1")
    _ok(conn, frames, "send", f"/queue/kds.{A}.commands")


def test_an_agent_serves_its_own_site_only(connect: Any) -> None:
    user = f"kds-{A}-agent"
    agent, frames = connect(user)
    screen, seen = connect(f"kds-{A}-grill-1")
    _connected(agent), _connected(screen)
    _ok(screen, seen, "subscribe", f"/topic/kds.{A}.state")
    _ok(screen, seen, "subscribe", f"/queue/kds.{A}.replies.grill-1")
    _ok(agent, frames, "subscribe", f"/queue/kds.{A}.commands")
    _ok(agent, frames, "send", f"/topic/kds.{A}.state")
    _ok(agent, frames, "send", f"/queue/kds.{A}.replies.grill-1")
    _ok(agent, frames, "send", f"/queue/kds.{A}.doctor.probe", expires="1")
    wait_until(lambda: len(seen.messages) == 2, 10)
    mark = uuid.uuid4().hex  # the queue also holds other tests' probes
    _ok(screen, seen, "send", f"/queue/kds.{A}.commands", mark=mark)
    _ok(screen, seen, "send", f"/queue/kds.{A}.commands", mark=mark, JMSXUserID="kds-admin")

    def marked() -> list[Any]:
        found = [m for m in frames.messages if m.headers.get("mark") == mark]
        return found if len(found) == 2 else []

    commands = wait_until(marked, 10)
    # the broker names the sender; the sender cannot choose it (a JMSXUserID it sets
    # itself is replaced)
    assert [c.headers["JMSXUserID"] for c in commands] == [f"kds-{A}-grill-1"] * 2
    own = f"/topic/kds.{A}.state"
    assert _refused(agent, frames, "send", f"/topic/kds.{B}.state", own) == (
        f"User {user} is not authorized to write to: topic://kds.{B}.state"
    )
    assert _refused(agent, frames, "subscribe", f"/queue/kds.{B}.commands", own) == (
        f"User {user} is not authorized to read from: queue://kds.{B}.commands"
    )
    assert _refused(agent, frames, "send", f"/queue/kds.{B}.replies.grill-1", own) == (
        f"User {user} is not authorized to write to: queue://kds.{B}.replies.grill-1"
    )


def test_a_temp_queue_reply_works(connect: Any) -> None:
    agent, frames = connect(f"kds-{A}-agent")
    screen, seen = connect(f"kds-{A}-fry-1")
    _connected(agent), _connected(screen)
    _ok(agent, frames, "subscribe", f"/queue/kds.{A}.commands")
    _ok(screen, seen, "subscribe", "/temp-queue/answers")
    _ok(screen, seen, "send", f"/queue/kds.{A}.commands", **{"reply-to": "/temp-queue/answers"})
    # the queue also holds other tests' probes: the command is the one with a reply-to
    reply_to = wait_until(
        lambda: next(
            (m.headers["reply-to"] for m in frames.messages if "reply-to" in m.headers), ""
        ),
        10,
    )
    assert reply_to.startswith("/remote-temp-queue/")
    _ok(agent, frames, "send", reply_to)
    wait_until(lambda: seen.messages, 10)


def test_the_project_client_names_the_refusal(
    acl: AclBroker, caplog: pytest.LogCaptureFixture
) -> None:
    user = f"kds-{A}-grill-1"
    client = MqClient(acl.broker.url, user=user, password=acl.passwords[user], name="acl-screen")
    with client:
        assert client.wait_connected(15)
        with (
            caplog.at_level(logging.ERROR, logger="kds.mq"),
            pytest.raises(MqNotAuthorized) as refused,
        ):
            client.send(f"/queue/kds.{B}.commands", b"{}", receipt_timeout=10)
        assert refused.value.user == user
        assert refused.value.destination == f"queue://kds.{B}.commands"
        assert str(refused.value) == (
            f"MQ refused: user {user} may not write to queue://kds.{B}.commands"
        )
        assert f"acl-screen: MQ refused: user {user} may not write to queue://kds.{B}" in (
            caplog.text
        )
        with pytest.raises(MqNotAuthorized, match=f"may not read from topic://kds.{B}.state"):
            client.subscribe(f"/topic/kds.{B}.state", lambda message: None)
        # still connected: the next send goes through
        client.send(f"/queue/kds.{A}.commands", b"{}", receipt_timeout=10)
        assert client.connected
        # pipelined: the refused message is named, the others around it go through
        ours, theirs = f"/queue/kds.{A}.commands", f"/queue/kds.{B}.commands"
        errors = client.send_many(
            [(ours, b"{}", {}), (theirs, b"{}", {}), (ours, b"{}", {})], receipt_timeout=10
        )
        assert errors[0] is None and errors[2] is None
        assert isinstance(errors[1], MqNotAuthorized)
        assert errors[1].destination == f"queue://kds.{B}.commands"


def test_the_project_client_names_a_refused_login(acl: AclBroker) -> None:
    client = MqClient(
        acl.broker.url, user=f"kds-{A}-agent", password="wrong", backoff_max=0.5, name="acl-bad"
    )
    with client:
        wait_until(lambda: client.last_error, 15)
    assert client.last_error == (
        f"MQ refused the login of user kds-{A}-agent: unknown user or wrong password"
    )
    assert not client.connected
    _ = MqLoginRefused  # the class raised inside the client's connect (test_mq.py)


def test_a_real_agent_serves_a_screen_user_through_the_acl(acl: AclBroker, tmp_path: Path) -> None:
    """The generated rights are enough for the real programs: the agent (its own user)
    publishes an order, a screen user bumps it and gets its answer; a command whose
    reply-to the agent may not write is dead-lettered, not left blocking the state."""
    agent_user, screen_user = f"kds-{A}-agent", f"kds-{A}-grill-1"
    sim = CoreSimulator(sites={A: TOKEN}, seed=7)
    sim.start()
    site = make_site(
        sim,
        A,
        acl.broker.url,
        tmp_path,
        env={"KDS_MQ_USER": agent_user, "KDS_MQ_PASSWORD": acl.passwords[agent_user]},
    )
    screen = MqClient(
        acl.broker.url, user=screen_user, password=acl.passwords[screen_user], name="screen"
    )
    states: list[wire.StateMessage] = []
    results: dict[str, wire.CommandResult] = {}

    def on_state(message: Any) -> None:
        parsed = wire.parse_state_message(message.body)
        if not isinstance(parsed, wire.AgentAlive):
            states.append(parsed)

    def on_result(message: Any) -> None:
        result = wire.parse_result(message.body)
        results[result.command_id] = result

    reply_queue = f"/queue/kds.{A}.replies.grill-1"
    screen.subscribe(wire.state_topic(A), on_state)
    screen.subscribe(reply_queue, on_result)
    try:
        with screen:
            assert screen.wait_connected(15)
            site.start_agent()
            order = sim.create_order(A)

            def ticket() -> wire.TicketUpdated | None:
                found = [
                    s
                    for s in states
                    if isinstance(s, wire.TicketUpdated) and s.ticket.id == order["id"]
                ]
                return found[-1] if found else None

            first = wait_until(ticket, 20)
            station = first.ticket.stations()[0]

            def send(reply_to: str, **fields: Any) -> str:
                command = wire.make_command("bump", A, display_id="grill-1", **fields)
                screen.send(
                    wire.command_queue(A),
                    wire.encode(command),
                    headers={"reply-to": reply_to},
                    receipt_timeout=10,
                )
                return str(command.command_id)

            # another site's reply queue: the agent never tries (a kds.* destination
            # not its own); a queue the ACL refuses it (v1 allows any /queue/ while
            # [access] is off): its answer, unknown_ticket, is dead-lettered and holds
            # up nothing
            cross = send(f"/queue/kds.{B}.replies.grill-1", station=station, ticket_id="nope")
            stray = send("/queue/elsewhere.grill-1", station=station, ticket_id="nope")
            bump = send(reply_queue, station=station, ticket_id=first.ticket.id)
            assert wait_until(lambda: results.get(bump), 20).ok
            assert stray not in results and cross not in results
            # the bump's state message came after the dead reply
            wait_until(lambda: ticket().seq > first.seq, 20)  # type: ignore[union-attr]
            assert ticket().ticket.status is TicketStatus.IN_PROGRESS  # type: ignore[union-attr]
            assert site.agent is not None
            dead = site.agent.store.outbox_rows("dead")
            assert [row["dest"] for row in dead] == ["/queue/elsewhere.grill-1"]
            assert "MQ refused: user kds-acl-a-agent may not write to queue://" in str(
                dead[0]["last_error"]
            )
    finally:
        site.stop_agent()
        sim.close()


ACCESS = """
[access]
identity = "broker"
[access.screens.grill-1]
role = "station"
stations = ["grill"]
[access.screens.expo-1]
role = "expo"
[access.screens.lead-1]
role = "lead"
"""


class _Screen:
    """One screen logged in as its broker user: the state it sees, the answers it gets."""

    def __init__(self, acl: AclBroker, display: str) -> None:
        self.display = display
        self.reply_queue = f"/queue/kds.{A}.replies.{display}"
        user = f"kds-{A}-{display}"
        self.client = MqClient(
            acl.broker.url, user=user, password=acl.passwords[user], name=display
        )
        self.tickets: dict[str, Ticket] = {}
        self.results: dict[str, wire.CommandResult] = {}
        self.client.subscribe(wire.state_topic(A), self._on_state)
        self.client.subscribe(self.reply_queue, self._on_result)
        self.client.start()
        assert self.client.wait_connected(15)

    def _on_state(self, message: Any) -> None:
        parsed = wire.parse_state_message(message.body)
        if isinstance(parsed, wire.TicketUpdated):
            self.tickets[parsed.ticket.id] = parsed.ticket

    def _on_result(self, message: Any) -> None:
        result = wire.parse_result(message.body)
        self.results[result.command_id] = result

    def send(self, kind: str, headers: dict[str, str] | None = None, **fields: Any) -> Any:
        """Send one command (the body's display_id: this screen's unless given); its result."""
        fields.setdefault("display_id", self.display)
        command = wire.make_command(kind, A, **fields)
        self.client.send(
            wire.command_queue(A),
            wire.encode(command),
            headers={"reply-to": self.reply_queue, **(headers or {})},
            receipt_timeout=10,
        )
        return wait_until(lambda: self.results.get(command.command_id), 20)


def test_roles_come_from_the_brokers_word_not_the_body(
    acl: AclBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """[access] on an ACL broker with populateJMSXUserID: a grill screen that writes
    "lead-1" in the body, or forges the JMSXUserID header, is still the grill screen."""
    agent_user = f"kds-{A}-agent"
    sim = CoreSimulator(sites={A: TOKEN}, seed=11)
    sim.start()
    site = make_site(
        sim,
        A,
        acl.broker.url,
        tmp_path,
        env={"KDS_MQ_USER": agent_user, "KDS_MQ_PASSWORD": acl.passwords[agent_user]},
        extra=ACCESS,
    )
    screens = [_Screen(acl, name) for name in ("grill-1", "expo-1", "lead-1")]
    grill, expo, lead = screens
    try:
        site.start_agent()
        order = sim.create_order(
            A, items=[line_item("l1", "Classic Burger", "grill"), line_item("l2", "Fries", "fry")]
        )
        ticket_id = order["id"]
        wait_until(lambda: ticket_id in grill.tickets, 20)

        def forbidden(result: wire.CommandResult, *words: str) -> None:
            assert not result.ok and (result.error, result.reason) == ("bad_request", "forbidden")
            assert result.detail is not None
            for word in words:
                assert word in result.detail, result.detail

        grill_user = f"kds-{A}-grill-1 (station)"
        forbidden(
            grill.send("bump", station="expo", ticket_id=ticket_id, display_id="lead-1"),
            grill_user,
            "'expo'",
        )
        forbidden(
            grill.send("picked_up", ticket_id=ticket_id, headers={"JMSXUserID": f"kds-{A}-lead-1"}),
            grill_user,
        )
        forbidden(grill.send("fold_stations", folds={"fry": "grill"}), grill_user)
        forbidden(grill.send("set_availability", sku="SKU-FRIES", available=False), grill_user)
        forbidden(grill.send("bump", station="fry", ticket_id=ticket_id), grill_user, "'fry'")
        assert grill.send("bump", station="grill", ticket_id=ticket_id).ok
        forbidden(expo.send("fold_stations", folds={"fry": "grill"}), f"kds-{A}-expo-1 (expo)")
        assert lead.send("fold_stations", folds={"fry": "grill"}).ok
        assert grill.send("bump", station="fry", ticket_id=ticket_id).ok  # folded into grill
        assert expo.send("bump", station="expo", ticket_id=ticket_id).ok
        wait_until(lambda: grill.tickets[ticket_id].status is TicketStatus.READY, 20)
        assert expo.send("picked_up", ticket_id=ticket_id).ok
        assert lead.send("set_availability", sku="SKU-FRIES", available=False).ok

        monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)
        monkeypatch.setenv("KDS_MQ_USER", agent_user)
        monkeypatch.setenv("KDS_MQ_PASSWORD", acl.passwords[agent_user])
        access = next(c for c in run_checks(site.config_path, timeout=2.0) if c.name == "access")
        assert access.status == "ok", access
        assert f"the broker stamped this agent as {agent_user!r}" in access.detail
    finally:
        for screen in screens:
            screen.client.close()
        site.stop_agent()
        sim.close()


@pytest.mark.parametrize("who", ["agent", "wrong-password", "screen"])
def test_doctor_says_what_the_broker_refused(
    acl: AclBroker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, who: str
) -> None:
    config, _ = write_agent_config(
        tmp_path, site_id=A, core_url="http://127.0.0.1:9", mq_url=acl.broker.url
    )
    user = f"kds-{A}-grill-1" if who == "screen" else f"kds-{A}-agent"
    monkeypatch.setenv("KDS_CORE_TOKEN", TOKEN)
    monkeypatch.setenv("KDS_MQ_USER", user)
    password = "not-it-7f3a" if who == "wrong-password" else acl.passwords[user]
    monkeypatch.setenv("KDS_MQ_PASSWORD", password)
    broker = next(c for c in run_checks(config, timeout=2.0) if c.name == "broker")
    if who == "agent":
        assert broker.status == "ok", broker
        return
    assert broker.status == "FAIL"
    if who == "wrong-password":
        assert broker.detail == (
            f"{acl.broker.url}: MQ refused the login of user {user}: unknown user or wrong password"
        )
        assert "set-secret mq.password" in broker.fix
    else:
        # the probe queue is subscribed before it is sent to: either is refused first
        assert broker.detail.startswith(f"{acl.broker.url}: MQ refused: user {user} may not ")
        assert f"queue://kds.{A}.doctor." in broker.detail
        assert "edge-agent broker-acl" in broker.fix
    assert password not in broker.detail + broker.fix


class _PackagedBroker(ActiveMQ):
    """ActiveMQ running a site admin's files as ``edge-agent broker-acl --out`` writes
    them (only the connector's port changed), started as Debian's service starts it:
    no ``-Djava.security.auth.login.config``, JAAS finds ``login.config`` in the conf
    folder on its own."""

    def __init__(self, workdir: Path, files: Path) -> None:
        super().__init__(workdir)
        self._files = files

    def write_conf(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for path in self._files.iterdir():
            shutil.copy2(path, self.conf_dir / path.name)
        xml = self.conf_dir / "activemq.xml"
        ours = f"stomp+ssl://127.0.0.1:{self.stomp_port}"
        xml.write_text(xml.read_text().replace("stomp+ssl://0.0.0.0:61614", ours))
        (self.conf_dir / "log4j.properties").write_text(
            "log4j.rootLogger=INFO, stdout\n"
            "log4j.appender.stdout=org.apache.log4j.ConsoleAppender\n"
            "log4j.appender.stdout.layout=org.apache.log4j.PatternLayout\n"
        )

    def _wait_ready(self, deadline: float, timeout: float) -> None:
        wait_until(lambda: port_in_use(self.stomp_port) or not self.running, timeout)
        assert self.running, self.log_tail()


def test_the_generated_activemq_xml_runs_as_written(tmp_path: Path) -> None:
    files = tmp_path / "conf"
    assert main(["broker-acl", "--site", f"{A}:grill-1", "--out", str(files)]) == 0
    ca = CertAuthority.create(tmp_path / "ca", "kds-test-ca")
    keystore = ca.issue("broker", ["127.0.0.1"]).pkcs12("keystore-pw-1")
    shutil.copy2(keystore, files / "broker.p12")
    (files / "credentials.properties").write_text("kds.keystore.password=keystore-pw-1\n")
    passwords = dict(
        line.split("=", 1)
        for line in (files / "users.properties").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    broker = _PackagedBroker(tmp_path / "mq", files)
    tls = TlsOptions(ca_file=ca.cert)

    def client(user: str, password: str | None = None) -> MqClient:
        password = passwords[user] if password is None else password
        url = f"stomp+ssl://127.0.0.1:{broker.stomp_port}"
        return MqClient(url, user=user, password=password, tls=tls, backoff_max=0.5)

    received: list[bytes] = []
    with broker:
        screen = client(f"kds-{A}-grill-1")
        screen.subscribe(wire.state_topic(A), lambda message: received.append(message.body))
        with screen, client(f"kds-{A}-agent") as agent:
            assert screen.wait_connected(20) and agent.wait_connected(20)
            agent.send(wire.state_topic(A), b'{"hello": 1}', receipt_timeout=10)
            wait_until(lambda: received, 10)
            with pytest.raises(MqNotAuthorized):
                screen.send(wire.state_topic(A), b"{}", receipt_timeout=10)
        with client(f"kds-{A}-agent", "not-it") as refused:
            wait_until(lambda: refused.last_refusal, 20)
        assert isinstance(refused.last_refusal, MqLoginRefused)


def test_a_user_added_to_users_properties_logs_in_without_a_restart(acl: AclBroker) -> None:
    """``login.config``'s ``reload=true``: JAAS re-reads the files when they change."""
    users = acl.broker.conf_dir / "users.properties"
    users.write_text(users.read_text() + "kds-acl-a-late=late-password-42\n")
    with MqClient(acl.broker.url, user="kds-acl-a-late", password="late-password-42") as late:
        assert late.wait_connected(15), late.last_error
