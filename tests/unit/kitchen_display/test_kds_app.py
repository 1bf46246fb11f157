"""The command line: config errors, overrides; build_display's wiring."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from kitchen_display.app import Launcher, build_display, load_config, main, parse_args
from tests.unit.kitchen_display.fakes import FakeAgent, FakeBroker, display_config, ticket

GOOD = """
site_id = "ams-01"
display_id = "grill-1"
station = "grill"

[display]
font_scale = 1.5
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("KDS_SITE_ID", "KDS_STATION", "KDS_DISPLAY_ID"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("KDS_MQ_PASSWORD", "")  # never ask the OS keyring in unit tests


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "display.toml"
    path.write_text(text)
    return str(path)


def test_missing_key_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["--config", write(tmp_path, 'display_id = "x"\nstation = "grill"\n')])
    assert status == 2
    err = capsys.readouterr().err
    assert err.startswith("kitchen-display: config error: site_id: ")
    assert err.count("\n") == 1


def test_bad_value_names_the_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = GOOD.replace("font_scale = 1.5", "font_scale = 9")
    assert main(["--config", write(tmp_path, text)]) == 2
    assert capsys.readouterr().err == (
        "kitchen-display: config error: display.font_scale: must be 0.5..4.0\n"
    )


def test_without_config_the_default_location_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --config: the site-wide file, else the user's (a missing file: the setup
    screen, tests/unit/kitchen_display/test_first_run.py)."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    args = parse_args([])
    assert args.config is None
    path = tmp_path / "ghost-kds" / "display.toml"
    path.parent.mkdir()
    path.write_text(GOOD)
    if not Path("/etc/ghost-kds/display.toml").exists():
        assert Launcher(args).path == path
        assert load_config(args, Launcher(args).path).display.font_scale == 1.5


def test_station_and_display_id_override_the_file(tmp_path: Path) -> None:
    args = parse_args(
        ["--config", write(tmp_path, GOOD), "--station", "expo", "--display-id", "expo-2"]
    )
    config = load_config(args)
    assert (config.station, config.display_id, config.is_expo) == ("expo", "expo-2", True)
    assert config.reply_queue == "/queue/kds.ams-01.replies.expo-2"
    assert config.display.font_scale == 1.5
    plain = load_config(parse_args(["--config", write(tmp_path, GOOD)]))
    assert (plain.station, plain.display_id) == ("grill", "grill-1")


def test_build_display_wires_sync_model_and_window(
    broker: FakeBroker, agent: FakeAgent, qtbot: QtBot
) -> None:
    agent.publish(ticket("ord_1"))
    mq = broker.client("d")
    app = build_display(display_config("grill"), mq)
    try:
        assert app.mq is mq and app.view is app.window.view
        assert app.view.model() is app.model
        assert app.view.itemDelegate() is app.delegate
        app.start(show=False)
        qtbot.waitUntil(lambda: app.model.rowCount() == 1)
    finally:
        app.close()
    assert mq.closed
    app.close()  # idempotent


def test_version_needs_no_config_and_names_qt(capsys: pytest.CaptureFixture[str]) -> None:
    from shared.version import VERSION

    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"kitchen-display {VERSION} (build: ")
    assert any(line.startswith("Qt 6.") for line in lines)
