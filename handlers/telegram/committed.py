"""Answers sent after money moved. Once a till operation is committed, a failed answer (Telegram
answering 500, a timeout, a dropped connection) must not end in "something went wrong, please try
again": the cashier who obeys posts a second receipt. The failure is raised as
`CommittedButUnanswered`, which carries what was committed, and the error router sends that instead
(handlers/telegram/errors.py). If that fails too, the update fails: a webhook redelivers it, and the
operation's key (services/staff_desk.py::TillOrigin) makes the redelivery answer the stored result."""

from __future__ import annotations

import html

from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup, Message

from locales import Translator


class CommittedButUnanswered(Exception):
    """An operation is committed, but the message saying so did not reach the chat."""

    def __init__(self, *, chat_id: int, notice: str) -> None:
        super().__init__(f"committed, answer to chat {chat_id} failed")
        self.chat_id = chat_id
        self.notice = notice  # what was committed, for the follow-up message


async def answer_committed(
    message: Message, text: str, *, tr: Translator, locale: str, card_number: str | None,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> None:
    """`message.answer(text)` for the result of a committed operation on card `card_number`."""
    try:
        await message.answer(text, reply_markup=reply_markup)
    except TelegramAPIError as exc:  # 5xx, timeouts and network errors are all TelegramAPIError
        if card_number is None:
            notice = tr.get(locale, "staff-committed-unanswered-receipt")
        else:
            notice = tr.get(locale, "staff-committed-unanswered", card=html.escape(card_number, quote=False))
        notice += "\n\n" + text
        raise CommittedButUnanswered(chat_id=message.chat.id, notice=notice) from exc
