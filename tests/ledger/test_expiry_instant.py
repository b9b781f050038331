"""A lot is available until its `expires_at` instant and gone from that instant on, everywhere,
whether or not the expiry job has run: the balance, spending, reversals and the debt they leave,
points a refund restores, family moves. At `expires_at - 1 µs` the lot still counts; at
`expires_at` exactly it does not. The job then burns exactly what the lot held at that instant."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Allocation, Card, Lot, Operation
from db.uow import UnitOfWork
from services import family
from services.clock import FrozenClock
from services.errors import InsufficientPoints
from services.ledger import (
    accrue_purchase,
    adjust_points,
    check_invariants,
    expire_due_lots,
    get_balance,
    grant_welcome_bonus,
    redeem,
    refund,
)
from services.ledger.results import CardPoints
from services.program import update_settings
from tests.family.helpers import walk_in
from tests.ledger.helpers import P, code_now, make_card, make_store, make_world

DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)


async def _lots(uow: UnitOfWork, card_id: int) -> dict[int, tuple[str, int, datetime | None]]:
    async def work(session: AsyncSession) -> dict[int, tuple[str, int, datetime | None]]:
        rows = await session.execute(select(Lot).where(Lot.card_id == card_id).order_by(Lot.id))
        return {lot.id: (lot.status, lot.remaining, lot.expires_at) for lot in rows.scalars()}

    return await uow.read(work)


async def _taken_from(uow: UnitOfWork, operation_id: int) -> dict[int, int]:
    async def work(session: AsyncSession) -> dict[int, int]:
        rows = await session.execute(select(Allocation.lot_id, Allocation.points).where(
            Allocation.operation_id == operation_id
        ))
        return {int(lot_id): int(points) for lot_id, points in rows}

    return await uow.read(work)


async def _seed(uow: UnitOfWork, clock: FrozenClock, card_id: int) -> tuple[datetime, int, int]:
    """A welcome bonus (100, expiring first, at the returned instant) and 100 adjusted points that
    outlive it; returns the welcome lot's expiry instant and both lots' ids."""
    welcome = await grant_welcome_bonus(uow, clock, card_id=card_id)
    await adjust_points(uow, clock, card_id=card_id, points=P(100), reason="seed", idempotency_key=f"s{card_id}",
                        actor="staff:1")
    welcome_lot, later_lot = list(await _lots(uow, card_id))
    return welcome.expires_at, welcome_lot, later_lot


async def test_the_balance_drops_at_the_expiry_instant_before_the_job_runs(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    instant, _, later = await _seed(uow, clock, w.card_id)
    later_expiry = (await _lots(uow, w.card_id))[later][2]

    clock.set(instant - TICK)
    before = await get_balance(uow, clock, w.card_id)
    assert (before.available, before.expiring_points, before.expiring_at) == (P(200), P(100), instant)

    clock.set(instant)
    at = await get_balance(uow, clock, w.card_id)
    assert (at.available, at.expiring_points, at.expiring_at) == (P(100), P(100), later_expiry)
    await check_invariants(uow)

    # The job only writes down what happened at the instant: the welcome lot's 100, nothing else.
    clock.set(instant + 5 * DAY)
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(100))]
    assert (await get_balance(uow, clock, w.card_id)).available == P(100)
    await check_invariants(uow)


async def test_a_redemption_spends_the_soonest_expiring_lot_until_its_instant_and_never_after(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    w = await make_world(uow, clock)
    instant, welcome, later = await _seed(uow, clock, w.card_id)

    async def pay(points: int, receipt: str) -> int:
        result = await redeem(
            uow, clock, card_id=w.card_id, store_id=w.store_id, receipt_id=receipt, receipt_amount_kopecks=100_000,
            points=points, code=code_now(w.secret, clock), actor="pos",
        )
        return result.operation_id

    clock.set(instant - TICK)
    first = await pay(P(30), "R1")
    assert await _taken_from(uow, first) == {welcome: P(30)}  # soonest-expiring first

    clock.set(instant + 2 * timedelta(minutes=1))  # a fresh one-time code step; the welcome lot is gone
    with pytest.raises(InsufficientPoints):  # 170 cached, 100 of them live
        await pay(P(150), "R2")
    second = await pay(P(100), "R3")
    assert await _taken_from(uow, second) == {later: P(100)}
    await check_invariants(uow)

    clock.advance(DAY)
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(70))]  # what it held at its instant
    await check_invariants(uow)


async def test_a_redemption_that_began_before_the_instant_cannot_spend_the_lot_after_it(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    """The use case reads the clock when it begins (card locked, code checked) and the spend runs
    after the instant: the spend goes by its own instant, so the lot that expired meanwhile is out."""
    w = await make_world(uow, clock)
    instant, welcome, later = await _seed(uow, clock, w.card_id)
    clock.set(instant - TICK)
    code = code_now(w.secret, clock)

    async def code_then_the_instant(session: AsyncSession, card: Card, typed: str, now: datetime) -> None:
        assert now == instant - TICK  # the use case began before the boundary
        clock.set(instant)

    async def pay(points: int, receipt: str) -> int:
        result = await redeem(
            uow, clock, card_id=w.card_id, store_id=w.store_id, receipt_id=receipt, receipt_amount_kopecks=100_000,
            points=points, code=code, actor="pos", code_check=code_then_the_instant,
        )
        return result.operation_id

    with pytest.raises(InsufficientPoints):
        await pay(P(150), "R1")
    assert (await _lots(uow, w.card_id))[welcome][1] == P(100)  # refused: nothing taken
    clock.set(instant - TICK)
    spent = await pay(P(50), "R2")
    assert await _taken_from(uow, spent) == {later: P(50)}  # not the lot that expired meanwhile
    assert (await get_balance(uow, clock, w.card_id)).available == P(50)
    await check_invariants(uow)
    clock.advance(DAY)
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(100))]


async def test_a_reversal_takes_no_expired_points_and_leaves_debt_instead(uow: UnitOfWork, clock: FrozenClock) -> None:
    """Two cards in the same state refunded either side of the instant: before it the reversal
    takes the welcome points, from it on they are gone and the reversal leaves debt."""
    await update_settings(uow, clock, changes={"return_window_days": 0}, actor="test")
    store_id = await make_store(uow, clock)
    start = clock.now()
    cards = [(await make_card(uow, clock))[0] for _ in range(2)]
    for card_id in cards:
        await accrue_purchase(uow, clock, card_id=card_id, store_id=store_id, receipt_id=f"R{card_id}",
                              amount_kopecks=100_000, actor="pos")  # 50 points, active at once
        await adjust_points(uow, clock, card_id=card_id, points=-P(50), reason="spent", idempotency_key=f"a{card_id}",
                            actor="staff:1")
    clock.set(start + DAY)
    instants = {(await grant_welcome_bonus(uow, clock, card_id=card_id)).expires_at for card_id in cards}
    [instant] = instants

    async def refund_all(card_id: int) -> int:
        result = await refund(uow, clock, store_id=store_id, receipt_id=f"R{card_id}", amount_kopecks=None,
                              refund_id="F1", actor="pos")
        assert result.reversed_points == P(50)
        return result.new_debt

    clock.set(instant - TICK)
    assert await refund_all(cards[0]) == 0
    assert (await get_balance(uow, clock, cards[0])).available == P(50)
    clock.set(instant)
    assert await refund_all(cards[1]) == P(50)
    view = await get_balance(uow, clock, cards[1])
    assert (view.available, view.debt) == (0, P(50))
    await check_invariants(uow)

    clock.advance(DAY)
    burnt = await expire_due_lots(uow, clock)
    assert burnt == [CardPoints(cards[0], P(50)), CardPoints(cards[1], P(100))]
    assert (await get_balance(uow, clock, cards[1])).debt == P(50)  # the debt stays for later credits
    await check_invariants(uow)


async def test_points_restored_with_an_expiry_already_past_are_not_spendable_and_repay_no_debt(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    await update_settings(uow, clock, changes={"return_window_days": 0}, actor="test")
    w = await make_world(uow, clock)
    welcome = await grant_welcome_bonus(uow, clock, card_id=w.card_id)
    # 1000 RUB, 30 of them paid with the welcome points: 48 points earned on the 970 RUB paid in money...
    await redeem(uow, clock, card_id=w.card_id, store_id=w.store_id, receipt_id="R1", receipt_amount_kopecks=100_000,
                 points=P(30), code=code_now(w.secret, clock), actor="pos")
    # ...and everything the card holds spent, so that the refund's reversal cannot be covered.
    left = (await get_balance(uow, clock, w.card_id)).available
    await adjust_points(uow, clock, card_id=w.card_id, points=-left, reason="spent", idempotency_key="drain",
                        actor="staff:1")

    clock.set(welcome.expires_at)
    result = await refund(uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=None, refund_id="F1",
                          actor="pos")
    assert (result.reversed_points, result.restored_points, result.new_debt) == (P(48), P(30), P(48))
    assert (result.card.balance, result.card.debt) == (0, P(48))
    view = await get_balance(uow, clock, w.card_id)
    assert (view.available, view.debt) == (0, P(48))
    restored = [lot for lot in (await _lots(uow, w.card_id)).values() if lot[2] == welcome.expires_at and lot[1]]
    assert restored == [("active", P(30), welcome.expires_at)]  # held whole, for the job to burn
    await check_invariants(uow)
    clock.advance(DAY)
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(30))]
    assert (await get_balance(uow, clock, w.card_id)).debt == P(48)
    await check_invariants(uow)


async def test_a_family_move_leaves_expired_lots_behind(uow: UnitOfWork, clock: FrozenClock) -> None:
    """Two customers join a family card either side of the instant their welcome points expire."""
    start = clock.now()
    joiners = [await walk_in(uow, clock, f"+7916100000{i}", "Ольга") for i in (2, 3)]
    for n, joiner in enumerate(joiners):
        assert joiner.card_id is not None
        await adjust_points(uow, clock, card_id=joiner.card_id, points=P(50), reason="seed", idempotency_key=f"j{n}",
                            actor="staff:1")
    clock.set(start + DAY)
    owner = await walk_in(uow, clock, "+79161000001")  # its own welcome points outlive the joiners'
    assert owner.card_id is not None
    instant = start + 30 * DAY

    async def join(customer_id: int) -> int:
        invite = await family.create_invite(uow, clock, customer_id=owner.id)
        joined = await family.join_family(uow, clock, code=invite.code, customer_id=customer_id, keep_own_card=False)
        assert joined.outcome == "joined"
        return joined.moved_points

    clock.set(instant - TICK)
    assert await join(joiners[0].id) == P(150)
    assert (await get_balance(uow, clock, owner.card_id)).available == P(250)
    clock.set(instant)
    assert await join(joiners[1].id) == P(50)
    # The first joiner's welcome points moved with their expiry: gone from the family card too.
    assert (await get_balance(uow, clock, owner.card_id)).available == P(100 + 50 + 50)
    await check_invariants(uow)

    clock.advance(DAY / 2)  # the owner's own welcome points expire a day after the joiners'
    assert joiners[1].card_id is not None
    burnt = await expire_due_lots(uow, clock)
    assert sorted(burnt, key=lambda c: c.card_id) == sorted(
        [CardPoints(owner.card_id, P(100)), CardPoints(joiners[1].card_id, P(100))], key=lambda c: c.card_id
    )  # the second joiner's closed card keeps its expired welcome points for the job
    await check_invariants(uow)


async def test_the_invariants_catch_a_spend_after_the_instant(uow: UnitOfWork, clock: FrozenClock) -> None:
    """check_invariants itself knows the rule: an allocation (other than the expiry job's) made at
    or after its lot's expiry instant is reported."""
    w = await make_world(uow, clock)
    instant, welcome, _ = await _seed(uow, clock, w.card_id)

    async def spend_late(session: AsyncSession) -> None:
        late = Operation(card_id=w.card_id, kind="redemption", points=-P(10), actor="test", idempotency_key="late",
                         created_at=instant)
        session.add(late)
        await session.flush()
        session.add(Allocation(operation_id=late.id, lot_id=welcome, points=P(10), restored=0))
        await session.execute(Lot.__table__.update().where(Lot.id == welcome).values(remaining=P(90)))
        await session.execute(Card.__table__.update().where(Card.id == w.card_id).values(balance=P(190)))

    await uow.write(spend_late)
    with pytest.raises(AssertionError, match="at or after its expiry"):
        await check_invariants(uow)
