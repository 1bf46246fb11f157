"""shared.logs: stderr plus a rotating file in the platform's log folder, masked."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared import logs, redact
from shared.config import Secret

SECRET = "log-secret-4f1c-never-in-a-file"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs.QUIET_LOGGERS}
    redact.install()
    yield
    for name, old in quiet.items():  # setup() quiets them; other tests want them as they were
        logging.getLogger(name).setLevel(old)
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    redact.uninstall()
    redact.forget_all()


def test_the_folder_kds_log_dir_then_systemd_then_the_platform() -> None:
    assert logs.log_dir({"KDS_LOG_DIR": "/a", "LOGS_DIRECTORY": "/b"}) == Path("/a")
    assert logs.log_dir({"LOGS_DIRECTORY": "/var/log/ghost-kds:/other"}) == Path(
        "/var/log/ghost-kds"
    )
    assert "ghost-kds" in str(logs.log_dir({}))


def test_lines_go_to_stderr_and_the_file_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # not the machine's /var/log/ghost-kds: a machine with the .deb installed has one
    # (seen: a CI run's install test beside another run's unit tests)
    monkeypatch.setattr(logs, "SYSTEM_LOG_DIR", tmp_path / "service")
    stream = io.StringIO()
    path = logs.setup("edge-agent", "debug", stream=stream, env={"KDS_LOG_DIR": str(tmp_path)})
    assert path == tmp_path / "edge-agent.log"
    Secret(SECRET)
    logging.getLogger("edge.test").info("token is %s", SECRET)
    logging.getLogger("edge.test").debug("details")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert "token is ********" in text and "details" in text
    assert SECRET not in text and SECRET not in stream.getvalue()
    assert "token is ********" in stream.getvalue()
    assert logs.log_files("edge-agent", {"KDS_LOG_DIR": str(tmp_path)}) == [path]


def test_the_file_rotates_keeping_five(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    logs.setup("edge-agent", "INFO", stream=io.StringIO(), env={"KDS_LOG_DIR": str(tmp_path)})
    for i in range(400):
        logging.getLogger("edge.test").info("line %d %s", i, "x" * 50)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["edge-agent.log", *(f"edge-agent.log.{n}" for n in range(1, 5))]
    assert all(p.stat().st_size <= 2100 for p in tmp_path.iterdir())


def test_a_folder_that_cannot_be_written_warns_once_and_logs_to_stderr(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    stream = io.StringIO()
    path = logs.setup(
        "edge-agent", "INFO", stream=stream, env={"KDS_LOG_DIR": str(blocker / "logs")}
    )
    assert path is None
    logging.getLogger("edge.test").info("still logging")
    out = stream.getvalue()
    assert out.count("cannot write log files in") == 1
    assert "KDS_LOG_DIR" in out and "still logging" in out


def test_a_second_setup_replaces_its_own_handlers(tmp_path: Path) -> None:
    env = {"KDS_LOG_DIR": str(tmp_path)}
    before = len(logging.getLogger().handlers)
    logs.setup("edge-agent", "INFO", stream=io.StringIO(), env=env)
    logs.setup("edge-agent", "INFO", stream=io.StringIO(), env=env)
    assert len(logging.getLogger().handlers) == before + 2


def test_the_console_handler_follows_a_replaced_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stderr swapped after setup (a test's capture, closed afterwards) is never
    written to once it is gone: records go to the stderr of the moment."""
    first = io.StringIO()
    monkeypatch.setattr(sys, "stderr", first)
    logs.setup("edge-agent", "INFO", env={"KDS_LOG_DIR": str(tmp_path)})
    first.close()
    second = io.StringIO()
    monkeypatch.setattr(sys, "stderr", second)
    logging.getLogger("kds.test").warning("after the swap")
    assert "after the swap" in second.getvalue()


def test_a_secret_remembered_after_the_record_was_made_is_masked_in_both(
    tmp_path: Path,
) -> None:
    """The record factory masks a record once; a value remembered after that (before
    the handlers see it) is still masked by each handler, the formatted line too."""
    stream = io.StringIO()
    path = logs.setup("edge-agent", "INFO", stream=stream, env={"KDS_LOG_DIR": str(tmp_path)})
    assert path is not None
    record = logging.getLogger("edge.test").makeRecord(
        "edge.test", logging.INFO, __file__, 1, "late %s", (SECRET,), None
    )
    Secret(SECRET)  # remembered only now
    logging.getLogger("edge.test").handle(record)
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "late ********" in stream.getvalue() and "late ********" in path.read_text()
    assert SECRET not in stream.getvalue() + path.read_text()


def test_each_record_is_formatted_once_for_the_console_and_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    path = logs.setup("edge-agent", "INFO", stream=stream, env={"KDS_LOG_DIR": str(tmp_path)})
    assert path is not None
    calls: list[str] = []
    format_time = logging.Formatter.formatTime

    def counted(
        self: logging.Formatter, record: logging.LogRecord, datefmt: str | None = None
    ) -> str:
        calls.append(record.getMessage())
        return format_time(self, record, datefmt)

    monkeypatch.setattr(logging.Formatter, "formatTime", counted)
    for i in range(10):
        logging.getLogger("edge.test").info("order %d accepted", i)
    assert len(calls) == 10
    lines = stream.getvalue().splitlines()
    assert [line for line in path.read_text().splitlines() if "accepted" in line] == lines


def test_a_file_found_at_start_counts_toward_its_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The size is known from what was written, starting from the file as found: an
    agent restarted beside a nearly full file rotates it when the next lines would not
    fit, and every file stays within the limit."""
    monkeypatch.setattr(logs, "MAX_BYTES", 2000)
    (tmp_path / "edge-agent.log").write_text("x" * 1900 + "\n")
    logs.setup("edge-agent", "INFO", stream=io.StringIO(), env={"KDS_LOG_DIR": str(tmp_path)})
    for i in range(3):
        logging.getLogger("edge.test").info("line %d %s", i, "y" * 50)
    assert (tmp_path / "edge-agent.log.1").read_text() == "x" * 1900 + "\n"
    assert (tmp_path / "edge-agent.log").read_text().count("line ") == 3
    for i in range(200):
        logging.getLogger("edge.test").info("line %d %s", i, "é" * 50)  # 2 bytes each
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert all(p.stat().st_size <= 2000 for p in tmp_path.iterdir())
