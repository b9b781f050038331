"""The activation and expiry jobs on many cards at once: batches split across cards, runs racing
each other, a run waiting for a card that a use case holds. Each card gets exactly one result,
one expiry operation and one notification per job, and the invariants hold."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Allocation, Card, Lot, Operation, OutboxMessage
from db.repositories import ledger as repo
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.ledger import accrue_purchase, activate_due_lots, adjust_points, expire_due_lots, lots
from services.ledger.results import CardPoints
from services.notifications import kinds
from services.program import get_settings
from tests.conftest import POSTGRES_ONLY
from tests.ledger.helpers import P, invariants, make_card, make_store

RUB = 100
DAY = timedelta(days=1)
CARDS = 11


async def _seed(uow: UnitOfWork, clock: FrozenClock) -> tuple[list[int], dict[int, int], dict[int, int]]:
    """CARDS cards, each with 200 points that expire on day 365 (some partly or wholly spent, one
    with a second lot due too, one card without an owner) and a purchase of day 360 that becomes
    available on day 374; on day 375 both jobs have work on every card. Returns the cards and, per
    card, what should expire and what should activate."""
    store_id = await make_store(uow, clock)
    start = clock.now()
    cards: list[int] = []
    for n in range(CARDS):
        card_id, _, _ = await make_card(uow, clock, with_customer=n != 3)
        cards.append(card_id)
        await adjust_points(
            uow, clock, card_id=card_id, points=P(200), reason="seed", idempotency_key=f"s{n}", actor=f"staff:{n}"
        )
    spent = {cards[1]: P(50), cards[4]: P(200), cards[7]: P(199)}
    for n, card_id in enumerate(cards):
        if card_id in spent:
            await adjust_points(
                uow, clock, card_id=card_id, points=-spent[card_id], reason="spend", idempotency_key=f"x{n}",
                actor=f"staff:{n}",
            )
    clock.set(start + DAY)  # a second lot that expires with the first: one operation, two allocations
    await adjust_points(
        uow, clock, card_id=cards[5], points=P(30), reason="seed", idempotency_key="second", actor="staff:5"
    )
    clock.set(start + 300 * DAY)
    await adjust_points(  # fresh points that outlive the expiry
        uow, clock, card_id=cards[2], points=P(100), reason="later", idempotency_key="later", actor="staff:2"
    )
    clock.set(start + 360 * DAY)
    for n, card_id in enumerate(cards):
        await accrue_purchase(
            uow, clock, card_id=card_id, store_id=store_id, receipt_id=f"B{n}", amount_kopecks=1000 * RUB, actor="pos"
        )
    clock.set(start + 375 * DAY)
    expiring = {card_id: P(200) - spent.get(card_id, 0) for card_id in cards}
    expiring[cards[5]] += P(30)
    activating = dict.fromkeys(cards, P(50))
    return cards, {c: p for c, p in expiring.items() if p}, activating


async def _counts(uow: UnitOfWork) -> tuple[Counter[int], Counter[int], Counter[tuple[str, int]]]:
    async def work(session: AsyncSession) -> tuple[Counter[int], Counter[int], Counter[tuple[str, int]]]:
        expiries = await session.execute(select(Operation.card_id).where(Operation.kind == "expiry"))
        ops = Counter(int(card_id) for card_id in expiries.scalars())
        allocations = Counter(
            int(card_id)
            for card_id in (
                await session.execute(
                    select(Lot.card_id)
                    .join(Allocation, Allocation.lot_id == Lot.id)
                    .join(Operation, Operation.id == Allocation.operation_id)
                    .where(Operation.kind == "expiry")
                )
            ).scalars()
        )
        messages = Counter(
            (str(kind), int(customer_id))
            for kind, customer_id in await session.execute(
                select(OutboxMessage.kind, OutboxMessage.customer_id).where(
                    OutboxMessage.kind.in_((kinds.EXPIRED, kinds.ACTIVATION))
                )
            )
        )
        return ops, allocations, messages

    return await uow.read(work)


def _by_card(results: list[CardPoints]) -> dict[int, int]:
    cards = [r.card_id for r in results]
    assert len(cards) == len(set(cards)), f"a card came back twice: {results}"
    return {r.card_id: r.points for r in results}


async def _one_message_per_owned_card(
    uow: UnitOfWork, cards: list[int], expiring: dict[int, int], activating: dict[int, int]
) -> Counter[tuple[str, int]]:
    async def owners(session: AsyncSession) -> dict[int, int]:
        rows = await session.execute(select(Card.id, Card.customer_id).where(Card.id.in_(cards)))
        return {int(c): int(o) for c, o in rows if o is not None}

    owner = await uow.read(owners)
    assert len(owner) == len(cards) - 1  # the card without an owner gets no message
    return Counter(
        {(kinds.EXPIRED, owner[c]): 1 for c in expiring if c in owner}
        | {(kinds.ACTIVATION, owner[c]): 1 for c in activating if c in owner}
    )


@pytest.mark.parametrize("batch_size", [1, 4, 1000])
async def test_batches_split_the_cards_and_each_card_is_done_once(
    uow: UnitOfWork, clock: FrozenClock, batch_size: int
) -> None:
    cards, expiring, activating = await _seed(uow, clock)
    activated = await activate_due_lots(uow, clock, batch_size=batch_size)
    assert [r.card_id for r in activated] == sorted(activating)
    assert _by_card(activated) == activating
    expired = await expire_due_lots(uow, clock, batch_size=batch_size)
    assert [r.card_id for r in expired] == sorted(expiring)
    assert _by_card(expired) == expiring
    await invariants(uow)
    assert await activate_due_lots(uow, clock, batch_size=batch_size) == []
    assert await expire_due_lots(uow, clock, batch_size=batch_size) == []

    ops, allocations, messages = await _counts(uow)
    assert ops == Counter(list(expiring))  # one operation per card that lost something...
    assert allocations == Counter(list(expiring)) + Counter([cards[5]])  # ...and an allocation per lot burnt
    assert messages == await _one_message_per_owned_card(uow, cards, expiring, activating)

    async def wholly_spent_lot(session: AsyncSession) -> tuple[str, int]:
        row = (
            await session.execute(
                select(Lot.status, Lot.remaining).where(Lot.card_id == cards[4], Lot.points == P(200))
            )
        ).one()
        return str(row[0]), int(row[1])

    assert await uow.read(wholly_spent_lot) == ("expired", 0)


async def test_runs_racing_each_other_do_each_card_once(uow: UnitOfWork, clock: FrozenClock) -> None:
    cards, expiring, activating = await _seed(uow, clock)
    outcomes = await asyncio.gather(
        *(activate_due_lots(uow, clock, batch_size=3) for _ in range(3)),
        *(expire_due_lots(uow, clock, batch_size=3) for _ in range(3)),
    )
    assert _by_card([r for outcome in outcomes[:3] for r in outcome]) == activating
    assert _by_card([r for outcome in outcomes[3:] for r in outcome]) == expiring
    await invariants(uow)
    ops, allocations, messages = await _counts(uow)
    assert ops == Counter(list(expiring))
    assert allocations == Counter(list(expiring)) + Counter([cards[5]])
    assert messages == await _one_message_per_owned_card(uow, cards, expiring, activating)


@POSTGRES_ONLY  # row locks: SQLite serialises whole writing transactions
async def test_expiry_waits_for_a_held_card_and_burns_what_is_left_after(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    """A use case holds the card (FOR UPDATE) and spends, a microsecond before its expiry instant,
    from the very lot the job (on a clock already past that instant) waits to burn: the job must
    burn what is left after that spending, not before."""
    card_id, _, _ = await make_card(uow, clock)
    start = clock.now()
    seeded = await adjust_points(
        uow, clock, card_id=card_id, points=P(100), reason="seed", idempotency_key="s", actor="staff:1"
    )
    assert seeded.expires_at is not None
    spender = FrozenClock(seeded.expires_at - timedelta(microseconds=1))
    clock.set(start + 400 * DAY)

    async with AsyncSession(uow.engine) as holder, holder.begin():
        assert await repo.lock_card(holder, card_id, spender.now()) is not None
        job = asyncio.create_task(expire_due_lots(uow, clock))
        for _ in range(200):  # until the job is waiting for the card's lock
            await holder.execute(text("SELECT pg_stat_clear_snapshot()"))  # activity is cached per transaction
            waiting = await holder.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
            if waiting.scalar_one():
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail(f"the expiry job did not wait for the card's lock: {job.done() and job.result()}")
        spend = Operation(
            card_id=card_id, kind="redemption", points=-P(30), actor="staff:1", idempotency_key="spend",
            created_at=spender.now(),
        )
        await repo.add(holder, spend)
        await lots.debit(holder, spender, operation=spend, units=P(30))
    assert await job == [CardPoints(card_id, P(70))]
    await invariants(uow)

    async def burnt(session: AsyncSession) -> int:
        return int(
            (
                await session.execute(
                    select(func.sum(Allocation.points))
                    .join(Operation, Operation.id == Allocation.operation_id)
                    .where(Operation.kind == "expiry")
                )
            ).scalar_one()
        )

    assert await uow.read(burnt) == P(70)


class _TickingClock(FrozenClock):
    """Each reading is a day later than the one before: the job's next pass finds what fell due."""

    def now(self) -> datetime:
        current = self.current
        self.current += DAY
        return current


async def test_a_lot_that_falls_due_while_a_job_runs_is_handled_by_its_next_pass(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    store_id = await make_store(uow, clock)
    early, late = (await make_card(uow, clock))[0], (await make_card(uow, clock))[0]
    await accrue_purchase(uow, clock, card_id=early, store_id=store_id, receipt_id="e", amount_kopecks=1000 * RUB,
                          actor="s")
    clock.advance(timedelta(hours=12))
    await accrue_purchase(uow, clock, card_id=late, store_id=store_id, receipt_id="l", amount_kopecks=1000 * RUB,
                          actor="s")
    window = (await get_settings(uow)).return_window_days
    # The first pass sees only the early lot due; the late one falls due before the second pass.
    ticking = _TickingClock(clock.now() + window * DAY - timedelta(hours=1))

    activated = await activate_due_lots(uow, ticking)

    assert sorted(r.card_id for r in activated) == sorted([early, late])
    await invariants(uow)
