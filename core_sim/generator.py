"""Deterministic generation of realistic ghost-kitchen orders for the core simulator.

Everything random comes from one ``random.Random(seed)`` owned by an
:class:`OrderGenerator`, so the same seed and the same sequence of calls (with the
same ``now``) always produce the same orders. The catalogue (brands, menus,
modifiers, prices) is static data described by small frozen dataclasses.
"""

from __future__ import annotations

import random
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

CHANNELS: tuple[str, ...] = ("web", "app", "ubereats", "doordash", "deliveroo", "justeat")
STATIONS: tuple[str, ...] = ("grill", "fry", "cold", "bar")
ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32, upper case
RUSH_PROBABILITY = 0.1
FIRST_DISPLAY_NUMBER = 1001

_FIRST_NAMES: tuple[str, ...] = (
    "Sam", "Noor", "Lucas", "Emma", "Daan", "Sofia", "Milan", "Yara", "Finn", "Aisha",
    "Levi", "Julia", "Mohammed", "Tess", "Bram", "Lina", "Jesse", "Mila", "Omar", "Zoë",
)  # fmt: skip
_ORDER_NOTES: tuple[str, ...] = (
    "Ring the bell",
    "Leave at the door",
    "No cutlery please",
    "Extra napkins",
    "Call when outside",
    "Birthday order!",
)
_ITEM_NOTES: tuple[str, ...] = ("well done", "sauce on the side", "cut in half", "extra crispy")
#: a customer's declared allergy, as customers write them (a few per cent of orders carry
#: one, on the order or on a line; the kitchen's screens must stop for these)
_ALLERGY_NOTES: tuple[str, ...] = (
    "ALLERGY: peanuts",
    "Nut allergy, severe",
    "Allergic to sesame",
    "Shellfish allergy - please take care",
    "Coeliac: no gluten please",
)
ALLERGY_PROBABILITY = 0.02


@dataclass(frozen=True)
class Modifier:
    """A modifier a customer can add to an item, with its surcharge."""

    name: str
    price_cents: int = 0


@dataclass(frozen=True)
class MenuItem:
    """One item of a brand's menu."""

    sku: str
    name: str
    station: str
    prep_seconds: int
    price_cents: int
    allergens: tuple[str, ...] = ()
    modifiers: tuple[Modifier, ...] = ()


@dataclass(frozen=True)
class Brand:
    """A virtual brand cooked in the kitchen: id, display name, display letter, menu."""

    id: str
    name: str
    letter: str
    items: tuple[MenuItem, ...] = field(default_factory=tuple)

    def as_ref(self) -> dict[str, str]:
        """The ``{"id", "name"}`` object carried in orders."""
        return {"id": self.id, "name": self.name}


_NO_ONIONS = Modifier("No onions")
_EXTRA_CHEESE = Modifier("Extra cheese", 100)
_EXTRA_SPICY = Modifier("Extra spicy")
_NO_ICE = Modifier("No ice")
_GLUTEN_FREE = Modifier("Gluten-free base", 250)

# Shared across brands: "Classic Burger" (same name, different SKUs: Burger Bros and
# Pizza Planet) and "Fries" (the very same SKU sold by Burger Bros and Taco Loco).
_FRIES = MenuItem("SIDE-FRIES", "Fries", "fry", 240, 350, (), (Modifier("Extra salt"),))
_COLA = MenuItem("DRINK-COLA", "Cola", "bar", 30, 275, (), (_NO_ICE,))

DEFAULT_BRANDS: tuple[Brand, ...] = (
    Brand(
        "burger-bros",
        "Burger Bros",
        "A",
        (
            MenuItem("BB-CLASSIC", "Classic Burger", "grill", 420, 1095, ("gluten", "milk"),
                     (_NO_ONIONS, _EXTRA_CHEESE)),
            MenuItem("BB-BACON", "Bacon Smash", "grill", 480, 1295, ("gluten", "milk", "mustard"),
                     (_NO_ONIONS, _EXTRA_CHEESE)),
            MenuItem("BB-VEGGIE", "Veggie Burger", "grill", 390, 1050, ("gluten", "soy"),
                     (_NO_ONIONS,)),
            _FRIES,
            MenuItem("BB-SHAKE", "Vanilla Shake", "bar", 120, 495, ("milk",)),
            _COLA,
        ),
    ),
    Brand(
        "wok-this-way",
        "Wok This Way",
        "B",
        (
            MenuItem("WT-PADTHAI", "Pad Thai", "grill", 360, 1395, ("peanuts", "egg", "fish"),
                     (_EXTRA_SPICY, Modifier("No peanuts"))),
            MenuItem("WT-SPRING", "Spring Rolls", "fry", 300, 650, ("gluten", "soy")),
            MenuItem("WT-GYOZA", "Chicken Gyoza", "fry", 330, 750, ("gluten", "soy", "sesame")),
            MenuItem("WT-SALAD", "Papaya Salad", "cold", 180, 895, ("peanuts", "fish"),
                     (_EXTRA_SPICY,)),
            MenuItem("WT-TEA", "Iced Lemon Tea", "bar", 45, 350, (), (_NO_ICE,)),
        ),
    ),
    Brand(
        "green-bowl",
        "Green Bowl",
        "C",
        (
            MenuItem("GB-POKE", "Salmon Poke", "cold", 240, 1450, ("fish", "soy", "sesame"),
                     (Modifier("Extra avocado", 150),)),
            MenuItem("GB-BUDDHA", "Buddha Bowl", "cold", 210, 1250, ("sesame",),
                     (Modifier("Extra avocado", 150),)),
            MenuItem("GB-FALAFEL", "Falafel Wrap", "fry", 270, 995, ("gluten", "sesame")),
            MenuItem("GB-SMOOTHIE", "Green Smoothie", "bar", 90, 550, ()),
        ),
    ),
    Brand(
        "taco-loco",
        "Taco Loco",
        "D",
        (
            MenuItem("TL-TACOS", "Carnitas Tacos", "grill", 360, 1195, ("gluten",),
                     (_NO_ONIONS, _EXTRA_SPICY)),
            MenuItem("TL-BURRITO", "Chicken Burrito", "grill", 420, 1295, ("gluten", "milk"),
                     (_EXTRA_CHEESE, _EXTRA_SPICY)),
            MenuItem("TL-NACHOS", "Loaded Nachos", "fry", 300, 895, ("milk",), (_EXTRA_CHEESE,)),
            _FRIES,
            MenuItem("TL-HORCHATA", "Horchata", "bar", 60, 425, ("milk",), (_NO_ICE,)),
        ),
    ),
    Brand(
        "pizza-planet",
        "Pizza Planet",
        "E",
        (
            MenuItem("PP-MARGHERITA", "Margherita", "grill", 540, 1195, ("gluten", "milk"),
                     (_EXTRA_CHEESE, _GLUTEN_FREE)),
            MenuItem("PP-PEPPERONI", "Pepperoni", "grill", 540, 1395, ("gluten", "milk"),
                     (_EXTRA_CHEESE, _GLUTEN_FREE)),
            MenuItem("PP-CLASSIC", "Classic Burger", "grill", 420, 1150, ("gluten", "milk"),
                     (_NO_ONIONS, _EXTRA_CHEESE)),
            MenuItem("PP-KNOTS", "Garlic Knots", "fry", 240, 595, ("gluten", "milk")),
            MenuItem("PP-SALAD", "Caesar Salad", "cold", 150, 895, ("egg", "fish", "milk")),
            _COLA,
        ),
    ),
)  # fmt: skip


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds and ``Z``, e.g. ``2026-11-24T18:02:11.532Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def resolve_brands(brands: Sequence[Brand | str] | None) -> tuple[Brand, ...]:
    """Brands to use: the defaults, or a selection by id/name, or given ``Brand`` objects."""
    if brands is None:
        return DEFAULT_BRANDS
    by_key = {b.id: b for b in DEFAULT_BRANDS} | {b.name: b for b in DEFAULT_BRANDS}
    chosen: list[Brand] = []
    for entry in brands:
        if isinstance(entry, Brand):
            chosen.append(entry)
        elif entry in by_key:
            chosen.append(by_key[entry])
        else:
            raise ValueError(f"unknown brand {entry!r}")
    if not chosen:
        raise ValueError("at least one brand is needed")
    return tuple(chosen)


class Catalogue:
    """Read-only lookups over a set of brands (items by SKU, prices)."""

    def __init__(self, brands: Sequence[Brand]) -> None:
        self.brands: tuple[Brand, ...] = tuple(brands)
        self._items: dict[str, MenuItem] = {}
        for brand in self.brands:
            for item in brand.items:
                self._items.setdefault(item.sku, item)

    def item(self, sku: str) -> MenuItem:
        """The menu item with this SKU (``KeyError`` when unknown)."""
        return self._items[sku]

    def has_sku(self, sku: str) -> bool:
        """Whether any brand sells this SKU."""
        return sku in self._items

    def brands_selling(self, sku: str) -> list[str]:
        """Ids of the brands that sell this SKU."""
        return [b.id for b in self.brands if any(i.sku == sku for i in b.items)]

    def line_total(self, line: Mapping[str, Any]) -> int:
        """Price of one order line in cents; unknown SKUs or modifiers cost nothing."""
        item = self._items.get(str(line.get("sku")))
        if item is None:
            return 0
        surcharges = {m.name: m.price_cents for m in item.modifiers}
        unit = item.price_cents + sum(
            surcharges.get(str(m.get("name")), 0) * int(m.get("qty", 1))
            for m in line.get("modifiers", [])
            if isinstance(m, Mapping)
        )
        return unit * int(line.get("qty", 1))

    def order_total(self, items: Sequence[Mapping[str, Any]]) -> int:
        """Sum of :meth:`line_total` over an order's items."""
        return sum(self.line_total(line) for line in items)

    def make_line(self, line_id: str, sku: str, qty: int = 1) -> dict[str, Any]:
        """A plain order line (no modifiers, no notes) for a catalogue SKU."""
        item = self.item(sku)
        return {
            "line_id": line_id,
            "sku": item.sku,
            "name": item.name,
            "qty": qty,
            "station": item.station,
            "prep_seconds": item.prep_seconds,
            "modifiers": [],
            "allergens": list(item.allergens),
            "notes": "",
        }


class OrderGenerator:
    """Produces realistic orders; deterministic for a given seed and call sequence."""

    def __init__(self, seed: int = 1, brands: Sequence[Brand | str] | None = None) -> None:
        self.rng = random.Random(seed)
        self.catalogue = Catalogue(resolve_brands(brands))
        self._next_number: dict[str, int] = {}

    @property
    def brands(self) -> tuple[Brand, ...]:
        """The brands this generator draws from."""
        return self.catalogue.brands

    def new_id(self) -> str:
        """An order id: ``ord_`` followed by 12 upper-case base32 characters."""
        return "ord_" + "".join(self.rng.choice(ID_ALPHABET) for _ in range(12))

    def display_number(self, brand: Brand) -> str:
        """The next running display number of a brand, e.g. ``A-1042``."""
        number = self._next_number.get(brand.id, FIRST_DISPLAY_NUMBER)
        self._next_number[brand.id] = number + 1
        return f"{brand.letter}-{number}"

    def order(
        self,
        site_id: str,
        now: datetime | None = None,
        unavailable: Container[str] = frozenset(),
    ) -> dict[str, Any]:
        """A new ``placed`` order (version 1) avoiding the SKUs in ``unavailable``."""
        now = now or datetime.now(UTC)
        brand, menu = self._pick_brand(unavailable)
        items = self._items(menu)
        notes = self.rng.choice(_ORDER_NOTES) if self.rng.random() < 0.25 else ""
        if self.rng.random() < ALLERGY_PROBABILITY:
            allergy = self.rng.choice(_ALLERGY_NOTES)
            if self.rng.random() < 0.5:
                notes = f"{allergy}. {notes}" if notes else allergy
            else:
                line = self.rng.choice(items)
                line["notes"] = f"{allergy}; {line['notes']}" if line["notes"] else allergy
        return {
            "id": self.new_id(),
            "version": 1,
            "site_id": site_id,
            "brand": brand.as_ref(),
            "channel": self.rng.choice(CHANNELS),
            "display_number": self.display_number(brand),
            "placed_at": format_time(now),
            "promised_at": format_time(now + timedelta(minutes=self.rng.randint(15, 35))),
            "priority": "rush" if self.rng.random() < RUSH_PROBABILITY else "normal",
            "status": "placed",
            "customer": self._customer(),
            "notes": notes,
            "items": items,
            "total_cents": self.catalogue.order_total(items),
        }

    def _pick_brand(self, unavailable: Container[str]) -> tuple[Brand, list[MenuItem]]:
        """A brand that still has available items, with those items (all when none has)."""
        candidates = []
        for brand in self.brands:
            menu = [i for i in brand.items if i.sku not in unavailable]
            if menu:
                candidates.append((brand, menu))
        if not candidates:
            brand = self.rng.choice(self.brands)
            return brand, list(brand.items)
        return self.rng.choice(candidates)

    def _items(self, menu: Sequence[MenuItem]) -> list[dict[str, Any]]:
        """1-8 order lines (few lines are more likely) drawn from ``menu``."""
        count = min(8, 1 + int(self.rng.expovariate(0.6)))
        lines = []
        for index in range(1, count + 1):
            item = self.rng.choice(menu)
            line = self.catalogue.make_line(f"l{index}", item.sku, self._qty())
            line["modifiers"] = self._modifiers(item)
            if self.rng.random() < 0.1:
                line["notes"] = self.rng.choice(_ITEM_NOTES)
            lines.append(line)
        return lines

    def _qty(self) -> int:
        return self.rng.choices((1, 2, 3), weights=(75, 20, 5))[0]

    def _modifiers(self, item: MenuItem) -> list[dict[str, Any]]:
        if not item.modifiers or self.rng.random() < 0.6:
            return []
        chosen = self.rng.sample(item.modifiers, self.rng.randint(1, len(item.modifiers)))
        return [{"name": m.name, "qty": 1} for m in chosen]

    def _customer(self) -> dict[str, Any]:
        customer: dict[str, Any] = {"name": self.rng.choice(_FIRST_NAMES)}
        if self.rng.random() < 0.7:
            customer["phone"] = "+316" + "".join(str(self.rng.randint(0, 9)) for _ in range(8))
            customer["notify"] = self.rng.random() < 0.8
        else:
            customer["notify"] = False
        return customer
