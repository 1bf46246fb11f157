"""The first-run setup's "Test connection" (plain Python, no Qt): is there a broker at
that address, does it take this login, and does the site's agent answer?

:func:`probe` connects with the project's MQ client (:mod:`shared.mq`), subscribes to
a temporary reply queue (a screen may create and read one under the broker's ACL,
docs/broker-acl.md), sends a v1 ``snapshot`` to ``/queue/kds.{site}.commands`` with
that ``reply-to`` and waits for the agent's ``command.result``. It blocks (up to the
connect timeout plus ``answer_seconds``): run it off the GUI thread. It never raises
for a failure it can name; the :class:`ProbeResult` says which one.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from enum import Enum

from shared import wire
from shared.errors import (
    ConfigError,
    KdsError,
    MqLoginRefused,
    MqNotAuthorized,
    WireError,
)
from shared.mq import Message, MqClient, MqUrl, mq_client_from_settings
from shared.settings import MqSettings

log = logging.getLogger("kds.setup")

#: how long the agent has to answer the snapshot
ANSWER_SECONDS = 5.0
#: how long the TCP connect and the STOMP login may take
CONNECT_SECONDS = 5.0


class Outcome(Enum):
    """What a connection test found."""

    #: the agent answered the snapshot (``tickets`` is how many open tickets it has)
    CONNECTED = "connected"
    #: the agent answered, but refused the snapshot (``detail``: its error)
    AGENT_REFUSED = "agent_refused"
    #: the host name does not resolve
    UNKNOWN_HOST = "unknown_host"
    #: nothing accepts connections at host:port (refused, unreachable or timed out)
    NO_BROKER = "no_broker"
    #: the broker refused the login: unknown user or wrong password
    LOGIN_REFUSED = "login_refused"
    #: logged in, but the broker does not let this user use the site's queues
    NOT_AUTHORIZED = "not_authorized"
    #: the broker's TLS certificate was refused
    CERTIFICATE = "certificate"
    #: logged in and sent, but no agent answered in time
    NO_AGENT = "no_agent"
    #: something else went wrong (``detail`` says what)
    FAILED = "failed"


@dataclass(frozen=True)
class ProbeResult:
    outcome: Outcome
    site_id: str
    host: str
    port: int
    #: open tickets in the agent's snapshot (``CONNECTED`` only)
    tickets: int = 0
    #: the broker's or agent's words, the user refused, or the error
    detail: str = ""
    #: how long the test took, seconds
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.CONNECTED


def _tcp_problem(url: MqUrl, timeout: float) -> Outcome | None:
    """``UNKNOWN_HOST`` or ``NO_BROKER`` when a plain TCP connect fails, else ``None``."""
    try:
        with socket.create_connection((url.host, url.port), timeout=timeout):
            return None
    except socket.gaierror:
        return Outcome.UNKNOWN_HOST
    except OSError:
        return Outcome.NO_BROKER


def probe(
    settings: MqSettings,
    site_id: str,
    *,
    display_id: str = "",
    station: str = "",
    answer_seconds: float = ANSWER_SECONDS,
    connect_seconds: float = CONNECT_SECONDS,
) -> ProbeResult:
    """Test ``settings`` (url, user, password) against the site's agent; see the module."""
    started = time.monotonic()
    url = MqUrl.parse(settings.url)

    def result(outcome: Outcome, detail: str = "", tickets: int = 0) -> ProbeResult:
        took = time.monotonic() - started
        log.info(
            "connection test %s:%s for site %s: %s%s (%.1f s)",
            url.host,
            url.port,
            site_id,
            outcome.value,
            f" ({detail})" if detail else "",
            took,
        )
        return ProbeResult(outcome, site_id, url.host, url.port, tickets, detail, took)

    problem = _tcp_problem(url, connect_seconds)
    if problem is not None:
        return result(problem)
    try:
        client = mq_client_from_settings(
            settings, name="setup-test", heartbeat_ms=0, connect_timeout=connect_seconds
        )
    except ConfigError as exc:
        return result(Outcome.FAILED, exc.problem)
    answers: dict[str, wire.CommandResult] = {}
    answered = threading.Event()

    def on_reply(message: Message) -> None:
        try:
            answer = wire.parse_result(message.body)
        except WireError as exc:
            log.warning("connection test: an unreadable reply: %s", exc)
            return
        answers[answer.command_id] = answer
        answered.set()

    reply_to = f"/temp-queue/kds-setup-{uuid.uuid4().hex[:12]}"
    client.subscribe(reply_to, on_reply)
    try:
        client.start()
        failure = _wait_connected(client, connect_seconds + 2.0)
        if failure is not None:
            return result(*failure)
        command = wire.make_command("snapshot", site_id, display_id=display_id, station=station)
        try:
            client.send(
                wire.command_queue(site_id),
                wire.encode(command),
                headers={"reply-to": reply_to},
                persistent=False,
                receipt_timeout=connect_seconds,
            )
        except MqNotAuthorized as exc:
            return result(Outcome.NOT_AUTHORIZED, f"{exc.user}: {exc.action} {exc.destination}")
        except KdsError as exc:
            return result(Outcome.FAILED, str(exc))
        deadline = time.monotonic() + answer_seconds
        while time.monotonic() < deadline:
            answered.wait(max(0.0, deadline - time.monotonic()))
            answered.clear()
            answer = answers.get(command.command_id)
            if answer is None:
                continue
            if not answer.ok:
                return result(Outcome.AGENT_REFUSED, answer.detail or answer.error or "")
            return result(Outcome.CONNECTED, tickets=len(answer.tickets or ()))
        return result(Outcome.NO_AGENT)
    finally:
        client.close(timeout=2.0)


def _wait_connected(client: MqClient, timeout: float) -> tuple[Outcome, str] | None:
    """Wait for the first connect to succeed or fail; ``None`` when connected."""
    deadline = time.monotonic() + timeout
    while not client.wait_connected(0.05):
        refusal = client.last_refusal
        if isinstance(refusal, MqLoginRefused):
            return Outcome.LOGIN_REFUSED, refusal.user
        if isinstance(refusal, MqNotAuthorized):
            return Outcome.NOT_AUTHORIZED, f"{refusal.user}: {refusal.action} {refusal.destination}"
        if client.certificate_refused:
            return Outcome.CERTIFICATE, client.last_error or ""
        if client.last_error:
            return Outcome.FAILED, client.last_error
        if time.monotonic() > deadline:
            return Outcome.FAILED, f"no answer from the broker within {timeout:.0f} s"
    return None
