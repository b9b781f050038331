"""The till's answers through the Bot API emulator with its fault injection: Telegram answers 500
or times out on the reply after /accrue was committed. The chat never says "try again", and the
same update delivered again (as a webhook redelivers an update whose handling failed) is the same
operation: exactly one accrual."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from emulator import EmulatorClient, running_emulator
from locales import translator
from tests.emulator.conftest import TOKEN, make_bot
from tests.support import updates
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, Shop

TRY_AGAIN = ("попробуйте ещё раз", "try again")


@pytest.fixture
async def emulated(shop: Shop) -> AsyncIterator[tuple[EmulatorClient, Bot]]:
    async with running_emulator(enforce_limits=False) as emu:
        await emu.client.register_bot(TOKEN)
        await emu.client.create_user(CASHIER, "Kate", language_code="en")
        await emu.client.send_text(CASHIER, "hi")  # the chat is open: the bot may write to it
        bot = make_bot(emu.url, timeout=2.0)
        try:
            yield emu.client, bot
        finally:
            await bot.session.close()


async def _chat(client: EmulatorClient) -> list[str]:
    return [m.text for m in await client.messages(CASHIER)]


async def test_a_500_on_the_reply_and_on_the_notice_then_a_redelivery_posts_once(
    shop: Shop, emulated: tuple[EmulatorClient, Bot]
) -> None:
    client, bot = emulated
    update = updates.text(updates.user(CASHIER, language="en"), f"/accrue {CUSTOMER_CARD} 1000")
    # The reply and the notice after it both fail: the update fails, so a webhook would redeliver it.
    await client.inject_fault(CASHIER, "500", count=2)
    with pytest.raises(Exception):  # noqa: B017 - whatever Telegram's failure, it must reach the caller
        await shop.harness.dispatcher.feed_update(bot, update)
    assert await shop.operations("purchase_accrual") == 1
    assert await _chat(client) == []  # the bot's messages: none got through
    await shop.harness.dispatcher.feed_update(bot, update)  # the redelivery
    chat = await _chat(client)
    assert len(chat) == 1 and chat[0].startswith(translator().get("en", "staff-receipt-replayed")), chat
    assert await shop.operations("purchase_accrual") == 1
    assert not [text for text in chat if any(phrase in text for phrase in TRY_AGAIN)]


async def test_a_500_on_the_reply_is_followed_by_what_was_committed(
    shop: Shop, emulated: tuple[EmulatorClient, Bot]
) -> None:
    client, bot = emulated
    update = updates.text(updates.user(CASHIER, language="en"), f"/accrue {CUSTOMER_CARD} 1000 R-5")
    await client.inject_fault(CASHIER, "500")
    await shop.harness.dispatcher.feed_update(bot, update)
    chat = await _chat(client)
    notice = translator().get("en", "staff-committed-unanswered", card=CUSTOMER_CARD)
    assert len(chat) == 1 and chat[0].startswith(notice) and "accrued for receipt R-5" in chat[0], chat
    await shop.harness.dispatcher.feed_update(bot, update)
    assert await shop.operations("purchase_accrual") == 1
    assert not [text for text in await _chat(client) if any(phrase in text for phrase in TRY_AGAIN)]


async def test_a_reply_that_timed_out_but_arrived_is_not_followed_by_try_again(
    shop: Shop, emulated: tuple[EmulatorClient, Bot]
) -> None:
    client, bot = emulated
    update = updates.text(updates.user(CASHIER, language="en"), f"/accrue {CUSTOMER_CARD} 1000")
    # Telegram stalls past the bot's 2 s timeout, then delivers the message anyway.
    await client.inject_fault(CASHIER, "timeout", delay=3.0, deliver=True)
    await shop.harness.dispatcher.feed_update(bot, update)
    chat = await _chat(client)
    assert await shop.operations("purchase_accrual") == 1
    assert chat[-1].startswith(translator().get("en", "staff-committed-unanswered", card=CUSTOMER_CARD)), chat
    assert not [text for text in chat if any(phrase in text for phrase in TRY_AGAIN)]
