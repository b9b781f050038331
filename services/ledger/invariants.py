"""The ledger's invariants, checked by the tests after every step (and usable by an admin job).

Per card:
  * sum(operations.points) == active remaining + pending remaining - debt
  * cards.balance == active remaining, cards.pending == pending remaining (the caches are exact;
    the active lots whose expiry instant has come count until the expiry job burns them, and what
    is available at an instant is balance minus what they hold then)
  * debt > 0 only when the card holds nothing it could spend (points live when they arrive always
    repay debt first, and a reversal takes every live point before it leaves debt): whatever a card
    with debt holds had expired by the card's latest operation, so available never hides a debt
Per lot:
  * 0 <= remaining <= points; expired and cancelled lots hold 0
  * points - remaining == sum of its allocations (every decrement is accounted for)
  * nothing but the expiry job takes from a lot at or after its expires_at instant: every other
    allocation's operation is older than the lot's expiry
  * a restored lot keeps the expiry date of the lot it was restored from
Per operation kind: credits >= 0, debits <= 0, debt_repayment and discount_purchase == 0.
Globally: issued - spent - reversed - expired (= sum of all operations) == held - debt.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Allocation, Card, Lot, Operation
from db.uow import UnitOfWork

CREDIT_KINDS = ("purchase_accrual", "refund_restore", "welcome_bonus", "birthday_bonus", "opening_balance")
DEBIT_KINDS = ("redemption", "refund_reversal", "expiry")
ZERO_KINDS = ("debt_repayment", "discount_purchase")


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


class InvariantViolation(AssertionError):
    pass


async def check_invariants(target: AsyncSession | UnitOfWork, card_id: int | None = None) -> None:
    """Raise InvariantViolation listing every broken rule (for one card, or for all of them)."""
    if isinstance(target, UnitOfWork):
        await target.read(lambda session: _check(session, card_id))
    else:
        await _check(target, card_id)


async def _check(session: AsyncSession, card_id: int | None) -> None:
    problems: list[str] = []

    def only(stmt: S, column: Any) -> S:
        return stmt if card_id is None else stmt.where(column == card_id)

    ops: dict[int, int] = dict(
        (
            await session.execute(
                only(select(Operation.card_id, func.sum(Operation.points)), Operation.card_id).group_by(
                    Operation.card_id
                )
            )
        ).all()
    )
    active = func.sum(case((Lot.status == "active", Lot.remaining), else_=0))
    pending = func.sum(case((Lot.status == "pending", Lot.remaining), else_=0))
    held = {
        cid: (int(a), int(p))
        for cid, a, p in (
            await session.execute(only(select(Lot.card_id, active, pending), Lot.card_id).group_by(Lot.card_id))
        )
    }
    # Held in lots still live at the card's latest operation: what debt must never sit beside.
    latest = (
        select(func.max(Operation.created_at)).where(Operation.card_id == Lot.card_id).scalar_subquery()
    )
    live_held = dict(
        (
            await session.execute(
                only(select(Lot.card_id, func.sum(Lot.remaining)), Lot.card_id)
                .where(
                    Lot.status.in_(("pending", "active")),
                    Lot.remaining > 0,
                    (Lot.expires_at.is_(None)) | (Lot.expires_at > latest),
                )
                .group_by(Lot.card_id)
            )
        ).all()
    )
    cards = await session.execute(only(select(Card.id, Card.balance, Card.pending, Card.debt), Card.id))
    total_ops = total_held = total_debt = 0
    for cid, balance, pend, debt in cards:
        a, p = held.get(cid, (0, 0))
        s = int(ops.get(cid) or 0)
        total_ops += s
        total_held += a + p
        total_debt += debt
        if s != a + p - debt:
            problems.append(f"card {cid}: operations sum {s} != active {a} + pending {p} - debt {debt}")
        if balance != a:
            problems.append(f"card {cid}: cached balance {balance} != active remaining {a}")
        if pend != p:
            problems.append(f"card {cid}: cached pending {pend} != pending remaining {p}")
        if balance < 0 or pend < 0 or debt < 0:
            problems.append(f"card {cid}: negative amount {balance}/{pend}/{debt}")
        if debt > 0 and int(live_held.get(cid) or 0) > 0:
            problems.append(f"card {cid}: debt {debt} while holding {live_held[cid]} live points")
    if total_ops != total_held - total_debt:
        problems.append(f"global: operations {total_ops} != held {total_held} - debt {total_debt}")

    bad_lots = (
        await session.execute(
            only(
                select(Lot.id, Lot.status, Lot.points, Lot.remaining).where(
                    (Lot.remaining < 0)
                    | (Lot.remaining > Lot.points)
                    | (Lot.status.in_(("expired", "cancelled")) & (Lot.remaining != 0))
                ),
                Lot.card_id,
            )
        )
    ).all()
    problems += [f"lot {i} ({status}): remaining {r} of {pts}" for i, status, pts, r in bad_lots]

    allocated = (
        select(Allocation.lot_id, func.sum(Allocation.points).label("total")).group_by(Allocation.lot_id).subquery()
    )
    unaccounted = (
        await session.execute(
            only(
                select(Lot.id, Lot.points, Lot.remaining, allocated.c.total)
                .outerjoin(allocated, allocated.c.lot_id == Lot.id)
                .where(Lot.points - Lot.remaining != func.coalesce(allocated.c.total, 0)),
                Lot.card_id,
            )
        )
    ).all()
    problems += [f"lot {i}: {pts - r} taken but {t or 0} allocated" for i, pts, r, t in unaccounted]

    late = (
        await session.execute(
            only(
                select(Allocation.id, Lot.id, Operation.kind)
                .join(Lot, Lot.id == Allocation.lot_id)
                .join(Operation, Operation.id == Allocation.operation_id)
                .where(Operation.kind != "expiry", Lot.expires_at.is_not(None), Operation.created_at >= Lot.expires_at),
                Lot.card_id,
            )
        )
    ).all()
    problems += [f"lot {lot}: {kind} took from it at or after its expiry (allocation {a})" for a, lot, kind in late]

    source = aliased(Lot)
    drifted = (
        (
            await session.execute(
                only(
                    select(Lot.id)
                    .join(source, source.id == Lot.restored_from_lot_id)
                    .where(Lot.expires_at != source.expires_at),
                    Lot.card_id,
                )
            )
        )
        .scalars()
        .all()
    )
    problems += [f"restored lot {i}: expiry differs from its source" for i in drifted]

    signs = (
        await session.execute(
            only(
                select(Operation.id, Operation.kind, Operation.points).where(
                    (Operation.kind.in_(CREDIT_KINDS) & (Operation.points < 0))
                    | (Operation.kind.in_(DEBIT_KINDS) & (Operation.points > 0))
                    | (Operation.kind.in_(ZERO_KINDS) & (Operation.points != 0))
                ),
                Operation.card_id,
            )
        )
    ).all()
    problems += [f"operation {i} ({kind}): points {pts} have the wrong sign" for i, kind, pts in signs]

    if problems:
        raise InvariantViolation("; ".join(problems))
