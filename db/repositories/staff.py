"""Staff and store queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Staff, Store


async def staff_by_telegram_id(session: AsyncSession, telegram_id: int) -> Staff | None:
    stmt = select(Staff).where(Staff.telegram_id == telegram_id)
    return (await session.execute(stmt)).scalar_one_or_none()


async def store_by_code(session: AsyncSession, code: str) -> Store | None:
    stmt = select(Store).where(Store.code == code)
    return (await session.execute(stmt)).scalar_one_or_none()


async def all_staff(session: AsyncSession) -> list[Staff]:
    return list((await session.execute(select(Staff).order_by(Staff.id))).scalars())


async def all_stores(session: AsyncSession) -> list[Store]:
    return list((await session.execute(select(Store).order_by(Store.code))).scalars())
