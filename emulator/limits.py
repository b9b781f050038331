"""Telegram's flood limits: ~30 messages per second per bot, ~1 per second per chat.

Both are sliding windows over the methods that produce or change a message. Only accepted calls
count, so a bot that backs off after a 429 is not punished again for the rejected attempt.
"""

from __future__ import annotations

import math
from collections import deque

# Methods that create or change a message; sendChatAction and answerCallbackQuery are not limited.
LIMITED_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
    }
)


class SlidingWindow:
    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._times: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        """Seconds until one more call fits; 0 when it fits now."""
        while self._times and self._times[0] <= now - self.period:
            self._times.popleft()
        if len(self._times) < self.limit:
            return 0.0
        return self._times[0] + self.period - now

    def record(self, now: float) -> None:
        self._times.append(now)


class RateLimiter:
    """Per-bot limiter: one global window and one window per chat."""

    def __init__(self, global_rate: int, per_chat_rate: float) -> None:
        self._global = SlidingWindow(global_rate, 1.0)
        # A fractional rate (0.5/s) becomes "one call per 2 s" rather than "zero calls per second".
        self._chat_limit = max(1, int(per_chat_rate))
        self._chat_period = 1.0 if per_chat_rate >= 1 else 1.0 / per_chat_rate
        self._chats: dict[int, SlidingWindow] = {}

    def retry_after(self, chat_id: int, now: float) -> int | None:
        """Whole seconds to wait (Telegram's retry_after is an integer, at least 1), or None."""
        wait = max(self._global.wait_time(now), self._chat(chat_id).wait_time(now))
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, chat_id: int, now: float) -> None:
        self._global.record(now)
        self._chat(chat_id).record(now)

    def _chat(self, chat_id: int) -> SlidingWindow:
        return self._chats.setdefault(chat_id, SlidingWindow(self._chat_limit, self._chat_period))
