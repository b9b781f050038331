"""Where accepted request signatures are remembered, so that each is accepted once by every
instance: Redis when REDIS_URL is set (bot/redis.py), else the database (services/signature_replays.py)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Protocol

from db.uow import UnitOfWork
from services import signature_replays
from services.clock import Clock


class ReplayGuard(Protocol):
    async def first_use(self, key: str) -> bool:
        """True the first time `key` is presented, False afterwards (for at least the TTL)."""
        ...


class DatabaseReplayGuard:
    """One INSERT ... ON CONFLICT DO NOTHING per signed request; closed windows are pruned now and
    then by whoever claims (a minute's grace for instances whose clocks differ a little)."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, *, ttl_seconds: int, prune_every_seconds: float = 60.0,
        grace: timedelta = timedelta(minutes=1),
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.ttl = timedelta(seconds=ttl_seconds)
        self.prune_every_seconds = prune_every_seconds
        self.grace = grace
        self._pruned_at = time.monotonic()

    async def first_use(self, key: str) -> bool:
        if time.monotonic() - self._pruned_at > self.prune_every_seconds:
            self._pruned_at = time.monotonic()
            await signature_replays.prune_signature_replays(self.uow, self.clock, grace=self.grace)
        return await signature_replays.claim_signature(self.uow, key=key, expires_at=self.clock.now() + self.ttl)
