"""Telegram's limits for the sender: at most `rate` messages in any one second overall, at most one
message per second to a chat, and a global pause after a 429.

The global limit is a token bucket of `rate` tokens where each spent token comes back exactly one
second after it was spent (a sliding window): unlike a refilling bucket it can never let through
more than `rate` messages in any one-second window, which is what Telegram counts.
Time is injectable (`monotonic`, `sleep`) so tests can run the limits on a virtual clock."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

WINDOW = 1.0
# Telegram counts a chat's messages by their arrival; a tenth of a second of margin keeps network
# jitter from turning two sends a second apart into two arrivals less than a second apart.
PER_CHAT_INTERVAL = 1.1


class Limiter:
    def __init__(
        self,
        rate: int,
        *,
        per_chat_interval: float = PER_CHAT_INTERVAL,
        monotonic: Monotonic = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if rate < 1:
            raise ValueError("rate must be at least 1 message per second")
        self.rate = rate
        self.per_chat_interval = per_chat_interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._spent: deque[float] = deque()
        self._last_by_chat: dict[int, float] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.monotonic() + seconds)

    def chat_ready_at(self, chat_id: int) -> float:
        last = self._last_by_chat.get(chat_id)
        return 0.0 if last is None else last + self.per_chat_interval

    def _global_ready_at(self, now: float) -> float:
        while self._spent and self._spent[0] + WINDOW <= now:
            self._spent.popleft()
        ready = self._paused_until
        if len(self._spent) >= self.rate:
            ready = max(ready, self._spent[0] + WINDOW)
        return ready

    def ready_at(self, chat_id: int) -> float:
        return max(self._global_ready_at(self.monotonic()), self.chat_ready_at(chat_id))

    async def acquire(self, chat_id: int) -> None:
        """Wait until a message to `chat_id` is allowed, then count it as sent now."""
        while True:
            now = self.monotonic()
            ready = max(self._global_ready_at(now), self.chat_ready_at(chat_id))
            if ready <= now:
                break
            await self.sleep(ready - now)
        self._spent.append(now)
        self._last_by_chat[chat_id] = now
        if len(self._last_by_chat) > 10_000:  # forget chats that are long past their interval
            horizon = now - self.per_chat_interval
            self._last_by_chat = {c: t for c, t in self._last_by_chat.items() if t > horizon}
