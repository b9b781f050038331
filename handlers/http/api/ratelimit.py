"""Rate limits of the API: per API key, and per client address for failed authentications. Token
buckets, in memory for one instance; bot/redis.py has the shared one for several."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class RateLimiter(Protocol):
    async def hit(self, key: str) -> float | None:
        """Take a token: None when the request may go on, else the seconds to wait (Retry-After)."""
        ...

    async def peek(self, key: str) -> float | None:
        """What `hit` would answer now, without taking a token."""
        ...


class MemoryTokenBucket:
    # Client addresses are many (an IPv6 network has plenty): buckets that refilled are forgotten
    # once there are this many, so a scan from many addresses cannot grow memory without end.
    MAX_BUCKETS = 10_000

    def __init__(self, *, per_minute: int, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60
        self.burst = float(burst)
        self._now = now
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    async def hit(self, key: str) -> float | None:
        return self._take(key, take=True)

    async def peek(self, key: str) -> float | None:
        return self._take(key, take=False)

    def _take(self, key: str, *, take: bool) -> float | None:
        now = self._now()
        if len(self._buckets) >= self.MAX_BUCKETS and key not in self._buckets:
            # A refilled bucket is the same as none.
            self._buckets = {
                k: (t, at) for k, (t, at) in self._buckets.items() if t + (now - at) * self.rate < self.burst
            }
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return (1 - tokens) / self.rate
        if take:
            self._buckets[key] = (tokens - 1, now)
        return None
