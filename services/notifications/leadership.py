"""One sender at a time. On PostgreSQL a session-level advisory lock held on a dedicated
connection for as long as the sender runs: a second instance's try fails at once, and the lock goes
away by itself with the connection if the holder dies. On SQLite the database belongs to one
process, so a per-database flag in this process is enough.

A caller may wait for its turn (`wait` seconds): the command line's `jobs run deliver` does, because
a running app holds the lock only for the length of one tick and would otherwise make it give up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from sqlalchemy import text

from db.uow import UnitOfWork

# "loyalty outbox" as a 63-bit number, so no other feature's advisory lock collides with it.
OUTBOX_LOCK_KEY = 0x6C6F79616C747901

_held_in_process: set[str] = set()

# How often a waiting caller tries again: short next to a sender's tick (2 s).
RETRY_EVERY_SECONDS = 0.1


async def _try_until(attempt: Callable[[], Awaitable[bool]], wait: float) -> bool:
    deadline = time.monotonic() + wait
    while True:
        if await attempt():
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(RETRY_EVERY_SECONDS)


@asynccontextmanager
async def sender_lock(uow: UnitOfWork, *, wait: float = 0.0) -> AsyncIterator[bool]:
    """Yield True when this caller is the one sender now, False when another one still is after
    `wait` seconds."""
    if not uow.is_postgres:
        key = str(uow.engine.url)

        async def free_in_process() -> bool:
            return key not in _held_in_process

        if not await _try_until(free_in_process, wait):
            yield False
            return
        _held_in_process.add(key)
        try:
            yield True
        finally:
            _held_in_process.discard(key)
        return
    async with uow.engine.connect() as conn:

        async def try_lock() -> bool:
            got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": OUTBOX_LOCK_KEY})).scalar())
            await conn.commit()
            return got

        got = await _try_until(try_lock, wait)
        try:
            yield got
        finally:
            if got:
                try:
                    await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": OUTBOX_LOCK_KEY})
                    await conn.commit()
                except BaseException:
                    # A connection that may still hold the lock must never go back to the pool.
                    await conn.invalidate()
                    raise
