"""Welcome and birthday bonuses: active at once, short-lived, granted at most once per occasion.

Idempotency comes from the operation key (`welcome:{card}`, `birthday:{card}:{year}`): granting
again returns the first grant with `granted=False`. When is someone eligible for a birthday bonus
(the greeting day, Feb 29) is the scheduler's business; `birthday_bonus_eligible` gives it the
"birthday set long enough ago" rule so the number of days lives in one place (the settings).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Lot, Operation
from db.repositories import ledger as repo
from db.uow import UnitOfWork
from services.clock import Clock
from services.errors import CardBlocked
from services.ledger import lots
from services.ledger.amounts import UNITS_PER_POINT
from services.ledger.card_rules import open_card
from services.ledger.results import BonusResult
from services.ledger.snapshot import card_snapshot
from services.notifications import events as notify
from services.program import ProgramSettings, get_settings


def birthday_bonus_eligible(birthday_set_at: datetime | None, settings: ProgramSettings, now: datetime) -> bool:
    """A birthday entered just before the day does not earn the bonus (DOMAIN: set >= 30 days before)."""
    if birthday_set_at is None:
        return False
    return now - birthday_set_at >= timedelta(days=settings.birthday_min_days_since_set)


async def _grant(
    session: AsyncSession,
    *,
    card_id: int,
    kind: str,
    key: str,
    units: int,
    days: int,
    now: datetime,
    actor: str,
    reason: str,
) -> BonusResult:
    card = await open_card(session, card_id, now)
    existing = await repo.operation_by_key(session, key)
    if existing is not None:
        lot = (await session.execute(select(Lot).where(Lot.operation_id == existing.id))).scalar_one_or_none()
        expires = lot.expires_at if lot is not None and lot.expires_at is not None else existing.created_at
        return BonusResult(
            await card_snapshot(session, card_id, now), kind, existing.points, expires, existing.id, False
        )
    if card.status == "blocked":
        raise CardBlocked(card_id=card_id)
    expires_at = now + timedelta(days=days)
    operation = Operation(
        card_id=card_id,
        customer_id=card.customer_id,
        kind=kind,
        points=units,
        actor=actor,
        reason=reason,
        idempotency_key=key,
        created_at=now,
    )
    await repo.add(session, operation)
    if units > 0:
        await lots.credit(
            session, operation=operation, units=units, status="active", available_at=now, expires_at=expires_at,
            at=now,
        )
    return BonusResult(await card_snapshot(session, card_id, now), kind, units, expires_at, operation.id, True)


async def add_welcome_bonus(
    session: AsyncSession, *, settings: ProgramSettings, card_id: int, now: datetime, actor: str = "system"
) -> BonusResult:
    """The welcome bonus inside the caller's transaction (registration issues the card and the
    bonus in one unit of work)."""
    return await _grant(
        session,
        card_id=card_id,
        kind="welcome_bonus",
        key=f"welcome:{card_id}",
        units=settings.welcome_bonus_points * UNITS_PER_POINT,
        days=settings.welcome_bonus_days,
        now=now,
        actor=actor,
        reason="welcome",
    )


async def grant_welcome_bonus(uow: UnitOfWork, clock: Clock, *, card_id: int, actor: str = "system") -> BonusResult:
    settings = await get_settings(uow)

    async def work(session: AsyncSession) -> BonusResult:
        return await add_welcome_bonus(session, settings=settings, card_id=card_id, now=clock.now(), actor=actor)

    return await uow.write(work)


async def grant_birthday_bonus(
    uow: UnitOfWork, clock: Clock, *, card_id: int, year: int, actor: str = "system"
) -> BonusResult:
    """The birthday bonus of `year`, valid `birthday_bonus_days` from now (the scheduler calls it
    on the greeting day). Once per card and year."""
    settings = await get_settings(uow)

    async def work(session: AsyncSession) -> BonusResult:
        now = clock.now()
        result = await _grant(
            session,
            card_id=card_id,
            kind="birthday_bonus",
            key=f"birthday:{card_id}:{year}",
            units=settings.birthday_bonus_points * UNITS_PER_POINT,
            days=settings.birthday_bonus_days,
            now=now,
            actor=actor,
            reason=f"birthday {year}",
        )
        await notify.birthday_bonus_granted(session, result, year=year, now=now)
        return result

    return await uow.write(work)
