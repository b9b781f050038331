"""What every door (Telegram, HTTP, scheduler) needs to call the services, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from db.engine import create_engine
from db.uow import UnitOfWork
from locales import Translator, translator
from services.clock import Clock, SystemClock
from services.customers import Conversations
from services.phones import PhonePolicy


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    uow: UnitOfWork
    clock: Clock
    translator: Translator
    phone_policy: PhonePolicy
    # The bot's dialogs, for the doors that erase customers without a dispatcher at hand (the HTTP
    # API): set by bot/app.py::build_application; Telegram handlers use their own dispatcher's.
    conversations: Conversations | None = None

    def workflow_data(self) -> dict[str, Any]:
        """Keyword arguments aiogram injects into handlers by name."""
        return {
            "settings": self.settings,
            "uow": self.uow,
            "clock": self.clock,
            "tr": self.translator,
            "phone_policy": self.phone_policy,
        }


def build_context(settings: Settings, *, clock: Clock | None = None) -> tuple[AsyncEngine, AppContext]:
    """The engine and the context; here, not in bot/app.py, so that the command-line tools
    (import-customers above all) do not load aiogram and its 150 MB of types to use them."""
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    context = AppContext(
        settings=settings,
        uow=UnitOfWork(engine),
        clock=clock or SystemClock(),
        translator=translator(),
        phone_policy=PhonePolicy(settings.default_region, tuple(settings.allowed_regions)),
    )
    return engine, context
