"""Shared pytest configuration and fixtures for ghost-kds.

Sections are delimited by ``# ====`` banners; add new fixtures in their own
section rather than inside an existing one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.activemq import ActiveMQ

# Qt must never try to open a real display in tests.  Qt reads this when the
# QApplication is created (pytest-qt's qapp fixture), i.e. after this import.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The programs' log files (shared.logs) go to a folder of the test run's own, not to
# the machine's log folder; a test that wants them elsewhere sets KDS_LOG_DIR itself.
if "KDS_LOG_DIR" not in os.environ:
    import tempfile

    os.environ["KDS_LOG_DIR"] = tempfile.mkdtemp(prefix="kds-test-logs-")

# =============================================================================
# Broker fixtures (real ActiveMQ)
#
#   activemq_url     session  STOMP URL of the shared broker.  If the env var
#                             KDS_TEST_MQ_URL is set (scripts/test sets it) that
#                             broker is used; otherwise one is started in a tmp
#                             dir for the session and stopped at the end.
#   activemq_broker  function The ActiveMQ object itself, for tests that stop /
#                             restart the broker.  Use ``activemq_broker.url``.
#                             When the session broker was started here it is
#                             that broker; when it is external (KDS_TEST_MQ_URL)
#                             a separate broker is started for this purpose, so
#                             restarts never disturb the shared one.  After each
#                             test it is started again if the test left it down.
#
# Tests use unique destination names (e.g. with uuid4) because the shared
# broker keeps state between tests.
# =============================================================================


class _Brokers:
    """Brokers started by these fixtures, lazily, at most one per name."""

    def __init__(self, base: Path) -> None:
        self._base = base
        self._brokers: dict[str, ActiveMQ] = {}

    def get(self, name: str) -> ActiveMQ:
        broker = self._brokers.get(name)
        if broker is None:
            broker = ActiveMQ(self._base / name, broker_name=f"kds-test-{name}")
            self._brokers[name] = broker
        if not broker.running:
            broker.start()
        return broker

    def stop_all(self) -> None:
        for broker in self._brokers.values():
            broker.stop()


@pytest.fixture(scope="session")
def _kds_brokers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Brokers]:
    brokers = _Brokers(tmp_path_factory.mktemp("activemq"))
    try:
        yield brokers
    finally:
        brokers.stop_all()


@pytest.fixture(scope="session")
def activemq_url(_kds_brokers: _Brokers) -> str:
    external = os.environ.get("KDS_TEST_MQ_URL")
    if external:
        return external
    return _kds_brokers.get("session").url


@pytest.fixture
def activemq_broker(_kds_brokers: _Brokers) -> Iterator[ActiveMQ]:
    name = "restartable" if os.environ.get("KDS_TEST_MQ_URL") else "session"
    broker = _kds_brokers.get(name)
    yield broker
    if not broker.running:
        broker.start()


# =============================================================================
# Keyring
#
#   test_keyring     function A keyrings.alt PlaintextKeyring in a tmp file,
#                             installed as the process-wide keyring backend for
#                             the test, then the previous backend is restored.
#                             PYTHON_KEYRING_BACKEND and XDG_DATA_HOME are set
#                             too, so a subprocess started by the test uses the
#                             same file (keyrings.alt stores it at
#                             $XDG_DATA_HOME/python_keyring/keyring_pass.cfg).
# =============================================================================


@pytest.fixture
def test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    import keyring
    import keyring.core
    from keyrings.alt.file import PlaintextKeyring

    data_home = tmp_path / "xdg-data"
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(data_home))
    backend = PlaintextKeyring()
    backend.file_path = str(data_home / "python_keyring" / "keyring_pass.cfg")
    previous = keyring.core._keyring_backend  # None until something asked for a backend
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.core._keyring_backend = previous


# =============================================================================
# No keyring backend
#
#   no_keyring       function keyring's ``fail`` backend (what keyring picks on a
#                             headless box with no Secret Service: every call
#                             raises), installed for the test, then the previous
#                             backend is restored.
# =============================================================================


@pytest.fixture
def no_keyring() -> Iterator[object]:
    import keyring
    import keyring.core
    from keyring.backends import fail

    backend_type: Any = fail.Keyring  # keyring has no type hints
    backend = backend_type()
    previous = keyring.core._keyring_backend
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.core._keyring_backend = previous


# =============================================================================
# Secrets masked in logs (shared.redact)
#
#   _no_redaction    function (autouse) a test that runs a program's main() in
#                             this process installs its redaction of every log
#                             record; it is undone after the test, and the
#                             secrets remembered are forgotten, so no other
#                             test's log has a value masked that it expects to
#                             read ("wrong" as one test's placeholder secret).
# =============================================================================


@pytest.fixture(autouse=True)
def _no_redaction() -> Iterator[None]:
    from shared import redact

    yield
    redact.uninstall()
    redact.forget_all()


# =============================================================================
# Local state
#
#   display_state    function (autouse) XDG_STATE_HOME is a fresh folder of the
#                             test's, so a display (in-process or a process the
#                             test starts) keeps its unanswered commands there, never
#                             in the user's ~/.local/state, and no test sees
#                             another's. Yields the folder.
# =============================================================================


@pytest.fixture(autouse=True)
def display_state(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    state = tmp_path_factory.mktemp("xdg-state")
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    return state


# =============================================================================
# Whole-site fixtures (core simulator + edge agent): see tests/helpers/fixtures.py
#
#   site_id, core_sim, site
# =============================================================================

from tests.helpers.fixtures import core_sim, site, site_id  # noqa: E402, F401
from tests.helpers.kafka_broker import kafka_broker  # noqa: E402, F401

# =============================================================================
# Peers of the kitchen's connections (issue 3): moto's SNS server
#
#   moto_sns         function The session's moto server, reset for each test
# =============================================================================
from tests.helpers.moto_server import moto_sns  # noqa: E402, F401
