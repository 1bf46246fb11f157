"""Fixtures for the kitchen display's unit tests (fakes live in ``fakes.py``)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from kitchen_display.app import DisplayApp, build_display
from tests.unit.kitchen_display.fakes import FakeAgent, FakeBroker, display_config
from tests.unit.kitchen_display.screens import MakeDisplay

# =============================================================================
# Fixtures
# =============================================================================


@pytest.fixture
def broker() -> Iterator[FakeBroker]:
    fake = FakeBroker()
    try:
        yield fake
    finally:
        fake.close()
    if fake.errors:
        raise fake.errors[0]


@pytest.fixture
def agent(broker: FakeBroker) -> FakeAgent:
    return FakeAgent(broker)


@pytest.fixture
def make_display(broker: FakeBroker, qtbot: QtBot) -> Iterator[MakeDisplay]:
    """``make_display(station="grill", **display_settings)``: a started, synced display."""
    displays: list[DisplayApp] = []

    def make(
        station: str = "grill",
        display_id: str | None = None,
        *,
        wait_synced: bool = True,
        **display: Any,
    ) -> DisplayApp:
        config = display_config(station, display_id, **display)
        app = build_display(config, broker.client(f"display-{config.display_id}"))
        displays.append(app)
        app.window.resize(1300, 900)
        app.start(show=True)
        qtbot.waitExposed(app.window)
        if wait_synced:
            qtbot.waitUntil(lambda: app.sync.synced)
        return app

    yield make
    for app in displays:
        app.close()
