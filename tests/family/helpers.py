"""Customers for link and family tests: walk-ins (with a phone card) through the customer service,
and customers without any card written straight through the session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Customer, TimelineEntry
from db.uow import UnitOfWork
from services import customers, links
from services.clock import FrozenClock
from services.phones import PhonePolicy


async def walk_in(uow: UnitOfWork, clock: FrozenClock, phone: str, name: str = "Анна") -> customers.CustomerView:
    return await customers.create_walk_in(
        uow, clock, phone=phone, name=name, surname="Канарейкина", phone_policy=PhonePolicy(), actor="test"
    )


async def without_card(
    uow: UnitOfWork, clock: FrozenClock, *, name: str = "Фёдор", phone: str | None = None,
    telegram_id: int | None = None,
) -> int:
    async def work(session: AsyncSession) -> int:
        customer = Customer(
            name=name, surname="Канарейкин", phone=phone, telegram_id=telegram_id, created_at=clock.now(),
            notification_optouts=[],
        )
        session.add(customer)
        await session.flush()
        return customer.id

    return await uow.write(work)


async def type_id(uow: UnitOfWork, code: str) -> int:
    return next(t.id for t in await links.list_link_types(uow, include_inactive=True) if t.code == code)


async def timeline_kinds(uow: UnitOfWork, customer_id: int) -> list[str]:
    async def work(session: AsyncSession) -> list[str]:
        rows = await session.execute(
            select(TimelineEntry.kind).where(TimelineEntry.customer_id == customer_id).order_by(TimelineEntry.id)
        )
        return list(rows.scalars())

    return await uow.read(work)


async def audit_count(uow: UnitOfWork, action: str) -> int:
    async def work(session: AsyncSession) -> Any:
        return await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))

    return int(await uow.read(work))
