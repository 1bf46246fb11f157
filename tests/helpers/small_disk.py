"""Real small disks for store-trouble tests: a tmpfs that fills up, an ext4 image
that goes read-only the way a failing disk does. Both need root (``mount``); tests
are skipped, saying why, where that is not possible."""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


def _need_root() -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a small disk needs root")


@contextlib.contextmanager
def small_tmpfs(where: Path, size_kib: int) -> Iterator[Path]:
    """A tmpfs of ``size_kib`` KiB mounted on ``where``."""
    _need_root()
    where.mkdir(parents=True, exist_ok=True)
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(where))
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        _run("umount", "-l", str(where))


def fill(folder: Path) -> Path:
    """Fill the disk holding ``folder`` with one file until it is full; returns it
    (delete it to free the space)."""
    filler = folder / "filler.bin"
    chunk = b"\0" * 16384
    with contextlib.suppress(OSError), open(filler, "wb", buffering=0) as out:
        while True:
            out.write(chunk)
    # whatever a few bytes still fit
    with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as out:
        while True:
            out.write(b"\0")
    probe = folder / "probe"
    try:
        probe.write_bytes(b"x" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    else:  # pragma: no cover - the disk was not full
        probe.unlink()
        raise AssertionError(f"{folder} still takes writes after filling it")
    return filler


class Ext4Image:
    """An ext4 file system in a loop-mounted image file, mounted ``errors=remount-ro``."""

    def __init__(self, image: Path, where: Path, size_mib: int = 16) -> None:
        self.image = image
        self.where = where
        self.size_mib = size_mib
        self.device = ""

    def __enter__(self) -> Ext4Image:
        _need_root()
        with open(self.image, "wb") as out:
            out.truncate(self.size_mib * 2**20)
        made = _run("mkfs.ext4", "-q", "-F", str(self.image))
        if made.returncode:
            pytest.skip(f"cannot make an ext4 image: {made.stderr.strip()}")
        self.mount()
        return self

    def mount(self) -> None:
        self.where.mkdir(parents=True, exist_ok=True)
        mounted = _run("mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.where))
        if mounted.returncode:
            pytest.skip(f"cannot loop-mount an ext4 image: {mounted.stderr.strip()}")
        found = _run("findmnt", "-n", "-o", "SOURCE", str(self.where))
        self.device = Path(found.stdout.strip()).name

    def fail(self) -> None:
        """What a failing disk does: the kernel sees an error and remounts read-only."""
        trigger = Path("/sys/fs/ext4") / self.device / "trigger_fs_error"
        if not trigger.exists():
            pytest.skip(f"{trigger} is missing: this kernel cannot fail an ext4 on request")
        trigger.write_text("kds test: disk failed\n")

    def repair(self) -> None:
        """Unmount, fsck, mount read-write again (what the site admin does)."""
        unmounted = _run("umount", str(self.where))
        assert unmounted.returncode == 0, unmounted.stderr
        _run("e2fsck", "-f", "-y", str(self.image))
        self.mount()

    def __exit__(self, *exc: object) -> None:
        _run("umount", "-l", str(self.where))
