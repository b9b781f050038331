"""Points (or, in discount mode, a discount) for a purchase.

The rate is the card's level before this purchase (a purchase that crosses a threshold earns at the
old rate and promotes the card for the next one), times the card multiplier when today is in its
period, on the part of the receipt not paid with points, rounded DOWN to the program's quantum.
Points stay pending until the return window ends; they expire `expiry_days` after becoming available.
Cumulative purchases count the whole receipt amount (points-paid part included) in both modes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from db.models import Allocation, Card, Lot, Operation, Receipt, Store
from db.repositories import ledger as repo
from db.repositories.purchase_rows import CardChange, CardState, write_purchase
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.engine_cache import EngineCache, engine_of
from services.errors import IdempotencyConflict, InvalidAmount, ReceiptTooLarge, StoreNotFound
from services.ledger import lots
from services.ledger.amounts import BP, accrual_units, percent_of
from services.ledger.card_rules import ACCRUAL_STATUSES, business_today, multiplier_bp, open_card, require_accrual
from services.ledger.idempotency import ensure_same_request, request_hash, write_once
from services.ledger.lots import LedgerRaceLost
from services.ledger.results import AccrualResult, CardSnapshot
from services.ledger.snapshot import available, card_snapshot
from services.levels import card_level
from services.notifications import events as notify
from services.program import CACHE_TTL_SECONDS, ProgramSettings, get_settings


async def audit_staff_action(
    session: AsyncSession, *, now: datetime, actor: str, staff_id: int | None, action: str, card_id: int,
    details: dict[str, object],
) -> None:
    """Staff actions on the ledger go to the audit log as well as the operation rows; machine
    actions (API keys, jobs) are recorded by their operation rows alone."""
    if staff_id is not None:
        await audit.record(
            session, at=now, actor=actor, action=action, entity="card", entity_id=card_id, after=details
        )


def purchase_key(store_id: int, receipt_id: str) -> str:
    return f"purchase:{store_id}:{receipt_id}"


def purchase_hash(*, card_id: int, store_id: int, receipt_id: str, amount_kopecks: int, paid_with_points: int) -> str:
    return request_hash(
        card_id=card_id, store_id=store_id, receipt_id=receipt_id, amount=amount_kopecks, points=paid_with_points
    )


@dataclass(frozen=True)
class Purchase:
    store_id: int
    receipt_id: str
    amount_kopecks: int
    paid_with_points_kopecks: int
    actor: str
    staff_id: int | None
    customer_id: int | None


def validate_receipt(*, receipt_id: str, amount_kopecks: int, paid_with_points_kopecks: int) -> None:
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidAmount(field="receipt_id")
    if amount_kopecks <= 0:
        raise InvalidAmount(field="amount_kopecks", value=amount_kopecks)
    if not 0 <= paid_with_points_kopecks <= amount_kopecks:
        raise InvalidAmount(field="redeemed_points", value=paid_with_points_kopecks)


def ensure_receipt_within_limit(amount_kopecks: int, settings: ProgramSettings) -> None:
    """A receipt above the program's limit is a typo (a 6-digit code typed as an amount), refused
    with the limit named, whichever door it came through."""
    if amount_kopecks > settings.max_receipt_kopecks:
        raise ReceiptTooLarge(amount_kopecks=amount_kopecks, max_kopecks=settings.max_receipt_kopecks)


# Stores are never deleted: one that existed a moment ago still does.
_known_stores: EngineCache[bool] = EngineCache(CACHE_TTL_SECONDS)


async def require_store(session: AsyncSession, store_id: int) -> None:
    engine = engine_of(session)
    if _known_stores.get(engine, store_id):
        return
    if await session.get(Store, store_id) is None:
        raise StoreNotFound(code=str(store_id))
    _known_stores.put(engine, True, store_id)


async def post_purchase(
    session: AsyncSession,
    *,
    settings: ProgramSettings,
    card: Card,
    now: datetime,
    purchase: Purchase,
    redemption: Operation | None = None,
) -> AccrualResult:
    """Write the receipt and its accrual (or discount) for a locked, checked `card`."""
    today = business_today(settings, now)
    before = await card_level(session, card)
    customer_id = purchase.customer_id if purchase.customer_id is not None else card.customer_id
    base = purchase.amount_kopecks - purchase.paid_with_points_kopecks
    discount = 0
    units = 0
    if settings.mode == "discount":
        kind, rate = "discount_purchase", before.level.percent_bp
        discount = percent_of(base, rate)
    else:
        kind = "purchase_accrual"
        multiplier = multiplier_bp(card, today)
        rate = before.level.percent_bp * multiplier // BP
        # A payment_only card may pay with points but earns nothing on the rest.
        if card.status in ACCRUAL_STATUSES:
            units = accrual_units(base, before.level.percent_bp, multiplier, settings.point_quantum)
    operation = {
        "card_id": card.id,
        "customer_id": customer_id,
        "kind": kind,
        "points": units,
        "store_id": purchase.store_id,
        "staff_id": purchase.staff_id,
        "actor": purchase.actor,
        "receipt_id": purchase.receipt_id,
        "receipt_kopecks": purchase.amount_kopecks,
        "rate_bp": rate,
        "related_operation_id": None if redemption is None else redemption.id,
        "idempotency_key": purchase_key(purchase.store_id, purchase.receipt_id),
        "request_hash": purchase_hash(
            card_id=card.id,
            store_id=purchase.store_id,
            receipt_id=purchase.receipt_id,
            amount_kopecks=purchase.amount_kopecks,
            paid_with_points=purchase.paid_with_points_kopecks,
        ),
        "created_at": now,
    }
    available_at = expires_at = None
    status = None
    lot = None
    held = repaid = 0
    if units > 0:
        window = settings.return_window_days
        status = "pending" if window > 0 else "active"
        available_at = now + timedelta(days=window)
        expires_at = available_at + timedelta(days=settings.expiry_days)
        # The debt was read with the lock; a redemption before this took points but never debt (a
        # card with debt holds no points to redeem). Points repay debt before they can be spent.
        repaid = min(card.debt, units)
        held = units - repaid
        lot = {
            "card_id": card.id, "points": units, "remaining": held, "status": status, "available_at": available_at,
            "expires_at": expires_at, "restored_from_lot_id": None, "created_at": now,
        }
    receipt = {
        "store_id": purchase.store_id,
        "receipt_id": purchase.receipt_id,
        "card_id": card.id,
        "customer_id": customer_id,
        "staff_id": purchase.staff_id,
        "mode": settings.mode,
        "amount_kopecks": purchase.amount_kopecks,
        "paid_with_points_kopecks": purchase.paid_with_points_kopecks,
        "discount_kopecks": discount,
        "rate_bp": rate,
        "earned_points": units,
        "redeemed_points": 0 if redemption is None else -redemption.points,
        "refunded_kopecks": 0,
        "reversed_points": 0,
        "restored_points": 0,
        "redemption_operation_id": None if redemption is None else redemption.id,
        "created_at": now,
    }
    purchases = card.purchases_kopecks + purchase.amount_kopecks
    after = await card_level(session, card, purchases_kopecks=purchases)
    change = CardChange(
        card.id,
        d_balance=held if status == "active" else 0,
        d_pending=held if status == "pending" else 0,
        d_debt=-repaid,
        d_purchases=purchase.amount_kopecks,
        level_id=after.level.id,
    )
    before_write = CardState(card.balance, card.pending, card.debt, card.purchases_kopecks, card.level_id)
    written = await write_purchase(
        session, operation=operation, lot=lot, receipt=receipt, card=change, before=before_write
    )
    if written is None:
        raise LedgerRaceLost(f"card {card.id} amounts")
    if repaid:
        assert written.lot_id is not None
        credit = Operation(id=written.operation_id, **operation)
        await lots.record_repayment(session, credit=credit, lot_id=written.lot_id, repaid=repaid)
    # The locked card object follows the row: later steps of this use case read it.
    for name, value in (
        ("balance", written.balance), ("pending", written.pending), ("debt", written.debt),
        ("purchases_kopecks", purchases), ("level_id", after.level.id),
    ):
        set_committed_value(card, name, value)
    return AccrualResult(
        # Available: what the lock read of its expired lots, which this purchase did not touch.
        card=CardSnapshot(card.id, available(card), written.pending, written.debt, after.level.code),
        store_id=purchase.store_id,
        receipt_id=purchase.receipt_id,
        mode=settings.mode,
        amount_kopecks=purchase.amount_kopecks,
        paid_with_points_kopecks=purchase.paid_with_points_kopecks,
        rate_bp=rate,
        accrued_points=units,
        debt_repaid=repaid,
        lot_status=status,
        available_at=available_at,
        expires_at=expires_at,
        discount_kopecks=discount,
        level_up=after.level.threshold_kopecks > before.level.threshold_kopecks,
        operation_id=written.operation_id,
        replayed=False,
    )


async def stored_accrual(session: AsyncSession, operation: Operation, at: datetime) -> AccrualResult:
    """Rebuild the result of an accrual already made (the card amounts are those at `at`)."""
    receipt = (await session.execute(select(Receipt).where(Receipt.accrual_operation_id == operation.id))).scalar_one()
    lot = (await session.execute(select(Lot).where(Lot.operation_id == operation.id))).scalar_one_or_none()
    repaid = (
        await session.execute(
            select(func.coalesce(func.sum(Allocation.points), 0))
            .join(Operation, Operation.id == Allocation.operation_id)
            .where(Operation.kind == "debt_repayment", Operation.related_operation_id == operation.id)
        )
    ).scalar_one()
    return AccrualResult(
        card=await card_snapshot(session, operation.card_id, at),
        store_id=receipt.store_id,
        receipt_id=receipt.receipt_id,
        mode=receipt.mode,
        amount_kopecks=receipt.amount_kopecks,
        paid_with_points_kopecks=receipt.paid_with_points_kopecks,
        rate_bp=receipt.rate_bp,
        accrued_points=receipt.earned_points,
        debt_repaid=int(repaid),
        lot_status=None if lot is None else ("pending" if lot.available_at > operation.created_at else "active"),
        available_at=None if lot is None else lot.available_at,
        expires_at=None if lot is None else lot.expires_at,
        discount_kopecks=receipt.discount_kopecks,
        level_up=False,
        operation_id=operation.id,
        replayed=True,
    )


@dataclass(frozen=True)
class PurchaseRequest:
    """A purchase to accrue for: the input of `accrue_purchase` and `accrue_purchase_in`."""

    card_id: int
    store_id: int
    receipt_id: str
    amount_kopecks: int
    actor: str
    redeemed_points: int = 0  # units (= kopecks) of the receipt paid with points: earns nothing
    staff_id: int | None = None
    customer_id: int | None = None

    @property
    def key(self) -> str:
        return purchase_key(self.store_id, self.receipt_id)

    @property
    def hash(self) -> str:
        return purchase_hash(
            card_id=self.card_id, store_id=self.store_id, receipt_id=self.receipt_id,
            amount_kopecks=self.amount_kopecks, paid_with_points=self.redeemed_points,
        )

    def validate(self) -> None:
        validate_receipt(
            receipt_id=self.receipt_id,
            amount_kopecks=self.amount_kopecks,
            paid_with_points_kopecks=self.redeemed_points,
        )


@dataclass(frozen=True)
class CheckedPurchase:
    card: Card  # locked
    replay: AccrualResult | None  # the first result, when this purchase was posted before


async def check_purchase_in(
    session: AsyncSession, settings: ProgramSettings, now: datetime, request: PurchaseRequest,
    card: Card | None = None, seen: repo.PurchaseSeen | None = None,
) -> CheckedPurchase:
    """What `accrue_purchase_in` does before it writes: lock the card, find a replay, check the
    store and the card. A refusal is raised here, and then nothing has been written."""
    if card is None:
        card = await open_card(session, request.card_id, now)
    if seen is None:
        seen = await repo.purchase_seen(session, request.key, request.store_id, request.receipt_id)
    if seen.operation_id is not None:
        existing = await session.get(Operation, seen.operation_id)
        assert existing is not None
        ensure_same_request(existing, request.hash)
        return CheckedPurchase(card, await stored_accrual(session, existing, now))
    if seen.receipt:
        raise IdempotencyConflict(key=request.key)
    # After the replay: a receipt posted before the limit was lowered still answers its first result.
    ensure_receipt_within_limit(request.amount_kopecks, settings)
    await require_store(session, request.store_id)
    require_accrual(card, business_today(settings, now))
    return CheckedPurchase(card, None)


async def post_checked_purchase(
    session: AsyncSession, settings: ProgramSettings, now: datetime, request: PurchaseRequest, card: Card
) -> AccrualResult:
    """The writes of `accrue_purchase_in`, after `check_purchase_in` found no replay."""
    purchase = Purchase(
        request.store_id, request.receipt_id, request.amount_kopecks, request.redeemed_points, request.actor,
        request.staff_id, request.customer_id,
    )
    result = await post_purchase(session, settings=settings, card=card, now=now, purchase=purchase)
    await notify.purchase_posted(session, result, now=now, owner=card.customer_id)
    await audit_staff_action(
        session, now=now, actor=request.actor, staff_id=request.staff_id, action="ledger.purchase",
        card_id=request.card_id,
        details={"store_id": request.store_id, "receipt_id": request.receipt_id,
                 "amount_kopecks": request.amount_kopecks, "points": result.accrued_points,
                 "operation_id": result.operation_id},
    )
    return result


async def accrue_purchase_in(
    session: AsyncSession, settings: ProgramSettings, now: datetime, request: PurchaseRequest,
    card: Card | None = None, seen: repo.PurchaseSeen | None = None,
) -> AccrualResult:
    """`accrue_purchase` inside the caller's transaction. The request must be validated; the caller
    retries on IntegrityError (write_once). `card`: the request's card when the caller has opened
    it already (card_rules.open_card or .opened); `seen`: the purchase's look-ups when the caller
    read them after that."""
    checked = await check_purchase_in(session, settings, now, request, card, seen)
    if checked.replay is not None:
        return checked.replay
    return await post_checked_purchase(session, settings, now, request, checked.card)


async def accrue_purchase(
    uow: UnitOfWork,
    clock: Clock,
    *,
    card_id: int,
    store_id: int,
    receipt_id: str,
    amount_kopecks: int,
    redeemed_points: int = 0,
    actor: str,
    staff_id: int | None = None,
    customer_id: int | None = None,
) -> AccrualResult:
    """Accrue points for a purchase (bonus mode) or give the level's discount (discount mode).

    `redeemed_points` (units = kopecks) is the part of the receipt paid with points; nothing is
    earned on it. Idempotent on (store, receipt): the same request again returns the first result,
    another request for the same receipt raises IdempotencyConflict."""
    request = PurchaseRequest(
        card_id, store_id, receipt_id, amount_kopecks, actor, redeemed_points, staff_id, customer_id
    )
    request.validate()
    settings = await get_settings(uow)

    async def work(session: AsyncSession) -> AccrualResult:
        return await accrue_purchase_in(session, settings, clock.now(), request)

    return await write_once(uow, work)
