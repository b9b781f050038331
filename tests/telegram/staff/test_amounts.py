"""The one parser of typed amounts and the formatting staff read (pure functions, no database)."""

from __future__ import annotations

import pytest

from services.errors import InvalidAmount
from services.ledger.amounts import format_money, format_percent, parse_money, parse_points


@pytest.mark.parametrize(
    ("typed", "kopecks"), [("1234", 123400), ("1234.50", 123450), ("1234,50", 123450), ("12,5", 1250), (" 7 ", 700)]
)
def test_money_spellings(typed: str, kopecks: int) -> None:
    assert parse_money(typed) == kopecks


@pytest.mark.parametrize("typed", ["-5", "+5", "1e9", "12,345", "0", "0,00", "100000000001", "1 000", "", "1.2.3", "∞"])
def test_money_refusals(typed: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_money(typed)


def test_points_signs() -> None:
    assert parse_points("50") == 5000
    assert parse_points("+50", signed=True) == 5000
    assert parse_points("-0,5", signed=True) == -50
    for typed in ("-50", "+50", "0"):
        with pytest.raises(InvalidAmount):
            parse_points(typed)
    with pytest.raises(InvalidAmount):
        parse_points("-0", signed=True)


def test_formatting() -> None:
    nb = "\u00a0"
    assert [format_money(k) for k in (123450, 100, 5, -250)] == [
        f"1{nb}234,50{nb}₽", f"1{nb}₽", f"0,05{nb}₽", f"-2,50{nb}₽"
    ]
    assert [format_money(k, locale="en") for k in (123450, 100)] == [f"1,234.50{nb}₽", f"1{nb}₽"]
    assert [format_percent(bp) for bp in (500, 750, 1025, 3000)] == [f"5{nb}%", f"7,5{nb}%", f"10,25{nb}%", f"30{nb}%"]
    assert [format_percent(bp, locale="en") for bp in (500, 750)] == ["5%", "7.5%"]
