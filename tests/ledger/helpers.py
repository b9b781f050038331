"""Test data written straight through the session, so the ledger tests do not depend on the
customer and card services (written in parallel)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer, Store
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.ledger import check_invariants, otp
from services.ledger.amounts import points

_numbers = itertools.count(9_000_000_000)

P = points  # P(50) == 5000 units: tests speak in points, the ledger in hundredths


@dataclass(frozen=True)
class World:
    store_id: int
    card_id: int
    customer_id: int | None
    secret: str


async def make_store(uow: UnitOfWork, clock: FrozenClock, code: str = "S1", name: str = "Main street") -> int:
    async def work(session: AsyncSession) -> int:
        store = Store(code=code, name=name, created_at=clock.now())
        session.add(store)
        await session.flush()
        return store.id

    return await uow.write(work)


async def make_card(
    uow: UnitOfWork,
    clock: FrozenClock,
    *,
    status: str = "active",
    with_customer: bool = True,
    valid_from: date | None = None,
    valid_to: date | None = None,
    multiplier_bp: int | None = None,
    multiplier_days: int | None = None,
    group_id: int | None = None,
) -> tuple[int, int | None, str]:
    secret = otp.new_secret()

    async def work(session: AsyncSession) -> tuple[int, int | None]:
        customer_id = None
        if with_customer:
            customer = Customer(name="Test", created_at=clock.now(), notification_optouts=[])
            session.add(customer)
            await session.flush()
            customer_id = customer.id
        today = clock.now().date()
        card = Card(
            number=str(next(_numbers)),
            customer_id=customer_id,
            status=status,
            valid_from=valid_from,
            valid_to=valid_to,
            group_id=group_id,
            multiplier_bp=multiplier_bp,
            multiplier_from=today if multiplier_days else None,
            multiplier_to=today + timedelta(days=multiplier_days) if multiplier_days else None,
            otp_secret=secret,
            created_at=clock.now(),
        )
        session.add(card)
        await session.flush()
        return card.id, customer_id

    card_id, customer_id = await uow.write(work)
    return card_id, customer_id, secret


async def make_world(uow: UnitOfWork, clock: FrozenClock, **card_options: object) -> World:
    store_id = await make_store(uow, clock)
    card_id, customer_id, secret = await make_card(uow, clock, **card_options)  # type: ignore[arg-type]
    return World(store_id, card_id, customer_id, secret)


def code_now(secret: str, clock: FrozenClock, offset_steps: int = 0) -> str:
    return otp.code_for_step(secret, otp.step_of(clock.now()) + offset_steps)


def wrong_code(secret: str, clock: FrozenClock) -> str:
    """A code that none of the steps now accepted (the current one and one either way) shows."""
    valid = {code_now(secret, clock, offset) for offset in (-1, 0, 1)}
    return next(code for code in ("999999", "888888", "777777", "666666") if code not in valid)


async def invariants(uow: UnitOfWork) -> None:
    await check_invariants(uow)
