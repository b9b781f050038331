"""Flood control: a customer sending more than a handful of updates per second is slowed down
politely, not answered N times: one notice per flood, where a flood lasts until `quiet` seconds
pass without a dropped update (a notice a second would itself flood the chat, which Telegram allows
one message a second).

In memory, per user, a sliding window: enough for one instance; with several instances each one
limits what it receives, which still protects the database from one person's burst.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, Update, User

from locales import Translator
from services.customers import language_of

_FORGET_AFTER = 60.0  # seconds of silence after which a user's counters are dropped
_SWEEP_EVERY = 1000  # updates between sweeps of forgotten users


class ThrottlingMiddleware(BaseMiddleware):
    """An outer middleware on `update`. `limit` updates per `window` seconds per user; 0 = off."""

    def __init__(
        self, limit: int = 5, window: float = 1.0, now: Callable[[], float] = time.monotonic, quiet: float = 10.0
    ) -> None:
        self.limit = limit
        self.window = window
        self.quiet = quiet
        self._now = now
        self._seen: dict[int, deque[float]] = {}
        self._last_dropped: dict[int, float] = {}
        self._count = 0

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        if self.limit <= 0 or user is None or user.is_bot:
            return await handler(event, data)
        now = self._now()
        self._sweep(now)
        recent = self._seen.setdefault(user.id, deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            return await handler(event, data)
        # Over the limit: dropped. One polite notice when a flood starts, then silence until it ends.
        last = self._last_dropped.get(user.id)
        self._last_dropped[user.id] = now
        if last is None or now - last >= self.quiet:
            await self._warn(event, data)
        return None

    async def _warn(self, event: TelegramObject, data: dict[str, Any]) -> None:
        tr: Translator | None = data.get("tr")
        chat: Chat | None = data.get("event_chat")
        if tr is None or not isinstance(event, Update):
            return
        text = tr.get(self._locale(data), "menu-slow-down")
        if isinstance(event.callback_query, CallbackQuery):
            await event.callback_query.answer(text)
        elif isinstance(event.message, Message) and chat is not None and chat.type == "private":
            await event.message.answer(text)

    @staticmethod
    def _locale(data: dict[str, Any]) -> str:
        # The identity middleware has not run yet (and must not: no database work for a flood).
        user: User | None = data.get("event_from_user")
        return language_of(user.language_code if user else None)

    def _sweep(self, now: float) -> None:
        self._count += 1
        if self._count % _SWEEP_EVERY:
            return
        for user_id in [uid for uid, times in self._seen.items() if not times or now - times[-1] > _FORGET_AFTER]:
            self._seen.pop(user_id, None)
            self._last_dropped.pop(user_id, None)
