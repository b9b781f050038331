"""Dates as people type them: DD.MM.YYYY (and DD-MM-YYYY, DD/MM/YYYY in imports)."""

from __future__ import annotations

import re
from datetime import date

from services.errors import InvalidDate

_DATE = re.compile(r"^\s*(\d{1,2})[./-](\d{1,2})[./-](\d{4})\s*$")
EARLIEST_BIRTHDAY = date(1900, 1, 1)


def parse_date(text: str) -> date:
    match = _DATE.match(text)
    if not match:
        raise InvalidDate(value=text)
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidDate(value=text) from None


def parse_birthday(text: str, today: date) -> date:
    """A birthday must be a real past date after 1900."""
    value = parse_date(text)
    if value > today or value < EARLIEST_BIRTHDAY:
        raise InvalidDate(value=text)
    return value


def birthday_in_year(birthday: date, year: int) -> date:
    """29 February is celebrated on 28 February in years without one."""
    try:
        return birthday.replace(year=year)
    except ValueError:
        return date(year, 2, 28)
