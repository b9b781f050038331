"""What every staff module shares: formatting of amounts, escaping, the answer filter of dialogs."""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import F
from aiogram.filters import CommandObject

from bot.settings import Settings
from services.ledger.amounts import format_money, format_percent, format_points

# A dialog answer is plain text; a command typed mid-dialog goes to its own handler instead.
ANSWER = F.text & ~F.text.startswith("/")


def esc(value: object) -> str:
    return html.escape(str(value), quote=False)


def pts(units: int) -> str:
    return format_points(units)


def money(kopecks: int) -> str:
    return format_money(kopecks)


def percent(bp: int) -> str:
    return format_percent(bp)


def tokens_of(command: CommandObject) -> list[str]:
    return (command.args or "").split()


def business_tz(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def local_date(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(business_tz(settings)).strftime("%d.%m.%Y")


def local_datetime(moment: datetime, settings: Settings) -> str:
    return moment.astimezone(business_tz(settings)).strftime("%d.%m.%Y %H:%M")
