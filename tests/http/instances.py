"""Whole application instances (build_application + the webhook, as `python -m bot run` mounts it)
served on real ports, with a recording bot, and a tiny FSM conversation for the tests."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import Message, Update
from aiohttp import ClientResponse, ClientSession
from aiohttp.test_utils import TestServer

from bot.app import Application, build_application
from bot.runners import WEBHOOK_PATH, mount_webhook
from bot.settings import Settings
from handlers.http.webhook import SECRET_HEADER, WebhookHandler
from tests.support.recording_bot import RecordingSession

SECRET = "test-webhook-secret-0123456789"
REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
REDIS_SKIP_REASON = "needs Redis: set TEST_REDIS_URL or REDIS_URL (e.g. redis://127.0.0.1:6379/0)"


class Survey(StatesGroup):
    name = State()
    city = State()


@dataclass
class Seen:
    """What the test handlers saw, per instance."""

    handled: list[str] = field(default_factory=list)


def survey_router(seen: Seen) -> Router:
    """/survey -> name -> city -> a summary: three steps that need the FSM state of the previous one."""
    router = Router(name="test-survey")

    @router.message(Command("survey"))
    async def begin(message: Message, state: FSMContext) -> None:
        seen.handled.append("begin")
        await state.set_state(Survey.name)
        await message.answer("name?")

    @router.message(Survey.name, F.text)
    async def name(message: Message, state: FSMContext) -> None:
        seen.handled.append("name")
        await state.update_data(name=message.text)
        await state.set_state(Survey.city)
        await message.answer("city?")

    @router.message(Survey.city, F.text)
    async def city(message: Message, state: FSMContext) -> None:
        seen.handled.append("city")
        data = await state.get_data()
        await state.clear()
        await message.answer(f"done: {data.get('name')} from {message.text}")

    @router.message(Command("count"))
    async def count(message: Message) -> None:
        seen.handled.append("count")

    return router


def unique_bot() -> Bot:
    """A recording bot with its own id, so that Redis keys (FSM, update claims) of one test run never
    meet those of another."""
    bot_id = random.randint(2_000_000_000, 8_000_000_000)
    return Bot(f"{bot_id}:TEST-recording-session-token", session=RecordingSession(),
               default=DefaultBotProperties(parse_mode="HTML"))


@dataclass
class Instance:
    app: Application
    webhook: WebhookHandler
    server: TestServer
    seen: Seen
    http: ClientSession

    async def deliver(self, update: Update, *, secret: str | None = SECRET) -> ClientResponse:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        body = update.model_dump_json(exclude_none=True, by_alias=True)
        return await self.http.post(self.server.make_url(WEBHOOK_PATH), data=body, headers=headers)

    @property
    def session(self) -> RecordingSession:
        session = self.app.bot.session
        assert isinstance(session, RecordingSession)
        return session


def instance_settings(db_url: str, redis_url: str | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "redis_url": redis_url,
        "bot_token": "123456789:TEST-token-not-used-for-requests",
        "webhook_base_url": "https://loyalty.example.org",
        "webhook_secret": SECRET,
        "flood_limit": 0,
    }
    return Settings(**{**values, **overrides})


@asynccontextmanager
async def running_instance(settings: Settings, bot: Bot) -> AsyncIterator[Instance]:
    app = build_application(settings, bot=bot)
    seen = Seen()
    router = survey_router(seen)
    app.dispatcher.include_router(router)
    # Test handlers first: the product's catch-all fallback would otherwise answer these messages.
    app.dispatcher.sub_routers.insert(0, app.dispatcher.sub_routers.pop())
    webhook = mount_webhook(app)
    server = TestServer(app.web)
    await server.start_server()
    http = ClientSession()
    try:
        yield Instance(app, webhook, server, seen, http)
    finally:
        await http.close()
        await server.close()
        await app.close()
