"""Small, rarely changed tables read once and trusted for a few seconds, per database.

Program settings and the level ladders are read by nearly every use case and changed by an admin
a few times a year. A copy per database (keyed by the engine's connection pool, which an engine
and its `execution_options` variants share) saves a query per use case; another instance's change
is seen after at most `ttl` seconds, and a change made in this process invalidates at once.
Monotonic time, not the business clock: this is cache freshness, and tests that travel in time
must not make a copy look stale or fresh.

One load at a time per copy: when a copy goes stale under load, the hundreds of use cases in flight
that find it stale wait for the first one's read instead of each reading the table (benchmark 1
saw 500 reads of the settings after each expiry). A load that started before a `forget` or
`invalidate` is not kept: it may have read the old rows."""

from __future__ import annotations

import asyncio
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


class _LoadAbandoned(Exception):
    """The first caller's load failed or was cancelled: each waiter loads for itself."""


class EngineCache(Generic[T]):
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._copies: weakref.WeakKeyDictionary[Pool, dict[Hashable, tuple[T, float]]] = weakref.WeakKeyDictionary()
        self._loads: weakref.WeakKeyDictionary[Pool, dict[Hashable, asyncio.Future[T]]] = weakref.WeakKeyDictionary()
        self._generation = 0  # bumped by forget and invalidate

    def get(self, engine: AsyncEngine, key: Hashable = None) -> T | None:
        found = self._copies.get(engine.sync_engine.pool, {}).get(key)
        if found is None or time.monotonic() - found[1] >= self.ttl:
            return None
        return found[0]

    async def get_or_load(self, engine: AsyncEngine, load: Callable[[], Awaitable[T]], key: Hashable = None) -> T:
        cached = self.get(engine, key)
        if cached is not None:
            return cached
        loads = self._loads.setdefault(engine.sync_engine.pool, {})
        running = loads.get(key)
        if running is not None and running.get_loop() is asyncio.get_running_loop():
            try:
                # Shielded: a waiter cancelled must not cancel the load the others wait for.
                return await asyncio.shield(running)
            except _LoadAbandoned:
                return await load()
        return await self._load(engine, load, key, loads)

    async def _load(
        self,
        engine: AsyncEngine,
        load: Callable[[], Awaitable[T]],
        key: Hashable,
        loads: dict[Hashable, asyncio.Future[T]],
    ) -> T:
        running: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        loads[key] = running
        generation = self._generation
        try:
            value = await load()
        except BaseException:
            running.set_exception(_LoadAbandoned())
            running.exception()  # marked retrieved: with no waiter asyncio would log it as lost
            raise
        finally:
            if loads.get(key) is running:
                del loads[key]
        running.set_result(value)
        if generation == self._generation:
            self.put(engine, value, key)
        return value

    def put(self, engine: AsyncEngine, value: T, key: Hashable = None) -> T:
        self._copies.setdefault(engine.sync_engine.pool, {})[key] = (value, time.monotonic())
        return value

    def forget(self, engine: AsyncEngine, key: Hashable = None) -> None:
        self._generation += 1
        self._copies.get(engine.sync_engine.pool, {}).pop(key, None)
        self._loads.get(engine.sync_engine.pool, {}).pop(key, None)

    def invalidate(self, engine: AsyncEngine | None = None) -> None:
        self._generation += 1
        if engine is None:
            self._copies.clear()
            self._loads.clear()
        else:
            self._copies.pop(engine.sync_engine.pool, None)
            self._loads.pop(engine.sync_engine.pool, None)
