"""The programs' command lines, run as a site admin would run them (real processes)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.config import AgentConfig
from kitchen_display.config import DisplayConfig
from kitchen_display.lead_pin import parse_stored, verify_pin
from shared.config import load

ROOT = Path(__file__).resolve().parents[2]
SECRET = "s3cr3t-token-value"


def _run(
    *argv: str, env: dict[str, str] | None = None, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=ROOT,
        env={**base, **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("toml", "env", "key"),
    [
        ("", {}, "site_id"),
        ('site_id = "a"\n[store]\npath = "/tmp/x.db"\n', {}, "core"),
        (
            'site_id = "a"\n[core]\nurl = "ftp://core"\n[store]\npath = "/tmp/x.db"\n',
            {"KDS_CORE_TOKEN": "t"},
            "core.url",
        ),
        (
            'site_id = "a"\n[core]\nurl = "https://core"\ntoken = "in-file"\n'
            '[store]\npath = "/tmp/x.db"\n',
            {},
            "core.token",
        ),
        (
            'site_id = "a"\n[core]\nurl = "https://core"\n[store]\npath = "/tmp/x.db"\n'
            "[mq]\nhearbeat_ms = 5\n",
            {"KDS_CORE_TOKEN": "t"},
            "mq.hearbeat_ms",
        ),
        (
            'site_id = "a"\n[core]\nurl = "https://core"\n[store]\npath = "/tmp/x.db"\n',
            {"KDS_CORE_TOKEN": "t", "KDS_MQ_HEARTBEAT_MS": "often"},
            "mq.heartbeat_ms",
        ),
        ("site_id = [", {}, "--config"),
    ],
)
def test_agent_bad_config_stops_with_one_line_naming_the_key(
    tmp_path: Path, toml: str, env: dict[str, str], key: str
) -> None:
    config = tmp_path / "agent.toml"
    config.write_text(toml)
    result = _run("edge_agent", "run", "--config", str(config), env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"edge-agent: config error: {key}")
    assert "in-file" not in result.stderr


def test_display_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "display.toml"
    config.write_text(
        'site_id = "a"\ndisplay_id = "g1"\nstation = "grill"\n[display]\nfont_scale = 9\n'
    )
    result = _run("kitchen_display", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "kitchen-display: config error: display.font_scale: must be 0.5..4.0"
    ]


def test_set_secret_stores_in_keyring_and_never_prints_it(
    test_keyring: object, tmp_path: Path
) -> None:
    env = {
        "PYTHON_KEYRING_BACKEND": os.environ["PYTHON_KEYRING_BACKEND"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
    }
    result = _run("edge_agent", "set-secret", "core.token", env=env, stdin=SECRET + "\n")
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    # the agent's config now finds the token in the keyring, and hides it
    config_file = tmp_path / "agent.toml"
    config_file.write_text(
        'site_id = "a"\n[core]\nurl = "https://core"\n[store]\npath = "/tmp/x.db"\n'
    )
    config = load(AgentConfig, config_file, env={})
    assert config.core.token.reveal() == SECRET
    assert SECRET not in repr(config)


def test_display_set_pin_asks_twice_and_stores_only_a_hash(
    test_keyring: object, tmp_path: Path
) -> None:
    env = {
        "PYTHON_KEYRING_BACKEND": os.environ["PYTHON_KEYRING_BACKEND"],
        "XDG_DATA_HOME": os.environ["XDG_DATA_HOME"],
    }
    refused = _run("kitchen_display", "set-pin", env=env, stdin="2468\n2468\n")
    assert refused.returncode == 2
    assert refused.stderr == (
        "kitchen-display set-pin: a lead PIN is 6 to 32 digits (0-9 only); nothing stored\n"
    )
    result = _run("kitchen_display", "set-pin", env=env, stdin="246813\n246813\n")
    assert result.returncode == 0, result.stderr
    assert "246813" not in result.stdout + result.stderr
    config_file = tmp_path / "display.toml"
    config_file.write_text('site_id = "a"\ndisplay_id = "g1"\nstation = "grill"\n')
    stored = load(DisplayConfig, config_file, env={}).display.lead_pin.reveal()
    assert stored.startswith("scrypt$") and "246813" not in stored
    assert verify_pin(parse_stored(stored), "246813")


def test_set_secret_refuses_unknown_names() -> None:
    result = _run("edge_agent", "set-secret", "core.url", stdin="x\n")
    assert result.returncode == 2
    assert "core.url" in result.stderr


def test_set_secret_sends_the_lead_pin_to_the_display_command() -> None:
    result = _run("edge_agent", "set-secret", "display.lead_pin", stdin="123456\n")
    assert result.returncode != 0
    assert "kitchen-display set-pin" in result.stderr
    assert "123456" not in result.stdout + result.stderr


def test_example_configs_in_packaging_are_valid() -> None:
    agent = load(
        AgentConfig,
        ROOT / "packaging/config/agent.example.toml",
        env={"KDS_CORE_TOKEN": "t"},
        secrets=None,
    )
    assert agent.mq.url.startswith("stomp+ssl://")
    display = load(
        DisplayConfig, ROOT / "packaging/config/display.example.toml", env={}, secrets=None
    )
    assert display.station == "grill"


def test_a_database_the_agent_creates_is_its_own_only(tmp_path: Path) -> None:
    """Whatever the umask it is started with (here 022: files 0644), the agent makes the
    database (customer names and phones) 0600 and its folder 0700."""
    config = tmp_path / "agent.toml"
    db = tmp_path / "state" / "edge.sqlite3"
    config.write_text(f'site_id = "a"\n[core]\nurl = "https://core"\n[store]\npath = "{db}"\n')
    base = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    result = subprocess.run(
        [sys.executable, "-m", "edge_agent", "outbox", "--config", str(config)],
        cwd=ROOT,
        env={**base, "KDS_CORE_TOKEN": "t"},
        capture_output=True,
        text=True,
        timeout=60,
        umask=0o022,
    )
    assert result.returncode == 0, result.stderr
    assert (stat.S_IMODE(db.stat().st_mode), stat.S_IMODE(db.parent.stat().st_mode)) == (
        0o600,
        0o700,
    )


def test_outbox_masks_a_secret_an_older_row_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A row written before errors were masked (by an older agent) still holds the
    PoS key it quoted; ``edge-agent outbox --dead`` shows it masked."""
    from edge_agent.__main__ import main
    from edge_agent.store import Store

    key = "pos-key-7f3a-not-for-the-terminal"
    db = tmp_path / "edge.sqlite3"
    config = tmp_path / "agent.toml"
    config.write_text(
        f'site_id = "a"\n[core]\nurl = "https://core"\n[store]\npath = "{db}"\n'
        '[printers.grill]\nurl = "https://pos.example/print"\n'
    )
    with Store(db) as store:
        store.enqueue("print", "ticket", "print:o1:grill", "grill", b"{}")
        (row,) = store.due("print")
        with store.transaction() as conn:  # as an older agent stored it: unmasked
            conn.execute(
                "UPDATE outbox SET state = 'dead', last_error = ? WHERE id = ?",
                (f"PoS refused: unknown key {key}", row.id),
            )
    for name in [n for n in os.environ if n.startswith("KDS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("KDS_CORE_TOKEN", "t")
    monkeypatch.setenv("KDS_PRINTERS_GRILL_API_KEY", key)
    assert main(["outbox", "--config", str(config), "--dead"]) == 0
    out = capsys.readouterr().out
    assert key not in out
    assert "PoS refused: unknown key ********" in out
