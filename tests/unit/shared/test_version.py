import json
import tomllib
from pathlib import Path

import pytest

from shared import version

ROOT = Path(__file__).resolve().parents[3]


def test_the_release_is_the_one_pyproject_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["version"] == version.VERSION


def test_a_source_checkout_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(version, "_build_info_path", lambda: tmp_path / version.BUILD_INFO)
    assert version.build() == "source checkout"
    first = version.describe("edge-agent", {"stomp.py": "9.0.0"}).splitlines()
    assert first[0] == f"edge-agent {version.VERSION} (build: source checkout)"
    assert first[-1] == "stomp.py 9.0.0"


def test_a_frozen_build_names_its_commit_and_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    info = tmp_path / version.BUILD_INFO
    info.write_text(json.dumps({"commit": "6c2a98c", "built_at": "2026-12-02T21:30:00Z"}))
    monkeypatch.setattr(version, "_build_info_path", lambda: info)
    assert version.build() == "6c2a98c, 2026-12-02T21:30:00Z"


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_a_damaged_build_file_reads_as_no_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str
) -> None:
    info = tmp_path / version.BUILD_INFO
    info.write_text(text)
    monkeypatch.setattr(version, "_build_info_path", lambda: info)
    assert version.build() == "source checkout"
