"""Bot API protocol details: long polling, webhooks, commands, envelopes and several bots."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramConflictError, TelegramUnauthorizedError
from aiogram.methods import GetUpdates
from aiogram.types import BotCommand, BotCommandScopeChat, Message
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from emulator import EmulatorClient, RunningEmulator
from tests.emulator.conftest import ANNA, TOKEN, make_bot

SECRET = "s3cret-token_1"


async def test_pending_get_updates_returns_when_an_update_arrives(bot: Bot, client: EmulatorClient) -> None:
    started = time.monotonic()
    poll = asyncio.create_task(bot(GetUpdates(timeout=10)))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await client.send_text(ANNA, "/start")
    updates = await asyncio.wait_for(poll, 2)
    assert time.monotonic() - started < 2
    assert [u.message.text for u in updates] == ["/start"]
    assert updates[0].message.entities[0].type == "bot_command"

    await client.send_text(ANNA, "second")
    unconfirmed = await bot.get_updates(timeout=0)
    assert [u.message.text for u in unconfirmed] == ["/start", "second"]
    confirmed = await bot.get_updates(offset=updates[0].update_id + 1, timeout=0)
    assert [u.message.text for u in confirmed] == ["second"]
    assert await bot.get_updates(offset=confirmed[-1].update_id + 1, timeout=0, limit=5) == []


async def test_allowed_updates_filter_and_concurrent_polls_conflict(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "hi")
    sent = await bot.send_message(
        ANNA, "pick", reply_markup={"inline_keyboard": [[{"text": "x", "callback_data": "x"}]]}
    )
    updates = await bot.get_updates(allowed_updates=["callback_query"], timeout=0)
    next_offset = updates[-1].update_id + 1
    await client.press(ANNA, sent.message_id, "x")
    await client.send_text(ANNA, "filtered out: created while only callback_query was allowed")
    updates = await bot.get_updates(offset=next_offset, timeout=0)
    assert [u.event_type for u in updates] == ["callback_query"]

    first = asyncio.create_task(bot(GetUpdates(offset=updates[-1].update_id + 1, timeout=5)))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(bot(GetUpdates(timeout=0)))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    await second


class WebhookReceiver:
    """A tiny server standing in for the bot's webhook endpoint; fails the first `failures` calls."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[str | None, dict[str, Any]]] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json()))
        if len(self.received) <= self.failures:
            return web.Response(status=500)
        self.arrived.set()
        return web.json_response({})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    receiver = WebhookReceiver(failures=1)
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield receiver, f"http://{host}:{port}/hook"
    await runner.cleanup()


async def test_webhook_delivers_with_secret_and_retries_after_500(
    bot: Bot, client: EmulatorClient, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    assert await bot.set_webhook(url, secret_token=SECRET, max_connections=1)
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()

    await client.send_text(ANNA, "via webhook")
    await asyncio.wait_for(hook.arrived.wait(), 5)

    assert len(hook.received) == 2  # the 500 answer was retried
    assert {secret for secret, _ in hook.received} == {SECRET}
    assert hook.received[0][1] == hook.received[1][1]
    assert hook.received[1][1]["message"]["text"] == "via webhook"
    info = await bot.get_webhook_info()
    assert info.url == url
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"

    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == []


async def test_webhook_counts_pending_updates_while_unreachable(bot: Bot, client: EmulatorClient) -> None:
    with socket_closed_port() as port:
        await bot.set_webhook(f"http://127.0.0.1:{port}/nobody")
        await client.send_text(ANNA, "lost?")
        await client.send_text(ANNA, "still here")

        async def failing_info() -> Any:
            # getWebhookInfo has no long-poll form, so polling it is the only way to see the failure.
            while (info := await bot.get_webhook_info()).last_error_message is None:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            return info

        info = await asyncio.wait_for(failing_info(), 5)
    assert info.pending_update_count == 2
    assert info.last_error_message == "Connection refused"


class socket_closed_port:
    """A port nothing listens on (bound, then released)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])

    def __exit__(self, *_: object) -> None:
        return None


async def test_webhook_reply_may_carry_a_method_call(emu: RunningEmulator, client: EmulatorClient) -> None:
    """aiogram answers the webhook request with the method when it handles updates in the foreground."""
    dp = Dispatcher()

    @dp.message()
    async def echo(message: Message) -> Any:
        return message.answer(f"inline reply to {message.text}")

    webhook_bot = make_bot(emu.url)
    app = web.Application()
    SimpleRequestHandler(dp, webhook_bot, handle_in_background=False, secret_token=SECRET).register(app, "/hook")
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    try:
        await webhook_bot.set_webhook(f"http://{host}:{port}/hook", secret_token=SECRET)
        await client.send_text(ANNA, "ping")
        reply = await client.wait_for(ANNA, "inline reply")
    finally:
        await runner.cleanup()
        await webhook_bot.session.close()
    assert reply.text == "inline reply to ping"


async def test_commands_by_scope_and_language(bot: Bot, client: EmulatorClient) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Начать")])
    await bot.set_my_commands([BotCommand(command="card", description="Card")], language_code="en")
    staff = BotCommandScopeChat(chat_id=ANNA)
    await bot.set_my_commands([BotCommand(command="accrue", description="Начислить")], scope=staff)

    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["card"]
    assert [c.command for c in await bot.get_my_commands(scope=staff)] == ["accrue"]
    assert [c["command"] for c in (await client.chat(ANNA)).commands] == ["accrue"]
    assert [c["command"] for c in (await client.chat(200002)).commands] == ["start"]
    assert await bot.delete_my_commands(scope=staff)
    assert await bot.get_my_commands(scope=staff) == []


async def test_envelopes_unknown_method_and_bot_identity(emu: RunningEmulator) -> None:
    await emu.client.send_text(ANNA, "hi")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{emu.url}/bot{TOKEN}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
        async with http.post(f"{emu.url}/bot{TOKEN}/GETME") as response:
            body = await response.json()
            assert body["ok"] is True and body["result"]["id"] == 123456 and body["result"]["is_bot"] is True
        async with http.post(f"{emu.url}/bot{TOKEN}/sendMessage", json={"chat_id": ANNA}) as response:
            assert (response.status, (await response.json())["description"]) == (
                400,
                "Bad Request: message text is empty",
            )

    other = make_bot(emu.url, "777:another-bot")
    imposter = make_bot(emu.url, "123456:wrong-secret")
    try:
        assert (await other.get_me()).id == 777
        with pytest.raises(TelegramUnauthorizedError):
            await imposter.get_me()
        await emu.client.for_bot(777).send_text(ANNA, "to the other bot")
        updates = await other.get_updates(timeout=0)
        assert [u.message.text for u in updates] == ["to the other bot"]
        with pytest.raises(Exception, match="several bots"):
            await emu.client.send_text(ANNA, "which bot?")
    finally:
        await other.session.close()
        await imposter.session.close()


async def test_reset_forgets_chats_but_keeps_polling_offsets_valid(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "before")
    before = await bot.get_updates(timeout=0)
    await client.reset()
    assert await client.messages(ANNA, include_user=True) == []
    await client.send_text(ANNA, "after")
    after = await bot.get_updates(offset=before[-1].update_id + 1, timeout=0)
    assert [u.message.text for u in after] == ["after"]
