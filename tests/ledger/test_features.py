"""Discount mode, levels, one-time codes, views, adjustments, bonuses and settings."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, CardGroup, Level
from db.uow import UnitOfWork
from services import levels
from services.clock import FrozenClock
from services.errors import (
    AdjustmentLimitReached,
    BadCode,
    CodeAlreadyUsed,
    IdempotencyConflict,
    InsufficientPoints,
    InvalidSetting,
    ReasonRequired,
    TooManyCodeAttempts,
)
from services.ledger import (
    accrue_purchase,
    adjust_points,
    birthday_bonus_eligible,
    current_code,
    get_balance,
    get_history,
    grant_birthday_bonus,
    grant_welcome_bonus,
    redeem,
    refund,
)
from services.levels import pin_level, unpin_level
from services.program import DEFAULTS, get_settings, update_settings
from tests.ledger.helpers import P, World, code_now, invariants, make_card, make_world

RUB = 100
DAY = timedelta(days=1)


async def _buy(uow: UnitOfWork, clock: FrozenClock, w: World, receipt: str, rub: int) -> Any:
    return await accrue_purchase(
        uow, clock, card_id=w.card_id, store_id=w.store_id, receipt_id=receipt, amount_kopecks=rub * RUB, actor="s"
    )


async def _count(uow: UnitOfWork, stmt: Any) -> int:
    async def work(session: Any) -> int:
        return int((await session.execute(stmt)).scalar_one())

    return await uow.read(work)


async def test_discount_mode(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    await adjust_points(uow, clock, card_id=w.card_id, points=P(100), reason="r", idempotency_key="k", actor="s")
    await update_settings(uow, clock, changes={"mode": "discount"}, actor="test")
    result = await _buy(uow, clock, w, "R1", 1000)
    assert (result.mode, result.rate_bp, result.discount_kopecks, result.accrued_points) == ("discount", 500, 5000, 0)
    history = await get_history(uow, w.card_id)
    assert history.rows[0].kind == "discount_purchase" and history.rows[0].points == 0
    # Points earned before the switch stay redeemable.
    spent = await redeem(
        uow,
        clock,
        card_id=w.card_id,
        store_id=w.store_id,
        receipt_id="R2",
        receipt_amount_kopecks=1000 * RUB,
        points=P(100),
        code=code_now(w.secret, clock),
        actor="s",
    )
    assert spent.redeemed_points == P(100) and spent.accrual.discount_kopecks == 4500
    back = await refund(uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=None, refund_id="F", actor="s")
    assert back.reversed_points == 0
    assert (await get_balance(uow, clock, w.card_id)).to_next_level_kopecks == 3_000_000 - 1000 * RUB
    await invariants(uow)


async def test_levels_promotion_demotion_and_pin(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    first = await _buy(uow, clock, w, "R1", 30_000)
    assert first.rate_bp == 500 and first.level_up and first.card.level_code == "silver"
    second = await _buy(uow, clock, w, "R2", 1000)
    assert second.rate_bp == 700 and not second.level_up
    back = await refund(
        uow, clock, store_id=w.store_id, receipt_id="R1", amount_kopecks=2000 * RUB, refund_id="F", actor="s"
    )
    assert back.card.level_code == "base"  # 29 000 RUB left: demoted by the refund only
    assert w.customer_id is not None
    await pin_level(uow, clock, customer_id=w.customer_id, level_code="gold", actor="staff:1")
    pinned = await _buy(uow, clock, w, "R3", 100)
    assert pinned.rate_bp == 1000 and pinned.card.level_code == "gold"
    await refund(uow, clock, store_id=w.store_id, receipt_id="R2", amount_kopecks=None, refund_id="F", actor="s")
    balance = await get_balance(uow, clock, w.card_id)
    assert balance.level_code == "gold" and balance.level_pinned and balance.to_next_level_kopecks is None
    await unpin_level(uow, clock, customer_id=w.customer_id, actor="staff:1")
    assert (await get_balance(uow, clock, w.card_id)).level_code == "base"
    assert await _count(uow, select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("level.%"))) == 2
    await invariants(uow)


async def test_card_group_ladder(uow: UnitOfWork, clock: FrozenClock) -> None:
    async def make_group(session: Any) -> int:
        group = CardGroup(code="staff", name="Staff")
        session.add(group)
        await session.flush()
        session.add(Level(group_id=group.id, code="staff", name_ru="Сотрудники", name_en="Staff", threshold_kopecks=0,
                          percent_bp=1500))
        return group.id

    group_id = await uow.write(make_group)
    levels.invalidate_cache(uow)  # levels changed behind the services' back
    w = await make_world(uow, clock, group_id=group_id)
    assert (await _buy(uow, clock, w, "R1", 1000)).accrued_points == P(150)


async def test_one_time_code_rules(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    await adjust_points(uow, clock, card_id=w.card_id, points=P(900), reason="r", idempotency_key="k", actor="s")
    n = 0

    async def pay(code: str) -> None:
        nonlocal n
        n += 1
        await redeem(
            uow,
            clock,
            card_id=w.card_id,
            store_id=w.store_id,
            receipt_id=f"R{n}",
            receipt_amount_kopecks=100 * RUB,
            points=P(1),
            code=code,
            actor="s",
        )

    async def card() -> Any:
        return await uow.read(lambda s: _card(s, w.card_id))

    code, seconds_left = current_code(await card(), clock.now())
    assert len(code) == 6 and code.isdigit() and 0 < seconds_left <= 60
    await pay(code_now(w.secret, clock, -1))  # one step of skew either way is fine
    with pytest.raises(CodeAlreadyUsed):
        await pay(code_now(w.secret, clock, -1))  # ...but once only
    await pay(code)
    with pytest.raises(CodeAlreadyUsed):
        await pay(code)
    await pay(code_now(w.secret, clock, +1))
    clock.advance(timedelta(minutes=5))
    with pytest.raises(BadCode):
        await pay(code_now(w.secret, clock, -2))
    wrong = "999999" if code_now(w.secret, clock) != "999999" else "888888"
    for _ in range(4):
        with pytest.raises(BadCode):
            await pay(wrong)
    with pytest.raises(TooManyCodeAttempts):
        await pay(code_now(w.secret, clock))
    clock.advance(timedelta(minutes=10))
    await pay(code_now(w.secret, clock))
    assert (await get_balance(uow, clock, w.card_id)).available == P(896)
    await invariants(uow)


async def _card(session: Any, card_id: int) -> Any:
    from db.models import Card

    return await session.get(Card, card_id)


async def test_history_pages(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    for i in range(23):
        await adjust_points(
            uow, clock, card_id=w.card_id, points=P(i + 1), reason=f"r{i}", idempotency_key=f"k{i}", actor="s"
        )
        if i % 3:
            clock.advance(timedelta(minutes=1))  # some rows share a timestamp: the id breaks the tie
    first = await get_history(uow, w.card_id, limit=10)
    assert [r.points for r in first.rows] == [P(p) for p in range(23, 13, -1)]
    assert (first.has_newer, first.has_older) == (False, True)
    second = await get_history(uow, w.card_id, limit=10, before=first.older_cursor)
    assert [r.points for r in second.rows] == [P(p) for p in range(13, 3, -1)]
    assert (second.has_newer, second.has_older) == (True, True)
    third = await get_history(uow, w.card_id, limit=10, before=second.older_cursor)
    assert [r.points for r in third.rows] == [P(p) for p in range(3, 0, -1)]
    assert (third.has_newer, third.has_older) == (True, False)
    back = await get_history(uow, w.card_id, limit=10, after=third.newer_cursor)
    assert back.rows == second.rows and back.has_newer and back.has_older
    assert third.rows[0].reason == "r2" and third.rows[0].kind == "manual_adjustment"
    assert (await get_history(uow, 999, limit=10)).rows == ()


async def test_balance_view(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    start = clock.now()
    await _buy(uow, clock, w, "R1", 1000)
    clock.advance(DAY)
    await _buy(uow, clock, w, "R2", 2000)
    await adjust_points(uow, clock, card_id=w.card_id, points=P(7), reason="r", idempotency_key="k", actor="s")
    view = await get_balance(uow, clock, w.card_id)
    assert (view.available, view.pending, view.debt) == (P(7), P(150), 0)
    assert [(u.available_at - start, u.points) for u in view.pending_unlocks] == [(14 * DAY, P(50)), (15 * DAY, P(100))]
    assert (view.expiring_points, view.expiring_at) == (P(7), start + DAY + 365 * DAY)
    assert (view.level_code, view.next_level_code, view.to_next_level_kopecks) == ("base", "silver", 2_700_000)


async def test_adjustments(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    with pytest.raises(ReasonRequired):
        await adjust_points(uow, clock, card_id=w.card_id, points=P(1), reason="  ", idempotency_key="a", actor="s")
    first = await adjust_points(
        uow, clock, card_id=w.card_id, points=P(600), reason="r", idempotency_key="a", actor="staff:7"
    )
    again = await adjust_points(
        uow, clock, card_id=w.card_id, points=P(600), reason="r", idempotency_key="a", actor="staff:7"
    )
    assert again.replayed and again.operation_id == first.operation_id
    with pytest.raises(IdempotencyConflict):
        await adjust_points(
            uow, clock, card_id=w.card_id, points=P(601), reason="r", idempotency_key="a", actor="staff:7"
        )
    with pytest.raises(InsufficientPoints):
        await adjust_points(
            uow, clock, card_id=w.card_id, points=-P(601), reason="r", idempotency_key="b", actor="staff:9"
        )
    await adjust_points(uow, clock, card_id=w.card_id, points=-P(400), reason="r", idempotency_key="c", actor="staff:7")
    with pytest.raises(AdjustmentLimitReached):  # 600 + 400 used of 1000 a day
        await adjust_points(
            uow, clock, card_id=w.card_id, points=P(1), reason="r", idempotency_key="d", actor="staff:7"
        )
    await adjust_points(uow, clock, card_id=w.card_id, points=P(1), reason="r", idempotency_key="e", actor="staff:8")
    clock.advance(DAY)
    await adjust_points(uow, clock, card_id=w.card_id, points=P(1), reason="r", idempotency_key="f", actor="staff:7")
    assert (
        await _count(uow, select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "ledger.adjust")) == 4
    )
    await invariants(uow)


async def test_bonuses(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock)
    welcome = await grant_welcome_bonus(uow, clock, card_id=w.card_id)
    assert (welcome.points, welcome.granted, welcome.card.balance) == (P(100), True, P(100))
    assert welcome.expires_at == clock.now() + 30 * DAY
    assert not (await grant_welcome_bonus(uow, clock, card_id=w.card_id)).granted
    birthday = await grant_birthday_bonus(uow, clock, card_id=w.card_id, year=2026)
    assert (birthday.points, birthday.expires_at) == (P(500), clock.now() + 7 * DAY)
    assert not (await grant_birthday_bonus(uow, clock, card_id=w.card_id, year=2026)).granted
    assert (await grant_birthday_bonus(uow, clock, card_id=w.card_id, year=2027)).granted
    settings = await get_settings(uow)
    assert birthday_bonus_eligible(clock.now() - 30 * DAY, settings, clock.now())
    assert not birthday_bonus_eligible(clock.now() - 29 * DAY, settings, clock.now())
    assert not birthday_bonus_eligible(None, settings, clock.now())
    await invariants(uow)


async def test_settings(uow: UnitOfWork, clock: FrozenClock) -> None:
    assert await get_settings(uow) == DEFAULTS
    assert DEFAULTS.redemption_cap_bp == 3000 and DEFAULTS.return_window_days == 14 and DEFAULTS.expiry_days == 365
    for changes in [
        {"mode": "cash"},
        {"redemption_cap_bp": 10001},
        {"points_decimals": 1},
        {"nope": 1},
        {"expiry_days": True},
        {"business_timezone": "Mars/Base"},
        {"notifications": ["spam"]},
    ]:
        with pytest.raises(InvalidSetting):
            await update_settings(uow, clock, changes=changes, actor="admin")
    updated = await update_settings(
        uow, clock, changes={"redemption_cap_bp": 5000, "notifications": ["accrual"]}, actor="admin"
    )
    assert updated.redemption_cap_bp == 5000 and updated.notifications == ("accrual",)
    assert await get_settings(uow) == updated
    await update_settings(uow, clock, changes={"redemption_cap_bp": 4000}, actor="admin")
    assert (await get_settings(uow)).redemption_cap_bp == 4000
    audit = await _count(
        uow, select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "settings.update")
    )
    assert audit == 2


async def test_card_without_owner_and_payment_only(uow: UnitOfWork, clock: FrozenClock) -> None:
    w = await make_world(uow, clock, with_customer=False)
    assert (await _buy(uow, clock, w, "R1", 100)).accrued_points == P(5)
    payment_only, _, secret = await make_card(uow, clock, status="payment_only")
    await adjust_points(uow, clock, card_id=payment_only, points=P(50), reason="r", idempotency_key="k", actor="s")
    paid = await redeem(
        uow,
        clock,
        card_id=payment_only,
        store_id=w.store_id,
        receipt_id="R2",
        receipt_amount_kopecks=1000 * RUB,
        points=P(50),
        code=code_now(secret, clock),
        actor="s",
    )
    assert paid.accrual.accrued_points == 0  # may pay, earns nothing
    await invariants(uow)


async def test_settings_cache_expires_for_other_instances(
    uow: UnitOfWork, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from db.engine import create_engine

    other = UnitOfWork(create_engine(uow.engine.url.render_as_string(hide_password=False)))
    try:
        assert (await get_settings(other)).redemption_cap_bp == 3000
        await update_settings(uow, clock, changes={"redemption_cap_bp": 2000}, actor="admin")
        assert (await get_settings(uow)).redemption_cap_bp == 2000  # this instance: at once
        assert (await get_settings(other)).redemption_cap_bp == 3000  # another one: cached...
        later = time.monotonic() + 6
        monkeypatch.setattr(time, "monotonic", lambda: later)
        assert (await get_settings(other)).redemption_cap_bp == 2000  # ...for a few seconds only
    finally:
        await other.engine.dispose()


async def test_invariants_catch_a_corrupted_cache(uow: UnitOfWork, clock: FrozenClock) -> None:
    from sqlalchemy import update

    from db.models import Card
    from services.ledger import InvariantViolation, check_invariants

    w = await make_world(uow, clock)
    await adjust_points(uow, clock, card_id=w.card_id, points=P(10), reason="r", idempotency_key="k", actor="s")
    await check_invariants(uow, w.card_id)

    async def corrupt(session: Any) -> None:
        await session.execute(update(Card).where(Card.id == w.card_id).values(balance=P(11)))

    await uow.write(corrupt)
    with pytest.raises(InvariantViolation, match="cached balance"):
        await check_invariants(uow, w.card_id)
