"""Telegram webhook redelivery without Redis: an update id is claimed by inserting it into
`processed_updates` (INSERT ... ON CONFLICT DO NOTHING), so of two instances receiving the same
update only one gets the row, whatever the timing."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Table, delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialects import insert_or_skip
from db.models import ProcessedUpdate
from db.uow import UnitOfWork
from services.clock import Clock

# Telegram keeps an undelivered update for at most 24 hours; older claims can go.
KEEP = timedelta(hours=25)


_TABLE: Table = ProcessedUpdate.__table__  # type: ignore[assignment]


async def claim_update(uow: UnitOfWork, clock: Clock, update_id: int) -> bool:
    """True for the first claim of `update_id`, False when it was claimed before."""

    async def work(session: AsyncSession) -> bool:
        stmt = insert_or_skip(session, _TABLE, conflict=("update_id",))
        result = await session.execute(stmt, {"update_id": update_id, "at": clock.now()})
        return int(getattr(result, "rowcount", 0) or 0) == 1

    return await uow.write(work)


async def release_update(uow: UnitOfWork, update_id: int) -> None:
    """Forget a claim whose processing failed, so Telegram's redelivery is processed."""

    async def work(session: AsyncSession) -> None:
        await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id))

    await uow.write(work)


async def prune_processed_updates(uow: UnitOfWork, clock: Clock) -> int:
    """Delete claims older than Telegram could redeliver; return how many went."""

    async def work(session: AsyncSession) -> int:
        result = await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.at < clock.now() - KEEP))
        return int(getattr(result, "rowcount", 0) or 0)

    return await uow.write(work)
