"""The bot's conversation state as the erasure use case sees it (services/customers.py::Conversations).

aiogram keeps a dialog's state and data under a key made of the bot, the chat and the user: with
Redis (bot/redis.py) `fsm:<bot id>:<chat id>:<user id>:default:state|data`, so the key itself holds
the Telegram id. Customers talk to the bot in private chats only (handlers/telegram/menu.py), where
the chat id is the user id, so that one key is all there is to delete."""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.fsm.storage.base import BaseStorage, StorageKey


@dataclass(frozen=True)
class FsmConversations:
    storage: BaseStorage
    bot_id: int

    async def forget(self, telegram_id: int) -> None:
        key = StorageKey(bot_id=self.bot_id, chat_id=telegram_id, user_id=telegram_id)
        # Storage backends delete the keys on an empty state and empty data (Redis: DEL).
        await self.storage.set_state(key, None)
        await self.storage.set_data(key, {})
