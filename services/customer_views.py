"""Read-only screens of the customer bot that the ledger views do not cover: the /card screen."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card
from db.repositories import ledger as ledger_repo
from db.uow import UnitOfWork
from services.clock import Clock
from services.errors import CardNotFound, DomainError
from services.ledger.card_rules import business_today, require_payment
from services.ledger.otp import current_code
from services.levels import LevelNames, card_level
from services.program import get_settings


@dataclass(frozen=True)
class CardScreen:
    card_id: int
    number: str
    status: str
    level_code: str
    level_names: LevelNames
    available: int  # units available now: lots whose expiry instant has come are not counted
    can_pay: bool  # whether points can pay today (status and validity dates)
    code: str  # the 6-digit redemption code of this minute
    seconds_left: int


async def card_screen(uow: UnitOfWork, clock: Clock, card_id: int) -> CardScreen:
    program = await get_settings(uow)

    async def work(session: AsyncSession) -> CardScreen:
        card = await session.get(Card, card_id)
        if card is None:
            raise CardNotFound(card_id=card_id)
        level = await card_level(session, card)
        now = clock.now()
        try:
            require_payment(card, business_today(program, now))
            can_pay = True
        except DomainError:
            can_pay = False
        code, seconds_left = current_code(card, now)
        available = card.balance - await ledger_repo.expired_held_of(session, card.id, now)
        return CardScreen(
            card_id=card.id, number=card.number, status=card.status, level_code=level.level.code,
            level_names=level.level.names, available=available, can_pay=can_pay, code=code,
            seconds_left=seconds_left,
        )

    return await uow.read(work)
