"""/help: what the bot does and its commands."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from handlers.telegram.menu import PRIVATE, REGISTERED, button, main_menu
from locales import Translator


def get_router() -> Router:
    router = Router(name="help")
    router.message.filter(PRIVATE, REGISTERED)

    @router.message(Command("help"))
    @router.message(button("help"))
    async def show_help(message: Message, tr: Translator, locale: str) -> None:
        await message.answer(tr.get(locale, "help-text"), reply_markup=main_menu(tr, locale))

    return router
