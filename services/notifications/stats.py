"""What admins see of the outbox: how many messages are in each state."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OUTBOX_STATUSES, OutboxMessage
from db.uow import UnitOfWork


async def outbox_counts(uow: UnitOfWork) -> dict[str, int]:
    """status -> number of messages, every status present (0 when none)."""

    async def work(session: AsyncSession) -> dict[str, int]:
        rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
        counts = dict.fromkeys(OUTBOX_STATUSES, 0)
        counts.update({str(status): int(n) for status, n in rows})
        return counts

    return await uow.read(work)
