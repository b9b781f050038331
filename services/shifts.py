"""Which store a staff member's receipt operations belong to.

A member tied to a store works in it. A member tied to none (an owner set up from
`OWNER_TELEGRAM_IDS`, an admin for the whole chain) works in the store chosen for the shift, which is
remembered on their staff row; with exactly one store in the program there is nothing to choose.
With no store at all, an owner or admin is told to create the first one (in the chat, `/newstore`),
so a fresh deployment has no dead end.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Staff, Store
from db.uow import UnitOfWork
from services import audit, stores
from services.clock import Clock
from services.errors import NoStoreAskAdmin, NoStoreYet, StoreChoiceNeeded, StoreNotFound
from services.staff import StaffView
from services.stores import StoreView


async def till_store(uow: UnitOfWork, member: StaffView) -> int:
    """The store id the member's next receipt operation is posted at, or a DomainError that says
    what to do: choose among the stores (`StoreChoiceNeeded`) or create the first (`NoStoreYet`)."""
    if member.store_id is not None:
        return member.store_id

    async def work(session: AsyncSession) -> int:
        chosen = await session.scalar(select(Staff.shift_store_id).where(Staff.id == member.id))
        if chosen is not None:
            return int(chosen)
        ids = list((await session.scalars(select(Store.id).order_by(Store.code).limit(2))).all())
        if len(ids) == 1:
            return int(ids[0])
        if not ids:
            raise NoStoreYet() if member.at_least("admin") else NoStoreAskAdmin()
        raise StoreChoiceNeeded()

    return await uow.read(work)


async def choose_shift_store(uow: UnitOfWork, clock: Clock, *, member: StaffView, store_id: int) -> StoreView:
    """Remember the store a store-less member works in until they choose another."""

    async def work(session: AsyncSession) -> StoreView:
        store = await session.get(Store, store_id)
        if store is None:
            raise StoreNotFound(code=str(store_id))
        await session.execute(update(Staff).where(Staff.id == member.id).values(shift_store_id=store.id))
        await audit.record(
            session, at=clock.now(), actor=member.actor, action="staff.shift_store", entity="staff",
            entity_id=member.id, after={"store_id": store.id},
        )
        return StoreView(id=store.id, code=store.code, name=store.name)

    return await uow.write(work)


async def shift_store_choices(uow: UnitOfWork) -> list[StoreView]:
    return await stores.list_stores(uow)
