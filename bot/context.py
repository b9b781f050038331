"""What every door (Telegram, HTTP, scheduler) needs to call the services, built once per process."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.settings import Settings
from db.uow import UnitOfWork
from locales import Translator
from services.clock import Clock
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
