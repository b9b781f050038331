"""Shared fixtures: a real, migrated database per test, on SQLite always and on PostgreSQL when
TEST_DATABASE_URL is set (tests taking `uow` run once per backend)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate
from db.engine import create_engine
from db.models import Base
from db.uow import UnitOfWork
from services.clock import FrozenClock

PG_URL = os.environ.get("TEST_DATABASE_URL")
PG_SKIP_REASON = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: isolation at the cost of a file copy."""
    path = tmp_path_factory.mktemp("db") / "template.db"

    async def build() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        await migrate.upgrade(engine)
        await engine.dispose()

    asyncio.run(build())
    return path


_pg_migrated = False


async def _reset_postgres(engine: AsyncEngine) -> None:
    """Bring the shared PostgreSQL database to the freshly migrated state."""
    global _pg_migrated
    if not _pg_migrated:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await migrate.upgrade(engine)
        _pg_migrated = True
        return
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        # The audit log refuses DELETE by trigger; TRUNCATE is the test-only way to empty it.
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    await _reseed(engine)


async def _reseed(engine: AsyncEngine) -> None:
    import importlib

    initial = importlib.import_module("db.migrations.versions.0001_initial_schema")
    async with engine.begin() as conn:
        names_ru = importlib.import_module("db.migrations.versions.0012_level_names").NAMES_RU
        for code, name, threshold, bp in initial.LEVELS:
            await conn.execute(
                text(
                    "INSERT INTO levels (group_id, code, name_ru, name_en, threshold_kopecks, percent_bp) "
                    "VALUES (NULL, :c, :ru, :n, :t, :p)"
                ),
                {"c": code, "ru": names_ru[code], "n": name, "t": threshold, "p": bp},
            )
        for code, ru, en, semantics, forward, backward in initial.LINK_TYPES:
            await conn.execute(
                text(
                    "INSERT INTO link_types (code, name_ru, name_en, semantics, default_forward, "
                    "default_backward, system, active) VALUES (:c, :ru, :en, :s, :f, :b, true, true)"
                ),
                {"c": code, "ru": ru, "en": en, "s": semantics, "f": forward, "b": backward},
            )


# For a test of what only PostgreSQL does (row locks, COPY): its `db_url` (and so `engine`, `uow`)
# is PostgreSQL alone instead of both databases.
POSTGRES_ONLY = pytest.mark.parametrize("db_url", ["postgres"], indirect=True)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, sqlite_template: Path, tmp_path: Path) -> str:
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP_REASON)
        return PG_URL
    path = tmp_path / "test.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    if engine.dialect.name == "postgresql":
        await _reset_postgres(engine)
    yield engine
    await engine.dispose()


@pytest.fixture
def uow(engine: AsyncEngine) -> UnitOfWork:
    return UnitOfWork(engine)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()
