"""Writes to cards take turns in lanes and share transactions (services/card_turns.py), on both databases."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Store
from db.uow import UnitOfWork
from services.card_turns import CardTurns, Refused
from services.clock import FrozenClock
from services.errors import DomainError
from tests.conftest import POSTGRES_ONLY


def store_writer(code: str, sessions: list[AsyncSession], *, fail: bool = False):  # type: ignore[no-untyped-def]
    async def work(session: AsyncSession) -> str:
        sessions.append(session)  # kept alive, so two transactions never share an id()
        session.add(Store(code=code, name=code, created_at=FrozenClock().now()))
        await session.flush()
        await asyncio.sleep(0.01)  # let the other writers queue behind this one
        if fail:
            raise DomainError(code=code)
        return code

    return work


async def store_codes(uow: UnitOfWork) -> set[str]:
    async def work(session: AsyncSession) -> set[str]:
        return set((await session.execute(select(Store.code).where(Store.code.like("T-%")))).scalars())

    return await uow.read(work)


async def test_writes_queued_behind_a_turn_share_one_transaction(uow: UnitOfWork) -> None:
    turns, sessions = CardTurns(), list[AsyncSession]()
    codes = [f"T-{i}" for i in range(10)]
    results = await asyncio.gather(*(turns.write(uow, "card-1", store_writer(c, sessions)) for c in codes))
    assert results == codes
    assert await store_codes(uow) == set(codes)
    # Written in at most two transactions (the first write may run before the rest queue), not ten.
    assert len({id(s) for s in sessions}) <= 2
    assert len(turns) == 0  # nothing is kept for a card once its queue is empty


async def test_a_failing_write_takes_no_other_write_with_it(uow: UnitOfWork) -> None:
    turns, sessions = CardTurns(), list[AsyncSession]()
    writes = [
        turns.write(uow, "card-1", store_writer(f"T-{i}", sessions, fail=(i == 5))) for i in range(8)
    ]
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert isinstance(results[5], DomainError)
    assert [r for i, r in enumerate(results) if i != 5] == [f"T-{i}" for i in range(8) if i != 5]
    # The failed batch was rolled back and its writes ran again one by one: only the refused one is missing.
    assert await store_codes(uow) == {f"T-{i}" for i in range(8) if i != 5}
    assert len(turns) == 0


async def test_a_write_refused_before_writing_leaves_its_batch_alone(uow: UnitOfWork) -> None:
    """An unknown card among 32 tills' purchases must not make the other 31 run again."""
    turns, sessions = CardTurns(lanes=1), list[AsyncSession]()

    async def refuses(session: AsyncSession) -> str:
        sessions.append(session)
        await asyncio.sleep(0.01)
        raise Refused(DomainError(code="unknown-card"))

    writes = [
        turns.write(uow, f"card-{i}", refuses if i == 3 else store_writer(f"T-{i}", sessions)) for i in range(8)
    ]
    results = await asyncio.gather(*writes, return_exceptions=True)
    assert type(results[3]) is DomainError  # the refusal itself, not its wrapper
    assert [r for i, r in enumerate(results) if i != 3] == [f"T-{i}" for i in range(8) if i != 3]
    assert await store_codes(uow) == {f"T-{i}" for i in range(8) if i != 3}
    # Not rolled back and run again one by one: at most two transactions (the first write may run
    # before the rest queue).
    assert len({id(s) for s in sessions}) <= 2
    assert len(turns) == 0


async def test_a_refusal_of_a_write_running_alone_reaches_its_caller(uow: UnitOfWork) -> None:
    async def refuses(session: AsyncSession) -> str:
        raise Refused(DomainError(code="unknown-card"))

    with pytest.raises(DomainError) as refused:
        await CardTurns().write(uow, "card-1", refuses)
    assert type(refused.value) is DomainError


def cards_in_two_lanes(turns: CardTurns) -> tuple[str, str]:
    other = next(f"card-{i}" for i in range(2, 100) if turns.lane_of(f"card-{i}") != turns.lane_of("card-1"))
    return "card-1", other


async def test_writes_on_many_cards_share_a_few_transactions(uow: UnitOfWork) -> None:
    turns, sessions = CardTurns(lanes=2), list[AsyncSession]()
    codes = [f"T-{i}" for i in range(20)]
    results = await asyncio.gather(
        *(turns.write(uow, f"card-{i}", store_writer(c, sessions)) for i, c in enumerate(codes))
    )
    assert results == codes
    assert await store_codes(uow) == set(codes)
    # Two lanes: at most two transactions each (the first write of a lane may run before the rest queue).
    assert len({id(s) for s in sessions}) <= 4
    assert len(turns) == 0


async def test_a_cards_writes_keep_their_order_across_batches(uow: UnitOfWork) -> None:
    turns, order = CardTurns(lanes=2), list[int]()

    def writer(i: int):  # type: ignore[no-untyped-def]
        async def work(session: AsyncSession) -> None:
            order.append(i)
            await asyncio.sleep(0)

        return work

    # More than one batch (MAX_BATCH = 32), with other cards' writes interleaved in both lanes.
    writes = []
    for i in range(40):
        writes.append(turns.write(uow, "card-1", writer(i)))
        writes.append(turns.write(uow, f"card-{i + 2}", writer(-1)))
    await asyncio.gather(*writes)
    assert [i for i in order if i >= 0] == list(range(40))


@POSTGRES_ONLY  # SQLite serialises writing transactions: there the other lane waits for the database
async def test_a_card_in_another_lane_does_not_wait(uow: UnitOfWork) -> None:
    turns, started, release = CardTurns(lanes=2), asyncio.Event(), asyncio.Event()
    busy, free = cards_in_two_lanes(turns)

    async def held(session: AsyncSession) -> str:
        started.set()
        await release.wait()
        return "held"

    first = asyncio.ensure_future(turns.write(uow, busy, held))
    await started.wait()
    assert await asyncio.wait_for(turns.write(uow, free, store_writer("T-b", [])), 5) == "T-b"
    release.set()
    assert await first == "held"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_an_unexpected_error_reaches_its_caller(uow: UnitOfWork) -> None:
    turns = CardTurns()

    async def broken(session: AsyncSession) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await turns.write(uow, "card-1", broken)
    assert len(turns) == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_caller_going_away_leaves_the_writes_queued_behind_it_intact(uow: UnitOfWork) -> None:
    turns, sessions = CardTurns(), list[AsyncSession]()
    first = asyncio.ensure_future(turns.write(uow, "card-1", store_writer("T-first", sessions)))
    await asyncio.sleep(0.001)  # the first write is running
    behind = [asyncio.ensure_future(turns.write(uow, "card-1", store_writer(f"T-{i}", sessions))) for i in range(3)]
    await asyncio.sleep(0)
    first.cancel()
    assert await asyncio.gather(*behind) == ["T-0", "T-1", "T-2"]
    assert await store_codes(uow) == {"T-first", "T-0", "T-1", "T-2"}
    assert len(turns) == 0


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_turn_cancelled_at_shutdown_answers_every_write_it_held(uow: UnitOfWork) -> None:
    turns, started = CardTurns(), asyncio.Event()

    async def slow(session: AsyncSession) -> str:
        started.set()
        await asyncio.sleep(10)
        return "never"

    writes = [asyncio.ensure_future(turns.write(uow, "card-1", slow)) for _ in range(3)]
    await started.wait()  # the batch is running
    for task in list(turns._running):
        task.cancel()
    results = await asyncio.wait_for(asyncio.gather(*writes, return_exceptions=True), 5)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert len(turns) == 0
