"""bot/sandbox.py against a real database (SQLite, and PostgreSQL when configured): the demo store,
the owner and the cashier are created when absent and never overwritten. (Not an e2e test: it lives
here next to the sandbox's end-to-end test.)"""

from __future__ import annotations

import pytest

from bot.sandbox import DEMO_STORE_CODE, seed_sandbox
from db.uow import UnitOfWork
from emulator.personas import CASHIER_BORIS, OWNER_OLGA
from services import staff, stores
from services.clock import FrozenClock


async def test_seeds_the_demo_store_owner_and_cashier_once(uow: UnitOfWork, clock: FrozenClock) -> None:
    created = await seed_sandbox(uow, clock)

    assert created == [f"store {DEMO_STORE_CODE}", f"owner {OWNER_OLGA.id}", f"cashier {CASHIER_BORIS.id}"]
    members = {m.telegram_id: (m.role, m.store_code, m.active) for m in await staff.list_staff(uow)}
    assert members == {OWNER_OLGA.id: ("owner", None, True), CASHIER_BORIS.id: ("cashier", DEMO_STORE_CODE, True)}
    assert [s.code for s in await stores.list_stores(uow)] == [DEMO_STORE_CODE]
    assert await seed_sandbox(uow, clock) == []


async def test_what_was_changed_in_the_sandbox_survives_a_restart(uow: UnitOfWork, clock: FrozenClock) -> None:
    await seed_sandbox(uow, clock)
    olga = await staff.require_staff(uow, OWNER_OLGA.id, "owner")
    boris = next(m for m in await staff.list_staff(uow) if m.telegram_id == CASHIER_BORIS.id)
    await staff.deactivate(uow, clock, by=olga, staff_id=boris.id)

    assert await seed_sandbox(uow, clock) == []

    after = next(m for m in await staff.list_staff(uow) if m.telegram_id == CASHIER_BORIS.id)
    assert not after.active


async def test_a_database_with_real_customers_or_staff_is_refused_and_gets_nothing(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    from services import customers
    from services.errors import SandboxDatabaseHoldsRealData
    from services.phones import PhonePolicy

    await customers.create_walk_in(
        uow, clock, phone="+79161112233", name="Real", surname="Customer", phone_policy=PhonePolicy(), actor="test"
    )
    with pytest.raises(SandboxDatabaseHoldsRealData) as refused:
        await seed_sandbox(uow, clock)
    assert refused.value.params == {"customers": 1, "staff": 0}
    assert await staff.list_staff(uow) == [] and await stores.list_stores(uow) == []


async def test_a_database_the_sandbox_claimed_stays_its_own_whatever_was_made_in_it(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    from services import customers
    from services.phones import PhonePolicy

    await seed_sandbox(uow, clock)
    # Boris registers a walk-in in the sandbox: on the next start the database is still the sandbox's.
    await customers.create_walk_in(
        uow, clock, phone="+79161112233", name="Walk", surname="In", phone_policy=PhonePolicy(), actor="staff:2"
    )
    assert await seed_sandbox(uow, clock) == []
