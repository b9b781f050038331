"""Rows a transaction adds that nothing in it reads back (a purchase's notifications, the API's
stored response), written together just before COMMIT.

On PostgreSQL every table's rows go in one statement, however many use cases queued them (a lane
of services/card_turns.py commits up to 32 purchases at once): each table's rows travel as one
JSON parameter (`json_populate_recordset`), so the statement's text depends only on the tables
and columns, and it is prepared once. SQLite inserts each table's rows with one executemany.

Rows are written by the session's `before_commit` event, so no commit path can forget them, and
dropped when the transaction rolls back. A table given `skip_conflicts_on` skips rows that
conflict there (ON CONFLICT DO NOTHING); any other conflict fails the COMMIT with IntegrityError,
as the INSERT would have.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, event, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from db.dialects import insert_or_skip, is_postgres

_PENDING = "commit_rows.pending"
_Group = tuple[Table, tuple[str, ...], tuple[str, ...] | None]  # table, columns, conflict columns


def add_at_commit(
    session: AsyncSession | Session, table: Table, rows: list[dict[str, Any]], *,
    skip_conflicts_on: tuple[str, ...] | None = None,
) -> None:
    """Insert `rows` (dicts with the same keys) into `table` when this transaction commits."""
    if not rows:
        return
    info: dict[_Group, list[dict[str, Any]]] = session.info.setdefault(_PENDING, {})
    info.setdefault((table, tuple(rows[0]), skip_conflicts_on), []).extend(rows)


def pending_rows(session: AsyncSession | Session, table: Table) -> list[dict[str, Any]]:
    """The rows of `table` this transaction writes at its COMMIT, in the order they were added."""
    pending: dict[_Group, list[dict[str, Any]]] = session.info.get(_PENDING, {})
    return [row for (group_table, _, _), rows in pending.items() if group_table is table for row in rows]


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a row written at commit")
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@cache
def _statement(groups: tuple[_Group, ...]) -> Any:
    make_dialect: Any = postgresql.dialect
    quote = make_dialect().identifier_preparer.quote
    ctes = []
    for index, (table, columns, conflict) in enumerate(groups):
        names = ", ".join(quote(column) for column in columns)
        skip = f" ON CONFLICT ({', '.join(quote(c) for c in conflict)}) DO NOTHING" if conflict else ""
        ctes.append(
            f"g{index} AS (INSERT INTO {quote(table.name)} ({names}) SELECT {names} "
            f"FROM json_populate_recordset(NULL::{quote(table.name)}, CAST(:rows{index} AS json)){skip})"
        )
    return text(f"WITH {', '.join(ctes)} SELECT 1")


def _write_pending(session: Session) -> None:
    pending: dict[_Group, list[dict[str, Any]]] | None = session.info.pop(_PENDING, None)
    if not pending:
        return
    if is_postgres(session):
        params = {f"rows{i}": json.dumps(rows, default=_iso) for i, rows in enumerate(pending.values())}
        session.execute(_statement(tuple(pending)), params)
        return
    for (table, _columns, conflict), rows in pending.items():
        session.execute(insert_or_skip(session, table, conflict=conflict) if conflict else insert(table), rows)


def _drop_pending(session: Session, *args: object) -> None:
    session.info.pop(_PENDING, None)


# On the sync Session class, which every AsyncSession drives: the event runs inside the greenlet
# that runs the commit, where the sync API may still talk to the database.
event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_rollback", _drop_pending)
