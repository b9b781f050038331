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


async def test_a_user_can_send_bold_and_italic_and_nothing_else_malformed(bot: Bot, client: EmulatorClient) -> None:
    text = "/promo **x** 😀 жирный курсив"
    bold = {"type": "bold", "offset": 16, "length": 6}  # after the emoji: 2 UTF-16 units
    italic = {"type": "italic", "offset": 23, "length": 6}
    await client.send_text(ANNA, text, entities=[italic, bold])
    updates = await bot.get_updates(timeout=0)
    message = updates[-1].message
    assert message is not None
    assert [(e.type, e.offset, e.length) for e in message.entities or []] == [
        ("bot_command", 0, 6), ("bold", 16, 6), ("italic", 23, 6),
    ]
    assert message.html_text == "/promo **x** 😀 <b>жирный</b> <i>курсив</i>"
    for wrong in (
        [{"type": "text_link", "offset": 0, "length": 1, "url": "https://example.com"}],
        [{"type": "bold", "offset": 0, "length": 0}],
        [{"type": "bold", "offset": 21, "length": 9}],  # the text is 29 units long
        ["bold"],
    ):
        with pytest.raises(EmulatorError, match="entities") as refused:
            await client.send_text(ANNA, text, entities=wrong)
        assert refused.value.status == 400
    assert len(await client.messages(ANNA, include_user=True)) == 1
