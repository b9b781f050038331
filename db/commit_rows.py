"""Rows a transaction writes later than it adds them (a purchase's notifications, the API's stored
response, and on PostgreSQL the rows of a till's purchase itself), written together just before
COMMIT, or before the transaction's next statement if one comes first.

On PostgreSQL every table's rows go in one statement, however many use cases queued them (a lane
of services/card_turns.py commits up to 32 purchases at once): each table's rows travel as one
JSON parameter (`json_populate_recordset`), so the statement's text depends only on the tables
and columns, and it is prepared once. SQLite inserts each table's rows with one executemany.

Rows are written by the session's events: `before_commit`, so no commit path can forget them, and
`do_orm_execute` and `before_flush`, so any later statement of the transaction sees them as if
they had been written when added (a statement sent on the transaction's connection itself, not
through the session, as the import's COPY is, does not see them). They are dropped when the
transaction rolls back. A table given `skip_conflicts_on` skips rows that conflict there (ON
CONFLICT DO NOTHING); any other conflict fails the statement with IntegrityError, as the INSERT
would have.

Rows can be changed the same way (`set_at_commit`, PostgreSQL only): the new values of a row, set
only if it still holds the values the caller saw; if any row of the statement does not, it raises
`RowChanged` and the transaction must roll back (benchmark 2: a till's purchase sets its card's
amounts so, from the values it read under the card's lock).
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Table, event, insert, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from db.dialects import insert_or_skip, is_postgres

_PENDING = "commit_rows.pending"
_CHANGES = "commit_rows.changes"
_Group = tuple[Table, tuple[str, ...], tuple[str, ...] | None]  # table, columns, conflict columns
_Changes = dict[Table, dict[Any, tuple[dict[str, Any], dict[str, Any]]]]  # table -> id -> (new, was)


class RowChanged(Exception):
    """A row `set_at_commit` was to change no longer held the values its caller saw."""


def add_at_commit(
    session: AsyncSession | Session, table: Table, rows: list[dict[str, Any]], *,
    skip_conflicts_on: tuple[str, ...] | None = None,
) -> None:
    """Insert `rows` (dicts with the same keys) into `table` when this transaction commits."""
    if not rows:
        return
    info: dict[_Group, list[dict[str, Any]]] = session.info.setdefault(_PENDING, {})
    info.setdefault((table, tuple(rows[0]), skip_conflicts_on), []).extend(rows)


def set_at_commit(session: AsyncSession | Session, table: Table, *, new: dict[str, Any], was: dict[str, Any]) -> None:
    """Set the row of `table` whose `id` is `new["id"]` to the values in `new` when this transaction
    commits, if it then holds the values in `was` (same `id`). Two changes of one row merge: the
    first one's `was`, the second one's `new`."""
    if not is_postgres(session):
        raise NotImplementedError("set_at_commit is PostgreSQL's")
    changes: _Changes = session.info.setdefault(_CHANGES, {})
    rows = changes.setdefault(table, {})
    earlier = rows.get(new["id"])
    rows[new["id"]] = (new, was if earlier is None else earlier[1])


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


_Update = tuple[Table, tuple[str, ...], tuple[str, ...]]  # table, columns set, columns checked


@cache
def _statement(groups: tuple[_Group, ...], updates: tuple[_Update, ...] = ()) -> Any:
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
    counts = []
    for index, (table, setting, checking) in enumerate(updates):
        name = quote(table.name)
        assignments = ", ".join(f"{quote(c)} = n.{quote(c)}" for c in setting)
        checks = " AND ".join(f"t.{quote(c)} IS NOT DISTINCT FROM w.{quote(c)}" for c in checking)
        ctes.append(
            f"u{index} AS (UPDATE {name} AS t SET {assignments} "
            f"FROM json_populate_recordset(NULL::{name}, CAST(:new{index} AS json)) AS n "
            f"JOIN json_populate_recordset(NULL::{name}, CAST(:was{index} AS json)) AS w ON w.id = n.id "
            f"WHERE t.id = n.id AND {checks} RETURNING 1)"
        )
        counts.append(f"(SELECT count(*) FROM u{index})")
    return text(f"WITH {', '.join(ctes)} SELECT {', '.join(counts) or '1'}")


def _write_pending(session: Session, *args: object) -> None:
    pending: dict[_Group, list[dict[str, Any]]] = session.info.pop(_PENDING, None) or {}
    changes: _Changes = session.info.pop(_CHANGES, None) or {}
    if not pending and not changes:
        return
    # On the transaction's connection: not through the session, whose events brought us here.
    connection = session.connection()
    if is_postgres(session):
        params = {f"rows{i}": json.dumps(rows, default=_iso) for i, rows in enumerate(pending.values())}
        updates = []
        for index, (table, changed) in enumerate(changes.items()):
            new, was = zip(*changed.values(), strict=True)
            params[f"new{index}"] = json.dumps(new, default=_iso)
            params[f"was{index}"] = json.dumps(was, default=_iso)
            updates.append((table, tuple(c for c in new[0] if c != "id"), tuple(c for c in was[0] if c != "id")))
        counts = connection.execute(_statement(tuple(pending), tuple(updates)), params).one()
        if changes and list(counts) != [len(changed) for changed in changes.values()]:
            raise RowChanged(f"{', '.join(table.name for table in changes)} changed under the transaction")
        return
    for (table, _columns, conflict), rows in pending.items():
        connection.execute(insert_or_skip(session, table, conflict=conflict) if conflict else insert(table), rows)


def _write_before_statement(state: ORMExecuteState) -> None:
    _write_pending(state.session)


def _drop_pending(session: Session, *args: object) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_CHANGES, None)


# On the sync Session class, which every AsyncSession drives: the event runs inside the greenlet
# that runs the commit, where the sync API may still talk to the database.
event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "do_orm_execute", _write_before_statement)
event.listen(Session, "before_flush", _write_pending)
event.listen(Session, "after_rollback", _drop_pending)
