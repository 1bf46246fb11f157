"""Stub one-dir bundles for the packaging tests: what ``scripts/build`` makes, in small.

A stub bundle is a directory with the program's executable (a shell script that answers
``--version`` in the real format, ``edge-agent 0.1.0 (build: stub)``, and echoes any
other arguments) and a ``build-info.json``, so ``scripts/package-deb`` and
``scripts/package-nsis`` can be tested without a PyInstaller build.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def make_stub_bundle(parent: Path, program: str, version: str = "0.1.0") -> Path:
    """``parent/program/program`` (executable) and ``parent/program/build-info.json``."""
    bundle = parent / program
    bundle.mkdir(parents=True)
    exe = bundle / program
    exe.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = --version ]; then\n'
        f'    echo "{program} {version} (build: stub)"\n'
        "    exit 0\n"
        "fi\n"
        f'echo "{program} stub: $*"\n',
        encoding="utf-8",
    )
    exe.chmod(0o755)
    (bundle / "build-info.json").write_text(
        json.dumps({"commit": "stub", "built_at": "2026-12-02T00:00:00Z", "builder": "test"}),
        encoding="utf-8",
    )
    return bundle


def build_debs(
    out: Path, agent: Path, display: Path, *extra: str
) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    """Run ``scripts/package-deb`` on two bundles; the two .debs it made and its run."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.deb"))
    run = subprocess.run(
        [
            str(REPO / "scripts/package-deb"),
            "--agent",
            str(agent),
            "--display",
            str(display),
            "--out",
            str(out),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    made = sorted(set(out.glob("*.deb")) - before)
    agent_deb = next(p for p in made if p.name.startswith("ghost-kds-edge-agent_"))
    display_deb = next(p for p in made if p.name.startswith("ghost-kds-kitchen-display_"))
    return agent_deb, display_deb, run
