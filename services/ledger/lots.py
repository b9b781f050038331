"""Posting points into and out of lots, keeping the card's cached amounts in the same transaction.

Expiry: from its `expires_at` instant on, a lot is gone, although it keeps its points until the
expiry job burns them (and its card's balance still counts them until then). Nothing here takes
from such a lot: a debit spends only lots live at the instant of the spend (read from the clock
right before its statements, so a use case that began before the instant cannot spend a lot that
expired while it ran), a reversal takes only live points and leaves the rest as debt, and a credit
of points already expired (a refund restoring points whose original expiry has passed) repays no
debt: the job burns them whole.

Debt: a refund may reverse more than the card holds; the shortfall becomes `cards.debt`. Reversal
takes every held point first (see `reverse`), so a card with debt holds nothing, and any points
that arrive later (`credit`) repay the debt before they can be spent. The repayment is a
`debt_repayment` operation of 0 points with an allocation of the repaid amount to the new lot: the
credit operation already counted the points, the lot simply holds less, and the debt shrinks by as
much, so sum(operations) == held - debt stays true.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Allocation, Card, Lot, Operation
from db.repositories import ledger as repo
from services.clock import Clock
from services.errors import InsufficientPoints


class LedgerRaceLost(RuntimeError):
    """A conditional UPDATE matched no row although the card was locked: a bug, never a user error."""


@dataclass(frozen=True)
class Credited:
    lot_id: int
    debt_repaid: int


_DEBT = select(Card.debt).where(Card.id == bindparam("card_id"))


async def _current_debt(session: AsyncSession, card_id: int) -> int:
    return int((await session.execute(_DEBT, {"card_id": card_id})).scalar_one())


async def credit(
    session: AsyncSession,
    *,
    operation: Operation,
    units: int,
    status: str,
    available_at: datetime,
    expires_at: datetime | None,
    at: datetime,
    restored_from_lot_id: int | None = None,
) -> Credited:
    """Put `units` into a new lot of `operation`'s card (pending or active), repaying debt first,
    unless the lot has expired by `at` (now): expired points pay nothing."""
    card_id = operation.card_id
    expired = expires_at is not None and expires_at <= at
    debt = 0 if expired else await _current_debt(session, card_id)
    repaid = min(debt, units)
    lot = Lot(
        card_id=card_id,
        points=units,
        remaining=units - repaid,
        status=status,
        available_at=available_at,
        expires_at=expires_at,
        operation_id=operation.id,
        restored_from_lot_id=restored_from_lot_id,
        created_at=operation.created_at,
    )
    await repo.add(session, lot)
    held = units - repaid
    changed = await repo.change_card_amounts(
        session,
        card_id,
        balance=held if status == "active" else 0,
        pending=held if status == "pending" else 0,
        debt=-repaid,
    )
    if changed is None:
        raise LedgerRaceLost(f"card {card_id} amounts")
    if repaid:
        await record_repayment(session, credit=operation, lot_id=lot.id, repaid=repaid)
    return Credited(lot.id, repaid)


async def record_repayment(session: AsyncSession, *, credit: Operation, lot_id: int, repaid: int) -> None:
    """The `debt_repayment` operation and allocation for `repaid` units of debt that the new lot
    `lot_id` of the `credit` operation paid off (its card's debt already shrank by as much)."""
    repayment = Operation(
        card_id=credit.card_id,
        customer_id=credit.customer_id,
        kind="debt_repayment",
        points=0,
        store_id=credit.store_id,
        staff_id=credit.staff_id,
        actor=credit.actor,
        receipt_id=credit.receipt_id,
        reason=f"debt repaid from operation {credit.id}",
        related_operation_id=credit.id,
        # One per lot: a refund restoring points to several lots may repay debt from each.
        idempotency_key=f"debt:{credit.idempotency_key}:{lot_id}",
        created_at=credit.created_at,
    )
    await repo.add(session, repayment)
    await repo.add(session, Allocation(operation_id=repayment.id, lot_id=lot_id, points=repaid, restored=0))


async def _take(session: AsyncSession, operation: Operation, lot: Lot, want: int, at: datetime) -> int:
    take = min(want, lot.remaining)
    if take <= 0:
        return 0
    if not await repo.take_from_lot(session, lot.id, take, status=lot.status, at=at):
        raise LedgerRaceLost(f"lot {lot.id}")
    await repo.add(session, Allocation(operation_id=operation.id, lot_id=lot.id, points=take, restored=0))
    return take


@dataclass(frozen=True)
class Debited:
    balance: int  # the card's cached balance after the spend
    expired_held: int  # what its expired, unburnt lots hold at the spend's instant

    @property
    def available(self) -> int:
        return self.balance - self.expired_held


async def debit(session: AsyncSession, clock: Clock, *, operation: Operation, units: int) -> Debited:
    """Spend `units` of the points available now, soonest-expiring lots first. "Now" is read from
    `clock` here, at the spend, not when the use case began. The card's balance is taken with a
    conditional UPDATE first: if its lots live now do not hold `units`, nothing changes."""
    card_id = operation.card_id
    at = clock.now()
    spent = await repo.spend_from_card(session, card_id, units, at)
    if spent is None:
        raise InsufficientPoints(card_id=card_id, requested=units)
    left = units
    for lot in await repo.active_lots(session, card_id, at):
        left -= await _take(session, operation, lot, left, at)
        if left == 0:
            return Debited(spent.balance, spent.expired_held)
    raise LedgerRaceLost(f"card {card_id}: balance says {units} but lots hold less")


@dataclass(frozen=True)
class Reversed:
    from_pending: int
    from_active: int
    to_debt: int


def _live(lot: Lot, at: datetime) -> bool:
    return lot.expires_at is None or lot.expires_at > at


async def reverse(
    session: AsyncSession, clock: Clock, *, operation: Operation, units: int, own_lot_ids: tuple[int, ...]
) -> Reversed:
    """Take back `units` earned earlier: first from the lots that earning created (a pending lot is
    thus cancelled rather than left to activate), then from any active points, then from other
    pending points, and what is still missing becomes debt. Only points live now (read from `clock`
    here, as `debit` does) count: an expired lot is gone already, so it cannot cover a reversal."""
    card_id = operation.card_id
    at = clock.now()
    live = ("pending", "active")
    own = [
        lot for lot in await _lots(session, own_lot_ids)
        if lot.remaining > 0 and lot.status in live and _live(lot, at)
    ]
    others_active = [lot for lot in await repo.active_lots(session, card_id, at) if lot.id not in own_lot_ids]
    others_pending = [lot for lot in await repo.pending_lots(session, card_id, at) if lot.id not in own_lot_ids]
    left = units
    taken = {"pending": 0, "active": 0}
    for lot in [*own, *others_active, *others_pending]:
        if left == 0:
            break
        got = await _take(session, operation, lot, left, at)
        taken[lot.status] += got
        left -= got
    changed = await repo.change_card_amounts(
        session, card_id, balance=-taken["active"], pending=-taken["pending"], debt=left
    )
    if changed is None:
        raise LedgerRaceLost(f"card {card_id} amounts")
    await repo.cancel_emptied_pending_lots(session, card_id)
    return Reversed(taken["pending"], taken["active"], left)


async def _lots(session: AsyncSession, ids: tuple[int, ...]) -> list[Lot]:
    if not ids:
        return []
    stmt = select(Lot).where(Lot.id.in_(ids)).order_by(Lot.id).execution_options(populate_existing=True)
    return list((await session.execute(stmt)).scalars())
