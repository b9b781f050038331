"""What differs between the two databases, asked of a session: one place instead of a dialect
check in every module that needs PostgreSQL's own SQL or an INSERT ... ON CONFLICT."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import JSON, BigInteger, Subquery, Table, bindparam, func, literal_column, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session


def is_postgres(session: AsyncSession | Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def changed_rows(result: object) -> int:
    """Rows an INSERT ... ON CONFLICT, UPDATE or DELETE changed (0 where the driver cannot tell)."""
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def insert_or_skip(
    session: AsyncSession | Session, table: Table, *, conflict: tuple[str, ...], returning: tuple[str, ...] = ()
) -> Any:
    """`INSERT ... ON CONFLICT (conflict) DO NOTHING [RETURNING ...]` for `table`, values given at
    execution (one dict, or a list for many rows). Built once per database: building a statement
    costs about as much as running it."""
    return _insert_or_skip(is_postgres(session), table, conflict, returning)


@cache
def _insert_or_skip(postgres: bool, table: Table, conflict: tuple[str, ...], returning: tuple[str, ...]) -> Any:
    insert = postgresql.insert if postgres else sqlite.insert
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    return stmt.returning(*(table.c[name] for name in returning)) if returning else stmt


def key_table(dialect: str, name: str) -> Subquery:
    """A one-column table (`key`) of the integers bound as `keys`: the keys of a batched read
    (`UnitOfWork.read_batched`), so one statement answers for all of them. One statement text for
    any number of keys (an expanding IN would be a new prepared statement per count): PostgreSQL
    unnests an array, SQLite reads a JSON list."""
    if dialect == "postgresql":
        keys = func.unnest(bindparam("keys", type_=postgresql.ARRAY(BigInteger)))
        return select(keys.label("key")).subquery(name)
    return (
        select(literal_column("value").label("key"))
        .select_from(func.json_each(bindparam("keys", type_=JSON)))
        .subquery(name)
    )
