"""Readiness checks."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from db.uow import UnitOfWork


async def database_problem(uow: UnitOfWork) -> str | None:
    """None when the database answers, else a short description of why not."""

    async def work(session: AsyncSession) -> None:
        await session.execute(text("SELECT 1"))

    try:
        await uow.read(work)
    except (SQLAlchemyError, OSError) as exc:
        return str(exc)[:200]
    return None
