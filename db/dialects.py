"""What differs between the two databases, asked of a session: one place instead of a dialect
check in every module that needs PostgreSQL's own SQL or an INSERT ... ON CONFLICT."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def is_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def conflict_insert(session: AsyncSession) -> Any:
    """The dialect's `insert`, which has `on_conflict_do_nothing` (both databases support it)."""
    return postgresql.insert if is_postgres(session) else sqlite.insert
