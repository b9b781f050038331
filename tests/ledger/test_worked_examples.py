"""The worked examples of DOMAIN.md, step by step, with the invariants checked after each step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from db.models import Operation
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.errors import (
    AccrualNotAllowed,
    BadCode,
    CapExceeded,
    CardBlocked,
    CardNotFound,
    CardNotValid,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidAmount,
    PaymentNotAllowed,
    ReceiptNotFound,
    RefundExceedsReceipt,
)
from services.ledger import (
    CardPoints,
    accrue_purchase,
    activate_due_lots,
    adjust_points,
    expire_due_lots,
    get_balance,
    redeem,
    refund,
)
from services.program import update_settings
from tests.ledger.helpers import P, World, code_now, invariants, make_card, make_world

DAY = timedelta(days=1)
RUB = 100  # kopecks


async def _count_operations(uow: UnitOfWork) -> int:
    return await uow.read(lambda s: _scalar(s, select(func.count()).select_from(Operation)))


async def _scalar(session, stmt):  # type: ignore[no-untyped-def]
    return (await session.execute(stmt)).scalar_one()


async def _buy(uow: UnitOfWork, clock: FrozenClock, w: World, receipt: str, rub: int, **kw: object):  # type: ignore[no-untyped-def]
    return await accrue_purchase(
        uow,
        clock,
        card_id=w.card_id,
        store_id=w.store_id,
        receipt_id=receipt,
        amount_kopecks=rub * RUB,
        actor="staff:1",
        **kw,  # type: ignore[arg-type]
    )


async def _give(uow: UnitOfWork, clock: FrozenClock, w: World, pts: int, key: str = "gift") -> None:
    await adjust_points(
        uow, clock, card_id=w.card_id, points=P(pts), reason="test gift", idempotency_key=key, actor="staff:1"
    )


async def test_purchase_pending_available_expired(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    start = clock.now()
    result = await _buy(uow, clock, w, "R1", 1000)
    assert (result.accrued_points, result.rate_bp, result.lot_status) == (P(50), 500, "pending")
    assert result.available_at == start + 14 * DAY
    assert result.expires_at == start + 379 * DAY
    assert (result.card.balance, result.card.pending) == (0, P(50))
    await invariants(uow)

    clock.set(start + 14 * DAY - timedelta(seconds=1))
    assert await activate_due_lots(uow, clock) == []
    clock.set(start + 14 * DAY)
    assert await activate_due_lots(uow, clock) == [CardPoints(w.card_id, P(50))]
    assert await activate_due_lots(uow, clock) == []
    balance = await get_balance(uow, clock, w.card_id)
    assert (balance.available, balance.pending, balance.expiring_points) == (P(50), 0, P(50))
    assert balance.expiring_at == start + 379 * DAY
    await invariants(uow)

    clock.set(start + 379 * DAY - timedelta(seconds=1))
    assert await expire_due_lots(uow, clock) == []
    clock.set(start + 379 * DAY)
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(50))]
    assert await expire_due_lots(uow, clock) == []
    assert (await get_balance(uow, clock, w.card_id)).available == 0
    await invariants(uow)


@pytest.mark.parametrize(
    ("rub", "refunds", "reversed_", "left_pending"),
    [
        (1000, [500], [P(25)], P(25)),
        (1000, [500, None], [P(25), P(25)], 0),
        (1000, [333, 333, None], [P(16), P(17), P(17)], 0),  # cumulative: floor(33.3) - 16, then the rest
        (1000, [None], [P(50)], 0),
        (10, [5], [0], 0),  # 10 RUB earns 0 whole points: nothing to reverse
    ],
)
async def test_refund_reverses_in_proportion(
    uow: UnitOfWork, clock: FrozenClock, rub: int, refunds: list[int | None], reversed_: list[int], left_pending: int
) -> None:
    w = await make_world(uow, clock)
    await _buy(uow, clock, w, "R1", rub)
    for n, (amount, expected) in enumerate(zip(refunds, reversed_, strict=True)):
        result = await refund(
            uow,
            clock,
            store_id=w.store_id,
            receipt_id="R1",
            refund_id=f"F{n}",
            amount_kopecks=None if amount is None else amount * RUB,
            actor="staff:1",
        )
        assert result.reversed_points == expected
        await invariants(uow)
    assert (await get_balance(uow, clock, w.card_id)).pending == left_pending
    assert (await get_balance(uow, clock, w.card_id)).debt == 0


async def test_redeem_300_on_1000_accrues_on_700(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    await _give(uow, clock, w, 500)
    result = await redeem(
        uow,
        clock,
        card_id=w.card_id,
        store_id=w.store_id,
        receipt_id="R1",
        receipt_amount_kopecks=1000 * RUB,
        points=P(300),
        code=code_now(w.secret, clock),
        actor="staff:1",
    )
    assert result.redeemed_points == P(300)
    assert result.accrual.accrued_points == P(35)
    assert (result.accrual.card.balance, result.accrual.card.pending) == (P(200), P(35))
    await invariants(uow)


async def test_refusals_change_nothing(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    await _give(uow, clock, w, 500)
    before = await _count_operations(uow)
    base = dict(
        card_id=w.card_id, store_id=w.store_id, receipt_id="R1", receipt_amount_kopecks=1000 * RUB, actor="staff:1"
    )
    with pytest.raises(CapExceeded):
        await redeem(uow, clock, points=P(301), code=code_now(w.secret, clock), **base)  # type: ignore[arg-type]
    wrong = "000000" if code_now(w.secret, clock) != "000000" else "111111"
    with pytest.raises(BadCode):
        await redeem(uow, clock, points=P(100), code=wrong, **base)  # type: ignore[arg-type]
    with pytest.raises(InsufficientPoints):
        await redeem(
            uow,
            clock,
            points=P(600),
            code=code_now(w.secret, clock),  # type: ignore[arg-type]
            **{**base, "receipt_amount_kopecks": 3000 * RUB},
        )
    assert await _count_operations(uow) == before
    assert (await get_balance(uow, clock, w.card_id)).available == P(500)
    # The code refused for lack of points was not used up: it still works.
    ok = await redeem(uow, clock, points=P(100), code=code_now(w.secret, clock), **base)  # type: ignore[arg-type]
    assert ok.redeemed_points == P(100)
    await invariants(uow)


async def test_card_status_and_validity(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    today = clock.now().date()
    blocked, _, _ = await make_card(uow, clock, status="blocked")
    accrual_only, _, secret_ao = await make_card(uow, clock, status="accrual_only")
    payment_only, _, _ = await make_card(uow, clock, status="payment_only")
    expired, _, _ = await make_card(uow, clock, valid_to=today - DAY)
    future, _, _ = await make_card(uow, clock, valid_from=today + DAY)
    for card_id, error in [
        (blocked, CardBlocked),
        (payment_only, AccrualNotAllowed),
        (expired, CardNotValid),
        (future, CardNotValid),
        (999_999, CardNotFound),
    ]:
        with pytest.raises(error):
            await accrue_purchase(
                uow,
                clock,
                card_id=card_id,
                store_id=w.store_id,
                receipt_id=f"R{card_id}",
                amount_kopecks=1000 * RUB,
                actor="staff:1",
            )
    with pytest.raises(PaymentNotAllowed):
        await redeem(
            uow,
            clock,
            card_id=accrual_only,
            store_id=w.store_id,
            receipt_id="X",
            receipt_amount_kopecks=1000 * RUB,
            points=P(1),
            code=code_now(secret_ao, clock),
            actor="s",
        )
    ok = await accrue_purchase(
        uow,
        clock,
        card_id=accrual_only,
        store_id=w.store_id,
        receipt_id="OK",
        amount_kopecks=1000 * RUB,
        actor="staff:1",
    )
    assert ok.accrued_points == P(50)
    await invariants(uow)


@pytest.mark.parametrize("amount", [0, -100])
async def test_amounts_must_be_positive(uow: UnitOfWork, clock: FrozenClock, amount: int) -> None:
    w = await make_world(uow, clock)
    with pytest.raises(InvalidAmount):
        await accrue_purchase(
            uow, clock, card_id=w.card_id, store_id=w.store_id, receipt_id="R", amount_kopecks=amount, actor="s"
        )
    with pytest.raises(InvalidAmount):
        await redeem(
            uow,
            clock,
            card_id=w.card_id,
            store_id=w.store_id,
            receipt_id="R",
            receipt_amount_kopecks=1000 * RUB,
            points=amount,
            code="123456",
            actor="s",
        )
    await _buy(uow, clock, w, "R1", 100)
    with pytest.raises(InvalidAmount):
        await refund(uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=amount, refund_id="F", actor="s")
    assert await _count_operations(uow) == 1


async def test_replays_and_conflicts(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    first = await _buy(uow, clock, w, "R1", 1000)
    clock.advance(timedelta(minutes=5))
    again = await _buy(uow, clock, w, "R1", 1000)
    assert again.replayed and not first.replayed
    assert (again.accrued_points, again.operation_id, again.available_at) == (
        first.accrued_points,
        first.operation_id,
        first.available_at,
    )
    with pytest.raises(IdempotencyConflict):
        await _buy(uow, clock, w, "R1", 999)
    assert await _count_operations(uow) == 1

    r1 = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=100 * RUB, refund_id="A", actor="s"
    )
    r2 = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=100 * RUB, refund_id="A", actor="s"
    )
    assert r2.replayed and r2.reversed_points == r1.reversed_points == P(5)
    with pytest.raises(IdempotencyConflict):
        await refund(
            uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=200 * RUB, refund_id="A", actor="s"
        )
    with pytest.raises(RefundExceedsReceipt):
        await refund(
            uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=901 * RUB, refund_id="B", actor="s"
        )
    with pytest.raises(ReceiptNotFound):
        await refund(uow, clock, store_id=w.store_id, receipt_id="nope", amount_kopecks=None, refund_id="C", actor="s")
    await invariants(uow)


async def test_refund_restores_spent_points_with_their_expiry(uow: UnitOfWork, clock: FrozenClock) -> None:
    await update_settings(uow, clock, changes={"return_window_days": 0}, actor="test")
    w = await make_world(uow, clock)
    start = clock.now()
    await _give(uow, clock, w, 100, key="a")  # expires start + 365
    clock.advance(10 * DAY)
    await _give(uow, clock, w, 200, key="b")  # expires start + 375
    result = await redeem(
        uow,
        clock,
        card_id=w.card_id,
        store_id=w.store_id,
        receipt_id="R1",
        receipt_amount_kopecks=1000 * RUB,
        points=P(300),
        code=code_now(w.secret, clock),
        actor="s",
    )
    assert result.accrual.card.balance == P(35)
    back = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=500 * RUB, refund_id="F1", actor="s"
    )
    # half of 35 earned (17.5, rounded down to 17) goes; half of each spent lot comes back
    assert (back.reversed_points, back.restored_points) == (P(17), P(150))
    await invariants(uow)
    clock.set(start + 365 * DAY)
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(50))]
    rest = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=None, refund_id="F2", actor="s"
    )
    assert (rest.reversed_points, rest.restored_points) == (P(18), P(150))
    # The 50 restored from the first lot are past its expiry already: the next run burns them.
    assert await expire_due_lots(uow, clock) == [CardPoints(w.card_id, P(50))]
    assert (await get_balance(uow, clock, w.card_id)).available == P(200)
    await invariants(uow)


async def test_reversal_beyond_balance_leaves_debt_repaid_by_next_accrual(uow: UnitOfWork, clock: FrozenClock) -> None:
    await update_settings(uow, clock, changes={"return_window_days": 0}, actor="test")
    w = await make_world(uow, clock)
    await _buy(uow, clock, w, "R1", 1000)  # 50 active
    await adjust_points(
        uow, clock, card_id=w.card_id, points=-P(40), reason="oops", idempotency_key="k", actor="staff:1"
    )
    result = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=None, refund_id="F", actor="s"
    )
    assert (result.reversed_points, result.new_debt, result.card.balance, result.card.debt) == (P(50), P(40), 0, P(40))
    await invariants(uow)
    again = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=None, refund_id="F", actor="s"
    )
    assert again.replayed and again.new_debt == P(40)
    paid = await _buy(uow, clock, w, "R2", 1000)
    assert (paid.accrued_points, paid.debt_repaid, paid.card.balance, paid.card.debt) == (P(50), P(40), P(10), 0)
    await invariants(uow)


async def test_multiplier_and_whole_points(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock, multiplier_bp=15000, multiplier_days=3)
    first = await _buy(uow, clock, w, "R1", 999)  # 999 x 7.5 % = 74.925 -> 74
    assert (first.accrued_points, first.rate_bp) == (P(74), 750)
    clock.advance(5 * DAY)
    later = await _buy(uow, clock, w, "R2", 999)  # x1 again: 49.95 -> 49
    assert (later.accrued_points, later.rate_bp) == (P(49), 500)
    await update_settings(uow, clock, changes={"points_decimals": 2}, actor="test")
    precise = await _buy(uow, clock, w, "R3", 999)
    assert precise.accrued_points == 4995
    await invariants(uow)


async def test_restore_to_several_lots_repays_debt_from_each(uow: UnitOfWork, clock: FrozenClock) -> None:
    """Found by the state machine: two restored lots each repaying debt need two repayment rows."""
    await update_settings(uow, clock, changes={"return_window_days": 0}, actor="test")
    w = await make_world(uow, clock)
    await _give(uow, clock, w, 100, key="a")
    clock.advance(DAY)
    await _give(uow, clock, w, 200, key="b")
    await redeem(
        uow,
        clock,
        card_id=w.card_id,
        store_id=w.store_id,
        receipt_id="R1",
        receipt_amount_kopecks=1000 * RUB,
        points=P(300),
        code=code_now(w.secret, clock),
        actor="s",
    )  # spends both lots, earns 35
    await _buy(uow, clock, w, "R2", 10_000)  # +500
    await adjust_points(
        uow, clock, card_id=w.card_id, points=-P(535), reason="spent elsewhere", idempotency_key="c", actor="staff:2"
    )
    debt = await refund(uow, clock, store_id=w.store_id, receipt_id="R2", amount_kopecks=None, refund_id="F", actor="s")
    assert debt.card.debt == P(500)
    back = await refund(uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=None, refund_id="F", actor="s")
    assert (back.reversed_points, back.restored_points) == (P(35), P(300))
    assert (back.card.balance, back.card.debt) == (0, P(235))
    await invariants(uow)
