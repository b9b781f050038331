"""Engine construction with the per-backend settings the ledger relies on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

SQLITE_BEGIN_OPTION = "sqlite_begin"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 20) -> AsyncEngine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    # No overflow: connections opened above the pool size were closed again on return, and under a
    # burst of updates the process spent its time connecting (benchmark 1); waiting for a pooled
    # connection is cheaper. No pre-ping either: db/uow.py retries a use case whose connection
    # turns out dead instead of paying a round trip on every checkout.
    # hide_parameters: an error's message (and so its log line) shows the statement without its
    # values, which are personal data more often than not (phones, names, Telegram ids).
    return create_async_engine(url, echo=echo, pool_size=pool_size, max_overflow=0, hide_parameters=True)


def _unicode_lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _sqlite_engine(url: str, *, echo: bool) -> AsyncEngine:
    # The busy timeout makes a second writer wait for the first instead of failing at once.
    engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30}, hide_parameters=True)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours (see _on_begin).
        dbapi_connection.isolation_level = None
        # SQLite's lower() only folds ASCII; searches by Cyrillic surname need Unicode folding.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        if ":memory:" not in url:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a DEFERRED transaction that reads
        # then writes can deadlock against another one and fail with "database is locked".
        mode = conn.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine
