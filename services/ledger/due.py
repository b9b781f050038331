"""What the activation and expiry jobs would do at a given moment, without doing it: an operator
who runs a job for another day (`jobs run expire --today D`) is shown this before anything burns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Lot
from db.uow import UnitOfWork


@dataclass(frozen=True)
class DueLots:
    cards: int
    points: int  # hundredths of a point


async def _due(uow: UnitOfWork, *conditions: ColumnElement[bool]) -> DueLots:
    async def work(session: AsyncSession) -> DueLots:
        row = (
            await session.execute(
                select(func.count(func.distinct(Lot.card_id)), func.coalesce(func.sum(Lot.remaining), 0)).where(
                    and_(*conditions)
                )
            )
        ).one()
        return DueLots(cards=int(row[0]), points=int(row[1]))

    return await uow.read(work)


async def expiring_by(uow: UnitOfWork, now: datetime) -> DueLots:
    """Active lots whose expiry instant is at or before `now`: what `expire` would burn."""
    return await _due(uow, Lot.status == "active", Lot.expires_at.is_not(None), Lot.expires_at <= now)


async def activating_by(uow: UnitOfWork, now: datetime) -> DueLots:
    """Pending lots whose return window ended by `now`: what `activate-pending` would make available."""
    return await _due(uow, Lot.status == "pending", Lot.available_at <= now)
