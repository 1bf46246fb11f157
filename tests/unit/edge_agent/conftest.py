"""Fixtures for the edge agent's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from edge_agent.store import Store


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "edge.sqlite3"


@pytest.fixture
def store(store_path: Path) -> Iterator[Store]:
    db = Store(store_path)
    try:
        yield db
    finally:
        db.close()
