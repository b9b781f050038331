"""A refusal inside a guided dialog says what was wrong and what is allowed (the domain error's
message, with the numbers from the live settings and the receipt), and which value to type again.
The dialog stays at its step: a refused answer is never silently kept, nor silently dropped."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, Message

from handlers.telegram.errors import error_text
from handlers.telegram.staff.keyboards import cancel_keyboard
from locales import Translator
from services.errors import DomainError


async def refuse(
    message: Message, tr: Translator, locale: str, error: DomainError, again: str,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Answer `error` and the hint `again` (a text key naming the value to type again)."""
    text = error_text(tr, locale, error) + "\n" + tr.get(locale, again)
    await message.answer(text, reply_markup=reply_markup or cancel_keyboard(tr, locale))
