"""What a card allows today: status, validity dates, multiplier period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card
from db.repositories import ledger as repo
from services.errors import AccrualNotAllowed, CardBlocked, CardNotFound, CardNotValid, PaymentNotAllowed
from services.levels import remember_pin
from services.program import ProgramSettings

ACCRUAL_STATUSES = ("active", "accrual_only")
PAYMENT_STATUSES = ("active", "payment_only")


def business_today(settings: ProgramSettings, now: datetime) -> date:
    """Validity and multiplier dates are calendar dates where the shops are, not in UTC."""
    return now.astimezone(settings.tz).date()


async def open_card(session: AsyncSession, card_id: int, at: datetime) -> Card:
    """Lock the card for this use case (see repo.lock_card); its owner's level pin comes along, and
    what its expired lots hold at `at` (services/ledger/snapshot.py::available)."""
    found = await repo.lock_card_with_pin(session, card_id, at)
    if found is None:
        raise CardNotFound(card_id=card_id)
    return await opened(session, *found)


async def opened(session: AsyncSession, card: Card, pinned_level_id: int | None) -> Card:
    """A card its caller has just locked, with its owner's level pin read in the same statement."""
    if card.customer_id is not None:
        await remember_pin(session, card.customer_id, pinned_level_id)
    return card


def _require_valid(card: Card, today: date) -> None:
    if card.status == "blocked":
        raise CardBlocked(card_id=card.id)
    if (card.valid_from is not None and today < card.valid_from) or (
        card.valid_to is not None and today > card.valid_to
    ):
        raise CardNotValid(card_id=card.id, valid_from=card.valid_from, valid_to=card.valid_to)


def require_accrual(card: Card, today: date) -> None:
    _require_valid(card, today)
    if card.status not in ACCRUAL_STATUSES:
        raise AccrualNotAllowed(card_id=card.id, status=card.status)


def require_payment(card: Card, today: date) -> None:
    _require_valid(card, today)
    if card.status not in PAYMENT_STATUSES:
        raise PaymentNotAllowed(card_id=card.id, status=card.status)


def multiplier_bp(card: Card, today: date) -> int:
    """The card's multiplier when today is inside its period (open ends allowed), else x1."""
    if card.multiplier_bp is None:
        return 10_000
    if card.multiplier_from is not None and today < card.multiplier_from:
        return 10_000
    if card.multiplier_to is not None and today > card.multiplier_to:
        return 10_000
    return card.multiplier_bp
