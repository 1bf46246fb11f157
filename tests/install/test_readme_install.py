"""The README's "Install at a site", followed command by command on this machine, from
the real packages (``scripts/smoke`` builds them from the frozen bundles and sets
``KDS_INSTALL_DEBS``) to the first ticket on a screen.

Every ``sh`` block of the section runs as written, in order, in a folder holding the
packages, with four stand-ins for what a CI machine lacks, and nothing else changed:
- the README's example values (site ``ams-01``, the core and broker addresses) become
  this test's core simulator, site and broker;
- ``sudo`` runs the command (the test runs as root);
- ``systemctl`` is :mod:`tests.install.systemctl_shim` (systemd is not PID 1 here): it
  starts the installed unit's ``ExecStart`` as its ``User=`` with the credentials,
  state and log folders the unit and setup's drop-in name;
- apt answers yes (``APT::Get::Assume-Yes``), and the screen's last command runs on
  Xvfb with ``--autopilot`` added, which taps the card as a cook would.
The packages are purged before and after.
"""

from __future__ import annotations

import fcntl
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core_sim.server import CoreSimulator
from tests.helpers.fixtures import TOKEN
from tests.helpers.xvfb import Xvfb

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ghost-kds-kitchen-display", "ghost-kds-edge-agent")
EXAMPLE_CORE = "https://core.example.com"
EXAMPLE_MQ = "stomp+ssl://b-1234abcd-1.mq.eu-west-1.amazonaws.com:61614"
EXAMPLE_SITE = "ams-01"
UNIT = "ghost-kds-edge-agent.service"


def readme_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Install at a site\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.S)


def _purge() -> None:
    subprocess.run(["dpkg", "--purge", *PACKAGES], capture_output=True, check=False)
    for leftover in ("/etc/ghost-kds", f"/etc/systemd/system/{UNIT}.d"):
        shutil.rmtree(leftover, ignore_errors=True)


@pytest.fixture
def clean_machine() -> Iterator[None]:
    """The machine without our packages, held for this test alone: two runs on one
    machine (two clones' CI) take turns, since both install into the one system."""
    if os.geteuid() != 0:
        pytest.fail("tests/install installs packages on this machine: run it as root")
    with open("/var/lock/ghost-kds-install-test", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _purge()
        try:
            yield
        finally:
            _purge()


def admin_path(path: str) -> str:
    """``path`` as a site admin's shell has it: without any virtualenv's ``bin`` (a
    tester's activated venv would answer for the installed ``edge-agent``)."""
    kept = [p for p in path.split(os.pathsep) if p and not (Path(p).parent / "pyvenv.cfg").exists()]
    return os.pathsep.join(kept)


class Admin:
    """Runs the README's blocks as an admin would type them, with the stand-ins."""

    def __init__(self, work: Path, site_id: str, core_url: str, mq_url: str) -> None:
        self.work = work
        self.subs = {EXAMPLE_CORE: core_url, EXAMPLE_MQ: mq_url, EXAMPLE_SITE: site_id}
        shims = work.parent / "shims"
        shims.mkdir()
        (shims / "sudo").write_text('#!/bin/sh\nexec "$@"\n')
        (shims / "systemctl").write_text(
            f'#!/bin/sh\nexec {sys.executable} {ROOT}/tests/install/systemctl_shim.py "$@"\n'
        )
        for shim in shims.iterdir():
            shim.chmod(0o755)
        apt_conf = work.parent / "apt.conf"
        apt_conf.write_text('APT::Get::Assume-Yes "true";\n')
        self.state = work.parent / "shim-state"
        self.env = {
            **os.environ,
            "PATH": f"{shims}:{admin_path(os.environ['PATH'])}",
            "APT_CONFIG": str(apt_conf),
            "DEBIAN_FRONTEND": "noninteractive",
            "KDS_SHIM_STATE": str(self.state),
        }
        for name in ("PYTHONPATH", "VIRTUAL_ENV", "KDS_LOG_DIR"):
            self.env.pop(name, None)

    def script(self, block: str) -> str:
        for example, real in self.subs.items():
            block = block.replace(example, real)
        return block

    def run(self, block: str, timeout: float = 300) -> str:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", self.script(block)],
            cwd=self.work,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        out = result.stdout + result.stderr
        assert result.returncode == 0, f"README block failed ({result.returncode}):\n{block}\n{out}"
        return out

    def agent_pid(self) -> int:
        return int((self.state / f"{UNIT}.pid").read_text())


def _wait(what: str, condition: object, timeout: float, detail: object = lambda: "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {timeout:.0f} s; {detail()}")  # type: ignore[operator]


def test_an_admin_follows_the_readme_from_the_packages_to_the_first_ticket(
    clean_machine: None,
    core_sim: CoreSimulator,
    site_id: str,
    activemq_url: str,
    tmp_path: Path,
) -> None:
    debs = Path(os.environ["KDS_INSTALL_DEBS"])
    work = tmp_path / "admin"
    work.mkdir()
    blocks = readme_blocks()
    assert len(blocks) == 4, "the test knows the section's four blocks: update both together"
    # the file names the README gives are the ones the build makes
    for name in re.findall(r"\./(\S+\.deb)", "\n".join(blocks)):
        assert (debs / name).is_file(), f"README names {name}; built: {os.listdir(debs)}"
        shutil.copy(debs / name, work / name)
    admin = Admin(work, site_id, core_sim.url, activemq_url)

    # 1. the agent box: install, --version from the plain install
    out = admin.run(blocks[0])
    assert re.search(r"^edge-agent \d+\.\d+\.\d+ \(build: [\w-]+, ", out, re.M), out
    assert pwd.getpwnam("ghost-kds").pw_uid != 0

    # setup with the secrets in files; the service from the unit, as its own user
    (work / "core.token").write_text(TOKEN + "\n")
    (work / "mq.password").write_text("not-checked-by-this-broker\n")
    for secret in ("core.token", "mq.password"):
        (work / secret).chmod(0o600)
    out = admin.run(blocks[1])
    assert "active (running)" in out, out
    assert not (work / "core.token").exists() and not (work / "mq.password").exists()
    config = Path("/etc/ghost-kds/agent.toml").read_text(encoding="utf-8")
    assert TOKEN not in config and config.startswith("config_version = 1")
    status = Path(f"/proc/{admin.agent_pid()}/status").read_text()
    uid = re.search(r"^Uid:\s+(\d+)", status, re.M)
    assert uid and int(uid.group(1)) == pwd.getpwnam("ghost-kds").pw_uid
    log = admin.state / f"{UNIT}.log"
    _wait(
        "the installed agent connects to the broker",
        lambda: "kds.mq: edge-mq: connected" in log.read_text(errors="replace"),
        60,
        lambda: log.read_text(errors="replace")[-3000:],
    )

    # 2. the screen: install, self-test from the plain install
    out = admin.run(blocks[2])
    assert "FAIL" not in out and "PASS" in out, out

    # the scripted display config, then the display on a real X server
    script = admin.script(blocks[3]).rstrip().splitlines()
    assert script[-1] == "kitchen-display", "the block ends by starting the display"
    admin.run("\n".join(script[:-1]))
    screen = Xvfb(1280, 800).start()
    display_log = tmp_path / "display.log"
    with display_log.open("wb") as out_file:
        display = subprocess.Popen(
            ["kitchen-display", "--autopilot", "1"],
            cwd=work,
            env={**admin.env, "DISPLAY": screen.display, "QT_QPA_PLATFORM": "xcb"},
            stdout=out_file,
            stderr=subprocess.STDOUT,
        )
    try:
        order = core_sim.create_order(
            site_id,
            items=[
                {
                    "line_id": "l1",
                    "sku": "BB-CLASSIC",
                    "name": "Classic Burger",
                    "qty": 1,
                    "station": "grill",
                    "prep_seconds": 60,
                    "modifiers": [],
                    "allergens": [],
                    "notes": "",
                }
            ],
        )

        def tapped() -> bool:
            if display.poll() is not None:
                pytest.fail(f"the display exited: {display_log.read_text(errors='replace')}")
            return any(
                event.get("actor") == "display:grill-1" for event in core_sim.events(order["id"])
            )

        _wait(
            "the installed display shows the order and its cook's tap reaches the core",
            tapped,
            90,
            lambda: (
                f"events {core_sim.events(order['id'])}; display log "
                f"{display_log.read_text(errors='replace')[-3000:]}; agent log "
                f"{log.read_text(errors='replace')[-2000:]}"
            ),
        )
        assert display.poll() is None, display_log.read_text(errors="replace")
        shot = os.environ.get("KDS_INSTALL_SCREENSHOT")
        if shot:
            subprocess.run(
                [sys.executable, "-m", "tests.helpers.xvfb", "grab", shot],
                cwd=ROOT,
                env={**os.environ, "DISPLAY": screen.display, "QT_QPA_PLATFORM": "xcb"},
                check=False,
                timeout=60,
            )
    finally:
        display.send_signal(signal.SIGINT)
        try:
            display.wait(30)
        except subprocess.TimeoutExpired:
            display.kill()
        os.kill(admin.agent_pid(), signal.SIGTERM)
        screen.stop()
