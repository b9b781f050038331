"""Arithmetic on ledger units. Points are stored in hundredths ("units"): 1 point = 100 units =
1 RUB = 100 kopecks, so a number of units is also the kopecks those points pay for. Rates are basis
points. Integers only: a float never touches a balance."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_format_percent

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


# What a text receives: a number in the unit a person reads (points, rubles, percent). Whole values
# are ints and fractions floats, because Fluent picks a plural form only for int and float, and
# a float 21.0 counts as a fraction ("21,0 балла" instead of "21 балл").
Number = int | float


def shown_points(units: int) -> Number:
    return _shown(units, UNITS_PER_POINT)


def shown_rubles(kopecks: int) -> Number:
    return _shown(kopecks, 100)


def shown_percent(bp: int) -> Number:
    return _shown(bp, 100)


def _shown(value: int, per: int) -> Number:
    whole, rest = divmod(value, per)
    return whole if rest == 0 else value / per


def _number(value: Decimal, fraction: bool, locale: str) -> str:
    """A number as `locale` writes it: "2 500,50" (a no-break space groups thousands, a comma
    before the decimals) in Russian, "2,500.50" in English. Babel holds the CLDR data."""
    return format_decimal(value, format="#,##0.00" if fraction else "#,##0", locale=_babel_locale(locale))


def _babel_locale(locale: str | None) -> str:
    return locale if locale in ("ru", "en") else "ru"


def format_points(units: int, *, locale: str = "ru") -> str:
    """Units -> "50", "1 250" or "50,25" in Russian ("1,250", "50.25" in English): decimals only
    when the amount has a fraction, so whole points never read "50,00"."""
    return _number(Decimal(units) / UNITS_PER_POINT, units % UNITS_PER_POINT != 0, locale)


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


def format_money(kopecks: int, *, locale: str = "ru") -> str:
    """Kopecks -> "2 500,50 ₽" in Russian, "2,500.50 ₽" in English; whole rubles without ",00".
    The sign stays after the number in both languages (one habit, and the symbol is the same), a
    no-break space keeps it on the number's line."""
    return _number(Decimal(kopecks) / 100, kopecks % 100 != 0, locale) + "\u00a0₽"


def format_percent(bp: int, *, locale: str = "ru") -> str:
    """Basis points -> "7,5 %" in Russian (a no-break space before the sign, as Russian typesetting
    wants), "7.5%" in English; at most two decimals, none when whole."""
    pattern = "#,##0.##\u00a0%" if _babel_locale(locale) == "ru" else "#,##0.##%"
    return babel_format_percent(Decimal(bp) / BP, format=pattern, locale=_babel_locale(locale))
