"""Reading a card's amounts after a change, for the results."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card
from services.ledger.results import CardSnapshot
from services.levels import card_level


async def card_snapshot(session: AsyncSession, card_id: int) -> CardSnapshot:
    stmt = select(Card).where(Card.id == card_id).execution_options(populate_existing=True)
    card = (await session.execute(stmt)).scalar_one()
    level = await card_level(session, card)
    return CardSnapshot(card.id, card.balance, card.pending, card.debt, level.level.code)
