"""The unit of work: one use case = one transaction = one commit, retried on transient conflicts.

Services call `uow.write(fn)` or `uow.read(fn)` with a function of the session. Repositories only
flush; nothing but this module commits.

Two savings on every use case (benchmark 1 found them at a quarter of an update's cost):
- Reads on PostgreSQL run without BEGIN/COMMIT (autocommit). At PostgreSQL's READ COMMITTED every
  statement takes its own snapshot even inside a transaction, so a read transaction gave no more
  consistency than this, for two round trips. SQLite keeps its read transaction (a real snapshot).
- No ping per checkout. A connection that died (server restart, idle timeout) fails the use case's
  first statement; this module then retries a read, and a write whose `work` had not finished (so
  nothing can have been committed). A connection lost during COMMIT itself is not retried: whether
  the commit happened is unknown, and the caller's idempotency key is what makes a retry safe.

`uow.read_rows(fn)` is `read` on a connection instead of a session, for the hottest reads, which
build their views from plain rows (who is speaking, read by every update, and the balance): a
session and mapped objects cost more than the statement itself (benchmark 1: who is speaking went
from 0.5 to 0.3 ms of CPU).

`uow.read_batched(load_many, key)` is `read_rows` for one key whose statement is shared with every
other key asked of the same `load_many` in the same turn of the event loop (aiodataloader's
DataLoader, without its cache: each call reads afresh). Updates are handled concurrently, and under
load a statement per update cost more CPU than the rest of the update (benchmark 1): one statement
for a batch of them answers each as fresh as its own would have.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiodataloader import DataLoader
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from db.engine import SQLITE_BEGIN_OPTION

T = TypeVar("T")
K = TypeVar("K")

# PostgreSQL serialization_failure and deadlock_detected; SQLite "database is locked".
_RETRYABLE_SQLSTATES = {"40001", "40P01"}
MAX_ATTEMPTS = 8
MAX_BATCH = 1000  # keys per batched read: aiogram's polling takes at most 100 updates at a time


def _is_transient(exc: DBAPIError) -> bool:
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_SQLSTATES:
        return True
    return "database is locked" in str(orig)


def _is_lost_connection(exc: DBAPIError) -> bool:
    return bool(exc.connection_invalidated)


class UnitOfWork:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self._reader = engine.execution_options(isolation_level="AUTOCOMMIT") if self.is_postgres else engine
        self._read = async_sessionmaker(self._reader, expire_on_commit=False, autoflush=False)
        writer = engine.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"}) if self.is_sqlite else engine
        self._write = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)
        self._loaders: dict[object, DataLoader[Any, Any]] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    async def write(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a writing transaction and commit; retry the whole of it on a transient
        conflict. `work` must therefore have no side effects outside the session."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            finished = False
            try:
                async with self._write() as session, session.begin():
                    result = await work(session)
                    finished = True
                return result
            except DBAPIError as exc:
                retry = _is_transient(exc) or (_is_lost_connection(exc) and not finished)
                if attempt == MAX_ATTEMPTS or not retry:
                    raise
                await asyncio.sleep(random.uniform(0, 0.01 * 2**attempt))
        raise AssertionError("unreachable")

    async def read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async def in_session() -> T:
            async with self._read() as session, session.begin():
                return await work(session)

        return await self._retried_read(in_session)

    async def read_rows(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        async def on_connection() -> T:
            async with self._reader.connect() as connection:
                return await work(connection)

        return await self._retried_read(on_connection)

    async def read_batched(self, load_many: Callable[[AsyncConnection, list[K]], Awaitable[list[T]]], key: K) -> T:
        """`load_many(connection, keys)` returns one value per key, in the keys' order."""
        loop = asyncio.get_running_loop()
        loader = self._loaders.get(load_many)
        if loader is None or loader.loop is not loop:

            async def load(keys: list[K]) -> list[T]:
                return await self.read_rows(lambda connection: load_many(connection, keys))

            loader = self._loaders[load_many] = DataLoader(load, cache=False, max_batch_size=MAX_BATCH, loop=loop)
        value: T = await loader.load(key)
        return value

    @staticmethod
    async def _retried_read(attempt_once: Callable[[], Awaitable[T]]) -> T:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return await attempt_once()
            except DBAPIError as exc:
                if attempt == MAX_ATTEMPTS or not (_is_transient(exc) or _is_lost_connection(exc)):
                    raise
        raise AssertionError("unreachable")
