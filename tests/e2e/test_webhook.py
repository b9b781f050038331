"""End to end in webhook mode: the app registers WEBHOOK_BASE_URL/telegram/webhook with its secret,
and the emulator delivers every update there by HTTP POST, as Telegram does."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import aiohttp
import pytest
import pytest_asyncio

from tests.e2e.conftest import Stack, app_stack, customer, logged_errors
from tests.e2e.steps import REPLY_TIMEOUT, open_card, register, say

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with app_stack(tmp_path_factory.mktemp("webhook"), name="app (webhook)", webhook=True) as stack:
        yield stack


async def test_the_app_registered_its_webhook_and_refuses_forged_deliveries(stack: Stack) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.emulator.url}/control/bots") as response:
            bots = await response.json()
        assert [bot["webhook"] for bot in bots] == [f"{stack.http_url}/telegram/webhook"]
        # Someone who found the URL but not the secret gets nothing handled.
        forged = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"},
                                              "from": {"id": 1, "is_bot": False, "first_name": "X"}, "text": "/start"}}
        async with http.post(f"{stack.http_url}/telegram/webhook", json=forged) as response:
            assert response.status == 401


async def test_customer_registers_and_sees_card_balance_and_history(stack: Stack) -> None:
    client = stack.client
    anna = await customer(client, 100_001, "79161234567")

    number = await register(client, anna)

    assert number == "9161234567"
    card = await open_card(client, anna)
    assert (card.number, card.points) == (number, "100") and card.code is not None and card.message.photo
    balance = await say(client, anna, "/balance", "Balance of card")
    assert "Available: 100 points" in balance.text
    history = await say(client, anna, "/history", "Operations, page 1")
    assert re.search(r"Welcome bonus: \+100\b", history.text), history.text
    # The inline button goes through the webhook as a callback query and edits the card in place.
    await client.press(anna, card.message, card.message.inline_buttons[0].callback_data or "")
    refreshed = await client.wait_for(anna, lambda m: m.message_id == card.message.message_id and m.edited,
                                      REPLY_TIMEOUT, after=card.message.message_id - 1)
    assert "Code to pay with points" in refreshed.text


async def test_forged_contact_is_refused(stack: Stack) -> None:
    client = stack.client
    mallory = await customer(client, 100_104, "79161000104", "Mallory")
    await say(client, mallory, "/start", "To get your card")
    sent = await client.send_contact(mallory, "79161234567", own=False, contact_user_id=100_001, first_name="Anna")
    await client.wait_for(mallory, "This is not your contact", REPLY_TIMEOUT, after=sent)
    await say(client, mallory, "/balance", "To get your card")  # still a stranger


async def test_the_app_logged_no_errors(stack: Stack) -> None:
    """Last in the module: nothing above failed inside the app unseen."""
    assert logged_errors(stack.app) == []
