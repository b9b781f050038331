"""Staff see their own command list: set with BotCommandScopeChat for each staff chat when someone
becomes staff (invite accepted) and, at startup, for every active staff member; removed when one is
deactivated. The list holds the customer commands plus the staff commands of the member's role, in Russian (the
default) and English (for clients set to English)."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeChat

from db.uow import UnitOfWork
from handlers.telegram.commands import customer_commands
from locales import Translator
from services import staff as staff_service
from services.staff import StaffView

log = logging.getLogger(__name__)

# (command, minimum role), in the order the menu shows them.
STAFF_COMMANDS: tuple[tuple[str, str], ...] = (
    ("find", "cashier"),
    ("accrue", "cashier"),
    ("redeem", "cashier"),
    ("refund", "cashier"),
    ("newcustomer", "cashier"),
    ("report", "cashier"),
    ("shift", "cashier"),
    ("adjust", "manager"),
    ("cardstatus", "manager"),
    ("conflicts", "manager"),
    ("invite", "manager"),
    ("staff", "manager"),
    ("newstore", "admin"),
    ("broadcast", "admin"),
    ("outbox", "admin"),
    ("linktypes", "admin"),
)
MENU_LANGUAGES: tuple[tuple[str, str | None], ...] = (("ru", None), ("en", "en"))


def commands_for(member: StaffView, tr: Translator, locale: str) -> list[BotCommand]:
    """A chat's own list replaces the customer list there, so it repeats it: staff are customers too."""
    names = [name for name, role in STAFF_COMMANDS if member.at_least(role)]
    staff_commands = [BotCommand(command=name, description=tr.get(locale, f"staff-menu-{name}")) for name in names]
    return customer_commands(tr, locale) + staff_commands


async def show_staff_menu(bot: Bot, tr: Translator, member: StaffView) -> None:
    scope = BotCommandScopeChat(chat_id=member.telegram_id)
    try:
        for locale, language_code in MENU_LANGUAGES:
            await bot.set_my_commands(commands_for(member, tr, locale), scope=scope, language_code=language_code)
    except TelegramAPIError as exc:  # e.g. the member never opened the bot: no chat yet
        log.warning("staff menu not set for staff %s: %s", member.id, exc)


async def hide_staff_menu(bot: Bot, telegram_id: int) -> None:
    scope = BotCommandScopeChat(chat_id=telegram_id)
    try:
        for _, language_code in MENU_LANGUAGES:
            await bot.delete_my_commands(scope=scope, language_code=language_code)
    except TelegramAPIError as exc:
        log.warning("staff menu not removed for a former staff member: %s", exc)


def get_router() -> Router:
    router = Router(name="staff-menu")

    @router.startup()
    async def show_menus_at_startup(bot: Bot, uow: UnitOfWork, tr: Translator) -> None:
        for member in await staff_service.list_staff(uow):
            if member.active:
                await show_staff_menu(bot, tr, member)

    return router
