"""Cards: issue, find, bind and unbind, status, validity and multiplier. A card is a points account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CARD_STATUSES, Card, Customer, CustomerLink, LinkType
from db.repositories import cards as repo
from db.repositories import customers as customers_repo
from db.repositories import ledger as ledger_repo
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import (
    CardAlreadyExists,
    CardNotFound,
    CardOwnedByAnother,
    CustomerNotFound,
    DomainError,
    ValidationFailed,
)
from services.ledger.otp import new_secret
from services.phones import PhonePolicy, parse_phone

MULTIPLIER_MAX_BP = 100_000  # x10: anything above is a typo, not a promotion


@dataclass(frozen=True)
class CardView:
    id: int
    number: str
    customer_id: int | None
    status: str
    is_primary: bool
    level_id: int | None
    balance: int  # available now: lots whose expiry instant has come are not counted
    pending: int
    debt: int
    valid_from: date | None
    valid_to: date | None
    multiplier_bp: int | None
    multiplier_from: date | None
    multiplier_to: date | None


async def card_view(session: AsyncSession, card: Card, now: datetime) -> CardView:
    balance = card.balance - await ledger_repo.expired_held_of(session, card.id, now)
    return CardView(
        id=card.id, number=card.number, customer_id=card.customer_id, status=card.status,
        is_primary=card.is_primary, level_id=card.level_id, balance=balance, pending=card.pending,
        debt=card.debt, valid_from=card.valid_from, valid_to=card.valid_to, multiplier_bp=card.multiplier_bp,
        multiplier_from=card.multiplier_from, multiplier_to=card.multiplier_to,
    )


def _snapshot(card: Card) -> dict[str, object]:
    # No number: it is the phone, and the append-only log could never forget it. The row's entity
    # id is the card's id.
    return {
        "customer_id": card.customer_id, "status": card.status,
        "valid_from": card.valid_from.isoformat() if card.valid_from else None,
        "valid_to": card.valid_to.isoformat() if card.valid_to else None,
        "multiplier_bp": card.multiplier_bp,
    }


async def create_card(
    session: AsyncSession, clock: Clock, *, number: str, customer_id: int | None, source: str, actor: str,
    is_primary: bool = True,
) -> Card:
    """Insert a card inside the caller's transaction. The caller grants any welcome bonus."""
    if await repo.by_number(session, number) is not None:
        raise CardAlreadyExists(number=number)
    card = Card(
        number=number, customer_id=customer_id, is_primary=is_primary, status="active",
        otp_secret=new_secret(), source=source, created_at=clock.now(),
        purchases_kopecks=0, balance=0, pending=0, debt=0,
    )
    session.add(card)
    await session.flush()
    await audit.record(
        session, at=clock.now(), actor=actor, action="card.issue", entity="card", entity_id=card.id,
        after=_snapshot(card),
    )
    return card


async def _card_owner_card(session: AsyncSession, customer_id: int) -> Card | None:
    """The card a customer without a card of their own uses through a "card owner" link."""
    stmt = (
        select(Card)
        .join(CustomerLink, CustomerLink.from_customer_id == Card.customer_id)
        .join(LinkType, LinkType.id == CustomerLink.link_type_id)
        .where(
            CustomerLink.to_customer_id == customer_id,
            LinkType.semantics == "card_owner",
            (CustomerLink.card_id.is_(None)) | (CustomerLink.card_id == Card.id),
        )
        .order_by(Card.is_primary.desc(), Card.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def card_for_customer(session: AsyncSession, customer_id: int) -> Card | None:
    """The customer's own primary card, or else the family card they use through a card-owner link."""
    own = await customers_repo.primary_card(session, customer_id)
    if own is not None:
        return own
    return await _card_owner_card(session, customer_id)


async def resolve_card(session: AsyncSession, query: str, policy: PhonePolicy) -> Card:
    """A card by its number or by a phone in any spelling; for a family member without a card of
    their own, the card they use through a card-owner link."""
    text = query.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and digits == text:
        card = await repo.by_number(session, digits)
        if card is not None:
            return card
    try:
        phone = parse_phone(text, policy)
    except DomainError:
        raise CardNotFound(query=query) from None
    card = await repo.by_number(session, phone.card_number)
    if card is not None:
        return card
    for customer in await customers_repo.by_phone(session, phone.e164):
        family_card = await card_for_customer(session, customer.id)
        if family_card is not None:
            return family_card
    raise CardNotFound(query=query)


async def find_card(uow: UnitOfWork, clock: Clock, query: str, policy: PhonePolicy) -> CardView:
    async def work(session: AsyncSession) -> CardView:
        return await card_view(session, await resolve_card(session, query, policy), clock.now())

    return await uow.read(work)


async def _locked_card(session: AsyncSession, card_id: int) -> Card:
    card = await repo.by_id(session, card_id, for_update=True)
    if card is None:
        raise CardNotFound(query=str(card_id))
    return card


async def set_status(uow: UnitOfWork, clock: Clock, *, card_id: int, status: str, actor: str) -> CardView:
    if status not in CARD_STATUSES:
        raise ValidationFailed(field="status", allowed=", ".join(CARD_STATUSES))

    async def work(session: AsyncSession) -> CardView:
        card = await _locked_card(session, card_id)
        before = _snapshot(card)
        card.status = status
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="card.status", entity="card", entity_id=card.id,
            before=before, after=_snapshot(card),
        )
        return await card_view(session, card, clock.now())

    return await uow.write(work)


async def set_validity(
    uow: UnitOfWork, clock: Clock, *, card_id: int, valid_from: date | None, valid_to: date | None, actor: str
) -> CardView:
    if valid_from and valid_to and valid_from > valid_to:
        raise ValidationFailed(field="valid_to")

    async def work(session: AsyncSession) -> CardView:
        card = await _locked_card(session, card_id)
        before = _snapshot(card)
        card.valid_from, card.valid_to = valid_from, valid_to
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="card.validity", entity="card", entity_id=card.id,
            before=before, after=_snapshot(card),
        )
        return await card_view(session, card, clock.now())

    return await uow.write(work)


async def set_multiplier(
    uow: UnitOfWork, clock: Clock, *, card_id: int, multiplier_bp: int | None,
    starts: date | None = None, ends: date | None = None, actor: str,
) -> CardView:
    """A points multiplier (10000 = x1) active from `starts` to `ends` inclusive; None removes it."""
    if multiplier_bp is not None and not (0 < multiplier_bp <= MULTIPLIER_MAX_BP):
        raise ValidationFailed(field="multiplier")
    if starts and ends and starts > ends:
        raise ValidationFailed(field="multiplier_to")

    async def work(session: AsyncSession) -> CardView:
        card = await _locked_card(session, card_id)
        before = _snapshot(card)
        card.multiplier_bp = multiplier_bp
        card.multiplier_from, card.multiplier_to = (starts, ends) if multiplier_bp else (None, None)
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="card.multiplier", entity="card",
            entity_id=card.id, before=before, after=_snapshot(card),
        )
        return await card_view(session, card, clock.now())

    return await uow.write(work)


async def bind(
    uow: UnitOfWork, clock: Clock, *, card_id: int, customer_id: int, actor: str, confirm_rebind: bool = False
) -> CardView:
    """Give a card to a customer. Taking it from another owner needs `confirm_rebind`, because the
    balance goes with the card."""

    async def work(session: AsyncSession) -> CardView:
        card = await _locked_card(session, card_id)
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is not None:
            raise CustomerNotFound(customer_id=customer_id)
        if card.customer_id not in (None, customer_id) and not confirm_rebind:
            raise CardOwnedByAnother(number=card.number)
        before = _snapshot(card)
        previous_owner = card.customer_id
        card.customer_id = customer_id
        card.is_primary = await customers_repo.primary_card(session, customer_id) is None
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="card.bind", entity="card", entity_id=card.id,
            before=before, after=_snapshot(card),
        )
        for owner in {previous_owner, customer_id} - {None}:
            assert owner is not None
            await audit.timeline(
                session, customer_id=owner, at=clock.now(), actor=actor, kind="card_bind",
                data={"card_id": card.id, "from": previous_owner, "to": customer_id},
            )
        return await card_view(session, card, clock.now())

    return await uow.write(work)


async def unbind(uow: UnitOfWork, clock: Clock, *, card_id: int, actor: str) -> CardView:
    async def work(session: AsyncSession) -> CardView:
        card = await _locked_card(session, card_id)
        before = _snapshot(card)
        owner = card.customer_id
        card.customer_id = None
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="card.unbind", entity="card", entity_id=card.id,
            before=before, after=_snapshot(card),
        )
        if owner is not None:
            await audit.timeline(
                session, customer_id=owner, at=clock.now(), actor=actor, kind="card_unbind",
                data={"card_id": card.id},
            )
        return await card_view(session, card, clock.now())

    return await uow.write(work)
