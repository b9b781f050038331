"""API request signatures accepted once, without Redis: a signature is claimed by inserting it into
`signature_replays` (INSERT ... ON CONFLICT DO NOTHING), so of two instances receiving the same
signed request only one gets the row, whatever the timing — the approach of update_dedup.py, minus
its leases: a signature is never handed back (a request refused after its claim is signed anew by
the client), and a conflict always means the request was seen before.

A row is kept until its signature's timestamp can no longer be accepted anywhere; pruning it
earlier would reopen the replay, pruning it later only costs space."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Table, bindparam, delete
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialects import changed_rows, insert_or_skip
from db.models import SignatureReplay
from db.uow import UnitOfWork
from services.clock import Clock

_TABLE: Table = SignatureReplay.__table__  # type: ignore[assignment]
_PRUNE = delete(_TABLE).where(_TABLE.c.expires_at < bindparam("now"))


async def claim_signature(uow: UnitOfWork, *, key: str, expires_at: datetime) -> bool:
    """True for the first use of `key` (one INSERT), False for every later one."""

    async def work(session: AsyncSession) -> bool:
        stmt = insert_or_skip(session, _TABLE, conflict=("key",))
        return changed_rows(await session.execute(stmt, {"key": key, "expires_at": expires_at})) == 1

    return await uow.write(work)


async def prune_signature_replays(uow: UnitOfWork, clock: Clock, *, grace: timedelta = timedelta(0)) -> int:
    """Delete signatures whose window closed more than `grace` ago; return how many went."""

    async def work(session: AsyncSession) -> int:
        return changed_rows(await session.execute(_PRUNE, {"now": clock.now() - grace}))

    return await uow.write(work)
