"""Figures of the fault suite, as JSON files ``docs/reliability.md`` can quote.

Each fault test calls :func:`record` with what it did and what it found (orders,
kills, outage seconds; ``lost`` and ``duplicated``, which it has asserted to be 0).
When ``KDS_FAULTS_DIR`` is set, each call writes ``<dir>/<name>.json``; without it
nothing is written (the default suite). ``scripts/faults`` sets it, runs the long
variants (``KDS_FAULTS_LONG=1``: :func:`long_variant`) and then
``python -m tests.helpers.fault_tally DIR``, which merges the files into
``DIR/summary.json`` and prints one line per test.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

DIR_ENV = "KDS_FAULTS_DIR"
LONG_ENV = "KDS_FAULTS_LONG"


def long_variant() -> bool:
    """Whether the long variants run (``KDS_FAULTS_LONG=1``, as ``scripts/faults`` sets)."""
    return os.environ.get(LONG_ENV, "") == "1"


def record(name: str, test: str, **figures: Any) -> Path | None:
    """Write ``figures`` of the test ``test`` (``path::name``) as ``<dir>/<name>.json``."""
    folder = os.environ.get(DIR_ENV)
    if not folder:
        return None
    path = Path(folder) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "test": test,
        "variant": "long" if long_variant() else "default",
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **figures,
    }
    path.write_text(json.dumps(entry, indent=2, sort_keys=True) + "\n")
    return path


def summarise(folder: Path) -> dict[str, Any]:
    """Merge every ``<name>.json`` of ``folder`` into ``folder/summary.json``."""
    entries = {
        path.stem: json.loads(path.read_text())
        for path in sorted(folder.glob("*.json"))
        if path.name != "summary.json"
    }
    summary = {
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": platform.node(),
        "python": platform.python_version(),
        "lost": sum(int(e.get("lost", 0)) for e in entries.values()),
        "duplicated": sum(int(e.get("duplicated", 0)) for e in entries.values()),
        "faults": entries,
    }
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return summary


def _line(name: str, entry: dict[str, Any]) -> str:
    skip = {"test", "finished_at"}
    figures = ", ".join(f"{k} {v}" for k, v in sorted(entry.items()) if k not in skip)
    return f"{name}: {figures}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.helpers.fault_tally DIR", file=sys.stderr)
        return 64
    folder = Path(argv[0])
    summary = summarise(folder)
    for name, entry in summary["faults"].items():
        print(_line(name, entry))
    print(
        f"lost {summary['lost']}, duplicated {summary['duplicated']}  ({folder / 'summary.json'})"
    )
    return 0 if summary["faults"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
