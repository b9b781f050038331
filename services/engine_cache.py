"""Small, rarely changed tables read once and trusted for a few seconds, per database.

Program settings and the level ladders are read by nearly every use case and changed by an admin
a few times a year. A copy per database (keyed by the engine's connection pool, which an engine
and its `execution_options` variants share) saves a query per use case; another instance's change
is seen after at most `ttl` seconds, and a change made in this process invalidates at once.
Monotonic time, not the business clock: this is cache freshness, and tests that travel in time
must not make a copy look stale or fresh."""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import Pool

T = TypeVar("T")


def engine_of(session: AsyncSession) -> AsyncEngine:
    bind = session.bind
    assert isinstance(bind, AsyncEngine), "sessions are made by db.uow from an AsyncEngine"
    return bind


class EngineCache(Generic[T]):
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._copies: weakref.WeakKeyDictionary[Pool, dict[Hashable, tuple[T, float]]] = weakref.WeakKeyDictionary()

    def get(self, engine: AsyncEngine, key: Hashable = None) -> T | None:
        found = self._copies.get(engine.sync_engine.pool, {}).get(key)
        if found is None or time.monotonic() - found[1] >= self.ttl:
            return None
        return found[0]

    async def get_or_load(self, engine: AsyncEngine, load: Callable[[], Awaitable[T]], key: Hashable = None) -> T:
        cached = self.get(engine, key)
        return cached if cached is not None else self.put(engine, await load(), key)

    def put(self, engine: AsyncEngine, value: T, key: Hashable = None) -> T:
        self._copies.setdefault(engine.sync_engine.pool, {})[key] = (value, time.monotonic())
        return value

    def forget(self, engine: AsyncEngine, key: Hashable = None) -> None:
        self._copies.get(engine.sync_engine.pool, {}).pop(key, None)

    def invalidate(self, engine: AsyncEngine | None = None) -> None:
        if engine is None:
            self._copies.clear()
        else:
            self._copies.pop(engine.sync_engine.pool, None)
