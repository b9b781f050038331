"""Staff actions on the ledger reach the append-only audit log; machine actions don't need to."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEntry
from db.uow import UnitOfWork
from services import staff
from services.clock import FrozenClock
from services.ledger import accrue_purchase, grant_welcome_bonus, redeem, refund
from tests.ledger.helpers import P, code_now, make_world


async def _actions(uow: UnitOfWork) -> list[tuple[str, str]]:
    async def work(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(select(AuditEntry.action, AuditEntry.actor).where(
            AuditEntry.action.like("ledger.%")).order_by(AuditEntry.id))
        return [tuple(row) for row in rows]

    return await uow.read(work)


async def test_cashier_purchase_redemption_and_refund_are_audited(uow: UnitOfWork, clock: FrozenClock) -> None:
    world = await make_world(uow, clock)
    await grant_welcome_bonus(uow, clock, card_id=world.card_id)  # 100 points to pay with
    cashier = await staff.add_staff(uow, clock, telegram_id=77, role="cashier", actor="test")
    actor = cashier.actor
    await accrue_purchase(uow, clock, card_id=world.card_id, store_id=world.store_id, receipt_id="r1",
                          amount_kopecks=100_000, actor=actor, staff_id=cashier.id)
    await redeem(uow, clock, card_id=world.card_id, store_id=world.store_id, receipt_id="r2",
                 receipt_amount_kopecks=100_000, points=P(10), code=code_now(world.secret, clock), actor=actor,
                 staff_id=cashier.id)
    await refund(uow, clock, store_id=world.store_id, receipt_id="r1", amount_kopecks=None, refund_id="f1",
                 actor=actor, staff_id=cashier.id)
    # An API key's purchase is recorded by its operation row only.
    await accrue_purchase(uow, clock, card_id=world.card_id, store_id=world.store_id, receipt_id="r3",
                          amount_kopecks=100_000, actor="api:1")
    assert await _actions(uow) == [
        ("ledger.purchase", actor), ("ledger.redemption", actor), ("ledger.refund", actor)
    ]
