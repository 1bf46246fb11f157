"""One STOMP 1.2 client for both apps: heart-beats, reconnect, re-subscribe, receipts.

stomp.py reconnects only on the first connect and lets an exception escaping a
listener kill the connection, so this wrapper owns a *supervisor thread* that
(re)connects with exponential backoff, re-subscribes everything after each
connect, and calls handlers inside ``try/except`` so a bad message can never take
the connection down.

Threads: the supervisor thread connects; stomp.py's receiver thread calls the
handlers given to :meth:`MqClient.subscribe` and the state callbacks. Handlers
must be quick or hand work to their own thread (the Qt app emits a signal).

URLs: ``stomp://host:port`` (plain) or ``stomp+ssl://host:port`` (TLS, as Amazon MQ
on port 61614 needs). TLS always verifies the broker's certificate chain (against
``[mq] ca_file``, else the system's CA store) and its host name, unless
``insecure_skip_verify`` says otherwise (a warning at every start). A certificate the
client refuses is a :class:`~shared.errors.MqCertificateError`, named as such in the
log and in ``edge-agent doctor``.

A broker with authentication and an authorization map (``edge-agent broker-acl``,
docs/broker-acl.md) answers a refused login, SUBSCRIBE or SEND with an ERROR frame:
:func:`refusal` reads ActiveMQ's words into :class:`~shared.errors.MqLoginRefused` or
:class:`~shared.errors.MqNotAuthorized`, logged as ``MQ refused: user X may not write
to queue://...`` and raised to the sender that waited for its receipt.
"""

from __future__ import annotations

import logging
import random
import re
import socket
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import stomp
import stomp.exception

from shared import redact
from shared.errors import (
    ConfigError,
    MqCertificateError,
    MqError,
    MqLoginRefused,
    MqNotAuthorized,
    MqNotConnected,
    MqRefused,
)

if TYPE_CHECKING:
    from shared.settings import MqSettings

    # stomp.py has no type hints: to mypy its listener base is ``object``
    _ListenerBase = object
else:
    _ListenerBase = stomp.ConnectionListener

log = logging.getLogger("kds.mq")


#: how many heart-beat intervals without a frame from the broker mean it is gone
HEARTBEAT_RECEIVE_SCALE = 2.5
#: how long a connect (TCP, TLS, CONNECTED, each subscription's receipt) may take, seconds
CONNECT_TIMEOUT = 10.0


class _HidePasscode(logging.Filter):
    """Masks the ``passcode`` header in stomp.py's log (a filter on its logger).

    stomp.py logs every frame it sends at DEBUG, as the ``repr`` of its lines, and its
    own mask (``stomp.utils.clean_lines``: ``passcode:\\s+...``) misses the CONNECT
    frame's ``passcode:VALUE`` (stomp.py 9.0.0: the broker password was in the log).
    Here the value is masked up to the header's end (the line's ``\\n``), read as a
    ``repr``, so no character of the password (quote, space, backslash, an escaped
    newline) ends the mask early.
    """

    #: ``passcode:`` then repr tokens (``\\``, ``\xNN``, ``\'``, a plain character)
    #: up to the header line's end: the ``\n`` token, a real newline or the end
    _HEADER = re.compile(r"passcode:(?:\\\\|\\x[0-9a-fA-F]{2}|\\[^n]|[^\\\n])*?(?=\\n|\n|$)")

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem, not ours
            return True
        if "passcode:" in message:
            record.msg, record.args = self._HEADER.sub("passcode:********", message), None
        return True


_hide_passcode = _HidePasscode()
logging.getLogger("stomp.py").addFilter(_hide_passcode)

#: ActiveMQ 5's AuthorizationBroker: ``User X is not authorized to write to: queue://Q``
_NOT_AUTHORIZED = re.compile(
    r"User (?P<user>\S+) is not authorized to (?P<action>read from|write to|create|remove)"
    r": (?P<destination>\S+)"
)
#: ActiveMQ 5's JAAS and simple authentication: ``User name [X] or password is invalid.``
_LOGIN_REFUSED = re.compile(r"User name \[(?P<user>[^\]]*)\] or password is invalid")


def refusal(detail: str) -> MqRefused | None:
    """The :class:`MqRefused` an ActiveMQ ERROR frame's message means; ``None`` when it
    is about something else."""
    found = _NOT_AUTHORIZED.search(detail)
    if found is not None:
        user, action, destination = found["user"], found["action"], found["destination"]
        return MqNotAuthorized(
            f"MQ refused: user {user} may not {action} {destination}",
            user=user,
            detail=detail,
            action=action,
            destination=destination,
        )
    found = _LOGIN_REFUSED.search(detail)
    if found is not None:
        user = found["user"]
        who = "(no user name given)" if user in ("", "null") else user
        return MqLoginRefused(
            f"MQ refused the login of user {who}: unknown user or wrong password",
            user="" if user == "null" else user,
            detail=detail,
        )
    return None


def _error_text(frame: Any) -> str:
    r"""An ERROR frame's words: its ``message`` header (a STOMP 1.2 ``\c`` undone), else
    the start of its body."""
    header = str(frame.headers.get("message", "")).replace("\\c", ":")
    if header:
        return header
    body = frame.body if isinstance(frame.body, bytes) else str(frame.body or "").encode()
    return body[:500].decode("utf-8", "replace").strip() or "(an ERROR frame with no message)"


@dataclass(frozen=True)
class MqUrl:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str, *, key: str = "mq.url") -> MqUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("stomp", "stomp+ssl", "stomp+tls", "ssl"):
            raise ConfigError(key, f"scheme must be stomp:// or stomp+ssl://, got {url!r}")
        if not parts.hostname:
            raise ConfigError(key, f"no host in {url!r}")
        try:
            port = parts.port or (61614 if parts.scheme != "stomp" else 61613)
        except ValueError:
            raise ConfigError(key, f"bad port in {url!r}") from None
        return cls(parts.hostname, port, parts.scheme != "stomp")


def _pem(path: Path, key: str, marker: str, what: str) -> None:
    """Raise ``ConfigError(key)`` unless ``path`` is readable and holds a PEM ``what``."""
    try:
        text = path.read_text(encoding="ascii", errors="replace")
    except OSError as exc:
        raise ConfigError(key, f"cannot read {path}: {exc.strerror}") from None
    if marker not in text:
        raise ConfigError(key, f"no PEM {what} in {path}")


@dataclass(frozen=True)
class TlsOptions:
    """How a ``stomp+ssl://`` connection checks the broker (``[mq] ca_file`` and friends).

    stomp.py 9 builds a ``PROTOCOL_TLS_CLIENT`` context from these: chain and host name
    are verified unless ``insecure_skip_verify`` (then neither is).
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    insecure_skip_verify: bool = False

    def context(self) -> ssl.SSLContext:
        """The context these options make; raises ``ConfigError`` naming a file that is
        missing or not PEM. Used to check the settings and to explain a refused handshake.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        try:
            if self.ca_file is not None:
                context.load_verify_locations(cafile=str(self.ca_file))
            else:
                context.load_default_certs()
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                "mq.ca_file", f"cannot read CA certificates from {self.ca_file}: {exc}"
            ) from None
        if self.cert_file is not None:
            key_key = "mq.key_file" if self.key_file else "mq.cert_file"
            _pem(self.cert_file, "mq.cert_file", "CERTIFICATE-----", "certificate")
            _pem(self.key_file or self.cert_file, key_key, "PRIVATE KEY-----", "private key")
            try:
                context.load_cert_chain(
                    str(self.cert_file), str(self.key_file) if self.key_file else None
                )
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(
                    key_key, f"the key does not fit the client certificate: {exc}"
                ) from None
        if self.insecure_skip_verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def apply(self, conn: Any, host_port: tuple[str, int]) -> None:
        """Hand these options to a stomp.py connection for ``host_port``."""
        conn.set_ssl(
            for_hosts=[host_port],
            ca_certs=str(self.ca_file) if self.ca_file else None,
            cert_file=str(self.cert_file) if self.cert_file else None,
            key_file=str(self.key_file) if self.key_file else None,
            # PROTOCOL_TLS_CLIENT, never PROTOCOL_TLS: only it turns check_hostname on
            ssl_version=ssl.PROTOCOL_TLS_CLIENT,
            verify=not self.insecure_skip_verify,
        )

    def handshake_error(self, host: str, port: int, timeout: float) -> ssl.SSLError | None:
        """Why a TLS handshake with ``host:port`` fails, if it is TLS that fails.

        stomp.py logs a failed handshake and raises a bare ``ConnectFailedException``:
        after one, this repeats the handshake with the same options to name the cause
        (a refused certificate, say). ``None`` when TLS is not the problem.
        """
        try:
            context = self.context()
            with (
                socket.create_connection((host, port), timeout=timeout) as raw,
                context.wrap_socket(raw, server_hostname=host),
            ):
                return None
        except ssl.SSLError as exc:
            return exc
        except (OSError, ConfigError):
            return None


@dataclass(frozen=True)
class Message:
    """One MESSAGE frame as handlers see it."""

    destination: str
    body: bytes
    headers: dict[str, str]
    subscription: str
    ack_id: str | None
    generation: int

    @property
    def reply_to(self) -> str | None:
        return self.headers.get("reply-to")

    @property
    def redelivered(self) -> bool:
        return self.headers.get("redelivered") == "true"


Handler = Callable[[Message], None]
StateCallback = Callable[[bool], None]
#: told whether the broker confirmed a frame (``True``) or the connection went first
ReceiptCallback = Callable[[bool], None]
#: starts a named thread running a loop, e.g. the agent's thread supervisor's ``spawn``
Spawn = Callable[[str, Callable[[], None]], threading.Thread]


@dataclass
class _Subscription:
    sub_id: str
    destination: str
    handler: Handler
    ack: str
    headers: dict[str, str] = field(default_factory=dict)


def _no_delay(conn: Any) -> None:
    """TCP_NODELAY on stomp.py's socket (it does not set it).

    Without it Nagle's algorithm holds a small SEND behind the broker's delayed TCP
    ACK of our previous frame (an ACK frame gets no answer): ~40 ms per command on
    Linux, measured in bench/bench_spine.py.
    """
    sock = getattr(conn.transport, "socket", None)
    if sock is None:
        return
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError as exc:
        log.debug("TCP_NODELAY not set: %s", exc)


def _ack_headers(message: Message) -> dict[str, str]:
    """ACK/NACK headers: STOMP 1.2's ``id`` = the message's ``ack`` header.

    A broker that sends no ``ack`` header (the demo's coilmq) wants ``id`` = the
    subscription and ``message-id`` instead; ActiveMQ ignores the extra headers.
    """
    headers = {
        "message-id": message.headers.get("message-id", ""),
        "subscription": message.subscription,
    }
    headers["id"] = message.headers.get("ack") or message.subscription
    return headers


class _ReceiptWaiter:
    """A receipt callback a thread waits on (a blocking send, a subscription)."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.delivered = False
        #: set when the broker answered the frame with an ERROR instead
        self.error: MqError | None = None

    def __call__(self, delivered: bool) -> None:
        self.delivered = delivered
        self.event.set()


class _Listener(_ListenerBase):
    def __init__(self, client: MqClient, generation: int) -> None:
        self._client = client
        self._generation = generation
        #: set on CONNECTED, or on an ERROR / disconnect before it (then ``refused`` says why)
        self.connected = threading.Event()
        self.refused: str | None = None
        self.refusal: MqRefused | None = None

    def on_connected(self, frame: Any) -> None:
        self.connected.set()

    def on_message(self, frame: Any) -> None:
        self._client._dispatch(frame, self._generation)

    def on_receipt(self, frame: Any) -> None:
        self._client._receipt(frame.headers.get("receipt-id", ""))

    def on_error(self, frame: Any) -> None:
        message = _error_text(frame)
        refused = refusal(message)
        if refused is not None:
            log.error("%s: %s", self._client._name, refused)
        else:
            log.error("broker sent ERROR: %s", message)
        if not self.connected.is_set():
            self.refused, self.refusal = message, refused
            self.connected.set()
            return
        receipt_id = frame.headers.get("receipt-id")
        if receipt_id:
            self._client._refused(
                receipt_id, refused or MqError(f"the broker refused the frame: {message}")
            )

    def on_disconnected(self) -> None:
        if not self.connected.is_set():
            self.refused = self.refused or "disconnected during connect"
            self.connected.set()
        self._client._lost(self._generation, "disconnected")

    def on_heartbeat_timeout(self) -> None:
        self._client._lost(self._generation, "heart-beat timeout")


class MqClient:
    """A self-healing STOMP connection.

    ``subscribe`` may be called before or after ``start``; subscriptions are
    replayed on every reconnect. ``send`` raises :class:`MqNotConnected` while
    down, so the caller (an outbox, a display's pending queue) decides to retry.
    """

    def __init__(
        self,
        url: str,
        *,
        user: str | None = None,
        password: str | None = None,
        client_id: str | None = None,
        heartbeat_ms: int = 10_000,
        backoff_initial: float = 0.2,
        backoff_max: float = 10.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        vhost: str | None = None,
        name: str = "mq",
        tls: TlsOptions | None = None,
    ) -> None:
        self._url = MqUrl.parse(url)
        self._tls = tls or TlsOptions()
        self._user = user
        self._password = password
        redact.remember(password or "")  # masked in every log line (shared.redact)
        self._client_id = client_id
        self._heartbeat_ms = heartbeat_ms
        self._backoff_initial = backoff_initial
        self._backoff_max = backoff_max
        self._connect_timeout = connect_timeout
        self._vhost = vhost
        self._name = name
        self._lock = threading.RLock()
        self._send_lock = threading.Lock()
        self._conn: Any = None
        self._generation = 0
        self._connected = threading.Event()
        #: the STOMP session is up (CONNECTED came): sends work. Set before the
        #: subscriptions are replayed, because a message delivered to a handler while they
        #: are (a command, say) must be answerable; ``connected`` waits for all of them.
        self._session = threading.Event()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._subs: dict[str, _Subscription] = {}
        #: receipt id -> told True on its RECEIPT; a dropped connection tells them all False
        self._receipts: dict[str, ReceiptCallback] = {}
        self._callbacks: list[StateCallback] = []
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        #: the last connect failed because the broker's certificate was refused
        self.certificate_refused = False
        #: the last connect failed because the broker refused this user (its login, or a
        #: subscription its authorization map does not allow)
        self.last_refusal: MqRefused | None = None

    # --- lifecycle ------------------------------------------------------------------

    def start(self, spawn: Spawn | None = None) -> MqClient:
        """Connect (and keep connecting) on the ``<name>-supervisor`` thread; ``spawn``
        starts it instead of a plain thread (the agent's thread supervisor)."""
        if self._thread is None:
            if self._url.tls and self._tls.insecure_skip_verify:
                log.warning(
                    "%s: [mq] insecure_skip_verify = true: the certificate of %s:%s is NOT "
                    "verified; anyone on the network path can read the broker password",
                    self._name,
                    self._url.host,
                    self._url.port,
                )
            name = f"{self._name}-supervisor"
            if spawn is not None:
                self._thread = spawn(name, self._supervise)
            else:
                self._thread = threading.Thread(target=self._supervise, name=name, daemon=True)
                self._thread.start()
        return self

    def close(self, timeout: float = 5.0) -> None:
        """Disconnect cleanly and stop the supervisor."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._drop_connection(graceful=True)

    def __enter__(self) -> MqClient:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float | None = None) -> bool:
        return self._connected.wait(timeout)

    def reconnect(self, why: str) -> None:
        """Drop the connection and connect again (the broker redelivers unacked messages)."""
        with self._lock:
            generation = self._generation
        self._lost(generation, why)

    def on_state_change(self, callback: StateCallback) -> None:
        """``callback(True)`` after each (re)connect, ``callback(False)`` on each loss."""
        self._callbacks.append(callback)

    # --- messaging ------------------------------------------------------------------

    def subscribe(
        self,
        destination: str,
        handler: Handler,
        *,
        ack: str = "auto",
        headers: dict[str, str] | None = None,
    ) -> str:
        sub = _Subscription(uuid.uuid4().hex[:12], destination, handler, ack, dict(headers or {}))
        with self._lock:
            self._subs[sub.sub_id] = sub
            conn = self._conn if self.connected else None
        if conn is not None:
            self._do_subscribe(conn, sub)
        return sub.sub_id

    def unsubscribe(self, sub_id: str) -> None:
        with self._lock:
            self._subs.pop(sub_id, None)
            conn = self._conn if self.connected else None
        if conn is not None:
            try:
                with self._send_lock:
                    conn.unsubscribe(id=sub_id)
            except Exception as exc:  # the connection may be dying; nothing to undo
                log.debug("unsubscribe %s failed: %s", sub_id, exc)

    def send(
        self,
        destination: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        persistent: bool = True,
        receipt_timeout: float | None = None,
        on_receipt: ReceiptCallback | None = None,
    ) -> str | None:
        """Send one JSON body. With ``receipt_timeout`` wait for the broker's RECEIPT.
        Returns the id of the RECEIPT asked for (``None``: none was).

        With ``on_receipt`` ask for a RECEIPT without waiting: the callback is told
        ``True`` when it comes (on stomp.py's receiver thread) or ``False`` when the
        connection is lost first (on the thread that notices). It must be quick and
        never raise.

        Raises :class:`MqNotConnected` when down and :class:`MqError` when the
        send or its receipt fails; the message may then be resent by the caller.
        """
        with self._lock:
            conn = self._conn if self._session.is_set() else None
        if conn is None:
            raise MqNotConnected(f"not connected to {self._url.host}:{self._url.port}")
        frame_headers = {"persistent": "true" if persistent else "false"}
        frame_headers.update(headers or {})
        waiter = _ReceiptWaiter() if receipt_timeout is not None else None
        callback = waiter or on_receipt
        receipt_id = uuid.uuid4().hex
        if callback is not None:
            self._receipts[receipt_id] = callback
            frame_headers["receipt"] = receipt_id
        try:
            with self._send_lock:
                conn.send(destination, body, content_type="application/json", headers=frame_headers)
        except Exception as exc:
            self._receipts.pop(receipt_id, None)
            raise MqError(f"send to {destination} failed: {exc}") from exc
        if waiter is not None:
            if not waiter.event.wait(receipt_timeout):
                self._receipts.pop(receipt_id, None)
                raise MqError(f"no receipt from the broker for {destination} in {receipt_timeout}s")
            if waiter.error is not None:
                raise waiter.error
            if not waiter.delivered:
                raise MqError(f"connection lost before the broker confirmed {destination}")
        return receipt_id if callback is not None else None

    def send_many(
        self,
        messages: Sequence[tuple[str, bytes, dict[str, str]]],
        *,
        receipt_timeout: float,
        persistent: bool = True,
    ) -> list[MqError | None]:
        """Send ``(destination, body, headers)`` messages back to back, each asking for
        a RECEIPT, then wait for all of them: one round trip for the lot instead of one
        each (the broker handles a connection's frames in order).

        Returns, per message, ``None`` when the broker confirmed it or the
        :class:`MqError` why not (refused, no receipt within ``receipt_timeout``, the
        connection lost, or not sent at all: everything after a send that failed). A
        broker that refuses a frame closes the connection, so nothing after a refused
        message is confirmed either.
        """
        results: list[MqError | None] = [None] * len(messages)
        waiting: list[tuple[int, str, _ReceiptWaiter]] = []
        for n, (destination, body, headers) in enumerate(messages):
            waiter = _ReceiptWaiter()
            try:
                receipt_id = self.send(
                    destination, body, headers=headers, persistent=persistent, on_receipt=waiter
                )
            except MqError as exc:
                for rest in range(n, len(messages)):
                    results[rest] = exc
                break
            waiting.append((n, receipt_id or "", waiter))
        deadline = time.monotonic() + receipt_timeout
        for n, receipt_id, waiter in waiting:
            destination = messages[n][0]
            if not waiter.event.wait(max(0.0, deadline - time.monotonic())):
                self._receipts.pop(receipt_id, None)
                results[n] = MqError(
                    f"no receipt from the broker for {destination} in {receipt_timeout}s"
                )
            elif waiter.error is not None:
                results[n] = waiter.error
            elif not waiter.delivered:
                results[n] = MqError(f"connection lost before the broker confirmed {destination}")
        return results

    def ack(self, message: Message) -> None:
        """Acknowledge a client-individual message (ignored if its connection is gone)."""
        self._ack_or_nack(message, nack=False)

    def nack(self, message: Message) -> None:
        self._ack_or_nack(message, nack=True)

    def _ack_or_nack(self, message: Message, *, nack: bool) -> None:
        if message.ack_id is None:
            return
        with self._lock:
            conn = self._conn if message.generation == self._generation else None
        if conn is None:
            log.debug("ack for a message of an old connection skipped; it will be redelivered")
            return
        try:
            with self._send_lock:
                conn.send_frame("NACK" if nack else "ACK", _ack_headers(message))
        except Exception as exc:
            log.warning("could not %s message: %s", "nack" if nack else "ack", exc)

    # --- supervisor -----------------------------------------------------------------

    def _supervise(self) -> None:
        delay = self._backoff_initial
        while not self._closing.is_set():
            if not self.connected:
                try:
                    self._connect()
                    delay = self._backoff_initial
                except Exception as exc:
                    self.last_error = str(exc) or type(exc).__name__
                    self.certificate_refused = isinstance(exc, MqCertificateError)
                    self.last_refusal = exc if isinstance(exc, MqRefused) else None
                    log.log(
                        logging.ERROR
                        if self.certificate_refused or self.last_refusal
                        else logging.WARNING,
                        "%s: cannot connect to %s:%s (%s); retrying in %.1fs",
                        self._name,
                        self._url.host,
                        self._url.port,
                        self.last_error,
                        delay,
                    )
                    self._drop_connection(graceful=False)
                    self._wake.wait(delay * (0.8 + 0.4 * random.random()))
                    self._wake.clear()
                    delay = min(delay * 2, self._backoff_max)
                    continue
            self._wake.wait(1.0)
            self._wake.clear()

    def _connect(self) -> None:
        host_port = (self._url.host, self._url.port)
        conn = stomp.Connection12(
            host_and_ports=[host_port],
            heartbeats=(self._heartbeat_ms, self._heartbeat_ms),
            # ActiveMQ sends a heart-beat only when it wrote nothing since its last check,
            # so after a message its next sign of life can come up to 2x the interval
            # later (measured: 3.99 s at 2000 ms); stomp.py's default 1.5x then drops a
            # healthy connection whenever traffic is sporadic (the agent's command queue).
            heart_beat_receive_scale=HEARTBEAT_RECEIVE_SCALE,
            reconnect_attempts_max=1,
            timeout=self._connect_timeout,
            auto_decode=False,
            vhost=self._vhost,
        )
        if self._url.tls:
            self._tls.apply(conn, host_port)
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._conn = conn
        listener = _Listener(self, generation)
        conn.set_listener("kds", listener)
        headers = {"client-id": self._client_id} if self._client_id else {}
        try:
            # Not wait=True: stomp.py's wait has no deadline and hangs on a broker that
            # accepts TCP but never answers CONNECT (one that is still starting, say).
            conn.connect(self._user, self._password, wait=False, headers=headers)
        except stomp.exception.StompException as exc:
            refused = self._url.tls and self._tls.handshake_error(*host_port, self._connect_timeout)
            if isinstance(refused, ssl.SSLCertVerificationError):
                raise MqCertificateError(
                    f"the broker's certificate was refused: {refused.verify_message}"
                ) from exc
            if refused:
                raise MqError(f"TLS handshake failed: {refused.reason or refused}") from exc
            raise MqError(f"connect failed: {type(exc).__name__} {exc}") from exc
        _no_delay(conn)
        if not listener.connected.wait(self._connect_timeout):
            raise MqError(f"no CONNECTED from the broker within {self._connect_timeout}s")
        if listener.refusal is not None:
            raise listener.refusal
        if listener.refused:
            raise MqError(f"connect refused by broker: {listener.refused}")
        with self._lock:
            if generation == self._generation:
                self._session.set()
            subs = list(self._subs.values())
        for sub in subs:
            self._do_subscribe(conn, sub)
        with self._lock:
            if generation != self._generation or self._closing.is_set():
                # lost (or closing) while subscribing: _lost already dropped it
                raise MqError("connection lost while subscribing")
            self._connected.set()
        self.last_error = None
        self.certificate_refused = False
        self.last_refusal = None
        log.info("%s: connected to %s:%s", self._name, self._url.host, self._url.port)
        self._notify(True)

    def _do_subscribe(self, conn: Any, sub: _Subscription) -> None:
        """Subscribe and wait for the broker's RECEIPT: once this returns, messages sent
        to the destination by anyone reach us (the broker registers a SUBSCRIBE
        asynchronously; without the receipt a message published right after could be
        missed). Never call it from a message handler (the receipt comes on that thread).
        """
        receipt_id = uuid.uuid4().hex
        waiter = _ReceiptWaiter()
        self._receipts[receipt_id] = waiter
        headers = {**sub.headers, "receipt": receipt_id}
        with self._send_lock:
            conn.subscribe(sub.destination, id=sub.sub_id, ack=sub.ack, headers=headers)
        if not waiter.event.wait(self._connect_timeout) or not waiter.delivered:
            self._receipts.pop(receipt_id, None)
            if waiter.error is not None:
                raise waiter.error
            raise MqError(f"the broker did not confirm the subscription to {sub.destination}")

    def _drop_connection(self, *, graceful: bool) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._generation += 1
            was_connected = self._connected.is_set()
            self._connected.clear()
            self._session.clear()
        self._fail_receipts()
        if conn is not None:
            try:
                if graceful and conn.is_connected():
                    conn.disconnect()
            except Exception as exc:
                log.debug("%s: error while disconnecting: %s", self._name, exc)
            try:
                # stomp.py's transport.stop() leaves the socket open when CONNECTED never
                # came; a leaked socket could later hold our client-id on the broker.
                conn.transport.disconnect_socket()
                conn.transport.stop()
            except Exception as exc:
                log.debug("%s: error while closing the socket: %s", self._name, exc)
        if was_connected:
            self._notify(False)

    def _lost(self, generation: int, why: str) -> None:
        with self._lock:
            if generation != self._generation or self._closing.is_set():
                return
        log.warning("%s: connection lost (%s); reconnecting", self._name, why)
        self._drop_connection(graceful=False)
        self._wake.set()

    def _notify(self, up: bool) -> None:
        for callback in list(self._callbacks):
            try:
                callback(up)
            except Exception:
                log.exception("%s: state callback failed", self._name)

    def _receipt(self, receipt_id: str) -> None:
        callback = self._receipts.pop(receipt_id, None)
        if callback is not None:
            self._tell(callback, True)

    def _refused(self, receipt_id: str, error: MqError) -> None:
        """The broker answered the frame that wanted ``receipt_id`` with an ERROR."""
        callback = self._receipts.pop(receipt_id, None)
        if isinstance(callback, _ReceiptWaiter):
            callback.error = error
        if callback is not None:
            self._tell(callback, False)

    def _fail_receipts(self) -> None:
        waiting, self._receipts = self._receipts, {}
        for callback in waiting.values():
            self._tell(callback, False)  # a waiting sender raises MqError at once

    def _tell(self, callback: ReceiptCallback, delivered: bool) -> None:
        try:
            callback(delivered)
        except Exception:
            # Never let an exception reach stomp.py: it would kill the connection.
            log.exception("%s: receipt callback failed", self._name)

    def _dispatch(self, frame: Any, generation: int) -> None:
        try:
            headers = dict(frame.headers)
            body = frame.body if isinstance(frame.body, bytes) else str(frame.body).encode()
            sub_id = headers.get("subscription", "")
            with self._lock:
                sub = self._subs.get(sub_id)
            message = Message(
                destination=headers.get("destination", ""),
                body=body,
                headers=headers,
                subscription=sub_id,
                ack_id=(headers.get("ack") or headers.get("message-id"))
                if sub and sub.ack != "auto"
                else None,
                generation=generation,
            )
            if sub is None:
                log.debug("message for unknown subscription %s dropped", sub_id)
                return
            sub.handler(message)
        except Exception:
            # Never let an exception reach stomp.py: it would kill the connection.
            log.exception("%s: message handler failed", self._name)


def mq_client_from_settings(
    settings: MqSettings,
    *,
    name: str,
    client_id: str | None = None,
    heartbeat_ms: int | None = None,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> MqClient:
    """The one way both programs (and ``edge-agent doctor``) build their client from
    an ``[mq]`` section: URL, user, password (already looked up by
    :func:`shared.config.load`), heart-beats, vhost and reconnect backoff.

    ``name`` names the client's threads and log lines; ``client_id`` is the STOMP
    ``client-id`` (ActiveMQ refuses a second connection with the same one, so only
    the long-running agent sets it). ``heartbeat_ms`` and ``connect_timeout``
    override the settings for a short-lived probe. Raises ``ConfigError`` for a bad URL.
    """
    return MqClient(
        settings.url,
        user=settings.user or None,
        password=settings.password.reveal() or None,
        client_id=client_id,
        heartbeat_ms=settings.heartbeat_ms if heartbeat_ms is None else heartbeat_ms,
        backoff_max=settings.reconnect_max_seconds,
        connect_timeout=connect_timeout,
        vhost=settings.vhost or None,
        name=name,
        tls=settings.tls,
    )
