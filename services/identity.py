"""Who is speaking: the customer and the staff member behind a Telegram account, in one read."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from db.repositories import customers as customers_repo
from db.repositories import staff as staff_repo
from db.uow import UnitOfWork
from services.customers import CustomerView, customer_view
from services.staff import StaffView, staff_view


@dataclass(frozen=True)
class Identity:
    customer: CustomerView | None
    staff: StaffView | None  # active staff only


async def identify(uow: UnitOfWork, telegram_id: int) -> Identity:
    async def work(session: AsyncSession) -> Identity:
        customer = await customers_repo.by_telegram_id(session, telegram_id)
        member = await staff_repo.staff_by_telegram_id(session, telegram_id)
        return Identity(
            customer=await customer_view(session, customer) if customer else None,
            staff=await staff_view(session, member) if member and member.active else None,
        )

    return await uow.read(work)
