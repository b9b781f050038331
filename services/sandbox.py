"""Whether a database may take the sandbox's personas: the sandbox seeds an owner and a cashier
(bot/sandbox.py), and in a database of a real shop they would be staff anyone could play.

A database is the sandbox's own once a claim is recorded in it (audit action `sandbox.claim`),
which is done only while it holds nothing but the personas: no customer who is not one of them
(walk-ins have no Telegram id, and so are not), no staff member who is not one of them. A
database claimed once takes the sandbox again whatever was done in it since (customers Boris
created as walk-ins, say)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Customer, Staff
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import SandboxDatabaseHoldsRealData

CLAIM_ACTION = "sandbox.claim"


async def claim_database(uow: UnitOfWork, clock: Clock, *, persona_ids: Collection[int], actor: str) -> bool:
    """Claim the database for the sandbox, or raise SandboxDatabaseHoldsRealData; True when this
    call made the claim, False when the database was the sandbox's already."""
    personas = sorted(persona_ids)

    async def work(session: AsyncSession) -> bool:
        claimed = await session.execute(select(AuditEntry.id).where(AuditEntry.action == CLAIM_ACTION).limit(1))
        if claimed.first() is not None:
            return False
        customers = await _count(
            session, select(func.count()).select_from(Customer).where(
                or_(Customer.telegram_id.is_(None), Customer.telegram_id.not_in(personas))
            )
        )
        members = await _count(
            session, select(func.count()).select_from(Staff).where(Staff.telegram_id.not_in(personas))
        )
        if customers or members:
            raise SandboxDatabaseHoldsRealData(customers=customers, staff=members)
        await audit.record(session, at=clock.now(), actor=actor, action=CLAIM_ACTION, entity="database")
        return True

    return await uow.write(work)


async def _count(session: AsyncSession, statement: Select[int]) -> int:
    return int((await session.execute(statement)).scalar_one())
