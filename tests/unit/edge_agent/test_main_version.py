import pytest

from edge_agent.__main__ import main
from shared.version import VERSION


def test_version_names_release_build_and_libraries(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["--version"])
    assert stopped.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"edge-agent {VERSION} (build: ")
    assert any(line.startswith("stomp.py ") for line in lines)
