"""Replies that meet Telegram's flood control (429), through the real application (its bot session,
dispatcher, error router, webhook) against the Bot API emulator with Telegram's limits on and with
injected 429s: the reply waits and is delivered, a webhook answers 200, a flood gets one notice,
and no update ends in an unhandled TelegramRetryAfter."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiogram.types import Update
from aiohttp import ClientSession
from aiohttp.test_utils import TestServer

from bot.app import Application, build_application
from bot.runners import WEBHOOK_PATH, mount_webhook
from bot.settings import Settings
from emulator import RunningEmulator, running_emulator
from handlers.http.webhook import SECRET_HEADER
from locales import translator
from tests.support import updates

TOKEN = "7000000002:REPLIES-under-429-emulator-only-token"
SECRET = "replies-under-429-secret-0123"
# What /help answers someone not yet registered: the welcome (its first sentence).
HELP = translator().get("ru", "start-welcome").split("!")[0]
SLOW_DOWN = translator().get("ru", "menu-slow-down")
UNEXPECTED = translator().get("ru", "error-unexpected")


def _settings(db_url: str, emulator: RunningEmulator, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": db_url, "redis_url": None, "bot_token": TOKEN, "bot_api_base_url": emulator.url,
        "webhook_base_url": "https://loyalty.example.org", "webhook_secret": SECRET, "flood_limit": 0,
    }
    return Settings(**{**values, **overrides})  # type: ignore[arg-type]


@asynccontextmanager
async def limited_emulator() -> AsyncIterator[RunningEmulator]:
    async with running_emulator(enforce_limits=True) as emulator:
        await emulator.client.register_bot(TOKEN)
        yield emulator


def errors_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


@asynccontextmanager
async def webhook_app(settings: Settings) -> AsyncIterator[Callable[[Update], object]]:
    """The application as `run` mounts it in webhook mode, its bot built as in production."""
    app: Application = build_application(settings)
    mount_webhook(app)
    server = TestServer(app.web)
    await server.start_server()
    try:
        async with ClientSession() as http:

            async def deliver(update: Update) -> int:
                body = update.model_dump_json(exclude_none=True, by_alias=True)
                headers = {"Content-Type": "application/json", SECRET_HEADER: SECRET}
                async with http.post(server.make_url(WEBHOOK_PATH), data=body, headers=headers) as response:
                    return response.status

            yield deliver
    finally:
        await server.close()
        await app.close()


async def test_a_webhook_reply_meeting_429s_waits_and_is_delivered(
    db_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with limited_emulator() as emulator, webhook_app(_settings(db_url, emulator)) as deliver:
        user = await emulator.client.create_user(610_001, "Anna")
        await emulator.client.send_text(user, "hi")  # a bot may write only to who wrote to it
        # More 429s in a row than a reply used to try: it must wait each one out.
        await emulator.client.inject_fault(user, "429", count=4, retry_after=1)
        status = await deliver(updates.text(updates.user(610_001), "/help"))  # type: ignore[misc]
        texts = [m.text for m in await emulator.client.messages(user)]
        stats = await emulator.client.stats()
    assert status == 200
    assert len(texts) == 1 and HELP in texts[0], texts
    assert stats.faults_served == 4
    assert errors_logged(caplog) == []


async def test_a_429_longer_than_a_reply_may_wait_is_logged_not_an_error_and_the_webhook_answers_200(
    db_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with limited_emulator() as emulator, webhook_app(_settings(db_url, emulator)) as deliver:
        user = await emulator.client.create_user(610_002, "Boris")
        await emulator.client.send_text(user, "hi")
        await emulator.client.inject_fault(user, "429", count=1, retry_after=3600)
        status = await deliver(updates.text(updates.user(610_002), "/help"))  # type: ignore[misc]
        texts = [m.text for m in await emulator.client.messages(user)]
    assert status == 200
    # Not answered "something went wrong" either: the reply was not wrong, only too early.
    assert UNEXPECTED not in texts
    assert errors_logged(caplog) == []
    assert any("3600" in r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)


async def test_a_flood_in_polling_mode_gets_its_replies_and_one_notice(
    db_url: str, engine: object, caplog: pytest.LogCaptureFixture
) -> None:
    """Five updates a second pass flood control; Telegram takes one message a second in a chat, so
    the five replies and the notice meet 429s: every one of them waits and is delivered."""
    caplog.set_level(logging.INFO)
    async with limited_emulator() as emulator:
        settings = _settings(db_url, emulator, webhook_base_url=None, webhook_secret=None, flood_limit=5)
        app = build_application(settings)
        polling = asyncio.create_task(
            app.dispatcher.start_polling(app.bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
        )
        try:
            user = await emulator.client.create_user(610_003, "Olga")
            for _ in range(12):
                await emulator.client.send_text(user, "/help")
            got = await emulator.client.wait_for_count(user, 6, timeout=60)
            await asyncio.sleep(1.5)  # anything more that was going to arrive (it must not)
            texts = [m.text for m in await emulator.client.messages(user)]
            stats = await emulator.client.stats()
        finally:
            await app.dispatcher.stop_polling()
            await polling
            await app.close()
    assert len(got) == 6
    assert sorted(HELP in t for t in texts) == [False] + [True] * 5, texts
    assert [t for t in texts if HELP not in t] == [SLOW_DOWN]
    assert stats.rate_limited_total > 0  # the limit was met, and waited out
    assert errors_logged(caplog) == []
