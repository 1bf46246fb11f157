"""Config file layouts: ``config_version`` (shared.config), the v0 files the project
shipped before versions (tests/fixtures/config_v0, copied from git history), the
migration chain, a newer file refused, and ``edge-agent config upgrade``."""

from __future__ import annotations

import logging
import shutil
import tomllib
from dataclasses import asdict
from pathlib import Path

import pytest

from edge_agent.__main__ import main
from edge_agent.config import AgentConfig
from kitchen_display.config import DisplayConfig
from shared.config import CONFIG_VERSION, MIGRATIONS, load, migrate, upgrade_file
from shared.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]
V0 = ROOT / "tests/fixtures/config_v0"
CURRENT = ROOT / "packaging/config"
ENV = {"KDS_CORE_TOKEN": "tok-for-version-tests"}


def test_the_current_version_is_the_length_of_the_chain() -> None:
    assert CONFIG_VERSION == len(MIGRATIONS) == 1


def test_each_migration_is_pure_and_adds_the_version() -> None:
    table = {"site_id": "ams-01", "core": {"url": "https://x"}}
    before = repr(table)
    new, old = migrate(table)
    assert old == 0
    assert repr(table) == before  # the argument is untouched
    assert new == {"config_version": 1, **table}


@pytest.mark.parametrize(("cls", "name"), [(AgentConfig, "agent"), (DisplayConfig, "display")])
def test_a_v0_file_loads_like_its_v1_successor_and_says_so(
    cls: type, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    v0 = V0 / f"{name}.example.toml"
    assert "config_version" not in tomllib.loads(v0.read_text())
    with caplog.at_level(logging.WARNING, logger="kds.config"):
        old: object = load(cls, v0, env=ENV, secrets=None)
    assert "migrated in memory to 1" in caplog.text
    assert f"edge-agent config upgrade --config {v0}" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kds.config"):
        new: object = load(cls, CURRENT / f"{name}.example.toml", env=ENV, secrets=None)
    assert caplog.text == ""  # a current file: no word about it
    assert asdict(old) == asdict(new)  # type: ignore[call-overload]


@pytest.mark.parametrize("cls", [AgentConfig, DisplayConfig])
def test_a_newer_file_is_refused_naming_config_version(cls: type, tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    path.write_text('config_version = 2\nsite_id = "ams-01"\n')
    with pytest.raises(ConfigError) as caught:
        load(cls, path, env=ENV, secrets=None)
    assert caught.value.key == "config_version"
    assert "config_version = 2" in caught.value.problem
    assert "<= 1" in caught.value.problem


@pytest.mark.parametrize("bad", ['"1"', "-1", "true", "1.5"])
def test_a_bad_version_is_refused(bad: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(f"config_version = {bad}\n")
    with pytest.raises(ConfigError) as caught:
        load(DisplayConfig, path, env=ENV, secrets=None)
    assert caught.value.key == "config_version"


def test_upgrade_rewrites_in_place_keeping_comments_with_a_backup(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "agent.toml"
    shutil.copy(V0 / "agent.example.toml", path)
    original = path.read_text()
    assert main(["config", "upgrade", "--config", str(path)]) == 0
    assert "version 0 to 1" in capsys.readouterr().out
    text = path.read_text()
    assert text.splitlines()[0] == "config_version = 1"
    assert text.endswith(original)  # every comment kept
    assert (tmp_path / "agent.toml.bak").read_text() == original
    assert upgrade_file(path) == (1, None)  # current: nothing to do
    assert main(["config", "upgrade", "--config", str(path)]) == 0
    assert "already" in capsys.readouterr().out


def test_upgrade_refuses_a_newer_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "agent.toml"
    path.write_text("config_version = 7\n")
    assert main(["config", "upgrade", "--config", str(path)]) == 2
    assert "config_version = 7" in capsys.readouterr().err
    assert path.read_text() == "config_version = 7\n"
