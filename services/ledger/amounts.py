"""Arithmetic on ledger units. Points are stored in hundredths ("units"): 1 point = 100 units =
1 RUB = 100 kopecks, so a number of units is also the kopecks those points pay for. Rates are basis
points. Integers only: a float never touches a balance."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from services.errors import InvalidAmount

UNITS_PER_POINT = 100
BP = 10_000  # 100 % in basis points


def points(whole: int | str | Decimal) -> int:
    """Whole (or decimal) points -> units: points(50) == 5000, points("0.5") == 50."""
    try:
        value = Decimal(whole) * UNITS_PER_POINT
    except InvalidOperation as exc:
        raise ValueError(f"not a number of points: {whole!r}") from exc
    if value != value.to_integral_value():
        raise ValueError(f"more than two decimals: {whole!r}")
    return int(value)


def floor_to(units: int, quantum: int) -> int:
    """Round DOWN to a multiple of `quantum` (100 = whole points): the customer never gets a
    fraction the program does not hand out, and the program never owes a fraction it rounded up."""
    return units - units % quantum


def percent_of(amount: int, rate_bp: int) -> int:
    """`rate_bp` basis points of `amount`, rounded down."""
    return amount * rate_bp // BP


def accrual_units(base_kopecks: int, rate_bp: int, multiplier_bp: int, quantum: int) -> int:
    """Points earned on `base_kopecks`: one multiplication then one division, so a multiplier of
    x1.5 on 5 % gives exactly 7.5 % before the single rounding down."""
    return floor_to(base_kopecks * rate_bp * multiplier_bp // (BP * BP), quantum)


def share(total: int, part: int, whole: int, quantum: int) -> int:
    """`total` x part / whole, rounded down to `quantum`; the whole of it when part == whole, so
    the last of several proportional steps takes exactly what is left."""
    if part >= whole:
        return total
    return floor_to(total * part // whole, quantum)


def format_points(units: int, decimals: int = 0) -> str:
    """Units -> "50" or "50.25" (a leading "-" for negatives)."""
    sign = "-" if units < 0 else ""
    whole, cents = divmod(abs(units), UNITS_PER_POINT)
    if decimals == 0 or cents == 0:
        return f"{sign}{whole}" if cents == 0 else f"{sign}{whole}.{cents:02d}"
    return f"{sign}{whole}.{cents:02d}"


# Typed amounts ---------------------------------------------------------------------------------
# The one place where what a person types at a till becomes kopecks or units. Accepted: "1234",
# "1234.50", "1234,50" (and one decimal: "12,5"). Refused: signs where none is expected, exponents,
# "12,345" (a thousands separator or three decimals? ambiguous), zero, and sizes no till sends.
# The program's own receipt limit (the `max_receipt_rub` setting, 10 million RUB by default) is
# lower and is checked by the ledger with the limit named; this bound is only the most that setting
# may be raised to, like the API's.
MAX_TYPED_KOPECKS = 1_000_000_000 * 100
MAX_TYPED_UNITS = 10_000_000 * UNITS_PER_POINT  # 10 million points at once


def _typed_decimal(text: str, *, field: str, signed: bool) -> Decimal:
    raw = text.strip()
    pattern = r"[+-]?\d{1,12}(?:[.,]\d{1,2})?" if signed else r"\d{1,12}(?:[.,]\d{1,2})?"
    if not re.fullmatch(pattern, raw):
        raise InvalidAmount(field=field, value=text)
    value = Decimal(raw.replace(",", "."))
    if value == 0:
        raise InvalidAmount(field=field, value=text)
    return value


def parse_money(text: str, *, field: str = "amount") -> int:
    """A typed ruble amount -> kopecks (positive, at most MAX_TYPED_KOPECKS)."""
    kopecks = int(_typed_decimal(text, field=field, signed=False) * 100)
    if kopecks > MAX_TYPED_KOPECKS:
        raise InvalidAmount(field=field, value=text)
    return kopecks


def parse_points(text: str, *, field: str = "points", signed: bool = False) -> int:
    """Typed points -> units. `signed`: "+50" / "-50" for adjustments (a bare "50" means +50)."""
    units = int(_typed_decimal(text, field=field, signed=signed) * UNITS_PER_POINT)
    if abs(units) > MAX_TYPED_UNITS:
        raise InvalidAmount(field=field, value=text)
    return units


def format_money(kopecks: int) -> str:
    """Kopecks -> "1234" or "1234.50"."""
    sign = "-" if kopecks < 0 else ""
    rubles, rest = divmod(abs(kopecks), 100)
    return f"{sign}{rubles}" if rest == 0 else f"{sign}{rubles}.{rest:02d}"


def format_percent(bp: int) -> str:
    """Basis points -> "5" or "7.5"."""
    whole, rest = divmod(bp, 100)
    return str(whole) if rest == 0 else f"{whole}.{rest:02d}".rstrip("0")
