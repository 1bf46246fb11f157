"""Declared allergies: what stops the line, as opposed to what a recipe contains.

A recipe's allergens (``items[].allergens``: gluten in a bun, milk in a sauce) are on
practically every order; kitchens show them, but they do not stop for them. A kitchen
stops the line for a customer's *declared* allergy: an order note "ALLERGY: peanuts",
a modifier "No sesame (allergy)", a line note "nut allergy, severe". This module
recognises those, by the site's rules (the agent's ``[allergy]`` config):

- a note or modifier that matches one of ``patterns`` (case-insensitive substrings such
  as ``allerg``, ``anaphyla``, ``coeliac``) is a declaration;
- a note or modifier that names one of ``severe`` (``peanut``, ``sesame``,
  ``shellfish``, ...; whole words, plural allowed) always is one.

Item names are never read (a "Peanut Satay" contains peanuts by recipe, and says so in
its allergens). Pure functions, no I/O: the agent calls them when an order arrives or
changes and stores the result on the ticket (``Ticket.allergy``), so every screen,
printer and export agrees without knowing the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

#: substrings that make a note or modifier a declared allergy
DEFAULT_PATTERNS: tuple[str, ...] = (
    "allerg",  # allergy, allergic, allergie (nl), allergen
    "anaphyla",  # anaphylaxis, anaphylactic
    "epipen",
    "coeliac",
    "celiac",
)
#: allergens that count whenever a note or modifier names them (the ones that kill)
DEFAULT_SEVERE: tuple[str, ...] = (
    "peanut",
    "tree nut",
    "nut",
    "sesame",
    "shellfish",
    "crustacean",
    "shrimp",
    "prawn",
    "lobster",
    "crab",
    "mollusc",
    "mollusk",
    "lupin",
)

#: the longest text kept from one declaration (the banner shows it whole)
MAX_TEXT = 120


@dataclass(frozen=True)
class AllergyRules:
    """How a site recognises a declared allergy (see the module docstring)."""

    patterns: tuple[str, ...] = DEFAULT_PATTERNS
    severe: tuple[str, ...] = DEFAULT_SEVERE
    _severe_re: re.Pattern[str] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        words = sorted({s.strip().lower() for s in self.severe if s.strip()}, key=len, reverse=True)
        if words:
            alternatives = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
            pattern = re.compile(rf"\b(?:{alternatives})(?:s|es)?\b", re.IGNORECASE)
            object.__setattr__(self, "_severe_re", pattern)

    def matches(self, text: str) -> bool:
        """Whether this note or modifier text declares an allergy."""
        if not text:
            return False
        lowered = text.lower()
        if any(p and p.lower() in lowered for p in self.patterns):
            return True
        return self._severe_re is not None and self._severe_re.search(text) is not None


class _Line(Protocol):
    @property
    def line_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def notes(self) -> str: ...
    @property
    def modifiers(self) -> Sequence[_Mod]: ...


class _Mod(Protocol):
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Declaration:
    """One place an order declares an allergy: the order's note, or one line's."""

    #: the line it belongs to, or ``""`` for the order's own note
    line_id: str
    #: the words that declared it, as the customer wrote them (``"ALLERGY: peanuts"``)
    text: str


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def declarations(
    notes: str, items: Iterable[_Line], rules: AllergyRules
) -> tuple[Declaration, ...]:
    """Every declared allergy on an order (its note, then each line's note and modifiers)."""
    found: list[Declaration] = []
    if rules.matches(notes):
        found.append(Declaration("", _clip(notes)))
    for item in items:
        for modifier in item.modifiers:
            if rules.matches(modifier.name):
                found.append(Declaration(item.line_id, _clip(f"{item.name}: {modifier.name}")))
        if rules.matches(item.notes):
            found.append(Declaration(item.line_id, _clip(f"{item.name}: {item.notes}")))
    return tuple(found)
