"""Reading a card's amounts after a change, for the results."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card
from services.ledger.results import CardSnapshot
from services.levels import card_level

_CARD = select(Card).where(Card.id == bindparam("card_id")).execution_options(populate_existing=True)


async def card_snapshot(session: AsyncSession, card_id: int) -> CardSnapshot:
    card = (await session.execute(_CARD, {"card_id": card_id})).scalar_one()
    level = await card_level(session, card)
    return CardSnapshot(card.id, card.balance, card.pending, card.debt, level.level.code)
