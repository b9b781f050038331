"""Fixtures for the emulator's own tests: an emulator on a real port and real aiogram bots polling it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from emulator import EmulatorClient, RunningEmulator, running_emulator

TOKEN = "123456:TEST-emulator-token"
ANNA = 100001  # the sandbox's "Customer Anna" persona, seeded with a phone


def make_bot(base_url: str, token: str = TOKEN, *, timeout: float = 10.0) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url), timeout=timeout)
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


@contextlib.asynccontextmanager
async def polling(dispatcher: Dispatcher, bot: Bot, **kwargs: Any) -> AsyncIterator[None]:
    """Run the dispatcher's long polling for the duration of the block (it closes the bot session)."""
    task = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=5, **kwargs))
    try:
        yield
    finally:
        await dispatcher.stop_polling()
        await task


@contextlib.asynccontextmanager
async def limited(**rates: Any) -> AsyncIterator[tuple[RunningEmulator, Bot]]:
    """An emulator enforcing flood limits (with `rates` overriding the defaults) and a bot using it."""
    async with running_emulator(**rates) as running:
        await running.client.register_bot(TOKEN)
        bot = make_bot(running.url)
        try:
            yield running, bot
        finally:
            await bot.session.close()


@pytest.fixture
async def emu() -> AsyncIterator[RunningEmulator]:
    """An emulator without flood limits: functional tests reply faster than 1 message/s per chat."""
    async with running_emulator(enforce_limits=False) as running:
        await running.client.register_bot(TOKEN)
        yield running


@pytest.fixture
def client(emu: RunningEmulator) -> EmulatorClient:
    return emu.client


@pytest.fixture
async def bot(emu: RunningEmulator) -> AsyncIterator[Bot]:
    bot = make_bot(emu.url)
    yield bot
    await bot.session.close()
