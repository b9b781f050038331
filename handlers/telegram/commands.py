"""The customer commands shown in Telegram's menu, in both languages (setMyCommands at startup).

Private chats only: in groups the bot is silent. Staff commands are set per staff chat elsewhere.
"""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats

from locales import DEFAULT_LOCALE, SUPPORTED, Translator, translator

log = logging.getLogger(__name__)

CUSTOMER_COMMANDS = ("card", "balance", "history", "profile", "language", "help", "deleteme")


def customer_commands(tr: Translator, locale: str) -> list[BotCommand]:
    return [BotCommand(command=name, description=tr.get(locale, f"command-{name}")) for name in CUSTOMER_COMMANDS]


async def set_customer_commands(bot: Bot, tr: Translator | None = None) -> None:
    # Polling passes the workflow data to startup hooks; a bare emit_startup(bot=...) does not.
    tr = tr or translator()
    scope = BotCommandScopeAllPrivateChats()
    try:
        # Without a language code: what clients in any other language see.
        await bot.set_my_commands(customer_commands(tr, DEFAULT_LOCALE), scope=scope)
        for locale in SUPPORTED:
            await bot.set_my_commands(customer_commands(tr, locale), scope=scope, language_code=locale)
    except TelegramAPIError:
        # The menu is a convenience: a Telegram hiccup at start must not stop the bot.
        log.warning("could not set the customer commands", exc_info=True)
