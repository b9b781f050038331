"""Every text exists in every language, and every domain error, wherever it is declared, has a message."""

from __future__ import annotations

import importlib
import pkgutil

import services
from locales import SUPPORTED, Translator
from services.errors import DomainError


def test_every_key_exists_in_every_locale() -> None:
    translator = Translator()
    reference = translator.keys["ru"]
    assert reference, "no texts loaded"
    for locale in SUPPORTED:
        missing = reference ^ translator.keys[locale]
        assert not missing, f"{locale}: keys present in one locale only: {sorted(missing)}"


def _all_domain_errors() -> set[type[DomainError]]:
    for module in pkgutil.walk_packages(services.__path__, prefix="services."):
        importlib.import_module(module.name)
    found: set[type[DomainError]] = set()
    pending = [DomainError]
    while pending:
        cls = pending.pop()
        found.add(cls)
        pending.extend(cls.__subclasses__())
    return found


def test_every_domain_error_has_a_message_in_every_language() -> None:
    translator = Translator()
    errors = _all_domain_errors()
    assert len(errors) > 40, "the services were not all imported"
    for locale in SUPPORTED:
        missing = sorted(f"{cls.__module__}.{cls.__name__}" for cls in errors
                         if f"error-{cls.code}" not in translator.keys[locale])
        assert not missing, (locale, missing)
