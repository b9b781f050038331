"""Manual adjustments by staff: +/- points with a mandatory reason, audited, capped per day.

The daily limit counts the absolute points an actor adjusted since midnight in the business time
zone. Each adjustment locks its card, then the actor's adjustments (a transaction-scoped advisory
lock on PostgreSQL), and only then reads the day's sum: two adjustments by one cashier on two cards
at the same instant are counted one after the other.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Operation
from db.repositories import ledger as repo
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import AdjustmentLimitReached, CardBlocked, InvalidAmount, ReasonRequired
from services.ledger import lots
from services.ledger.amounts import UNITS_PER_POINT
from services.ledger.card_rules import open_card
from services.ledger.idempotency import ensure_same_request, request_hash, write_once
from services.ledger.results import AdjustmentResult
from services.ledger.snapshot import card_snapshot
from services.program import ProgramSettings, get_settings


def adjustment_key(idempotency_key: str) -> str:
    return f"adjustment:{idempotency_key}"


def _business_midnight(settings: ProgramSettings, now: datetime) -> datetime:
    local = now.astimezone(settings.tz)
    return datetime.combine(local.date(), time(0), tzinfo=settings.tz)


async def adjust_points(
    uow: UnitOfWork,
    clock: Clock,
    *,
    card_id: int,
    points: int,
    reason: str,
    idempotency_key: str,
    actor: str,
    staff_id: int | None = None,
    store_id: int | None = None,
) -> AdjustmentResult:
    """Add (points > 0: an active lot expiring like any other) or take away (points < 0: from the
    soonest-expiring lots, never more than the balance) `points` units."""
    reason = reason.strip()
    if not reason:
        raise ReasonRequired()
    if len(reason) > 500:
        raise InvalidAmount(field="reason")
    settings = await get_settings(uow)
    if points == 0 or points % settings.point_quantum:
        raise InvalidAmount(field="points", value=points)
    if not idempotency_key or len(idempotency_key) > 150:
        raise InvalidAmount(field="idempotency_key")
    key = adjustment_key(idempotency_key)
    expected = request_hash(card_id=card_id, points=points, reason=reason, actor=actor)
    limit = settings.daily_adjustment_limit_points * UNITS_PER_POINT

    async def work(session: AsyncSession) -> AdjustmentResult:
        now = clock.now()
        card = await open_card(session, card_id, now)
        existing = await repo.operation_by_key(session, key)
        if existing is not None:
            ensure_same_request(existing, expected)
            return AdjustmentResult(
                await card_snapshot(session, card_id, now), existing.points, existing.id, None, True
            )
        if card.status == "blocked":
            raise CardBlocked(card_id=card_id)
        await repo.lock_actor_adjustments(session, actor)
        used = await repo.staff_adjusted_since(session, actor, _business_midnight(settings, now))
        if used + abs(points) > limit:
            raise AdjustmentLimitReached(limit=limit, used=used, requested=abs(points))
        before = await card_snapshot(session, card_id, now)
        operation = Operation(
            card_id=card_id,
            customer_id=card.customer_id,
            kind="manual_adjustment",
            points=points,
            store_id=store_id,
            staff_id=staff_id,
            actor=actor,
            reason=reason,
            idempotency_key=key,
            request_hash=expected,
            created_at=now,
        )
        await repo.add(session, operation)
        expires_at = None
        if points > 0:
            expires_at = now + timedelta(days=settings.expiry_days)
            await lots.credit(
                session, operation=operation, units=points, status="active", available_at=now,
                expires_at=expires_at, at=now,
            )
        else:
            await lots.debit(session, clock, operation=operation, units=-points)
        snapshot = await card_snapshot(session, card_id, clock.now())
        await audit.record(
            session,
            at=now,
            actor=actor,
            action="ledger.adjust",
            entity="card",
            entity_id=card_id,
            before={"balance": before.balance, "debt": before.debt},
            after={
                "balance": snapshot.balance,
                "debt": snapshot.debt,
                "points": points,
                "reason": reason,
                "operation_id": operation.id,
            },
        )
        return AdjustmentResult(snapshot, points, operation.id, expires_at, False)

    return await write_once(uow, work)
