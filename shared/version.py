"""The release and build of the running program: ``--version``, the about box, the
support bundle and the frozen builds' smoke test all read it here.

``VERSION`` is the release (``pyproject.toml`` says the same; a test keeps them
equal). ``build()`` names what was built: a frozen build (``scripts/build``) carries a
``build-info.json`` beside its executable with the commit and the time it was made;
a source checkout says so.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Callable
from pathlib import Path

VERSION = "0.1.0"

#: written by ``scripts/build`` into each frozen bundle, next to the executable
BUILD_INFO = "build-info.json"


def _build_info_path() -> Path:
    if getattr(sys, "frozen", False):
        return Path(sys.executable).resolve().parent / BUILD_INFO
    return Path(__file__).resolve().parent.parent / BUILD_INFO


def build_info() -> dict[str, str]:
    """``{"commit": ..., "built_at": ..., "builder": ...}`` of a frozen build, or ``{}``."""
    try:
        data = json.loads(_build_info_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(key): str(value) for key, value in data.items()}


def build() -> str:
    """One line: ``"6c2a98c, 2026-12-02T21:30:00Z"`` for a frozen build, else
    ``"source checkout"``."""
    info = build_info()
    if not info:
        return "source checkout"
    parts = [info.get("commit", "unknown commit"), info.get("built_at", "")]
    return ", ".join(part for part in parts if part)


def describe(program: str, extra: dict[str, str] | None = None) -> str:
    """What ``--version`` prints: program, release and build on the first line, then
    the runtime (Python, platform) and ``extra`` (library versions), one per line."""
    lines = [f"{program} {VERSION} (build: {build()})"]
    frozen = " (frozen)" if getattr(sys, "frozen", False) else ""
    lines.append(f"python {platform.python_version()}{frozen}")
    lines.append(f"platform {platform.platform()}")
    for name, value in (extra or {}).items():
        lines.append(f"{name} {value}")
    return "\n".join(lines)


def add_version_flag(parser: argparse.ArgumentParser, text: Callable[[], str]) -> None:
    """``--version``: print ``text()`` as it is (argparse's own action re-wraps lines)
    and exit 0. ``text`` is called only when asked, so a slow import stays off the
    normal start."""

    class _Version(argparse.Action):
        def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
            print(text())
            parser.exit(0)

    parser.add_argument("--version", nargs=0, action=_Version, help="release, build, runtime")
