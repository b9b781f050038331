"""Refunds of a receipt, full or partial, possibly several.

Everything is cumulative so that rounding never adds up to more than the receipt earned or spent:
after refunds totalling R of a receipt of amount A, the receipt has had floor(earned x R / A) points
reversed and, per lot it spent from, floor(spent_from_lot x R / A) points restored (rounded down to
the program's quantum); the refund that reaches R == A takes exactly what is left. Each refund
does the difference from the previous state, bounded by conditional UPDATEs on the receipt row.

Restored points get a NEW active lot with `restored_from_lot_id` = the lot they were spent from and
that lot's original `expires_at` (so they do not live longer than they would have). If that instant
has already come, the new lot is gone at once like any expired lot: it is not available, it repays
no debt, and the next expiry run burns it (and writes the `expiry` operation).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Allocation, Card, Lot, Operation, Receipt
from db.repositories import ledger as repo
from db.uow import UnitOfWork
from services.clock import Clock
from services.errors import InvalidAmount, ReceiptNotFound, RefundExceedsReceipt
from services.ledger import lots
from services.ledger.accrual import audit_staff_action
from services.ledger.amounts import share
from services.ledger.card_rules import open_card
from services.ledger.idempotency import ensure_same_request, request_hash, write_once
from services.ledger.results import RefundResult
from services.ledger.snapshot import card_snapshot
from services.levels import refresh_card_level
from services.notifications import events as notify
from services.program import ProgramSettings, get_settings


def refund_key(store_id: int, receipt_id: str, refund_id: str) -> str:
    return f"refund:{store_id}:{receipt_id}:{refund_id}"


async def refund(
    uow: UnitOfWork,
    clock: Clock,
    *,
    store_id: int,
    receipt_id: str,
    amount_kopecks: int | None,
    refund_id: str,
    actor: str,
    staff_id: int | None = None,
) -> RefundResult:
    """Refund `amount_kopecks` of a receipt (None = all that is not refunded yet)."""
    if amount_kopecks is not None and amount_kopecks <= 0:
        raise InvalidAmount(field="amount_kopecks", value=amount_kopecks)
    if not refund_id or len(refund_id) > 64:
        raise InvalidAmount(field="refund_id")
    settings = await get_settings(uow)
    key = refund_key(store_id, receipt_id, refund_id)
    expected = request_hash(store_id=store_id, receipt_id=receipt_id, amount=amount_kopecks, refund_id=refund_id)

    async def work(session: AsyncSession) -> RefundResult:
        now = clock.now()
        found = await repo.receipt(session, store_id, receipt_id)
        if found is None:
            raise ReceiptNotFound(store_id=store_id, receipt_id=receipt_id)
        card = await open_card(session, found.card_id, now)
        existing = await repo.operation_by_key(session, key)
        if existing is not None:
            ensure_same_request(existing, expected)
            return await _stored(session, existing, refund_id, now)
        receipt = await repo.receipt(session, store_id, receipt_id)  # re-read now that the card is locked
        assert receipt is not None
        # Read before the UPDATE below: the session then shows the receipt's new refunded amount.
        refunded_before = receipt.refunded_kopecks
        amount = receipt.amount_kopecks - refunded_before if amount_kopecks is None else amount_kopecks
        if amount <= 0 or not await repo.add_to_receipt_refund(session, receipt.id, amount):
            raise RefundExceedsReceipt(receipt_id=receipt_id, refundable=receipt.amount_kopecks - refunded_before)
        result = await _apply(
            session,
            clock,
            settings,
            card,
            receipt,
            refunded_before + amount,
            amount,
            now,
            key,
            expected,
            actor,
            staff_id,
            refund_id,
        )
        await notify.refund_made(session, result, now=now)
        await audit_staff_action(
            session, now=now, actor=actor, staff_id=staff_id, action="ledger.refund", card_id=result.card.card_id,
            details={"store_id": store_id, "receipt_id": receipt_id, "refund_id": refund_id,
                     "amount_kopecks": result.refunded_kopecks, "operation_id": result.operation_id},
        )
        return result

    return await write_once(uow, work)


async def _apply(
    session: AsyncSession,
    clock: Clock,
    settings: ProgramSettings,
    card: Card,
    receipt: Receipt,
    refunded_total: int,
    amount: int,
    now: datetime,
    key: str,
    expected: str,
    actor: str,
    staff_id: int | None,
    refund_id: str,
) -> RefundResult:
    quantum = settings.point_quantum
    earned_share = share(receipt.earned_points, refunded_total, receipt.amount_kopecks, quantum)
    reverse_now = earned_share - receipt.reversed_points
    reversal = Operation(
        card_id=card.id,
        customer_id=receipt.customer_id,
        kind="refund_reversal",
        points=-reverse_now,
        store_id=receipt.store_id,
        staff_id=staff_id,
        actor=actor,
        receipt_id=receipt.receipt_id,
        receipt_kopecks=amount,
        rate_bp=receipt.rate_bp,
        reason=f"refund {refund_id}",
        related_operation_id=receipt.accrual_operation_id,
        idempotency_key=key,
        request_hash=expected,
        created_at=now,
    )
    await repo.add(session, reversal)
    new_debt = 0
    if reverse_now > 0:
        assert receipt.accrual_operation_id is not None
        own = tuple(lot.id for lot in await repo.lots_of_operation(session, receipt.accrual_operation_id))
        reversed_ = await lots.reverse(session, clock, operation=reversal, units=reverse_now, own_lot_ids=own)
        new_debt = reversed_.to_debt
    restored = 0
    if receipt.redemption_operation_id is not None:
        restored = await _restore(session, receipt, refunded_total, quantum, reversal, now, clock.now())
    if not await repo.add_to_receipt_reversal(session, receipt.id, reversed_=reverse_now, restored=restored):
        raise lots.LedgerRaceLost(f"receipt {receipt.id}")
    # Cumulative purchases lose the refunded amount: the only way a level goes down.
    await session.execute(
        update(Card).where(Card.id == card.id).values(purchases_kopecks=Card.purchases_kopecks - amount)
    )
    await refresh_card_level(session, card)
    return RefundResult(
        card=await card_snapshot(session, card.id, clock.now()),
        store_id=receipt.store_id,
        receipt_id=receipt.receipt_id,
        refund_id=refund_id,
        refunded_kopecks=amount,
        receipt_refunded_kopecks=refunded_total,
        reversed_points=reverse_now,
        restored_points=restored,
        new_debt=new_debt,
        operation_id=reversal.id,
        replayed=False,
    )


async def _restore(
    session: AsyncSession, receipt: Receipt, refunded_total: int, quantum: int, reversal: Operation, now: datetime,
    at: datetime,
) -> int:
    """Give back, per lot the receipt's points came from, its share of this refund (`at`: the
    instant of the credits, against which a restored lot's original expiry is weighed)."""
    assert receipt.redemption_operation_id is not None
    plan: list[tuple[int, Lot, int]] = []
    for allocation, lot in await repo.allocations_with_lots(session, receipt.redemption_operation_id):
        due = share(allocation.points, refunded_total, receipt.amount_kopecks, quantum) - allocation.restored
        if due > 0:
            plan.append((allocation.id, lot, due))
    total = sum(due for _, _, due in plan)
    if total == 0:
        return 0
    operation = Operation(
        card_id=reversal.card_id,
        customer_id=reversal.customer_id,
        kind="refund_restore",
        points=total,
        store_id=reversal.store_id,
        staff_id=reversal.staff_id,
        actor=reversal.actor,
        receipt_id=reversal.receipt_id,
        receipt_kopecks=reversal.receipt_kopecks,
        reason=reversal.reason,
        related_operation_id=receipt.redemption_operation_id,
        idempotency_key=f"{reversal.idempotency_key}:restore",
        created_at=now,
    )
    await repo.add(session, operation)
    for allocation_id, lot, due in plan:
        if not await repo.add_restored(session, allocation_id, due):
            raise lots.LedgerRaceLost(f"allocation {allocation_id}")
        await lots.credit(
            session,
            operation=operation,
            units=due,
            status="active",
            available_at=now,
            expires_at=lot.expires_at,
            at=at,
            restored_from_lot_id=lot.id,
        )
    return total


async def _stored(session: AsyncSession, operation: Operation, refund_id: str, at: datetime) -> RefundResult:
    restore = await repo.operation_by_key(session, f"{operation.idempotency_key}:restore")
    # What the reversal could not take from lots became debt.
    from_lots = (
        await session.execute(
            select(func.coalesce(func.sum(Allocation.points), 0)).where(Allocation.operation_id == operation.id)
        )
    ).scalar_one()
    receipt = await repo.receipt(session, operation.store_id or 0, operation.receipt_id or "")
    assert receipt is not None
    return RefundResult(
        card=await card_snapshot(session, operation.card_id, at),
        store_id=receipt.store_id,
        receipt_id=receipt.receipt_id,
        refund_id=refund_id,
        refunded_kopecks=operation.receipt_kopecks or 0,
        receipt_refunded_kopecks=receipt.refunded_kopecks,
        reversed_points=-operation.points,
        restored_points=0 if restore is None else restore.points,
        new_debt=-operation.points - int(from_lots),
        operation_id=operation.id,
        replayed=True,
    )
