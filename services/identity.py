"""Who is speaking: the customer and the staff member behind a Telegram account, in one read.

Every update asks this first, so it is one statement: the customer with their own primary card,
and the staff member with their store's code, each outer-joined to the Telegram id (the family-card
fallback costs a second only for a customer without a card of their own)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer, Staff, Store
from db.uow import UnitOfWork
from services.cards import card_for_customer
from services.customers import CustomerView, view_of
from services.staff import StaffView, staff_view_of


@dataclass(frozen=True)
class Identity:
    customer: CustomerView | None
    staff: StaffView | None  # active staff only


_OWN_PRIMARY_CARD = (
    select(Card.id)
    .where(Card.customer_id == Customer.id)
    .order_by(Card.is_primary.desc(), Card.id)
    .limit(1)
    .correlate(Customer)
    .scalar_subquery()
)


# Built once: every update runs it, and building the expression cost as much as running it.
_ME = select(literal_column("1").label("me")).subquery("me")  # the one row the rest joins to
_WHO = (
    select(Customer, Card, Staff, Store.code)
    .select_from(_ME)
    .outerjoin(
        Customer, and_(Customer.telegram_id == bindparam("telegram_id"), Customer.deleted_at.is_(None))
    )
    .outerjoin(Card, Card.id == _OWN_PRIMARY_CARD)
    .outerjoin(Staff, Staff.telegram_id == bindparam("telegram_id"))
    .outerjoin(Store, Store.id == Staff.store_id)
)


async def _customer(session: AsyncSession, customer: Customer | None, card: Card | None) -> CustomerView | None:
    if customer is None:
        return None
    return view_of(customer, card if card is not None else await card_for_customer(session, customer.id))


def _staff(member: Staff | None, store_code: str | None) -> StaffView | None:
    if member is None or not member.active:
        return None
    return staff_view_of(member, store_code)


async def identify(uow: UnitOfWork, telegram_id: int) -> Identity:
    async def work(session: AsyncSession) -> Identity:
        customer, card, member, store_code = (await session.execute(_WHO, {"telegram_id": telegram_id})).one()
        return Identity(customer=await _customer(session, customer, card), staff=_staff(member, store_code))

    return await uow.read(work)
