"""Flood control and injected faults: what a careful bot must survive."""

from __future__ import annotations

import asyncio

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from emulator import EmulatorClient
from tests.emulator.conftest import ANNA, TOKEN, limited, make_bot


async def test_per_chat_limit_answers_429_to_a_flood() -> None:
    # aiogram does not retry by itself, so every 429 reaches the caller.
    async with limited() as (emu, bot):
        await emu.client.send_text(ANNA, "hi")
        await bot.send_message(ANNA, "first")
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(ANNA, "second, too soon")
        assert raised.value.retry_after == 1
        with pytest.raises(TelegramRetryAfter):
            await bot.edit_message_text("edits count too", chat_id=ANNA, message_id=2)
        await bot.send_chat_action(ANNA, "typing")  # not a message: not limited
        assert [m.text for m in await emu.client.messages(ANNA)] == ["first"]
        await asyncio.sleep(raised.value.retry_after)  # what a well-behaved bot does
        await bot.send_message(ANNA, "after waiting")
        stats = await emu.client.stats()
    assert stats.rate_limited == {ANNA: 2}
    assert stats.rate_limited_total == 2
    assert [s.method for s in stats.sends[ANNA]] == ["sendMessage", "sendMessage"]
    assert stats.max_sends_in_window(ANNA) == 1


async def test_global_limit_over_all_chats() -> None:
    chats = list(range(9001, 9008))
    async with limited(global_rate=5) as (emu, bot):
        for chat in chats:
            await emu.client.send_text(chat, "hi")
        outcomes = []
        for chat in chats:
            try:
                await bot.send_message(chat, "broadcast")
                outcomes.append("ok")
            except TelegramRetryAfter:
                outcomes.append("429")
        stats = await emu.client.stats()
    assert outcomes == ["ok"] * 5 + ["429"] * 2
    assert stats.max_sends_in_window() == 5
    assert stats.rate_limited_total == 2


async def test_fractional_per_chat_rate_means_one_message_per_period() -> None:
    async with limited(per_chat_rate=0.25) as (emu, bot):
        await emu.client.send_text(ANNA, "hi")
        await bot.send_message(ANNA, "one")
        with pytest.raises(TelegramRetryAfter) as raised:
            await bot.send_message(ANNA, "two")
    assert raised.value.retry_after == 4


async def test_injected_faults_then_recovery(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "hi")
    await client.inject_fault(ANNA, "429", retry_after=7)
    await client.inject_fault(ANNA, "500", count=2)
    await client.inject_fault(ANNA, "403")

    with pytest.raises(TelegramRetryAfter) as raised:
        await bot.send_message(ANNA, "a")
    assert raised.value.retry_after == 7
    for _ in range(2):
        with pytest.raises(TelegramServerError):
            await bot.send_message(ANNA, "b")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(ANNA, "c")
    await client.inject_fault(ANNA, "500", count=5)
    await client.clear_faults(ANNA)
    delivered = await bot.send_message(ANNA, "finally")

    assert [m.text for m in await client.messages(ANNA)] == ["finally"]
    assert delivered.text == "finally"
    stats = await client.stats()
    assert stats.faults_served == 4
    assert stats.rate_limited_total == 0  # injected 429s are faults, not the limiter's


async def test_timeout_fault_with_and_without_delivery(client: EmulatorClient) -> None:
    await client.send_text(ANNA, "hi")
    base_url = client.base_url
    impatient = make_bot(base_url, TOKEN, timeout=0.3)
    try:
        await client.inject_fault(ANNA, "timeout", delay=1.0)
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await impatient.send_message(ANNA, "lost in transit")
        await client.inject_fault(ANNA, "timeout", delay=0.5, deliver=True)
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await impatient.send_message(ANNA, "arrives although the client gave up")
        arrived = await client.wait_for(ANNA, "arrives", timeout=3)
    finally:
        await impatient.session.close()
    assert arrived.text == "arrives although the client gave up"
    assert [m.text for m in await client.messages(ANNA)] == ["arrives although the client gave up"]
