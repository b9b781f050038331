"""One sender at a time. On PostgreSQL a session-level advisory lock held on a dedicated
connection for as long as the sender runs: a second instance's try fails at once, and the lock goes
away by itself with the connection if the holder dies. On SQLite the database belongs to one
process, so a per-database flag in this process is enough."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text

from db.uow import UnitOfWork

# "loyalty outbox" as a 63-bit number, so no other feature's advisory lock collides with it.
OUTBOX_LOCK_KEY = 0x6C6F79616C747901

_held_in_process: set[str] = set()


@asynccontextmanager
async def sender_lock(uow: UnitOfWork) -> AsyncIterator[bool]:
    """Yield True when this caller is the one sender now, False when another one is."""
    if not uow.is_postgres:
        key = str(uow.engine.url)
        if key in _held_in_process:
            yield False
            return
        _held_in_process.add(key)
        try:
            yield True
        finally:
            _held_in_process.discard(key)
        return
    async with uow.engine.connect() as conn:
        got = bool((await conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": OUTBOX_LOCK_KEY})).scalar())
        await conn.commit()
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
