"""Who is speaking: the customer and the staff member behind a Telegram account, in one read.

Every update asks this first, so it is two statements: the customer with their own primary card,
and the staff member with their store's code (the family-card fallback costs a third only for a
customer without a card of their own)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
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


# Built once: every update runs these two, and building the expression cost as much as running it.
_CUSTOMER = (
    select(Customer, Card)
    .outerjoin(Card, Card.id == _OWN_PRIMARY_CARD)
    .where(Customer.telegram_id == bindparam("telegram_id"), Customer.deleted_at.is_(None))
)
_STAFF = select(Staff, Store.code).outerjoin(Store, Store.id == Staff.store_id).where(
    Staff.telegram_id == bindparam("telegram_id")
)


async def _customer(session: AsyncSession, telegram_id: int) -> CustomerView | None:
    row = (await session.execute(_CUSTOMER, {"telegram_id": telegram_id})).first()
    if row is None:
        return None
    customer, card = row
    return view_of(customer, card if card is not None else await card_for_customer(session, customer.id))


async def _staff(session: AsyncSession, telegram_id: int) -> StaffView | None:
    row = (await session.execute(_STAFF, {"telegram_id": telegram_id})).first()
    if row is None or not row[0].active:
        return None
    member, store_code = row
    return staff_view_of(member, store_code)


async def identify(uow: UnitOfWork, telegram_id: int) -> Identity:
    async def work(session: AsyncSession) -> Identity:
        return Identity(customer=await _customer(session, telegram_id), staff=await _staff(session, telegram_id))

    return await uow.read(work)
