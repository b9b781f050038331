"""What every staff module shares: formatting of amounts, escaping, the answer filter of dialogs."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F
from aiogram.filters import CommandObject

from bot.settings import Settings
from locales import Number
from locales import money as money_value
from locales import percent as percent_value
from locales import points as points_value
from services.ledger.amounts import format_points

# A dialog answer is plain text; a command typed mid-dialog goes to its own handler instead.
ANSWER = F.text & ~F.text.startswith("/")


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def pts(units: int) -> Number:
    """For POINTS() in a text: the number, formatted by the text's language."""
    return points_value(units)


def signed_pts(units: int, locale: str) -> str:
    """"+50" / "-1,5": a change of points, written as the text's language writes numbers."""
    text = format_points(units, locale=locale)
    return f"+{text}" if units > 0 else text


def money(kopecks: int) -> Number:
    """For MONEY() in a text."""
    return money_value(kopecks)


def percent(bp: int) -> Number:
    """For PERCENT() in a text."""
    return percent_value(bp)


def tokens_of(command: CommandObject) -> list[str]:
    return (command.args or "").split()


def business_tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def local_date(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(business_tz(settings)).strftime("%d.%m.%Y")


def local_datetime(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(business_tz(settings)).strftime("%d.%m.%Y %H:%M")
