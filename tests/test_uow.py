"""The unit of work on a connection the server dropped: without a ping per checkout, the use case
itself meets the dead connection and must be retried, never failed and never applied twice."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from db.engine import create_engine
from db.models import Store
from db.uow import UnitOfWork
from services import stores
from services.clock import FrozenClock
from tests.conftest import PG_SKIP_REASON, PG_URL, _reset_postgres


async def _backend_pid(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _drop_pooled_connection(uow: UnitOfWork, url: str) -> None:
    """What a server restart does to a pool: the server ends the session of the pooled connection
    (used one at a time here, so the pool holds just that one)."""
    pid = await uow.read(_backend_pid)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        assert await conn.fetchval("SELECT pg_terminate_backend($1)", pid)
    finally:
        await conn.close()


async def test_reads_and_writes_go_on_after_the_server_dropped_every_connection(clock: FrozenClock) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    engine = create_engine(PG_URL, pool_size=3)
    try:
        await _reset_postgres(engine)
        uow = UnitOfWork(engine)

        async def count_stores(session: AsyncSession) -> int:
            return int((await session.execute(select(func.count()).select_from(Store))).scalar_one())

        async def count_stores_on(connection: AsyncConnection) -> int:
            return int((await connection.execute(select(func.count()).select_from(Store))).scalar_one())

        assert await uow.read(count_stores) == 0
        await _drop_pooled_connection(uow, PG_URL)
        assert await uow.read(count_stores) == 0
        await _drop_pooled_connection(uow, PG_URL)
        assert await uow.read_rows(count_stores_on) == 0

        await stores.add_store(uow, clock, code="S1", name="One", actor="test")
        await _drop_pooled_connection(uow, PG_URL)
        await stores.add_store(uow, clock, code="S2", name="Two", actor="test")
        assert await uow.read(count_stores) == 2  # each written once
    finally:
        await engine.dispose()
