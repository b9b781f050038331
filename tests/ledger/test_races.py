"""Concurrent use cases on one card, each in its own session (the UnitOfWork opens one per call).

The 50-redemption race replaces the TOTP check by one that accepts any code (`redeem` takes the
check as a parameter for this): one card has at most three valid codes at a time and each can be
used once, so 50 genuine codes cannot exist at one instant. What this race tests is the balance;
the one-time rule gets its own race below, with the real check.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.errors import AdjustmentLimitReached, DomainError, InsufficientPoints
from services.ledger import accrue_purchase, adjust_points, get_balance, redeem, refund
from services.program import update_settings
from tests.ledger.helpers import P, code_now, invariants, make_card, make_world, wrong_code

RUB = 100


async def accept_any_code(session: AsyncSession, card: Card, code: str, now: datetime) -> None:
    return None


async def test_fifty_redemptions_of_100_on_1000(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    await adjust_points(
        uow, clock, card_id=w.card_id, points=P(1000), reason="race", idempotency_key="seed", actor="staff:1"
    )

    async def one(i: int) -> bool:
        try:
            await redeem(
                uow,
                clock,
                card_id=w.card_id,
                store_id=w.store_id,
                receipt_id=f"R{i}",
                receipt_amount_kopecks=1000 * RUB,
                points=P(100),
                code="-",
                actor="staff:1",
                code_check=accept_any_code,
            )
        except InsufficientPoints:
            return False
        return True

    outcomes = await asyncio.gather(*(one(i) for i in range(50)))
    assert sum(outcomes) == 10
    assert (await get_balance(uow, clock, w.card_id)).available == 0
    await invariants(uow)


async def test_same_purchase_twenty_times_accrues_once(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    results = await asyncio.gather(
        *(
            accrue_purchase(
                uow,
                clock,
                card_id=w.card_id,
                store_id=w.store_id,
                receipt_id="R1",
                amount_kopecks=1000 * RUB,
                actor="pos",
            )
            for _ in range(20)
        )
    )
    assert len({r.operation_id for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    assert (await get_balance(uow, clock, w.card_id)).pending == P(50)
    await invariants(uow)


async def test_fifty_tills_presenting_the_right_code_at_once_post_once_and_lock_nothing(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    """The customer's one code, presented 50 times at once (a till's retries, a double click): one
    redemption, 49 "already used", and none of them a wrong try, so nothing gets locked."""
    w = await make_world(uow, clock)
    await adjust_points(
        uow, clock, card_id=w.card_id, points=P(500), reason="race", idempotency_key="seed", actor="staff:1"
    )
    code = code_now(w.secret, clock)

    async def one(i: int, code: str = code, receipt: str = "R") -> str:
        try:
            await redeem(
                uow,
                clock,
                card_id=w.card_id,
                store_id=w.store_id,
                receipt_id=f"{receipt}{i}",
                receipt_amount_kopecks=1000 * RUB,
                points=P(1),
                code=code,
                actor="staff:1",
            )
        except DomainError as refused:
            return refused.code
        return "posted"

    outcomes = Counter(await asyncio.gather(*(one(i) for i in range(50))))
    assert outcomes == {"posted": 1, "code_already_used": 49}
    # Zero wrong tries counted: four wrong codes now are still not enough to lock this till...
    wrong = wrong_code(w.secret, clock)
    assert [await one(i, wrong, "W") for i in range(4)] == ["bad_code"] * 4
    # ...and the next code of the customer's screen pays at this very till.
    assert await one(0, code_now(w.secret, clock, +1), "N") == "posted"
    assert (await get_balance(uow, clock, w.card_id)).available == P(498)
    await invariants(uow)


@pytest.mark.parametrize("rounds", [5])
async def test_refund_racing_redemption_keeps_invariants(uow: UnitOfWork, clock: FrozenClock, rounds: int) -> None:
    await update_settings(uow, clock, changes={"return_window_days": 0}, actor="test")
    w = await make_world(uow, clock)
    await adjust_points(
        uow, clock, card_id=w.card_id, points=P(300), reason="race", idempotency_key="seed", actor="staff:1"
    )
    for n in range(rounds):
        await accrue_purchase(
            uow,
            clock,
            card_id=w.card_id,
            store_id=w.store_id,
            receipt_id=f"B{n}",
            amount_kopecks=2000 * RUB,
            actor="pos",
        )  # +100 active

        async def spend(n: int = n) -> object:
            return await redeem(
                uow,
                clock,
                card_id=w.card_id,
                store_id=w.store_id,
                receipt_id=f"S{n}",
                receipt_amount_kopecks=1000 * RUB,
                points=P(300),
                code="-",
                actor="staff:1",
                code_check=accept_any_code,
            )

        async def give_back(n: int = n) -> object:
            return await refund(
                uow,
                clock,
                store_id=w.store_id,
                receipt_id=f"B{n}",
                amount_kopecks=None,
                refund_id="F",
                actor="staff:1",
            )

        outcomes = await asyncio.gather(spend(), give_back(), return_exceptions=True)
        for outcome in outcomes:
            assert not isinstance(outcome, Exception) or isinstance(outcome, InsufficientPoints), outcome
        await invariants(uow)


async def test_expiry_and_activation_racing_spending(uow: UnitOfWork, clock: FrozenClock) -> None:
    """The batch jobs lock their cards in id order; spending locks one card: no deadlock, no drift."""
    from datetime import timedelta

    from services.ledger import activate_due_lots, expire_due_lots
    from tests.ledger.helpers import make_card

    w = await make_world(uow, clock)
    cards = [w.card_id]
    for _ in range(5):
        card_id, _, _ = await make_card(uow, clock)
        cards.append(card_id)
    for n, card_id in enumerate(cards):
        await adjust_points(
            uow, clock, card_id=card_id, points=P(200), reason="seed", idempotency_key=f"s{n}", actor=f"staff:{n}"
        )
        await accrue_purchase(
            uow,
            clock,
            card_id=card_id,
            store_id=w.store_id,
            receipt_id=f"B{n}",
            amount_kopecks=1000 * RUB,
            actor="pos",
        )
    clock.advance(timedelta(days=20))
    for n, card_id in enumerate(cards):  # fresh points that outlive the expiry below
        await adjust_points(
            uow, clock, card_id=card_id, points=P(100), reason="seed", idempotency_key=f"t{n}", actor=f"staff:{n}"
        )
    clock.advance(timedelta(days=350))  # the first 200 of each card are past their expiry

    async def spend(card_id: int) -> object:
        return await redeem(
            uow,
            clock,
            card_id=card_id,
            store_id=w.store_id,
            receipt_id=f"S{card_id}",
            receipt_amount_kopecks=1000 * RUB,
            points=P(100),
            code="-",
            actor="staff:1",
            code_check=accept_any_code,
        )

    outcomes = await asyncio.gather(
        activate_due_lots(uow, clock, batch_size=2),
        expire_due_lots(uow, clock, batch_size=2),
        *(spend(card_id) for card_id in cards),
        return_exceptions=True,
    )
    for outcome in outcomes:
        assert not isinstance(outcome, Exception) or isinstance(outcome, InsufficientPoints), outcome
    await invariants(uow)


async def test_one_cashiers_concurrent_adjustments_on_two_cards_stay_within_the_daily_limit(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    """Each card is locked by its own adjustment; the cashier's daily sum must be too."""
    cards = [(await make_card(uow, clock))[0] for _ in range(4)]

    async def one(card_id: int, i: int) -> bool:
        try:
            await adjust_points(
                uow, clock, card_id=card_id, points=P(600), reason="race", idempotency_key=f"race-{i}",
                actor="staff:7",
            )
        except AdjustmentLimitReached:
            return False
        return True

    outcomes = await asyncio.gather(*(one(card_id, i) for i, card_id in enumerate(cards)))
    assert sum(outcomes) == 1  # 600 of the 1000 a day; a second 600 would exceed it
    await invariants(uow)
