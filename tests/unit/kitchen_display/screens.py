"""Starting a display from a whole :class:`DisplayConfig` (keys, kiosk, theme, language).

``conftest.make_display`` takes ``[display]`` settings only; these tests also need
``[keys]`` and a silent sound board whose cues they can read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any, Protocol

import pytest
from pytestqt.qtbot import QtBot

from kitchen_display.app import DisplayApp, build_display
from kitchen_display.config import DisplayConfig, DisplaySettings, KeySettings
from tests.unit.kitchen_display.fakes import FakeBroker, display_config


class MakeDisplay(Protocol):
    """The ``make_display`` fixture (conftest.py): a started display of ``station``."""

    def __call__(
        self,
        station: str = "grill",
        display_id: str | None = None,
        *,
        wait_synced: bool = True,
        **display: Any,
    ) -> DisplayApp: ...


class StartScreen(Protocol):
    """The ``start_screen`` fixture: a started display from a whole config."""

    def __call__(self, config: DisplayConfig, *, wait_synced: bool = True) -> DisplayApp: ...


def config_with(
    station: str = "grill",
    *,
    display_id: str | None = None,
    keys: KeySettings | None = None,
    **display: Any,
) -> DisplayConfig:
    """``display_id`` defaults to ``<station>-1``: give a second screen of the same
    station its own, or both share one reply queue (and the fake broker hands each
    reply to one of them, round robin)."""
    config = display_config(station, display_id)
    settings = dataclasses.replace(DisplaySettings(), **display)
    return dataclasses.replace(config, display=settings, keys=keys or KeySettings())


@pytest.fixture
def start_screen(broker: FakeBroker, qtbot: QtBot) -> Iterator[StartScreen]:
    """``start_screen(config)``: a started, synced display with a silent sound board."""
    apps: list[DisplayApp] = []

    def start(config: DisplayConfig, *, wait_synced: bool = True) -> DisplayApp:
        app = build_display(
            config, broker.client(f"display-{config.display_id}"), sound_player=None
        )
        apps.append(app)
        app.window.resize(1300, 900)
        app.start(show=True)
        qtbot.waitExposed(app.window)
        if wait_synced:
            qtbot.waitUntil(lambda: app.sync.synced)
        return app

    yield start
    for app in apps:
        app.close()
