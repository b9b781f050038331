"""Fixtures for feeding updates through the real Dispatcher with a recording bot."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.app import build_dispatcher
from bot.context import AppContext
from bot.settings import Settings
from db.uow import UnitOfWork
from locales import translator
from services.clock import FrozenClock
from services.phones import PhonePolicy
from tests.support.recording_bot import RecordingSession, recording_bot


@dataclass
class BotHarness:
    context: AppContext
    dispatcher: Dispatcher
    bot: Bot

    @property
    def session(self) -> RecordingSession:
        session = self.bot.session
        assert isinstance(session, RecordingSession)
        return session

    async def feed(self, update: Update) -> None:
        await self.dispatcher.feed_update(self.bot, update)

    def texts(self) -> list[str]:
        return self.session.texts()


def make_harness(uow: UnitOfWork, clock: FrozenClock, **settings: object) -> BotHarness:
    # Tests feed updates faster than any person types: flood control only where a test asks for it.
    settings.setdefault("flood_limit", 0)
    context = AppContext(
        settings=Settings(**settings),  # type: ignore[arg-type]
        uow=uow,
        clock=clock,
        translator=translator(),
        phone_policy=PhonePolicy(),
    )
    return BotHarness(context=context, dispatcher=build_dispatcher(context), bot=recording_bot())
