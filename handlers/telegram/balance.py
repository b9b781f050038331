"""/balance: available and pending points, what expires next, the level and the way to the next one."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from db.uow import UnitOfWork
from handlers.telegram.card import level_label, no_card_text
from handlers.telegram.menu import PRIVATE, REGISTERED, button, main_menu
from locales import Translator, money, percent, points
from services.clock import Clock
from services.customers import CustomerView
from services.ledger import BalanceView, get_balance
from services.program import get_settings

_UNLOCKS_SHOWN = 5


def format_day(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%d.%m.%Y")


def balance_text(tr: Translator, locale: str, view: BalanceView, tz: ZoneInfo) -> str:
    lines = [tr.get(locale, "balance-title", number=view.card_number)]
    discount = view.mode == "discount"
    # In discount mode the card earns no points, but points earned before the switch stay spendable.
    if not discount or view.available or view.pending or view.debt:
        lines.append(tr.get(locale, "balance-available", points=points(view.available)))
    if view.pending:
        lines.append(tr.get(locale, "balance-pending", points=points(view.pending)))
        lines.extend(
            tr.get(locale, "balance-pending-unlock", points=points(unlock.points),
                   date=format_day(unlock.available_at, tz))
            for unlock in view.pending_unlocks[:_UNLOCKS_SHOWN]
        )
    if view.debt:
        lines.append(tr.get(locale, "balance-debt", points=points(view.debt)))
    if view.expiring_at is not None and view.expiring_points:
        lines.append(tr.get(locale, "balance-expiring", points=points(view.expiring_points),
                            date=format_day(view.expiring_at, tz)))
    level = level_label(locale, view.level_names)
    key = "balance-level-discount" if discount else "balance-level"
    lines.append(tr.get(locale, key, level=level, percent=percent(view.level_percent_bp)))
    if view.next_level_names is not None and view.to_next_level_kopecks is not None:
        lines.append(tr.get(locale, "balance-next-level", level=level_label(locale, view.next_level_names),
                            amount=money(view.to_next_level_kopecks)))
    elif view.level_pinned:
        lines.append(tr.get(locale, "balance-level-pinned"))
    else:
        lines.append(tr.get(locale, "balance-top-level"))
    return "\n".join(lines)


def get_router() -> Router:
    router = Router(name="balance")
    router.message.filter(PRIVATE, REGISTERED)

    @router.message(Command("balance"))
    @router.message(button("balance"))
    async def show_balance(
        message: Message, tr: Translator, locale: str, uow: UnitOfWork, clock: Clock, customer: CustomerView
    ) -> None:
        if customer.card_id is None:
            await message.answer(no_card_text(tr, locale), reply_markup=main_menu(tr, locale))
            return
        view = await get_balance(uow, clock, customer.card_id)
        program = await get_settings(uow)
        await message.answer(balance_text(tr, locale, view, program.tz), reply_markup=main_menu(tr, locale))

    return router
