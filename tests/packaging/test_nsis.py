"""The Windows installer script (packaging/windows/ghost-kds.nsi) compiles with makensis
(warnings are errors) against a stub payload into a real PE installer that carries the
two programs, WinSW under the service's name with its XML, and the example configs."""

from __future__ import annotations

import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.packaging.stubs import REPO


@pytest.fixture(scope="module")
def installer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    assert shutil.which("makensis"), "makensis is missing: scripts/system-deps package"
    out = tmp_path_factory.mktemp("nsis") / "ghost-kds-setup-0.1.0.exe"
    run = subprocess.run(
        [str(REPO / "scripts/package-nsis"), "--stub", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_installer_is_a_pe_file(installer: Path) -> None:
    data = installer.read_bytes()
    assert data[:2] == b"MZ"
    (pe_offset,) = struct.unpack_from("<I", data, 0x3C)
    assert data[pe_offset : pe_offset + 4] == b"PE\0\0"
    assert b"Nullsoft" in data


def test_installer_carries_the_programs_and_the_service(installer: Path) -> None:
    seven = shutil.which("7z")
    if seven is None:
        pytest.skip("7z (p7zip-full) is not installed: the listing is optional")
    listing = subprocess.run(
        [seven, "l", "-slt", str(installer)], capture_output=True, text=True, check=True
    ).stdout
    names = {
        line.removeprefix("Path = ").replace("\\", "/")
        for line in listing.splitlines()
        if line.startswith("Path = ")
    }
    for expected in (
        "edge-agent/edge-agent.exe",
        "edge-agent/ghost-kds-edge-agent.exe",
        "edge-agent/ghost-kds-edge-agent.xml",
        "kitchen-display/kitchen-display.exe",
        "uninstall.exe",
    ):
        assert expected in names, (expected, sorted(names))
    assert any(name.endswith("/agent.example.toml") for name in names)
    assert any(name.endswith("/display.example.toml") for name in names)


def test_nsis_refuses_a_payload_without_winsw(tmp_path: Path) -> None:
    payload = tmp_path / "payload"
    for program in ("edge-agent", "kitchen-display"):
        (payload / program).mkdir(parents=True)
        (payload / program / f"{program}.exe").write_text("stub", encoding="utf-8")
    run = subprocess.run(
        [
            str(REPO / "scripts/package-nsis"),
            "--payload",
            str(payload),
            "--out",
            str(tmp_path / "ghost-kds-setup-0.1.0.exe"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 2
    assert "winsw.exe is missing" in run.stderr


def test_winsw_service_config() -> None:
    service = ET.parse(REPO / "packaging/windows/edge-agent-service.xml").getroot()
    assert service.findtext("id") == "ghost-kds-edge-agent"
    assert service.findtext("executable") == r"%BASE%\edge-agent.exe"
    assert service.findtext("arguments") == r'run --config "%ProgramData%\ghost-kds\agent.toml"'
    assert service.findtext("startmode") == "Automatic"
    assert service.findtext("serviceaccount/username") == r"NT AUTHORITY\LocalService"
    assert [e.get("action") for e in service.findall("onfailure")] == ["restart"] * 3
