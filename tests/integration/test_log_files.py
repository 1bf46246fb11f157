"""The programs' log files (shared.logs) as a process writes them: ``edge-agent run``
logs to stderr and to ``$KDS_LOG_DIR/edge-agent.log``, masked; an unwritable folder is
one warning and stderr only."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "log-file-token-52ac-never-in-files"


def run_agent(tmp_path: Path, log_dir: str) -> subprocess.CompletedProcess[str]:
    """``edge-agent run`` on a version-0 file (logged as migrated) whose database cannot
    be opened (a folder where the file should be): it logs, then stops with exit 2."""
    config = tmp_path / "agent.toml"
    (tmp_path / "db-is-a-folder").mkdir()
    config.write_text(
        f'site_id = "ams-01"\n[core]\nurl = "http://127.0.0.1:9"\n'
        f'[store]\npath = "{tmp_path / "db-is-a-folder"}"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env.update(KDS_CORE_TOKEN=TOKEN, KDS_LOG_DIR=log_dir)
    return subprocess.run(
        [sys.executable, "-m", "edge_agent", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def test_the_agent_logs_to_stderr_and_its_file(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    result = run_agent(tmp_path, str(logs))
    assert result.returncode == 2
    assert "cannot open the database" in result.stderr
    text = (logs / "edge-agent.log").read_text()
    assert "migrated in memory to 1" in text and "migrated in memory to 1" in result.stderr
    assert TOKEN not in text + result.stderr
    assert (logs.stat().st_mode & 0o777) == 0o700


def test_an_unwritable_log_folder_is_one_warning_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_agent(tmp_path, str(blocker / "logs"))
    assert result.returncode == 2  # the database's error, as without log files
    assert result.stderr.count("cannot write log files in") == 1
    assert "logging to stderr only" in result.stderr
    assert "Traceback" not in result.stderr
    assert "migrated in memory to 1" in result.stderr
