"""The per-database copies of small tables (services/engine_cache.py): one load at a time when a
copy is stale, and no copy kept that an invalidation made while it was loading."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from db.engine import create_engine
from services.engine_cache import EngineCache


@pytest.fixture
async def engine() -> AsyncIterator[AsyncEngine]:
    engine = create_engine("sqlite+aiosqlite:///:memory:")  # never connected: only its pool keys the copies
    yield engine
    await engine.dispose()


class Table:
    """A load that counts its reads and, while `gate` is shut, waits before answering."""

    def __init__(self) -> None:
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.value = "v1"

    async def load(self) -> str:
        self.reads += 1
        value = self.value
        await self.gate.wait()
        return value


async def test_callers_finding_a_copy_stale_together_share_one_read(engine: AsyncEngine) -> None:
    cache: EngineCache[str] = EngineCache(ttl=60)
    table = Table()
    table.gate.clear()
    callers = [asyncio.create_task(cache.get_or_load(engine, table.load)) for _ in range(50)]
    await asyncio.sleep(0)
    table.gate.set()

    assert await asyncio.gather(*callers) == ["v1"] * 50
    assert table.reads == 1
    assert cache.get(engine) == "v1"


async def test_when_the_first_read_fails_the_waiters_read_for_themselves(engine: AsyncEngine) -> None:
    cache: EngineCache[str] = EngineCache(ttl=60)
    table = Table()
    table.gate.clear()

    async def failing() -> str:
        await table.gate.wait()
        raise ConnectionError("lost")

    first = asyncio.create_task(cache.get_or_load(engine, failing))
    await asyncio.sleep(0)
    waiters = [asyncio.create_task(cache.get_or_load(engine, table.load)) for _ in range(3)]
    await asyncio.sleep(0)
    table.gate.set()

    with pytest.raises(ConnectionError):
        await first
    assert await asyncio.gather(*waiters) == ["v1"] * 3
    assert table.reads == 3


async def test_a_waiter_cancelled_leaves_the_read_to_the_others(engine: AsyncEngine) -> None:
    cache: EngineCache[str] = EngineCache(ttl=60)
    table = Table()
    table.gate.clear()
    first = asyncio.create_task(cache.get_or_load(engine, table.load))
    await asyncio.sleep(0)
    impatient = asyncio.create_task(cache.get_or_load(engine, table.load))
    patient = asyncio.create_task(cache.get_or_load(engine, table.load))
    await asyncio.sleep(0)
    impatient.cancel()
    await asyncio.sleep(0)
    table.gate.set()

    assert (await first, await patient) == ("v1", "v1")
    assert impatient.cancelled()
    assert table.reads == 1


async def test_a_read_begun_before_an_invalidation_is_not_kept(engine: AsyncEngine) -> None:
    cache: EngineCache[str] = EngineCache(ttl=60)
    old, new = Table(), Table()
    old.gate.clear()
    stale = asyncio.create_task(cache.get_or_load(engine, old.load))
    await asyncio.sleep(0)
    new.value = "v2"
    cache.forget(engine)  # the rows changed while the first read was under way

    assert await cache.get_or_load(engine, new.load) == "v2"  # does not join the old read
    old.gate.set()
    assert await stale == "v1"
    assert cache.get(engine) == "v2"
