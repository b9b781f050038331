"""Card queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card


async def by_number(session: AsyncSession, number: str, *, for_update: bool = False) -> Card | None:
    stmt = select(Card).where(Card.number == number)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_id(session: AsyncSession, card_id: int, *, for_update: bool = False) -> Card | None:
    stmt = select(Card).where(Card.id == card_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()
