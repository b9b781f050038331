"""The SQL statements an engine sends while a block runs, for tests that count round trips."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@contextmanager
def statements(engine: AsyncEngine, keep: Callable[[str], bool] = lambda _statement: True) -> Iterator[list[str]]:
    """The text of every statement sent (those `keep` accepts), in order, stripped of leading space."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if keep(statement.lstrip()):
            seen.append(statement.lstrip())

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
