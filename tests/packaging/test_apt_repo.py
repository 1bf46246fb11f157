"""scripts/apt-repo: a signed repository (apt-ftparchive + gpg) that a real apt-get,
pointed into a scratch root, updates from, verifies through signed-by and downloads
from; a different key, or a changed index, is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.stubs import REPO, build_debs, make_stub_bundle


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("apt-ftparchive", "gpg"):
        assert shutil.which(tool), f"{tool} is missing: scripts/system-deps package"
    base = tmp_path_factory.mktemp("apt")
    agent, display, _ = build_debs(
        base / "debs",
        make_stub_bundle(base / "bundles", "edge-agent"),
        make_stub_bundle(base / "bundles", "kitchen-display"),
    )
    out = base / "repo"
    run = subprocess.run(
        [
            str(REPO / "scripts/apt-repo"),
            "--out",
            str(out),
            "--throwaway-key",
            "--suite",
            "canary",
            "--suite",
            "stable",
            str(agent),
            str(display),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def _apt(
    root: Path, keyring: Path, repo: Path, suite: str, *args: str
) -> subprocess.CompletedProcess[str]:
    for sub in (
        "etc/apt/apt.conf.d",
        "etc/apt/preferences.d",
        "etc/apt/sources.list.d",
        "etc/apt/trusted.gpg.d",
        "var/lib/apt/lists/partial",
        "var/cache/apt/archives/partial",
        "var/lib/dpkg",
    ):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "var/lib/dpkg/status").touch()
    (root / "etc/apt/sources.list").write_text(
        f"deb [signed-by={keyring}] file:{repo} {suite} main\n", encoding="utf-8"
    )
    tool = "apt-cache" if args[0] == "policy" else "apt-get"
    return subprocess.run(
        [
            tool,
            "-o",
            f"Dir={root}",
            "-o",
            f"Dir::State::status={root}/var/lib/dpkg/status",
            "-o",
            "Dir::Etc::Trusted=/nonexistent",
            "-o",
            "APT::Sandbox::User=root",
            "-o",
            "Debug::NoLocking=1",
            "-o",
            "APT::Architectures=amd64",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=root,
    )


def test_apt_updates_verifies_and_downloads(repo: Path, tmp_path: Path) -> None:
    keyring = repo / "ghost-kds-archive-keyring.gpg"
    for suite in ("canary", "stable"):
        root = tmp_path / suite
        update = _apt(root, keyring, repo, suite, "update")
        assert update.returncode == 0, update.stdout + update.stderr
        assert "InRelease" in update.stdout
        policy = _apt(root, keyring, repo, suite, "policy", "ghost-kds-edge-agent")
        assert "Candidate: 0.1.0-1" in policy.stdout, policy.stdout
        download = _apt(root, keyring, repo, suite, "download", "ghost-kds-kitchen-display")
        assert download.returncode == 0, download.stdout + download.stderr
        got = root / "ghost-kds-kitchen-display_0.1.0-1_amd64.deb"
        assert got.read_bytes() == (repo / "pool/main" / got.name).read_bytes()


def test_apt_refuses_another_key(
    repo: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home), "PATH": "/usr/bin:/bin"}
    # gpg starts an agent for the key; it would outlive the test
    request.addfinalizer(
        lambda: subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, check=False)
    )
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "impostor <x@example.org>",
            "ed25519",
            "sign",
            "1d",
        ],
        env=env,
        capture_output=True,
        check=True,
    )
    other = tmp_path / "other.gpg"
    other.write_bytes(
        subprocess.run(["gpg", "--export"], env=env, capture_output=True, check=True).stdout
    )
    update = _apt(tmp_path / "root", other, repo, "canary", "update")
    assert update.returncode == 100, update.stdout + update.stderr
    assert "NO_PUBKEY" in update.stderr and "is not signed" in update.stderr, update.stderr
    policy = _apt(tmp_path / "root", other, repo, "canary", "policy", "ghost-kds-edge-agent")
    assert "Candidate: 0.1.0-1" not in policy.stdout


def test_apt_refuses_a_changed_index(repo: Path, tmp_path: Path) -> None:
    changed = tmp_path / "repo"
    shutil.copytree(repo, changed)
    packages = changed / "dists/canary/main/binary-amd64/Packages"
    packages.write_text(
        packages.read_text(encoding="utf-8").replace("0.1.0-1", "9.9.9-1"), encoding="utf-8"
    )
    (changed / "dists/canary/main/binary-amd64/Packages.gz").unlink()
    update = _apt(
        tmp_path / "root", changed / "ghost-kds-archive-keyring.gpg", changed, "canary", "update"
    )
    assert update.returncode != 0, update.stdout + update.stderr
    assert (
        "Hash Sum mismatch" in update.stdout + update.stderr
        or "File has unexpected size" in update.stdout + update.stderr
    )
