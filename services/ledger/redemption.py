"""Paying part of a receipt with points, approved by the customer's one-time code, and accruing on
the rest of the receipt in the same transaction (one receipt row for both)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.models import Operation, Receipt
from db.repositories import ledger as repo
from db.uow import UnitOfWork
from services.clock import Clock
from services.errors import BadCode, CapExceeded, IdempotencyConflict, InvalidAmount
from services.ledger import lots, otp
from services.ledger.accrual import (
    Purchase,
    audit_staff_action,
    ensure_receipt_within_limit,
    post_purchase,
    purchase_key,
    require_store,
    stored_accrual,
    validate_receipt,
)
from services.ledger.amounts import BP, shown_percent, shown_points
from services.ledger.card_rules import business_today, open_card, require_payment
from services.ledger.idempotency import ensure_same_request, request_hash, write_once
from services.ledger.results import AccrualResult, RedemptionResult
from services.notifications import events as notify
from services.program import ProgramSettings, get_settings


def redemption_key(store_id: int, receipt_id: str) -> str:
    return f"redemption:{store_id}:{receipt_id}"


def max_redeemable(receipt_amount_kopecks: int, cap_bp: int, quantum: int) -> int:
    """The cap in units (1 unit pays 1 kopeck), rounded down to what can be redeemed."""
    cap = receipt_amount_kopecks * cap_bp // BP
    return cap - cap % quantum


def ensure_within_cap(points: int, receipt_amount_kopecks: int, settings: ProgramSettings) -> None:
    """Points may pay at most the program's share of a receipt; the error tells the cashier both
    the share and the most that fits."""
    cap = max_redeemable(receipt_amount_kopecks, settings.redemption_cap_bp, settings.point_quantum)
    if points > cap:
        raise CapExceeded(
            points=shown_points(points),
            max_points=shown_points(cap),
            cap_percent=shown_percent(settings.redemption_cap_bp),
            # The same as numbers, so that a message can say "at most 300 points on this 1 000 RUB receipt".
            units=points,
            max_units=cap,
            receipt_kopecks=receipt_amount_kopecks,
        )


async def redeem(
    uow: UnitOfWork,
    clock: Clock,
    *,
    card_id: int,
    store_id: int,
    receipt_id: str,
    receipt_amount_kopecks: int,
    points: int,
    code: str,
    actor: str,
    staff_id: int | None = None,
    customer_id: int | None = None,
    code_check: otp.CodeCheck = otp.verify_code,
) -> RedemptionResult:
    """Spend `points` (units) on a receipt and accrue on the rest. Checks, in order: amounts, cap,
    card status, the lockout of this till (`actor`: the API key or cashier typing the code), the
    one-time code, the balance, after a replay of the same receipt and the program's receipt limit;
    any refusal changes nothing, except that a wrong code is counted against this till (see otp.py).
    `code_check` is replaceable only so tests can race many redemptions on one card; production
    callers leave the TOTP default."""
    validate_receipt(receipt_id=receipt_id, amount_kopecks=receipt_amount_kopecks, paid_with_points_kopecks=points)
    settings = await get_settings(uow)
    if points <= 0 or points % settings.point_quantum:
        raise InvalidAmount(field="points", value=points)
    ensure_within_cap(points, receipt_amount_kopecks, settings)
    key = redemption_key(store_id, receipt_id)
    expected = request_hash(
        card_id=card_id, store_id=store_id, receipt_id=receipt_id, amount=receipt_amount_kopecks, points=points
    )

    async def work(session: AsyncSession) -> RedemptionResult | BadCode:
        now = clock.now()
        card = await open_card(session, card_id, now)
        existing = await repo.operation_by_key(session, key)
        if existing is not None:
            ensure_same_request(existing, expected)
            return await stored_redemption(session, existing, now)
        if await repo.operation_by_key(session, purchase_key(store_id, receipt_id)) is not None:
            raise IdempotencyConflict(key=key)  # the receipt was already posted without points
        ensure_receipt_within_limit(receipt_amount_kopecks, settings)
        await require_store(session, store_id)
        require_payment(card, business_today(settings, now))
        tries = await otp.till_tries(session, card_id=card.id, till=actor, now=now)
        tries.ensure_may_try(now)
        try:
            await code_check(session, card, code, now)
        except BadCode as wrong:
            # Nothing is written before the code is checked: this commits the count alone.
            await otp.count_wrong(session, tries, now)
            return wrong
        await otp.forget_tries(session, tries)
        operation = Operation(
            card_id=card.id,
            customer_id=customer_id if customer_id is not None else card.customer_id,
            kind="redemption",
            points=-points,
            store_id=store_id,
            staff_id=staff_id,
            actor=actor,
            receipt_id=receipt_id,
            receipt_kopecks=receipt_amount_kopecks,
            idempotency_key=key,
            request_hash=expected,
            created_at=now,
        )
        await repo.add(session, operation)
        # The spend reads the clock again: a lot that expired since `now` is not spent.
        spent = await lots.debit(session, clock, operation=operation, units=points)
        set_committed_value(card, "balance", spent.balance)
        set_committed_value(card, "expired_held", spent.expired_held)
        purchase = Purchase(store_id, receipt_id, receipt_amount_kopecks, points, actor, staff_id, customer_id)
        accrual = await post_purchase(
            session, settings=settings, card=card, now=now, purchase=purchase, redemption=operation
        )
        result = RedemptionResult(points, accrual, operation.id, replayed=False)
        await notify.redemption_made(session, result, now=now)
        await audit_staff_action(
            session, now=now, actor=actor, staff_id=staff_id, action="ledger.redemption", card_id=card_id,
            details={"store_id": store_id, "receipt_id": receipt_id, "points": points,
                     "operation_id": operation.id},
        )
        return result

    result = await write_once(uow, work)
    if isinstance(result, BadCode):
        raise result
    return result


async def stored_redemption(session: AsyncSession, operation: Operation, at: datetime) -> RedemptionResult:
    """The result of a redemption already made (the card amounts are as of `at`)."""
    receipt = (
        await session.execute(select(Receipt).where(Receipt.redemption_operation_id == operation.id))
    ).scalar_one()
    assert receipt.accrual_operation_id is not None
    accrual_op = await session.get(Operation, receipt.accrual_operation_id)
    assert accrual_op is not None
    return RedemptionResult(-operation.points, await stored_accrual(session, accrual_op, at), operation.id, True)


async def posted_receipt(
    uow: UnitOfWork, *, store_id: int, receipt_id: str, at: datetime
) -> AccrualResult | RedemptionResult | None:
    """What a receipt of this store was posted as (a redemption with its accrual, or an accrual), if
    it was: a request that comes again (a redelivered Telegram update) is answered with it."""

    async def work(session: AsyncSession) -> AccrualResult | RedemptionResult | None:
        paid = await repo.operation_by_key(session, redemption_key(store_id, receipt_id))
        if paid is not None:
            return await stored_redemption(session, paid, at)
        accrued = await repo.operation_by_key(session, purchase_key(store_id, receipt_id))
        return None if accrued is None else await stored_accrual(session, accrued, at)

    return await uow.read(work)
