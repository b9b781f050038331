"""/help: what the bot does and its commands."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, REGISTERED, button, main_menu
from locales import Translator, percent
from services.program import get_settings


async def customer_help(uow: UnitOfWork, tr: Translator, locale: str) -> str:
    """The customer's help, with the numbers of the program as it is set now."""
    settings = await get_settings(uow)
    return tr.get(locale, "help-text", cap=percent(settings.redemption_cap_bp))


def get_router() -> Router:
    router = Router(name="help")
    router.message.filter(PRIVATE, REGISTERED)

    @router.message(Command("help"))
    @router.message(button("help"))
    async def show_help(message: Message, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        await message.answer(await customer_help(uow, tr, locale), reply_markup=main_menu(tr, locale))

    return router
