"""Stores (branches): every operation records one."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Store
from db.repositories import staff as repo
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import StoreExists, StoreNotFound, ValidationFailed

_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


@dataclass(frozen=True)
class StoreView:
    id: int
    code: str
    name: str


def _view(store: Store) -> StoreView:
    return StoreView(id=store.id, code=store.code, name=store.name)


async def add_store(uow: UnitOfWork, clock: Clock, *, code: str, name: str, actor: str) -> StoreView:
    code, name = code.strip(), name.strip()
    if not _CODE.match(code):
        raise ValidationFailed(field="code")
    if not name or len(name) > 200:
        raise ValidationFailed(field="name")

    async def work(session: AsyncSession) -> StoreView:
        if await repo.store_by_code(session, code):
            raise StoreExists(code=code)
        store = Store(code=code, name=name, created_at=clock.now())
        session.add(store)
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="store.add", entity="store",
            entity_id=store.id, after={"code": code, "name": name},
        )
        return _view(store)

    try:
        return await uow.write(work)
    except IntegrityError:
        raise StoreExists(code=code) from None


async def get_store(session: AsyncSession, code: str) -> Store:
    store = await repo.store_by_code(session, code)
    if store is None:
        raise StoreNotFound(code=code)
    return store


async def list_stores(uow: UnitOfWork) -> list[StoreView]:
    async def work(session: AsyncSession) -> list[StoreView]:
        return [_view(store) for store in await repo.all_stores(session)]

    return await uow.read(work)
