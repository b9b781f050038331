"""Helpers for the customer bot tests: registering through the bot, reading what it stored,
and updates the shared builders do not make (media, edited messages, callbacks on photos)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.methods import AnswerCallbackQuery, SendMessage, SendPhoto
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    Message,
    PhotoSize,
    ReplyKeyboardMarkup,
    Sticker,
    Update,
    User,
    Voice,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer
from db.uow import UnitOfWork
from services import customers
from services.customers import CustomerView
from tests.support import updates
from tests.support.fixtures import BotHarness

_ids = itertools.count(500_000)

PHONE = "79161234567"  # as Telegram sends it: no "+"
CARD = "9161234567"


async def register(harness: BotHarness, sender: User, phone: str = PHONE) -> CustomerView:
    await harness.feed(updates.text(sender, "/start"))
    await harness.feed(updates.contact(sender, phone))
    customer = await customers.get_by_telegram(harness.context.uow, sender.id)
    assert customer is not None, harness.texts()
    harness.session.clear()
    return customer


async def customer_count(uow: UnitOfWork) -> int:
    async def work(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(Customer))).scalar_one())

    return await uow.read(work)


def fsm(harness: BotHarness, user_id: int) -> FSMContext:
    return harness.dispatcher.fsm.get_context(bot=harness.bot, chat_id=user_id, user_id=user_id)


def last_message(harness: BotHarness) -> SendMessage:
    sent = harness.session.sent(SendMessage)
    assert sent, f"nothing sent: {harness.session.requests}"
    return sent[-1]


def inline_buttons(markup: Any) -> list[tuple[str, str]]:
    assert isinstance(markup, InlineKeyboardMarkup), markup
    return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


def reply_buttons(markup: Any) -> list[str]:
    assert isinstance(markup, ReplyKeyboardMarkup), markup
    return [b.text for row in markup.keyboard for b in row]


def has_contact_button(markup: Any) -> bool:
    return isinstance(markup, ReplyKeyboardMarkup) and [
        b.request_contact for row in markup.keyboard for b in row
    ] == [True]


def alerts(harness: BotHarness) -> list[str]:
    return [a.text or "" for a in harness.session.sent(AnswerCallbackQuery)]


def photos(harness: BotHarness) -> list[SendPhoto]:
    return harness.session.sent(SendPhoto)


def _message(sender: User, **fields: Any) -> Message:
    return Message(
        message_id=next(_ids), date=datetime.now(UTC), chat=Chat(id=sender.id, type="private"), from_user=sender,
        **fields,
    )


def sticker(sender: User) -> Update:
    item = Sticker(file_id="s", file_unique_id="s", type="regular", width=1, height=1, is_animated=False,
                   is_video=False)
    return Update(update_id=next(_ids), message=_message(sender, sticker=item))


def photo(sender: User) -> Update:
    return Update(update_id=next(_ids), message=_message(
        sender, photo=[PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)]))


def voice(sender: User) -> Update:
    return Update(update_id=next(_ids), message=_message(sender, voice=Voice(file_id="v", file_unique_id="v",
                                                                                 duration=1)))


def edited(sender: User, value: str) -> Update:
    return Update(update_id=next(_ids), edited_message=_message(sender, text=value, edit_date=1))


def callback_on_photo(sender: User, data: str, caption: str) -> Update:
    bot_message = Message(message_id=next(_ids), date=datetime.now(UTC), chat=Chat(id=sender.id, type="private"),
                          caption=caption, photo=[PhotoSize(file_id="p", file_unique_id="p", width=1, height=1)])
    query = CallbackQuery(id=str(next(_ids)), from_user=sender, chat_instance="ci", data=data, message=bot_message)
    return Update(update_id=next(_ids), callback_query=query)
