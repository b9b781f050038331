"""The shift report: what a staff member and their store did today or over the last 7 days.

Every figure is one set-based query (conditional sums over operations, counts over receipts and
customers), never a loop over rows, so a busy store's week costs the same few queries as a quiet day.
Periods are calendar days in the business time zone: `today` runs from local midnight to now,
`week` from local midnight six days ago (today and the 6 days before) to now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.models import AuditEntry, Customer, Operation, Receipt
from db.uow import UnitOfWork
from services.errors import ValidationFailed

PERIODS = {"today": 1, "week": 7}


@dataclass(frozen=True)
class Totals:
    accrued: int  # points earned on purchases, units
    redeemed: int  # points spent on receipts, units
    refunded_kopecks: int  # money refunded
    reversed: int  # earned points taken back by those refunds, units
    receipts: int  # receipts posted
    sales_kopecks: int  # their amounts
    new_customers: int


@dataclass(frozen=True)
class ShiftReport:
    period: str
    starts_at: datetime
    ends_at: datetime
    staff: Totals
    store: Totals
    store_id: int | None  # None: all stores (a staff member tied to no store)


def period_bounds(period: str, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    days = PERIODS.get(period)
    if days is None:
        raise ValidationFailed(field="period", allowed=", ".join(PERIODS))
    local_today = now.astimezone(tz).date()
    start = datetime.combine(local_today - timedelta(days=days - 1), time(0), tzinfo=tz)
    return start, now


def _sum(condition: ColumnElement[bool], value: Any) -> Any:
    return func.coalesce(func.sum(case((condition, value), else_=0)), 0)


async def _totals(
    session: AsyncSession, *, start: datetime, end: datetime, staff_id: int | None, store_id: int | None,
    actor: str | None,
) -> Totals:
    op_filters = [Operation.created_at >= start, Operation.created_at <= end]
    receipt_filters = [Receipt.created_at >= start, Receipt.created_at <= end]
    if staff_id is not None:
        op_filters.append(Operation.staff_id == staff_id)
        receipt_filters.append(Receipt.staff_id == staff_id)
    if store_id is not None:
        op_filters.append(Operation.store_id == store_id)
        receipt_filters.append(Receipt.store_id == store_id)
    ops = (
        await session.execute(
            select(
                _sum(Operation.kind == "purchase_accrual", Operation.points),
                _sum(Operation.kind == "redemption", -Operation.points),
                _sum(Operation.kind == "refund_reversal", func.coalesce(Operation.receipt_kopecks, 0)),
                _sum(Operation.kind == "refund_reversal", -Operation.points),
            ).where(*op_filters)
        )
    ).one()
    receipts = (
        await session.execute(
            select(func.count(Receipt.id), func.coalesce(func.sum(Receipt.amount_kopecks), 0)).where(*receipt_filters)
        )
    ).one()
    if actor is not None:
        # Customers carry their store, not the staff member who created them: the audit log does.
        new_customers = select(func.count(AuditEntry.id)).where(
            AuditEntry.actor == actor, AuditEntry.action == "customer.create_walk_in",
            AuditEntry.at >= start, AuditEntry.at <= end,
        )
    else:
        new_customers = select(func.count(Customer.id)).where(Customer.created_at >= start, Customer.created_at <= end)
        if store_id is not None:
            new_customers = new_customers.where(Customer.store_id == store_id)
    return Totals(
        accrued=int(ops[0]), redeemed=int(ops[1]), refunded_kopecks=int(ops[2]), reversed=int(ops[3]),
        receipts=int(receipts[0]), sales_kopecks=int(receipts[1]),
        new_customers=int((await session.execute(new_customers)).scalar_one()),
    )


async def shift_report(
    uow: UnitOfWork, *, staff_id: int, actor: str, store_id: int | None, period: str, now: datetime, tz: ZoneInfo
) -> ShiftReport:
    """Totals of the staff member (what they did) and of their store (everyone's; all stores for
    someone tied to none). A store's new customers are the walk-ins created at it (customers who
    register in the bot belong to no store); over all stores, every customer created."""
    start, end = period_bounds(period, now, tz)

    async def work(session: AsyncSession) -> ShiftReport:
        mine = await _totals(session, start=start, end=end, staff_id=staff_id, store_id=None, actor=actor)
        store = await _totals(session, start=start, end=end, staff_id=None, store_id=store_id, actor=None)
        return ShiftReport(period, start, end, mine, store, store_id)

    return await uow.read(work)
