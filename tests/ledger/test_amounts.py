"""Integer arithmetic of points (no database)."""

from __future__ import annotations

import pytest

from services.ledger.amounts import accrual_units, floor_to, format_points, points, share
from services.ledger.redemption import max_redeemable


def test_units() -> None:
    assert points(50) == 5000 and points("0.5") == 50
    with pytest.raises(ValueError):
        points("0.005")


@pytest.mark.parametrize(
    ("base", "rate", "multiplier", "quantum", "expected"),
    [
        (100_000, 500, 10_000, 100, 5000),  # 1 000 RUB at 5 % -> 50 points
        (70_000, 500, 10_000, 100, 3500),  # 700 RUB -> 35
        (99_900, 500, 15_000, 100, 7400),  # 999 RUB at 7.5 % = 74.925 -> 74
        (99_900, 500, 15_000, 1, 7492),  # with two decimals: 74.92
        (1_999, 500, 10_000, 100, 0),  # 19.99 RUB earns no whole point
    ],
)
def test_accrual_rounds_down(base: int, rate: int, multiplier: int, quantum: int, expected: int) -> None:
    assert accrual_units(base, rate, multiplier, quantum) == expected


def test_share_is_cumulative_and_exact_at_the_end() -> None:
    assert share(5000, 33_300, 100_000, 100) == 1600
    assert share(5000, 66_600, 100_000, 100) == 3300
    assert share(5000, 100_000, 100_000, 100) == 5000
    assert floor_to(1999, 100) == 1900


def test_cap_and_format() -> None:
    assert max_redeemable(100_000, 3000, 100) == 30_000
    assert max_redeemable(999, 3000, 100) == 200  # 2.997 RUB -> 2 whole points
    assert format_points(5000) == "50" and format_points(5025) == "50,25" and format_points(-5000) == "-50"
    assert format_points(123_456_700, locale="en") == "1,234,567"  # never "1.23457e+06"
    assert format_points(123_456_750) == "1\u00a0234\u00a0567,50"
