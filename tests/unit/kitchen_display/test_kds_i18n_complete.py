"""The Dutch catalogue is complete, and a station card speaks Dutch once it is installed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from kitchen_display import i18n
from kitchen_display.card_content import card_content, card_state
from tests.unit.kitchen_display.fakes import FakeAgent, present, ticket
from tests.unit.kitchen_display.screens import MakeDisplay

NL_TS = i18n.TRANSLATIONS_DIR / "kds_nl.ts"
#: ``{number}`` (str.format) and ``%n`` (plural count) placeholders
_PLACEHOLDER = re.compile(r"\{[a-z_]*\}|%n")


def _messages() -> Iterator[tuple[str, ET.Element]]:
    root = ET.parse(NL_TS).getroot()
    for context in root.iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            yield name, message


def _translations(message: ET.Element) -> list[str]:
    translation = message.find("translation")
    assert translation is not None
    if message.get("numerus") == "yes":
        return [form.text or "" for form in translation.iter("numerusform")]
    return [translation.text or ""]


def test_dutch_catalogue_has_no_unfinished_or_empty_translation() -> None:
    problems = []
    count = 0
    for context, message in _messages():
        translation = message.find("translation")
        assert translation is not None
        if translation.get("type") in ("obsolete", "vanished"):
            continue
        count += 1
        source = message.findtext("source", "")
        if translation.get("type") == "unfinished":
            problems.append(f"{context}: {source!r} is unfinished")
        forms = _translations(message)
        if message.get("numerus") == "yes" and len(forms) < 2:
            problems.append(f"{context}: {source!r} needs a singular and a plural form")
        for form in forms:
            if not form.strip():
                problems.append(f"{context}: {source!r} has an empty translation")
            elif sorted(_PLACEHOLDER.findall(form)) != sorted(_PLACEHOLDER.findall(source)):
                problems.append(f"{context}: {source!r} -> {form!r} changes the placeholders")
    assert count > 0
    assert not problems, "\n".join(problems)


@pytest.fixture
def dutch(qapp: QApplication) -> Iterator[None]:
    assert i18n.install("nl")
    try:
        yield
    finally:
        i18n.install(i18n.SOURCE_LANGUAGE)


def test_station_card_shows_dutch_labels(
    dutch: None, agent: FakeAgent, make_display: MakeDisplay, qtbot: QtBot
) -> None:
    agent.publish(
        ticket(
            "ord_nl",
            lines=[("grill", "Classic Burger"), ("fry", "Fries")],
            notes="bel aan",
        )
    )
    app = make_display("grill")
    qtbot.waitUntil(lambda: app.model.index_of("ord_nl").isValid())
    index = app.model.index_of("ord_nl")

    content = card_content(
        present(app.model.ticket_at(index.row())), card_state(index, "grill", False)
    )
    assert [label for _action, label in content.buttons] == ["START", "KLAAR"]
    texts = app.delegate.card_texts(index)
    assert "KLAAR" in texts
    assert "BUMP" not in texts
    assert "BESTELNOTITIE: bel aan" in texts
    assert "ook op: fry" in texts

    i18n.install(i18n.SOURCE_LANGUAGE)
    texts = app.delegate.card_texts(index)
    assert "BUMP" in texts
    assert "ORDER NOTE: bel aan" in texts
