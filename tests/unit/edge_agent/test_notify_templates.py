"""Notification texts: built-in defaults, config overrides, validation at load time."""

from __future__ import annotations

import tomllib

import pytest

from edge_agent.notify_templates import BUILTIN, KINDS, MAX_LENGTH, Templates, shorten

CONFIG = """
[sns]
endpoint_url = ""
region = "eu-west-1"
language = "en"

[sns.templates.en]
cancelled = "{brand}: order {number} was cancelled, sorry!"

[sns.templates.de]
ready = "Ihre {brand} Bestellung {number} ist abholbereit"
unavailable = "{item} ist leider nicht verfügbar ({brand}, {number})"
cancelled = "Ihre {brand} Bestellung {number} wurde storniert"

[sns.brands.frites]
language = "nl"

[sns.brands.burger-bros.templates.en]
ready = "Hi {first_name}, your burger ({number}) is ready!"

[sns.brands.wok]
language = "de"
cancelled = "Wok: {number} storniert"
"""


def load(text: str) -> Templates:
    return Templates.from_config(tomllib.loads(text)["sns"])


def test_default_ready_text_is_exactly_the_issue_s() -> None:
    text = Templates().render("ready", brand_id="bb", brand_name="Burger Bros", number="A12")
    assert text == "Your Burger Bros order A12 is ready for pick-up"


def test_builtin_languages_are_complete_and_valid() -> None:
    assert set(BUILTIN) == {"en", "nl"}
    for lang in BUILTIN:
        Templates(language=lang).validate()
        assert set(BUILTIN[lang]) == set(KINDS)


def test_dutch_defaults() -> None:
    t = Templates(language="nl")
    assert (
        t.render("ready", brand_id="b", brand_name="Frites", number="7")
        == "Je Frites bestelling 7 staat klaar om op te halen"
    )
    assert "Fanta" in t.render(
        "unavailable", brand_id="b", brand_name="Frites", number="7", item="Fanta"
    )
    assert "geannuleerd" in t.render("cancelled", brand_id="b", brand_name="Frites", number="7")


def test_unavailable_and_cancelled_defaults_name_item_brand_and_number() -> None:
    t = Templates()
    text = t.render(
        "unavailable", brand_id="b", brand_name="Wok On", number="42", item="Spring roll"
    )
    assert text.startswith("Sorry, Spring roll is not available for your Wok On order 42.")
    text = t.render("cancelled", brand_id="b", brand_name="Wok On", number="42")
    assert text.startswith("Your Wok On order 42 has been cancelled.")


def test_config_overrides_per_language_and_brand() -> None:
    t = load(CONFIG)
    # site override for one kind; the other kinds keep the built-in text
    assert t.render("cancelled", brand_id="x", brand_name="X", number="1") == (
        "X: order 1 was cancelled, sorry!"
    )
    assert t.render("ready", brand_id="x", brand_name="X", number="1") == (
        "Your X order 1 is ready for pick-up"
    )
    # brand language
    assert t.language_for("frites") == "nl"
    assert t.render("ready", brand_id="frites", brand_name="Frites", number="9").startswith(
        "Je Frites bestelling 9"
    )
    # brand template, with the customer's first name
    assert t.render(
        "ready", brand_id="burger-bros", brand_name="BB", number="3", first_name="Anna"
    ) == ("Hi Anna, your burger (3) is ready!")
    # brand without its own text for that kind: the site's
    assert t.render("cancelled", brand_id="burger-bros", brand_name="BB", number="3") == (
        "BB: order 3 was cancelled, sorry!"
    )


def test_flat_brand_texts_are_in_the_brand_s_language() -> None:
    t = load(CONFIG)
    assert t.render("cancelled", brand_id="wok", brand_name="W", number="8") == ("Wok: 8 storniert")
    assert t.render("ready", brand_id="wok", brand_name="W", number="8") == (
        "Ihre W Bestellung 8 ist abholbereit"
    )
    # no brand language: the site's
    t = load('[sns]\nlanguage = "nl"\n[sns.brands.x]\nready = "klaar {number}"')
    assert t.render("ready", brand_id="x", brand_name="X", number="1") == "klaar 1"


def test_explicit_language_wins_when_it_has_a_text_else_falls_back() -> None:
    t = load(CONFIG)
    assert t.render("ready", brand_id="x", brand_name="X", number="1", language="de") == (
        "Ihre X Bestellung 1 ist abholbereit"
    )
    assert t.render("ready", brand_id="frites", brand_name="F", number="1", language="fr") == (
        "Je F bestelling 1 staat klaar om op te halen"
    )


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            '[sns.templates.en]\nready = "Order {nummer} ready"',
            "sns.templates.en.ready: unknown placeholder {nummer}",
        ),
        (
            '[sns.templates.en]\nready = "{brand.__class__}"',
            "sns.templates.en.ready: unknown placeholder {brand.__class__}",
        ),
        ('[sns.templates.en]\nready = "Order {} ready"', "unknown placeholder {}"),
        ('[sns.templates.en]\nready = "Order {0} ready"', "unknown placeholder {0}"),
        ('[sns.templates.en]\nready = "{number:>5}"', "takes no format spec"),
        ('[sns.templates.en]\nready = "{number!r}"', "takes no format spec or conversion"),
        ('[sns.templates.en]\nready = "Order {number ready"', "sns.templates.en.ready:"),
        ('[sns.templates.en]\nready = "Order } ready"', "sns.templates.en.ready:"),
        ('[sns.templates.en]\nready = ""', "sns.templates.en.ready: must not be empty"),
        ("[sns.templates.en]\nready = 5", "sns.templates.en.ready: must be a string"),
        ('[sns.templates.en]\nredy = "x"', "sns.templates.en.redy: unknown kind 'redy'"),
        (
            '[sns.brands.bb.templates.nl]\nready = "{x}"',
            "sns.brands.bb.templates.nl.ready: unknown placeholder {x}",
        ),
        ('[sns.brands.bb]\nlanguag = "nl"', "sns.brands.bb.languag: unknown key"),
        ('[sns.brands.bb]\nready = "{nr}"', "sns.brands.bb.ready: unknown placeholder {nr}"),
        ("[sns.brands.bb]\ntemplates = 1", "sns.brands.bb.templates: must be a table"),
        ('[sns.brands.bb]\nlanguage = "fr"', "sns.brands.bb.language: language 'fr' has no"),
        ('[sns]\nlanguage = "de"', "sns.language: language 'de' has no 'ready' text"),
        (
            '[sns]\nlanguage = "de"\n[sns.templates.de]\nready = "{number}"',
            "sns.language: language 'de' has no 'unavailable' text",
        ),
        ("[sns]\ntemplates = 3", "sns.templates: must be a table"),
    ],
)
def test_bad_templates_are_refused_at_load_naming_the_key(toml: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        load(toml if toml.startswith("[sns]") else "[sns]\n" + toml)
    assert message in str(info.value)


def test_literal_braces_are_allowed() -> None:
    t = load('[sns.templates.en]\nready = "{{{number}}} ready"')
    assert t.render("ready", brand_id="b", brand_name="B", number="5") == "{5} ready"


def test_values_are_never_formatted_themselves() -> None:
    text = Templates().render(
        "unavailable", brand_id="b", brand_name="B", number="1", item="{brand.__class__} {0}"
    )
    assert "{brand.__class__} {0}" in text


def test_values_are_one_line_and_bounded() -> None:
    text = Templates().render(
        "unavailable", brand_id="b", brand_name="B\nrand", number="1", item="Fries\r\n\x07large"
    )
    assert text.startswith("Sorry, Fries large is not available for your B rand order 1.")
    long_item = "Extra " * 40
    text = Templates().render(
        "unavailable", brand_id="b", brand_name="B", number="1", item=long_item
    )
    assert "…" in text and len(text) <= MAX_LENGTH


def test_brand_name_falls_back_to_brand_id() -> None:
    assert (
        Templates()
        .render("ready", brand_id="wok-on", brand_name="", number="1")
        .startswith("Your wok-on order")
    )


def test_long_texts_are_cut_politely_at_300() -> None:
    t = load('[sns.templates.en]\nready = "' + "word " * 100 + '{number}"')
    text = t.render("ready", brand_id="b", brand_name="B", number="1")
    assert len(text) <= MAX_LENGTH == 300
    assert text.endswith("word…")
    assert shorten("short") == "short"
    assert shorten("x" * 400) == "x" * 299 + "…"


def test_unknown_kind_at_render_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown kind 'picked_up'"):
        Templates().render("picked_up", brand_id="b", brand_name="B", number="1")


def test_other_sns_keys_are_ignored_and_empty_section_is_the_default() -> None:
    assert Templates.from_config({"region": "eu-west-1", "sms": True}) == Templates()
    assert Templates.from_config(None) == Templates()


def test_templates_are_immutable() -> None:
    t = load(CONFIG)
    with pytest.raises(TypeError):
        t.templates["en"]["ready"] = "x"  # type: ignore[index]
