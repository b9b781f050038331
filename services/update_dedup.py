"""Telegram webhook redelivery without Redis: an update id is claimed by inserting it into
`processed_updates` (INSERT ... ON CONFLICT DO NOTHING), so of two instances receiving the same
update only one gets the row, whatever the timing.

A claim is finished once the update was handled. A claim left unfinished for longer than any
handling takes (LEASE) belongs to an instance that died mid-update; the next redelivery takes it
over and handles the update. A redelivery while the claim is still fresh is told to come back
later, never acknowledged: the instance holding it may yet die."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from sqlalchemy import Table, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialects import changed_rows, insert_or_skip
from db.models import ProcessedUpdate
from db.uow import UnitOfWork
from services.clock import Clock

# Telegram keeps an undelivered update for at most 24 hours; older claims can go.
KEEP = timedelta(hours=25)
# Longer than handling an update ever takes (a shutdown waits 30 s for updates in flight); the
# default of the UPDATE_LEASE_SECONDS setting.
LEASE = timedelta(minutes=2)


class Claim(Enum):
    NEW = "new"  # handle it
    DONE = "done"  # handled before: acknowledge
    BUSY = "busy"  # being handled elsewhere: ask Telegram to deliver it again later


_TABLE: Table = ProcessedUpdate.__table__  # type: ignore[assignment]
_TAKE_OVER = (
    update(_TABLE)
    .where(
        _TABLE.c.update_id == bindparam("id"),
        _TABLE.c.finished_at.is_(None),
        _TABLE.c.at < bindparam("stale_before"),
    )
    .values(at=bindparam("taken_at"))
)
_FINISHED_AT = select(_TABLE.c.finished_at).where(_TABLE.c.update_id == bindparam("id"))
_FINISH = update(_TABLE).where(_TABLE.c.update_id == bindparam("id")).values(finished_at=bindparam("finished"))


async def claim_update(uow: UnitOfWork, clock: Clock, update_id: int, *, lease: timedelta = LEASE) -> Claim:
    """NEW for the first claim of `update_id` (or the take-over of one unfinished for `lease`),
    DONE when it was handled, BUSY while another claim of it is fresh."""

    async def work(session: AsyncSession) -> Claim:
        now = clock.now()
        stmt = insert_or_skip(session, _TABLE, conflict=("update_id",))
        if changed_rows(await session.execute(stmt, {"update_id": update_id, "at": now})):
            return Claim.NEW
        params = {"id": update_id, "stale_before": now - lease, "taken_at": now}
        if changed_rows(await session.execute(_TAKE_OVER, params)):
            return Claim.NEW
        finished = (await session.execute(_FINISHED_AT, {"id": update_id})).scalar_one_or_none()
        return Claim.DONE if finished is not None else Claim.BUSY

    return await uow.write(work)


async def finish_update(uow: UnitOfWork, clock: Clock, update_id: int) -> None:
    """The update was handled: redeliveries are acknowledged from now on."""

    async def work(session: AsyncSession) -> None:
        await session.execute(_FINISH, {"id": update_id, "finished": clock.now()})

    await uow.write(work)


async def release_update(uow: UnitOfWork, update_id: int) -> None:
    """Forget a claim whose processing failed, so Telegram's redelivery is processed."""

    async def work(session: AsyncSession) -> None:
        await session.execute(delete(ProcessedUpdate).where(ProcessedUpdate.update_id == update_id))

    await uow.write(work)


async def prune_processed_updates(uow: UnitOfWork, clock: Clock) -> int:
    """Delete claims older than Telegram could redeliver; return how many went."""

    async def work(session: AsyncSession) -> int:
        old = delete(ProcessedUpdate).where(ProcessedUpdate.at < clock.now() - KEEP)
        return changed_rows(await session.execute(old))

    return await uow.write(work)
