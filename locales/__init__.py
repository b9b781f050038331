"""User-visible texts: Fluent files, one per feature, Russian default and English second.

`Translator.get(locale, key, **args)` renders a message; `locales()` lists the languages. The
locale is always passed explicitly, so scheduler jobs render in each customer's language too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from fluent.runtime import FluentBundle, FluentResource

from services.ledger.amounts import (
    Number,
    format_money,
    format_percent,
    format_points,
    shown_percent,
    shown_points,
    shown_rubles,
)

__all__ = ["Number", "Translator", "money", "percent", "points", "translator"]

LOCALES_DIR = Path(__file__).parent
DEFAULT_LOCALE = "ru"
SUPPORTED = ("ru", "en")


def fluent_args(params: Mapping[str, Any]) -> dict[str, Any]:
    """A domain error's parameters for its message: integers named `*_kopecks` are money and
    `*_units` are points (services/errors.py keeps parameters plain, for the API's problem bodies)."""
    args = dict(params)
    for name, value in params.items():
        if isinstance(value, int) and not isinstance(value, bool):
            if name.endswith("_kopecks"):
                args[name] = shown_rubles(value)
            elif name.endswith("_units"):
                args[name] = shown_points(value)
    return args


# Numbers reach the texts as numbers (services.ledger.amounts.shown_*), so a selector picks the
# plural form by CLDR rules: `{ $points -> [one] балл ... }`; the functions POINTS(), MONEY() and
# PERCENT() write them the way the bundle's language does ("2 500,50 ₽", "7,5 %").
points = shown_points
money = shown_rubles
percent = shown_percent


def _hundredths(value: Any) -> int:
    # Fluent hands a function its own number types; str() gives back the digits we passed.
    return int((Decimal(str(value)) * 100).to_integral_value())


def _functions(locale: str) -> dict[str, Callable[[Any], Any]]:
    return {
        "POINTS": lambda value: format_points(_hundredths(value), locale=locale),
        "MONEY": lambda value: format_money(_hundredths(value), locale=locale),
        "PERCENT": lambda value: format_percent(_hundredths(value), locale=locale),
    }


class Translator:
    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self._bundles: dict[str, FluentBundle] = {}
        self.keys: dict[str, set[str]] = {}
        for locale in SUPPORTED:
            # use_isolating=False: Unicode isolation marks would show up in Telegram as garbage.
            bundle = FluentBundle([locale], use_isolating=False, functions=_functions(locale))
            keys: set[str] = set()
            for path in sorted((directory / locale).glob("*.ftl")):
                resource = FluentResource(path.read_text(encoding="utf-8"))
                bundle.add_resource(resource)
                keys.update(entry.id.name for entry in resource.body if hasattr(entry, "id"))
            self._bundles[locale] = bundle
            self.keys[locale] = keys

    def get(self, locale: str | None, key: str, /, **args: Any) -> str:
        bundle = self._bundles.get(locale or DEFAULT_LOCALE) or self._bundles[DEFAULT_LOCALE]
        if not bundle.has_message(key):
            bundle = self._bundles[DEFAULT_LOCALE]
            if not bundle.has_message(key):
                return key
        message = bundle.get_message(key)
        if message.value is None:
            return key
        text, _errors = bundle.format_pattern(message.value, args)
        return str(text)

    def has(self, key: str) -> bool:
        return key in self.keys[DEFAULT_LOCALE]


@lru_cache(maxsize=1)
def translator() -> Translator:
    return Translator()
