"""A real Apache ActiveMQ 5 broker (Debian's ``activemq`` package) for tests.

Library use::

    with ActiveMQ(tmp_path / "mq") as broker:      # picks a free STOMP port
        connect_to(broker.url)                     # stomp://127.0.0.1:PORT
        broker.restart()                           # same port, messages kept
    ActiveMQ(dir, users={"kds": "pw"})             # refuses any other login

    fleet = Fleet.parse(["ams-01:grill-1"])        # edge_agent.broker_acl
    passwords = fleet.passwords()
    with ActiveMQ(tmp_path / "mq", auth=fleet.broker_auth(passwords)) as broker:
        ...  # JAAS logins and the fleet's authorization map, JMSXUserID filled in

CLI use (this is what ``scripts/test`` does)::

    python -m tests.helpers.activemq start --dir .run/activemq [--port 61613]
    python -m tests.helpers.activemq stop  --dir .run/activemq

``start`` prints the URL, writes ``DIR/activemq.pid`` and ``DIR/url`` and
returns once the broker answers a STOMP CONNECT; the broker keeps running.

The broker is started straight from ``activemq.jar`` (Debian's service
wrapper switches user and can hang when conf/data live elsewhere).  Its
configuration is written into ``WORKDIR/conf``, KahaDB data goes to
``WORKDIR/data`` and the JVM's output to ``WORKDIR/activemq.log``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from xml.sax.saxutils import quoteattr

from edge_agent.broker_acl import JMSX_ATTRIBUTES, BrokerAuth
from tests.helpers.net import free_port, port_in_use

DEFAULT_ACTIVEMQ_HOME = Path(os.environ.get("KDS_ACTIVEMQ_HOME", "/usr/share/activemq"))
APT_HINT = "apt-get install -y activemq"
JAVA_APT_HINT = "apt-get install -y default-jre-headless"

_ACTIVEMQ_XML = """\
<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by tests/helpers/activemq.py: a throwaway broker for tests. -->
<beans xmlns="http://www.springframework.org/schema/beans"
       xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
       xsi:schemaLocation="http://www.springframework.org/schema/beans
         http://www.springframework.org/schema/beans/spring-beans-2.0.xsd
         http://activemq.apache.org/schema/core
         http://activemq.apache.org/schema/core/activemq-core.xsd">
  <broker xmlns="http://activemq.apache.org/schema/core"
          brokerName={broker_name}
          dataDirectory={data_dir}
          persistent="true"
          useJmx="false"
          schedulerSupport="false"
          advisorySupport="true"
          useShutdownHook="true"{broker_attributes}>
    <destinationPolicy>
      <policyMap>
        <policyEntries>
          <!-- Poison messages of every queue and topic go to the shared ActiveMQ.DLQ. -->
          <policyEntry queue="&gt;">
            <deadLetterStrategy>
              <sharedDeadLetterStrategy processExpired="true">
                <deadLetterQueue><queue physicalName="ActiveMQ.DLQ"/></deadLetterQueue>
              </sharedDeadLetterStrategy>
            </deadLetterStrategy>
          </policyEntry>
          <policyEntry topic="&gt;">
            <deadLetterStrategy>
              <sharedDeadLetterStrategy processExpired="true">
                <deadLetterQueue><queue physicalName="ActiveMQ.DLQ"/></deadLetterQueue>
              </sharedDeadLetterStrategy>
            </deadLetterStrategy>
          </policyEntry>
        </policyEntries>
      </policyMap>
    </destinationPolicy>
    <persistenceAdapter>
      <kahaDB directory={kahadb_dir}/>
    </persistenceAdapter>
{plugins}    <systemUsage>
      <systemUsage>
        <memoryUsage><memoryUsage limit="64 mb"/></memoryUsage>
        <storeUsage><storeUsage limit="1 gb"/></storeUsage>
        <tempUsage><tempUsage limit="512 mb"/></tempUsage>
      </systemUsage>
    </systemUsage>
{plugins}{ssl_context}    <transportConnectors>
{ssl_connectors}      <transportConnector name="stomp" uri={stomp_uri}/>
    </transportConnectors>
  </broker>
</beans>
"""

# Debian's ActiveMQ logs through log4j 1.2 (slf4j-log4j12): everything to
# stdout, which start() sends to WORKDIR/activemq.log.
_LOG4J_PROPERTIES = """\
log4j.rootLogger=INFO, stdout
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=%d{ISO8601} | %-5p | %m | %c | %t%n
"""


def stomp_handshake(
    host: str,
    port: int,
    timeout: float = 2.0,
    *,
    refused_is_up: bool = False,
    login: tuple[str, str] | None = None,
) -> bool:
    """True when ``host:port`` answers a STOMP 1.2 CONNECT with CONNECTED (``login``:
    the user and password a broker with users wants; with ``refused_is_up``, also the
    ERROR of a broker that wants a login)."""
    credentials = f"login:{login[0]}\npasscode:{login[1]}\n".encode() if login else b""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"CONNECT\naccept-version:1.2\nhost:localhost\n" + credentials + b"\n\x00")
            data = b""
            while b"\x00" not in data:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
            answer = data.lstrip(b"\r\n")
            if refused_is_up and answer.startswith(b"ERROR"):
                return True
            ok = answer.startswith(b"CONNECTED")
            if ok:
                # Leave politely so the broker does not log a broken connection.
                with contextlib.suppress(OSError):
                    sock.sendall(b"DISCONNECT\n\n\x00")
            return ok
    except OSError:
        return False


@dataclass(frozen=True)
class SslConnector:
    """Optional STOMP-over-TLS connectors (``stomp+ssl://127.0.0.1:PORT``).

    ``keystore``: PKCS12 with the broker's certificate and key (tests/helpers/tls.py);
    ``truststore``: PKCS12 with the CA whose client certificates the broker accepts,
    needed for ``client_auth_port`` (a second connector with ``needClientAuth=true``).
    """

    keystore: Path
    password: str
    port: int = 0
    truststore: Path | None = None
    client_auth_port: int = 0


def _ssl_xml(ssl: SslConnector | None, port: int, client_auth_port: int) -> tuple[str, str]:
    if ssl is None:
        return "", ""
    trust = ""
    if ssl.truststore is not None:
        trust = (
            f" trustStore={quoteattr(f'file:{ssl.truststore}')}"
            f' trustStorePassword={quoteattr(ssl.password)} trustStoreType="pkcs12"'
        )
    context = (
        "    <sslContext>\n"
        f"      <sslContext keyStore={quoteattr(f'file:{ssl.keystore}')}"
        f' keyStorePassword={quoteattr(ssl.password)} keyStoreType="pkcs12"{trust}/>\n'
        "    </sslContext>\n"
    )
    uri = f"stomp+ssl://127.0.0.1:{port}?transport.tcpNoDelay=true"
    connectors = f'      <transportConnector name="stomp-ssl" uri={quoteattr(uri)}/>\n'
    if client_auth_port:
        uri = f"stomp+ssl://127.0.0.1:{client_auth_port}?needClientAuth=true"
        connectors += f'      <transportConnector name="stomp-ssl-auth" uri={quoteattr(uri)}/>\n'
    return context, connectors


def _users_xml(users: Mapping[str, str]) -> str:
    """ActiveMQ's simple authentication: only these users (name -> password) connect."""
    if not users:
        return ""
    lines = "".join(
        f"          <authenticationUser username={quoteattr(name)}"
        f' password={quoteattr(password)} groups="users,admins"/>\n'
        for name, password in users.items()
    )
    return (
        "    <plugins>\n"
        '      <simpleAuthenticationPlugin anonymousAccessAllowed="false">\n'
        f"        <users>\n{lines}        </users>\n"
        "      </simpleAuthenticationPlugin>\n"
        "    </plugins>\n"
    )


def _pid_alive(pid: int) -> bool:
    """True when ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def _is_activemq(pid: int) -> bool:
    try:
        return b"activemq.jar" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


class ActiveMQ:
    """One ActiveMQ broker process with STOMP on ``127.0.0.1:stomp_port``."""

    def __init__(
        self,
        workdir: Path,
        stomp_port: int = 0,
        *,
        broker_name: str = "kds-test",
        activemq_home: Path = DEFAULT_ACTIVEMQ_HOME,
        max_heap: str = "256M",
        ssl: SslConnector | None = None,
        auth: BrokerAuth | None = None,
        users: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir).absolute()
        self.stomp_port = stomp_port or free_port()
        self.broker_name = broker_name
        self.activemq_home = Path(activemq_home)
        self.max_heap = max_heap
        self.ssl = ssl
        #: JAAS users/groups and the authorization map (``edge-agent broker-acl``); None:
        #: no authentication at all (anyone may do anything), as before
        self.auth = auth
        #: or simply: user name -> password, a broker that refuses everyone else
        self.users = dict(users or {})
        if auth is not None and users:
            raise ValueError("auth= or users=, not both")
        self.ssl_port = (ssl.port or free_port()) if ssl else 0
        self.client_auth_port = 0
        if ssl is not None and ssl.truststore is not None:
            self.client_auth_port = ssl.client_auth_port or free_port()
        self.startup_seconds: float | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    # -- paths -------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"stomp://127.0.0.1:{self.stomp_port}"

    @property
    def ssl_url(self) -> str:
        """The TLS connector's URL (only with ``ssl``)."""
        return f"stomp+ssl://127.0.0.1:{self.ssl_port}"

    @property
    def client_auth_url(self) -> str:
        """The TLS connector that wants a client certificate (``ssl`` with a truststore)."""
        return f"stomp+ssl://127.0.0.1:{self.client_auth_port}"

    @property
    def conf_dir(self) -> Path:
        return self.workdir / "conf"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def log_path(self) -> Path:
        return self.workdir / "activemq.log"

    @property
    def jar(self) -> Path:
        return self.activemq_home / "bin" / "activemq.jar"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # -- lifecycle ---------------------------------------------------------
    def check_installed(self) -> str:
        """Return the java executable, or raise RuntimeError saying what to install."""
        java = shutil.which("java")
        if java is None:
            raise RuntimeError(
                f"java not found on PATH; the ActiveMQ test broker needs it: {JAVA_APT_HINT}"
            )
        if not self.jar.is_file():
            raise RuntimeError(
                f"ActiveMQ is not installed ({self.jar} missing); the tests need the real "
                f"broker: {APT_HINT}"
            )
        return java

    def write_conf(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        stomp_uri = (
            f"stomp://127.0.0.1:{self.stomp_port}"
            "?transport.hbGracePeriodMultiplier=1.5&transport.tcpNoDelay=true"
        )
        ssl_context, ssl_connectors = _ssl_xml(self.ssl, self.ssl_port, self.client_auth_port)
        xml = _ACTIVEMQ_XML.format(
            ssl_context=ssl_context,
            ssl_connectors=ssl_connectors,
            broker_name=quoteattr(self.broker_name),
            data_dir=quoteattr(str(self.data_dir)),
            kahadb_dir=quoteattr(str(self.data_dir / "kahadb")),
            stomp_uri=quoteattr(stomp_uri),
            plugins=self.auth.plugins_xml if self.auth else _users_xml(self.users),
            broker_attributes=f"\n          {JMSX_ATTRIBUTES}" if self.auth else "",
        )
        if self.auth is not None:
            for name, text in (
                ("users.properties", self.auth.users_properties),
                ("groups.properties", self.auth.groups_properties),
                ("login.config", self.auth.login_config),
            ):
                path = self.conf_dir / name
                path.write_text(text)
                path.chmod(0o600)
        (self.conf_dir / "activemq.xml").write_text(xml)
        (self.conf_dir / "log4j.properties").write_text(_LOG4J_PROPERTIES)

    def command(self, java: str = "java") -> list[str]:
        conf, data = self.conf_dir, self.data_dir
        return [
            java,
            f"-Xmx{self.max_heap}",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dactivemq.home={self.activemq_home}",
            f"-Dactivemq.base={self.workdir}",
            f"-Dactivemq.conf={conf}",
            f"-Dactivemq.data={data}",
            f"-Dlog4j.configuration=file:{conf / 'log4j.properties'}",
            *([f"-Djava.security.auth.login.config={conf / 'login.config'}"] if self.auth else []),
            "-jar",
            str(self.jar),
            "start",
            f"xbean:file:{conf / 'activemq.xml'}",
        ]

    def start(self, timeout: float = 60) -> None:
        """Start the broker and return once STOMP answers CONNECT with CONNECTED."""
        if self.running:
            return
        java = self.check_installed()
        if port_in_use(self.stomp_port):
            raise RuntimeError(
                f"port {self.stomp_port} is already in use on 127.0.0.1; "
                "is another broker still running?"
            )
        self.write_conf()
        began = time.monotonic()
        with self.log_path.open("ab") as log:
            log.write(f"\n==== starting broker on {self.url} ====\n".encode())
            log.flush()
            self._proc = subprocess.Popen(
                self.command(java),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group: stop() kills it whole
            )
        try:
            self._wait_ready(began + timeout, timeout)
        except BaseException:  # timeout, early exit, Ctrl-C: never leak a JVM
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began

    def _wait_ready(self, deadline: float, timeout: float) -> None:
        assert self._proc is not None
        while True:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._proc = None
                raise RuntimeError(
                    f"ActiveMQ exited with status {code} during startup; "
                    f"tail of {self.log_path}:\n{self.log_tail()}"
                )
            # the TLS connectors are listed first: the plain one answering means they listen
            login = next(iter(self.users.items()), None)
            up = stomp_handshake(
                "127.0.0.1",
                self.stomp_port,
                timeout=1.0,
                refused_is_up=self.auth is not None,
                login=login,
            )
            if up and all(
                port_in_use(port) for port in (self.ssl_port, self.client_auth_port) if port
            ):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"ActiveMQ did not answer STOMP on {self.url} within {timeout:g}s; "
                    f"tail of {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the broker's process group; SIGKILL it after ``timeout`` seconds."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _kill_group(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        _kill_group(proc.pid, signal.SIGKILL)  # stray children, if any

    def restart(self, timeout: float = 60) -> None:
        """Stop and start again on the same port; persisted messages survive."""
        self.stop()
        self.start(timeout=timeout)

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> ActiveMQ:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"ActiveMQ({self.url}, workdir={self.workdir}, running={self.running})"


# -- CLI ---------------------------------------------------------------------


def stop_pid(pid: int, timeout: float = 30) -> None:
    """Stop a broker started by another process (the CLI's ``start``)."""
    if not (_pid_alive(pid) and _is_activemq(pid)):
        return
    _kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    _kill_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


def _cli_start(args: argparse.Namespace) -> int:
    workdir = Path(args.dir).absolute()
    workdir.mkdir(parents=True, exist_ok=True)
    pid_file = workdir / "activemq.pid"
    if pid_file.exists():
        old = int(pid_file.read_text().strip() or 0)
        if old and _pid_alive(old) and _is_activemq(old):
            print(f"stopping leftover broker (pid {old}) in {workdir}", file=sys.stderr)
            stop_pid(old)
        pid_file.unlink()
    if not args.keep_data:
        shutil.rmtree(workdir / "data", ignore_errors=True)
    broker = ActiveMQ(workdir, args.port)
    try:
        broker.start(timeout=args.timeout)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pid_file.write_text(f"{broker.pid}\n")
    (workdir / "url").write_text(broker.url + "\n")
    print(
        f"ActiveMQ ready on {broker.url} in {broker.startup_seconds:.1f}s "
        f"(pid {broker.pid}, log {broker.log_path})",
        file=sys.stderr,
    )
    print(broker.url, flush=True)
    # The broker outlives this process on purpose; forget it without a warning.
    broker._proc = None
    return 0


def _cli_stop(args: argparse.Namespace) -> int:
    pid_file = Path(args.dir).absolute() / "activemq.pid"
    if not pid_file.exists():
        print(f"no broker running from {args.dir}", file=sys.stderr)
        return 0
    pid = int(pid_file.read_text().strip() or 0)
    if pid:
        stop_pid(pid, timeout=args.timeout)
    pid_file.unlink(missing_ok=True)
    if pid and _pid_alive(pid):
        print(f"error: broker pid {pid} is still alive", file=sys.stderr)
        return 1
    print(f"ActiveMQ stopped (pid {pid})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.helpers.activemq", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    start = sub.add_parser("start", help="start a broker, print its URL, return when ready")
    start.add_argument("--dir", required=True, help="work dir (conf, data, log, pid file)")
    start.add_argument("--port", type=int, default=0, help="STOMP port (default: a free one)")
    start.add_argument("--timeout", type=float, default=60)
    start.add_argument("--keep-data", action="store_true", help="keep KahaDB data of a last run")
    stop = sub.add_parser("stop", help="stop the broker started from --dir")
    stop.add_argument("--dir", required=True)
    stop.add_argument("--timeout", type=float, default=30)
    args = parser.parse_args(argv)
    return _cli_start(args) if args.cmd == "start" else _cli_stop(args)


if __name__ == "__main__":
    sys.exit(main())
