"""Customer notification texts: per kind, per language, per brand (docs/notifications.md).

Plain logic, no I/O. Built from the ``[sns]`` config section::

    [sns]
    language = "en"                      # the site's default language

    [sns.templates.en]                   # override built-in texts, or add a language
    ready = "Your {brand} order {number} is ready for pick-up"

    [sns.brands.frites]
    language = "nl"                      # this brand texts in Dutch
    ready = "Je friet ({number}) ligt klaar!"   # its own text, in its language

    [sns.brands.burger-bros.templates.de]  # a brand's own texts in other languages
    ready = "Dein Burger ({number}) ist fertig!"

Placeholders: ``{brand}``, ``{number}``, ``{first_name}``, ``{item}`` and nothing else
(no ``{brand.attr}``, ``{0}``, ``!r`` or ``:spec``), checked by :meth:`Templates.validate`
when the config is loaded, so a bad template stops the agent at start and never fails
a send. A text is looked up as brand template in that language, then the site's
template in that language, then the built-in one.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

KINDS: tuple[str, ...] = ("ready", "unavailable", "cancelled")
PLACEHOLDERS: frozenset[str] = frozenset({"brand", "number", "first_name", "item"})
MAX_LENGTH = 300
"""Longest text sent; longer ones are cut at a word and end in an ellipsis."""
MAX_FIELD = 60
"""Longest ``item`` / ``first_name`` / ``brand`` value put into a text."""

BUILTIN: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "en": MappingProxyType(
            {
                "ready": "Your {brand} order {number} is ready for pick-up",
                "unavailable": (
                    "Sorry, {item} is not available for your {brand} order {number}. "
                    "We apologise for the inconvenience."
                ),
                "cancelled": (
                    "Your {brand} order {number} has been cancelled. "
                    "We're sorry for the inconvenience."
                ),
            }
        ),
        "nl": MappingProxyType(
            {
                "ready": "Je {brand} bestelling {number} staat klaar om op te halen",
                "unavailable": (
                    "Sorry, {item} is helaas niet beschikbaar voor je {brand} "
                    "bestelling {number}. Excuses voor het ongemak."
                ),
                "cancelled": (
                    "Je {brand} bestelling {number} is geannuleerd. Excuses voor het ongemak."
                ),
            }
        ),
    }
)

_Texts = Mapping[str, Mapping[str, str]]  # language -> kind -> template


def _freeze(texts: Mapping[str, Mapping[str, str]]) -> _Texts:
    return MappingProxyType({lang: MappingProxyType(dict(t)) for lang, t in texts.items()})


def check_template(template: str, key: str) -> None:
    """Raise ``ValueError`` naming ``key`` if ``template`` is not a valid template."""
    if not isinstance(template, str):
        raise ValueError(f"{key}: must be a string, got {type(template).__name__}")
    if not template.strip():
        raise ValueError(f"{key}: must not be empty")
    allowed = ", ".join("{" + name + "}" for name in sorted(PLACEHOLDERS))
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"{key}: {exc} (write {{{{ and }}}} for literal braces)") from None
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            raise ValueError(f"{key}: unknown placeholder {{{name}}}; allowed: {allowed}")
        if spec or conversion:
            raise ValueError(
                f"{key}: placeholder {{{name}}} takes no format spec or conversion; "
                f"allowed: {allowed}"
            )


def _clean(value: object) -> str:
    """One line, no control characters, at most MAX_FIELD characters."""
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in str(value)).split())
    if len(text) > MAX_FIELD:
        text = text[: MAX_FIELD - 1].rstrip() + "…"
    return text


def shorten(text: str, limit: int = MAX_LENGTH) -> str:
    """``text`` if it fits, else cut at the last word boundary and end in ``…``."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


@dataclass(frozen=True)
class BrandTemplates:
    """A brand's overrides: its language and/or its own texts per language."""

    language: str | None = None
    templates: _Texts = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Templates:
    """All notification texts of a site. ``Templates()`` is the built-in English set."""

    language: str = "en"
    templates: _Texts = field(default_factory=lambda: MappingProxyType({}))
    brands: Mapping[str, BrandTemplates] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_config(cls, section: Mapping[str, Any] | None, *, prefix: str = "sns") -> Templates:
        """Build from the ``[sns]`` section; reads ``language``, ``templates``, ``brands``
        and ignores its other keys. Raises ``ValueError`` naming the bad key."""
        section = section or {}
        language = section.get("language", "en")
        if not isinstance(language, str) or not language.strip():
            raise ValueError(f"{prefix}.language: must be a language code like 'en'")
        templates = _texts(section.get("templates", {}), f"{prefix}.templates")
        raw_brands = section.get("brands", {})
        if not isinstance(raw_brands, Mapping):
            raise ValueError(f"{prefix}.brands: must be a table of brand ids")
        brands: dict[str, BrandTemplates] = {}
        for brand_id, raw in raw_brands.items():
            key = f"{prefix}.brands.{brand_id}"
            if not isinstance(raw, Mapping):
                raise ValueError(f"{key}: must be a table (language, templates)")
            unknown = set(raw) - {"language", "templates", *KINDS}
            if unknown:
                raise ValueError(
                    f"{key}.{sorted(unknown)[0]}: unknown key; allowed: language, "
                    f"{', '.join(KINDS)}, templates"
                )
            brand_language = raw.get("language")
            if brand_language is not None and (
                not isinstance(brand_language, str) or not brand_language.strip()
            ):
                raise ValueError(f"{key}.language: must be a language code like 'nl'")
            nested = {
                lang: dict(texts)
                for lang, texts in _texts(raw.get("templates", {}), f"{key}.templates").items()
            }
            # ``ready = "..."`` directly in the brand's table: a text in its language
            flat = {kind: raw[kind] for kind in KINDS if kind in raw}
            for kind, template in flat.items():
                check_template(template, f"{key}.{kind}")
            if flat:
                own_language = brand_language or language
                nested[own_language] = {**nested.get(own_language, {}), **flat}
            brands[str(brand_id)] = BrandTemplates(
                language=brand_language, templates=_freeze(nested)
            )
        result = cls(
            language=language,
            templates=templates,
            brands=MappingProxyType(brands),
        )
        result.validate(prefix=prefix)
        return result

    def validate(self, *, prefix: str = "sns") -> None:
        """Raise ``ValueError`` naming the key of the first bad template, or a language
        in use (the default or a brand's) that lacks a text for some kind."""
        for lang, texts in self.templates.items():
            for kind, template in texts.items():
                _check_kind(kind, f"{prefix}.templates.{lang}.{kind}")
                check_template(template, f"{prefix}.templates.{lang}.{kind}")
        for brand_id, brand in self.brands.items():
            for lang, texts in brand.templates.items():
                for kind, template in texts.items():
                    key = f"{prefix}.brands.{brand_id}.templates.{lang}.{kind}"
                    _check_kind(kind, key)
                    check_template(template, key)
        self._check_complete(self.language, None, f"{prefix}.language")
        for brand_id, brand in self.brands.items():
            if brand.language is not None:
                self._check_complete(
                    brand.language, brand_id, f"{prefix}.brands.{brand_id}.language"
                )

    def _check_complete(self, lang: str, brand_id: str | None, key: str) -> None:
        for kind in KINDS:
            if self._lookup(kind, lang, brand_id) is None:
                raise ValueError(
                    f"{key}: language {lang!r} has no {kind!r} text; add "
                    f'[sns.templates.{lang}] {kind} = "..." (built in: '
                    f"{', '.join(sorted(BUILTIN))})"
                )

    def _lookup(self, kind: str, lang: str, brand_id: str | None) -> str | None:
        brand = self.brands.get(brand_id) if brand_id is not None else None
        if brand is not None and kind in brand.templates.get(lang, {}):
            return brand.templates[lang][kind]
        if kind in self.templates.get(lang, {}):
            return self.templates[lang][kind]
        return BUILTIN.get(lang, {}).get(kind)

    def language_for(self, brand_id: str) -> str:
        """The language a brand's customers are texted in."""
        brand = self.brands.get(brand_id)
        return brand.language if brand is not None and brand.language else self.language

    def render(
        self,
        kind: str,
        *,
        brand_id: str,
        brand_name: str,
        number: str,
        first_name: str = "",
        item: str = "",
        language: str | None = None,
    ) -> str:
        """The text for ``kind`` (``ready``, ``unavailable``, ``cancelled``).

        ``language`` (e.g. the customer's) is used when it has a text for ``kind``;
        otherwise the brand's language, then the site's. At most :data:`MAX_LENGTH`
        characters.
        """
        _check_kind(kind, "kind")
        template = None
        if language:
            template = self._lookup(kind, language, brand_id)
        if template is None:
            template = self._lookup(kind, self.language_for(brand_id), brand_id)
        if template is None:  # validate() makes this unreachable for a loaded config
            template = BUILTIN["en"][kind]
        values = {
            "brand": _clean(brand_name) or _clean(brand_id),
            "number": _clean(number),
            "first_name": _clean(first_name),
            "item": _clean(item),
        }
        return shorten(template.format_map(values).strip())


def _check_kind(kind: str, key: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"{key}: unknown kind {kind!r}; allowed: {', '.join(KINDS)}")


def _texts(raw: object, key: str) -> _Texts:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{key}: must be a table of languages, e.g. [{key}.en]")
    result: dict[str, dict[str, str]] = {}
    for lang, texts in raw.items():
        if not isinstance(texts, Mapping):
            raise ValueError(f"{key}.{lang}: must be a table of kinds ({', '.join(KINDS)})")
        for kind, template in texts.items():
            _check_kind(kind, f"{key}.{lang}.{kind}")
            check_template(template, f"{key}.{lang}.{kind}")
        result[str(lang)] = dict(texts)
    return _freeze(result)
