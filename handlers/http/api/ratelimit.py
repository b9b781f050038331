"""Rate limit per API key: a token bucket. In memory for one instance; bot/redis.py has the shared
one for several."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float | None:
        """None when the request may go on, else the seconds to wait (Retry-After)."""
        ...


class MemoryTokenBucket:
    def __init__(self, *, per_minute: int, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60
        self.burst = float(burst)
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    async def hit(self, key: str) -> float | None:
        now = self._now()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate
