"""Rows written with the COMMIT (db/commit_rows.py), on both databases: all tables at once, skipped
or refused conflicts, nothing after a rollback; a stored response known before its COMMIT."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession

from db.commit_rows import RowChanged, add_at_commit, set_at_commit
from db.models import Card, IdempotentRequest, OutboxMessage, Staff, Store
from db.uow import UnitOfWork
from services import idempotent_requests
from services.clock import FrozenClock
from services.errors import IdempotencyConflict
from services.idempotent_requests import StoredResponse
from tests.conftest import POSTGRES_ONLY
from tests.ledger.helpers import make_card
from tests.notifications.helpers import make_person
from tests.support.statements import statements

RESPONSES: Table = IdempotentRequest.__table__  # type: ignore[assignment]
OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
STORES: Table = Store.__table__  # type: ignore[assignment]
UNIQUE = ("customer_id", "kind", "occasion")


def response(key: str, now: datetime, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"key": key, "request_hash": "h", "status_code": 201, "response": body or {"k": key}, "created_at": now}


def message(customer_id: int, occasion: str, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": customer_id, "kind": "accrual", "occasion": occasion, "marketing": False,
        "payload": {"points": 100, "note": "кириллица \"quoted\""}, "status": "pending", "attempts": 0,
        "not_before": now, "broadcast_id": None, "created_at": now,
    }


async def stored(uow: UnitOfWork) -> dict[str, dict[str, Any]]:
    async def work(session: AsyncSession) -> dict[str, dict[str, Any]]:
        rows = await session.execute(select(IdempotentRequest.key, IdempotentRequest.response))
        return {key: body for key, body in rows}

    return await uow.read(work)


async def outbox(uow: UnitOfWork) -> list[tuple[str, dict[str, Any], datetime]]:
    async def work(session: AsyncSession) -> list[tuple[str, dict[str, Any], datetime]]:
        rows = await session.execute(
            select(OutboxMessage.occasion, OutboxMessage.payload, OutboxMessage.not_before).order_by(OutboxMessage.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]

    return await uow.read(work)


async def a_customer(uow: UnitOfWork, clock: FrozenClock) -> int:
    return (await make_person(uow, clock)).customer_id


async def test_rows_of_several_tables_and_calls_go_with_the_commit(uow: UnitOfWork, clock: FrozenClock) -> None:
    customer = await a_customer(uow, clock)
    now = clock.now()

    async def work(session: AsyncSession) -> None:
        add_at_commit(session, RESPONSES, [response("a", now)])
        add_at_commit(session, OUTBOX, [message(customer, "op:1", now), message(customer, "op:2", now)],
                      skip_conflicts_on=UNIQUE)
        add_at_commit(session, RESPONSES, [response("b", now, {"nested": [1, {"x": None}]})])

    with statements(uow.engine) as seen:
        await uow.write(work)
    assert len([s for s in seen if s.startswith(("WITH", "INSERT"))]) == (1 if uow.is_postgres else 2)
    assert await stored(uow) == {"a": {"k": "a"}, "b": {"nested": [1, {"x": None}]}}
    assert await outbox(uow) == [
        ("op:1", {"points": 100, "note": "кириллица \"quoted\""}, now),
        ("op:2", {"points": 100, "note": "кириллица \"quoted\""}, now),
    ]


async def test_a_later_statement_of_the_transaction_sees_the_rows(uow: UnitOfWork, clock: FrozenClock) -> None:
    now = clock.now()

    async def work(session: AsyncSession) -> list[str]:
        add_at_commit(session, RESPONSES, [response("a", now)])
        return list((await session.execute(select(IdempotentRequest.key))).scalars())

    assert await uow.write(work) == ["a"]

    async def referenced_by_a_flush(session: AsyncSession) -> None:
        add_at_commit(session, STORES, [{"id": 777, "code": "Y", "name": "Y", "created_at": now}])
        session.add(Staff(telegram_id=5, name="Vera", role="cashier", store_id=777, created_at=now))
        await session.flush()  # the store must be there first, or its foreign key refuses the staff row

    await uow.write(referenced_by_a_flush)


async def test_a_conflict_is_skipped_where_asked_and_refused_elsewhere(uow: UnitOfWork, clock: FrozenClock) -> None:
    customer = await a_customer(uow, clock)
    now = clock.now()

    async def first(session: AsyncSession) -> None:
        add_at_commit(session, RESPONSES, [response("a", now)])
        add_at_commit(session, OUTBOX, [message(customer, "op:1", now)], skip_conflicts_on=UNIQUE)

    await uow.write(first)

    async def outbox_again(session: AsyncSession) -> None:
        add_at_commit(session, OUTBOX, [message(customer, "op:1", now), message(customer, "op:3", now)],
                      skip_conflicts_on=UNIQUE)

    await uow.write(outbox_again)
    assert [occasion for occasion, _, _ in await outbox(uow)] == ["op:1", "op:3"]

    async def response_again(session: AsyncSession) -> None:
        session.add(Store(code="X", name="X", created_at=now))
        await session.flush()
        add_at_commit(session, RESPONSES, [response("a", now, {"other": True})])

    with pytest.raises(IntegrityError):
        await uow.write(response_again)
    assert await stored(uow) == {"a": {"k": "a"}}

    async def stores(session: AsyncSession) -> list[str]:
        return list((await session.execute(select(Store.code))).scalars())

    assert "X" not in await uow.read(stores)  # the failed COMMIT took the transaction's other rows with it


async def test_nothing_is_written_after_a_rollback(uow: UnitOfWork, clock: FrozenClock) -> None:
    now = clock.now()

    async def refused(session: AsyncSession) -> None:
        add_at_commit(session, RESPONSES, [response("gone", now)])
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        await uow.write(refused)

    async def next_one(session: AsyncSession) -> None:
        add_at_commit(session, RESPONSES, [response("kept", now)])

    await uow.write(next_one)
    assert await stored(uow) == {"kept": {"k": "kept"}}


async def test_a_naive_time_is_refused(uow: UnitOfWork) -> None:
    async def work(session: AsyncSession) -> None:
        add_at_commit(session, RESPONSES, [response("naive", datetime(2026, 1, 1))])

    # PostgreSQL: from the JSON encoding here; SQLite: from the column type, wrapped by SQLAlchemy.
    with pytest.raises((ValueError, StatementError), match="naive datetime"):
        await uow.write(work)
    assert await stored(uow) == {}


async def test_a_response_stored_at_commit_is_known_to_the_rest_of_its_transaction(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    """A till's retry that lands in the same shared transaction as its first try (services/
    card_turns.py) replays the first answer instead of failing the COMMIT on the key."""
    now = clock.now()

    async def work(session: AsyncSession) -> list[StoredResponse | None]:
        first = idempotent_requests.save_at_commit(
            session, now, key="api:R1", expected_hash="h1", status_code=201, body={"points": 50}
        )
        again = idempotent_requests.known_in(session, None, "api:R1", "h1")
        other_key = idempotent_requests.known_in(session, None, "api:R2", "h1")
        with pytest.raises(IdempotencyConflict):
            idempotent_requests.known_in(session, None, "api:R1", "another body")
        return [first, again, other_key]

    first, again, other_key = await uow.write(work)
    assert first == StoredResponse(201, {"points": 50}, replayed=False)
    assert again == StoredResponse(201, {"points": 50}, replayed=True)
    assert other_key is None
    assert await stored(uow) == {"api:R1": {"points": 50}}

    async def after_commit(session: AsyncSession) -> StoredResponse | None:
        return await idempotent_requests.find_in(session, "api:R1", "h1")

    assert await uow.read(after_commit) == StoredResponse(201, {"points": 50}, replayed=True)


CARDS: Table = Card.__table__  # type: ignore[assignment]


async def amounts(uow: UnitOfWork, card_id: int) -> tuple[int, int]:
    async def work(session: AsyncSession) -> tuple[int, int]:
        row = (await session.execute(select(Card.balance, Card.pending).where(Card.id == card_id))).one()
        return row[0], row[1]

    return await uow.read(work)


@POSTGRES_ONLY
async def test_a_row_is_set_at_commit_only_if_it_still_holds_what_was_seen(uow: UnitOfWork, clock: FrozenClock) -> None:
    card_id = (await make_card(uow, clock))[0]
    now = clock.now()

    async def two_changes(session: AsyncSession) -> None:
        set_at_commit(session, CARDS, new={"id": card_id, "balance": 10, "pending": 5},
                      was={"id": card_id, "balance": 0, "pending": 0})
        set_at_commit(session, CARDS, new={"id": card_id, "balance": 30, "pending": 7},
                      was={"id": card_id, "balance": 10, "pending": 5})

    await uow.write(two_changes)
    assert await amounts(uow, card_id) == (30, 7)  # merged: the first one's "was", the last one's "new"

    async def stale(session: AsyncSession) -> None:
        add_at_commit(session, RESPONSES, [response("with-stale", now)])
        set_at_commit(session, CARDS, new={"id": card_id, "balance": 99, "pending": 7},
                      was={"id": card_id, "balance": 10, "pending": 7})

    with pytest.raises(RowChanged):
        await uow.write(stale)
    assert await amounts(uow, card_id) == (30, 7)
    assert await stored(uow) == {}  # the transaction's other rows went with it
