"""docs/architecture.md's table "Where each behaviour lives" names files that exist and
names defined in them (a newcomer opens each one)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
ROW = re.compile(r"^\| (?P<what>[^|]+) \| `(?P<file>[^`]+)` \| `(?P<name>[^`]+)` \|$")


def table() -> list[tuple[str, str, str]]:
    rows = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            rows.append((match["what"].strip(), match["file"], match["name"]))
    return rows


def defined_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef)
    }


def test_the_table_has_the_behaviours_a_newcomer_looks_for() -> None:
    behaviours = " ".join(what.lower() for what, _, _ in table())
    for word in (
        "order intake",
        "state machine",
        "relay",
        "commands",
        "outbox",
        "printing",
        "texts",
        "metrics",
        "kafka",
        "export",
        "board view",
        "station",
        "expo",
        "card painting",
    ):
        assert word in behaviours, word


def test_every_file_in_the_table_exists_and_defines_its_name() -> None:
    rows = table()
    assert len(rows) >= 30
    for what, file, name in rows:
        path = ROOT / file
        assert path.is_file(), f"{what}: {file} does not exist"
        assert name in defined_names(path), f"{what}: {file} defines no {name}"
