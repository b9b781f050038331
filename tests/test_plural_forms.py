"""Every text where a number meets a noun picks the noun's form by the CLDR rules of its language:
1 балл, 2 балла, 5 баллов, 21 балл; 1 point, 2 points. The list below is explicit, and a second test
finds every plural selector in the .ftl files, so a new counted text cannot be left out of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fluent.syntax import ast, parse
from fluent.syntax.visitor import Visitor

from locales import LOCALES_DIR, SUPPORTED, points, translator

COUNTS = (0, 1, 2, 5, 11, 21, 24, 124)
# The CLDR categories of these counts, written out by hand so the test does not trust the library
# it checks: ru one = 1, 21; few = 2, 24, 124; many = 0, 5, 11. en one = 1.
CATEGORY = {
    "ru": {0: "many", 1: "one", 2: "few", 5: "many", 11: "many", 21: "one", 24: "few", 124: "few"},
    "en": {n: "one" if n == 1 else "other" for n in COUNTS},
}
POINTS_RU = {"one": "{n} балл", "few": "{n} балла", "many": "{n} баллов"}
POINTS_EN = {"one": "{n} point", "other": "{n} points"}
POINT_FORMS = {"ru": POINTS_RU, "en": POINTS_EN}

# (key, the counted variable, whether it is a number of points, other parameters, forms if not points)
Case = tuple[str, str, bool, dict[str, Any], dict[str, dict[str, str]] | None]
CASES: list[Case] = [
    ("balance-available", "points", True, {}, None),
    ("balance-pending", "points", True, {}, None),
    ("balance-pending-unlock", "points", True, {"date": "01.02.2026"}, None),
    ("balance-debt", "points", True, {}, None),
    ("balance-expiring", "points", True, {"date": "01.02.2026"}, None),
    ("registration-created", "points", True, {"number": "9161234567"}, None),
    ("history-debt-repaid", "points", True, {}, None),
    ("family-moved", "points", True, {}, None),
    ("notify-accrual", "points", True, {"balance": points(100)}, None),
    ("notify-accrual", "balance", True, {"points": points(100)}, None),
    ("notify-accrual-pending", "points", True, {"available_on": "01.02.2026"}, None),
    ("notify-activation", "points", True, {"balance": points(100)}, None),
    ("notify-activation", "balance", True, {"points": points(100)}, None),
    ("notify-redemption", "points", True, {"balance": points(100)}, None),
    ("notify-redemption", "balance", True, {"points": points(100)}, None),
    ("notify-refund", "reversed", True, {"balance": points(100)}, None),
    ("notify-refund", "balance", True, {"reversed": points(100)}, None),
    ("notify-refund-restored", "reversed", True, {"restored": points(300), "balance": points(100)}, None),
    ("notify-refund-restored", "restored", True, {"reversed": points(300), "balance": points(100)}, {
        "ru": POINTS_RU, "en": {"one": "{n} spent point", "other": "{n} spent points"},
    }),
    ("notify-refund-restored", "balance", True, {"reversed": points(300), "restored": points(300)}, None),
    ("notify-expiry-warning", "points", True, {"date": "01.02.2026"}, None),
    ("notify-expired", "points", True, {"balance": points(100)}, None),
    ("notify-expired", "balance", True, {"points": points(100)}, None),
    ("notify-birthday-bonus", "bonus", True, {"valid_until": "01.02.2026"}, {
        "ru": POINTS_RU, "en": {"one": "is {n} gift point", "other": "are {n} gift points"},
    }),
    ("staff-find-found", "count", False, {"paged": "no"}, {
        "ru": {"one": "Найден {n} клиент", "few": "Найдено {n} клиента", "many": "Найдено {n} клиентов"},
        "en": {"one": "Found {n} customer", "other": "Found {n} customers"},
    }),
    ("broadcast-queued", "queued", False, {"id": 7}, {
        "ru": {"one": "для {n} клиента", "few": "для {n} клиентов", "many": "для {n} клиентов"},
        "en": {"one": "for {n} customer", "other": "for {n} customers"},
    }),
    ("import-reason-frequent_phone", "times", False, {}, {
        "ru": {"one": "{n} раз", "few": "{n} раза", "many": "{n} раз"},
        "en": {"one": "occurs once", "other": "occurs {n} times"},
    }),
    ("error-too_many_code_attempts", "minutes", False, {"scope": "till"}, {
        "ru": {"one": "через {n} минуту", "few": "через {n} минуты", "many": "через {n} минут"},
        "en": {"one": "in {n} minute.", "other": "in {n} minutes."},
    }),
    ("staff-ask-receipt-amount-for", "points", True, {}, None),
    ("staff-ask-code-for", "points", True, {"amount": 100}, None),
    ("staff-summary-paid", "points", True, {}, None),
    ("staff-summary-earn", "points", True, {}, None),
    ("error-cap_exceeded", "max_units", True, {"cap_percent": 30, "receipt_kopecks": 100}, {
        # After "не больше" the genitive: 1 балла, 2 баллов, 5 баллов, 21 балла.
        "ru": {"one": "не больше {n} балла", "few": "не больше {n} баллов", "many": "не больше {n} баллов"},
        "en": {"one": "at most {n} point", "other": "at most {n} points"},
    }),
    ("import-reason-unclosed_quote", "lines", False, {}, {
        "ru": {"one": "{n} строки", "few": "{n} строк", "many": "{n} строк"},
        "en": {"one": "{n} line", "other": "{n} lines"},
    }),
    ("card-code", "seconds", False, {"code": "123456"}, {
        "ru": {"one": "{n} с.", "few": "{n} с.", "many": "{n} с."},
        "en": {"one": "{n} more second.", "other": "{n} more seconds."},
    }),
]
PLURAL_KEYS = {"zero", "one", "two", "few", "many", "other"}


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text)


@pytest.mark.parametrize("language", SUPPORTED)
@pytest.mark.parametrize(("key", "variable", "is_points", "params", "forms"), CASES,
                         ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_every_count_takes_the_form_its_number_needs(
    language: str, key: str, variable: str, is_points: bool, params: dict[str, Any],
    forms: dict[str, dict[str, str]] | None,
) -> None:
    expected_forms = POINT_FORMS[language] if forms is None else forms[language]
    for n in COUNTS:
        value = points(n * 100) if is_points else n
        text = _plain(translator().get(language, key, **{variable: value}, **params))
        expected = expected_forms[CATEGORY[language][n]].format(n=n)
        # The form must stand as a whole word: "5 баллов" must not pass as "5 балл".
        assert re.search(re.escape(expected) + r"(?![а-яёa-z])", text), (language, key, n, text)


@pytest.mark.parametrize("language", SUPPORTED)
def test_points_with_a_fraction_take_the_fraction_form(language: str) -> None:
    text = translator().get(language, "balance-pending", points=points(150))
    assert text.endswith({"ru": "1,50 балла", "en": "1.50 points"}[language])


class _Selectors(Visitor):
    """(message, variable) of every select expression on a variable with a plural category."""

    def __init__(self) -> None:
        super().__init__()
        self.key = ""
        self.found: set[tuple[str, str]] = set()

    def visit_SelectExpression(self, node: ast.SelectExpression) -> None:
        names = {v.key.name for v in node.variants if isinstance(v.key, ast.Identifier)}
        if isinstance(node.selector, ast.VariableReference) and names & PLURAL_KEYS:
            self.found.add((self.key, node.selector.id.name))
        self.generic_visit(node)


def _plural_selectors(language: str) -> set[tuple[str, str]]:
    visitor = _Selectors()
    for path in sorted((Path(LOCALES_DIR) / language).glob("*.ftl")):
        for entry in parse(path.read_text(encoding="utf-8")).body:
            if isinstance(entry, ast.Message):
                visitor.key = entry.id.name
                visitor.visit(entry)
    return visitor.found


@pytest.mark.parametrize("language", SUPPORTED)
def test_no_plural_selector_is_left_out_of_the_list(language: str) -> None:
    listed = {(key, variable) for key, variable, *_ in CASES}
    found = _plural_selectors(language)
    assert found - listed == set()
    assert found >= {("balance-pending", "points"), ("staff-find-found", "count")}  # the finder finds
