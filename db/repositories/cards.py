"""Card queries."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card

# Built once: a till looks a card up by number on every purchase.
_BY_NUMBER = select(Card).where(Card.number == bindparam("number"))
_BY_NUMBER_FOR_UPDATE = _BY_NUMBER.with_for_update()


async def by_number(session: AsyncSession, number: str, *, for_update: bool = False) -> Card | None:
    stmt = _BY_NUMBER_FOR_UPDATE if for_update else _BY_NUMBER
    return (await session.execute(stmt, {"number": number})).scalar_one_or_none()


async def by_id(session: AsyncSession, card_id: int, *, for_update: bool = False) -> Card | None:
    stmt = select(Card).where(Card.id == card_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()
