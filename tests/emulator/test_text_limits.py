"""Texts over 4096 characters (UTF-16 code units, after parsing) are refused on both sides, as
Telegram does: the bot gets 400 "Bad Request: message is too long", a user cannot send one."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from emulator import EmulatorClient, EmulatorError
from tests.emulator.conftest import ANNA

LIMIT = 4096


async def test_the_bot_cannot_send_or_edit_to_a_text_over_4096(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "/start")
    sent = await bot.send_message(ANNA, "x" * LIMIT, parse_mode=None)
    # Markup does not count: 4096 characters inside <b> are still 4096.
    await bot.send_message(ANNA, f"<b>{'y' * LIMIT}</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ANNA, "x" * (LIMIT + 1), parse_mode=None)
    # Telegram counts UTF-16 code units: 2049 emoji are 4098 of them.
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(ANNA, "😀" * 2049, parse_mode=None)
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.edit_message_text("z" * (LIMIT + 1), chat_id=ANNA, message_id=sent.message_id, parse_mode=None)
    assert (await client.last_message(ANNA)).text == "y" * LIMIT


async def test_a_user_cannot_send_or_edit_to_a_text_over_4096(client: EmulatorClient) -> None:
    sent = await client.send_text(ANNA, "a" * LIMIT)
    with pytest.raises(EmulatorError, match="message is too long") as refused:
        await client.send_text(ANNA, "b" * (LIMIT + 1))
    assert refused.value.status == 400
    with pytest.raises(EmulatorError, match="message is too long"):
        await client.send_text(ANNA, "😀" * 2049)
    with pytest.raises(EmulatorError, match="message is too long"):
        await client.edit_text(ANNA, sent, "c" * (LIMIT + 1))
    texts = [m.text for m in await client.messages(ANNA, include_user=True)]
    assert texts == ["a" * LIMIT]  # nothing refused was recorded
