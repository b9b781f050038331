"""Reading a card's amounts after a change, for the results, and what a card can spend."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import with_expression

from db.models import Card
from db.repositories.ledger import expired_held
from db.types import UTCDateTime
from services.ledger.results import CardSnapshot
from services.levels import card_level

_CARD = (
    select(Card)
    .where(Card.id == bindparam("card_id"))
    .options(with_expression(Card.expired_held, expired_held(Card.id, bindparam("at", type_=UTCDateTime))))
    .execution_options(populate_existing=True)
)


def available(card: Card) -> int:
    """What `card` can spend as of the instant the statement that read it named: its balance less
    what its expired lots hold until the expiry job burns them (a lot is gone from its expires_at
    instant on). The card must have been read with its `expired_held`."""
    if card.expired_held is None:
        raise ValueError(f"card {card.id} was read without its expired points")
    return card.balance - card.expired_held


async def card_snapshot(session: AsyncSession, card_id: int, at: datetime) -> CardSnapshot:
    """The card's amounts as they are in this transaction, its balance as available at `at`."""
    card = (await session.execute(_CARD, {"card_id": card_id, "at": at})).scalar_one()
    level = await card_level(session, card)
    return CardSnapshot(card.id, available(card), card.pending, card.debt, level.level.code)
