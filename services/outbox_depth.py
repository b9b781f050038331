"""How many outbox messages are waiting, for the /metrics gauge (computed at scrape time)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage
from db.uow import UnitOfWork

# Statuses that still need the sender's attention.
WAITING = ("pending", "claimed", "sending", "unknown")


async def outbox_depth(uow: UnitOfWork) -> dict[str, int]:
    async def work(session: AsyncSession) -> dict[str, int]:
        rows = await session.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.status.in_(WAITING))
            .group_by(OutboxMessage.status)
        )
        counts = dict.fromkeys(WAITING, 0)
        counts.update({str(status): int(count) for status, count in rows})
        return counts

    return await uow.read(work)
