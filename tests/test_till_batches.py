"""A till's purchases sharing a transaction (services/card_turns.py) lock their cards together
(db/repositories/ledger.py::lock_cards_for_till): one statement for the batch on PostgreSQL, and
every purchase still posted once, with the card's amounts exact, however the batch names its cards."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Operation
from db.uow import UnitOfWork
from services import customers, pos
from services.card_turns import CardTurns
from services.clock import FrozenClock
from services.idempotent_requests import StoredResponse, request_hash
from services.ledger import check_invariants
from services.phones import PhonePolicy
from services.stores import add_store
from tests.support.statements import statements


@pytest.fixture(autouse=True)
def one_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every purchase down one lane: those asked for at once make one batch."""
    monkeypatch.setattr(pos, "card_turns", CardTurns(lanes=1))


def card_locks(uow: UnitOfWork) -> AbstractContextManager[list[str]]:
    # The till's lock, told by its join (SQLite has no FOR UPDATE).
    return statements(uow.engine, lambda statement: "JOIN cards ON cards.number = " in statement)


async def _cards(uow: UnitOfWork, clock: FrozenClock, count: int) -> list[str]:
    numbers = []
    for i in range(count):
        walk_in = await customers.create_walk_in(
            uow, clock, phone=f"+7916555{i:04d}", name="Anna", phone_policy=PhonePolicy(), actor="test"
        )
        assert walk_in.card_number is not None
        numbers.append(walk_in.card_number)
    return numbers


async def _buy(
    uow: UnitOfWork, clock: FrozenClock, store_id: int, query: str, receipt: str, key: str
) -> StoredResponse:
    return await pos.accrue_once(
        uow, clock, key=key, request_hash=request_hash({"receipt": receipt, "amount": 100_000}), query=query,
        policy=PhonePolicy(), store_id=store_id, receipt_id=receipt, amount_kopecks=100_000, actor="till",
        render=lambda number, result: {"card": number, "pending": result.card.pending},
    )


async def _purchases(uow: UnitOfWork) -> int:
    async def work(session: AsyncSession) -> int:
        stmt = select(func.count()).select_from(Operation).where(Operation.kind == "purchase_accrual")
        return int((await session.execute(stmt)).scalar_one())

    return await uow.read(work)


async def test_a_batch_on_distinct_cards_locks_them_in_one_statement(uow: UnitOfWork, clock: FrozenClock) -> None:
    store = await add_store(uow, clock, code="S1", name="Shop", actor="test")
    numbers = await _cards(uow, clock, 5)

    with card_locks(uow) as locks:
        answers = await asyncio.gather(
            *(_buy(uow, clock, store.id, number, f"R-{number}", f"k-{number}") for number in numbers)
        )

    assert len(locks) == (1 if uow.is_postgres else len(numbers))
    assert [(a.status_code, a.body) for a in answers] == [(201, {"card": n, "pending": 5_000}) for n in numbers]
    assert await _purchases(uow) == len(numbers)
    await check_invariants(uow)


async def test_one_card_named_by_number_and_by_phone_in_one_batch_counts_both(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    store = await add_store(uow, clock, code="S1", name="Shop", actor="test")
    (number,) = await _cards(uow, clock, 1)

    answers = await asyncio.gather(
        _buy(uow, clock, store.id, "+7 916 555-00-00", "R-1", "k-1"),  # the phone, read by itself
        _buy(uow, clock, store.id, number, "R-2", "k-2"),  # the number, read ahead before the phone's write
        _buy(uow, clock, store.id, number, "R-3", "k-3"),  # the number again: reads after the one before
    )

    assert [a.body["pending"] for a in answers] == [5_000, 10_000, 15_000]
    assert await _purchases(uow) == 3
    await check_invariants(uow)


async def test_a_repeated_request_in_one_batch_is_answered_twice_and_posted_once(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    store = await add_store(uow, clock, code="S1", name="Shop", actor="test")
    (number,) = await _cards(uow, clock, 1)

    first, again, by_phone = await asyncio.gather(
        _buy(uow, clock, store.id, number, "R-1", "k-1"),
        _buy(uow, clock, store.id, number, "R-1", "k-1"),
        # The same receipt under another key, the card named by its phone: a replay of the purchase.
        _buy(uow, clock, store.id, "+79165550000", "R-1", "k-2"),
    )

    assert (first.replayed, again.replayed) == (False, True)
    assert first.body == again.body == {"card": number, "pending": 5_000}
    assert by_phone.status_code == 201 and by_phone.body["pending"] == 5_000
    assert await _purchases(uow) == 1
    await check_invariants(uow)


async def test_a_batch_answers_each_card_without_its_points_expired_by_the_instant(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    """The batch computes each card's answer from what its one lock statement read: the welcome
    points (100, expiring 30 days after the cards were made) count a microsecond before their
    expiry instant and not at it, before any expiry job has run."""
    store = await add_store(uow, clock, code="S1", name="Shop", actor="test")
    numbers = await _cards(uow, clock, 3)
    instant = clock.now() + timedelta(days=30)

    async def batch(when: datetime, tag: str) -> list[tuple[str, int]]:
        clock.set(when)
        with card_locks(uow) as locks:
            answers = await asyncio.gather(
                *(
                    pos.accrue_once(
                        uow, clock, key=f"{tag}-{n}", request_hash=request_hash({"receipt": f"{tag}-{n}"}), query=n,
                        policy=PhonePolicy(), store_id=store.id, receipt_id=f"{tag}-{n}", amount_kopecks=100_000,
                        actor="till", render=lambda number, result: {"card": number, "balance": result.card.balance},
                    )
                    for n in numbers
                )
            )
        assert len(locks) == (1 if uow.is_postgres else len(numbers))
        return [(a.body["card"], a.body["balance"]) for a in answers]

    assert await batch(instant - timedelta(microseconds=1), "before") == [(n, 10_000) for n in numbers]
    assert await batch(instant, "at") == [(n, 0) for n in numbers]
    await check_invariants(uow)
