"""What a customer (or a cashier) sees: the balance screen and the history pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Executable, Row, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from db.dialects import key_table
from db.models import Allocation, Card, Customer, Lot, Operation, Store
from db.uow import UnitOfWork
from services.clock import Clock
from services.errors import BadCursor, CardNotFound, ValidationFailed
from services.levels import LevelNames, level_in, level_table_of
from services.program import get_settings


@dataclass(frozen=True)
class PendingUnlock:
    available_at: datetime
    points: int


@dataclass(frozen=True)
class BalanceView:
    card_id: int
    card_number: str
    mode: str
    available: int  # units: the active lots not expired at the instant asked (a lot is gone from its expires_at on)
    pending: int
    pending_unlocks: tuple[PendingUnlock, ...]  # soonest first
    debt: int
    expiring_points: int  # what burns at the nearest expiry date still ahead (business-calendar day)
    expiring_at: datetime | None
    level_code: str
    level_names: LevelNames
    level_percent_bp: int
    level_pinned: bool
    next_level_code: str | None
    next_level_names: LevelNames | None
    to_next_level_kopecks: int | None


@cache
def _cards_with_live_lots(dialect: str) -> Executable:
    """The balance is the most asked-for screen (benchmark 1): one statement on a connection, shared
    by the balances asked for at the same moment (`UnitOfWork.read_batched`), built once per
    database. Each card with its owner's level pin, once per lot still holding points (once with no
    lot when none does), the expired lots the expiry job has not burnt yet among them: what is
    available at the instant asked is worked out from these rows, so it costs no other statement."""
    asked = key_table(dialect, "asked")
    return (
        select(
            Card.id, Card.number, Card.balance, Card.pending, Card.debt, Card.group_id, Card.purchases_kopecks,
            Customer.pinned_level_id, Lot.status, Lot.available_at, Lot.expires_at, Lot.remaining,
        )
        .join(asked, asked.c.key == Card.id)
        .outerjoin(Customer, Customer.id == Card.customer_id)
        .outerjoin(Lot, and_(Lot.card_id == Card.id, Lot.status.in_(("pending", "active")), Lot.remaining > 0))
    )


async def _cards_rows(connection: AsyncConnection, card_ids: list[int]) -> list[list[Row[Any]]]:
    result = await connection.execute(_cards_with_live_lots(connection.dialect.name), {"keys": card_ids})
    rows: dict[int, list[Row[Any]]] = {}
    for row in result:
        rows.setdefault(row.id, []).append(row)
    return [rows.get(card_id, []) for card_id in card_ids]


async def get_balance(uow: UnitOfWork, clock: Clock, card_id: int) -> BalanceView:
    settings = await get_settings(uow)
    rows = await uow.read_batched(_cards_rows, card_id)
    if not rows:
        raise CardNotFound(card_id=card_id)
    card = rows[0]
    now = clock.now()
    # Pending lots by unlock date, active ones by expiry; an active lot whose expiry instant has
    # come is gone, though its points stay in the cached balance until the expiry job burns them.
    lots = [row for row in rows if row.status is not None]
    gone = [lot for lot in lots if lot.status == "active" and lot.expires_at is not None and lot.expires_at <= now]
    expired = sum(lot.remaining for lot in gone)
    live = [lot for lot in lots if lot not in gone]
    pending: dict[datetime, int] = {}
    for lot in live:
        if lot.status == "pending":
            pending[lot.available_at] = pending.get(lot.available_at, 0) + lot.remaining
    unlocks = tuple(PendingUnlock(at, points) for at, points in sorted(pending.items()))
    expiring = sorted(
        (lot.expires_at, lot.remaining) for lot in live if lot.status == "active" and lot.expires_at is not None
    )
    expiring_at: datetime | None = None
    expiring_points = 0
    if expiring:
        first = expiring[0][0]
        day = first.astimezone(settings.tz).date()
        expiring_at = first
        expiring_points = sum(remaining for at, remaining in expiring if at.astimezone(settings.tz).date() == day)
    table = await level_table_of(uow)
    level = level_in(table, table.pinned(card.pinned_level_id), card.group_id, card.purchases_kopecks)
    return BalanceView(
        card_id=card.id,
        card_number=card.number,
        mode=settings.mode,
        available=card.balance - expired,
        pending=card.pending,
        pending_unlocks=unlocks,
        debt=card.debt,
        expiring_points=expiring_points,
        expiring_at=expiring_at,
        level_code=level.level.code,
        level_names=level.level.names,
        level_percent_bp=level.level.percent_bp,
        level_pinned=level.pinned,
        next_level_code=None if level.next_level is None else level.next_level.code,
        next_level_names=None if level.next_level is None else level.next_level.names,
        to_next_level_kopecks=level.to_next_kopecks,
    )


@dataclass(frozen=True)
class HistoryRow:
    operation_id: int
    kind: str
    points: int  # signed units
    created_at: datetime
    store_name: str | None
    receipt_id: str | None
    receipt_kopecks: int | None
    rate_bp: int | None
    reason: str | None
    debt_repaid: int  # for debt_repayment rows: the points that went to the debt


@dataclass(frozen=True)
class HistoryPage:
    rows: tuple[HistoryRow, ...]  # newest first
    has_older: bool
    has_newer: bool
    older_cursor: str | None  # pass as `before` for the next (older) page
    newer_cursor: str | None  # pass as `after` for the previous (newer) page


def _cursor(row: HistoryRow) -> str:
    return f"{row.created_at.isoformat()}_{row.operation_id}"


def _parse(cursor: str) -> tuple[datetime, int]:
    try:
        at, _, op_id = cursor.rpartition("_")
        parsed = datetime.fromisoformat(at)
        if parsed.tzinfo is None:
            raise ValueError(cursor)
        return parsed, int(op_id)
    except ValueError as exc:
        raise BadCursor(cursor=cursor) from exc


def _older_than(at: datetime, op_id: int) -> ColumnElement[bool]:
    return or_(Operation.created_at < at, and_(Operation.created_at == at, Operation.id < op_id))


def _newer_than(at: datetime, op_id: int) -> ColumnElement[bool]:
    return or_(Operation.created_at > at, and_(Operation.created_at == at, Operation.id > op_id))


async def get_history(
    uow: UnitOfWork, card_id: int, *, limit: int = 10, before: str | None = None, after: str | None = None
) -> HistoryPage:
    """A page of the card's operations, newest first, keyset-paginated on (created_at, id):
    `before` = older_cursor of the current page (Next), `after` = newer_cursor (Previous)."""
    if not 1 <= limit <= 100:
        raise ValidationFailed(field="limit")

    async def work(session: AsyncSession) -> HistoryPage:
        base = (
            select(Operation, Store.name)
            .outerjoin(Store, Store.id == Operation.store_id)
            .where(Operation.card_id == card_id)
        )
        if after is not None:
            stmt = base.where(_newer_than(*_parse(after))).order_by(Operation.created_at, Operation.id)
            found = list(await session.execute(stmt.limit(limit)))[::-1]
        else:
            if before is not None:
                base = base.where(_older_than(*_parse(before)))
            stmt = base.order_by(Operation.created_at.desc(), Operation.id.desc())
            found = list(await session.execute(stmt.limit(limit)))
        repaid = await _debt_repaid(session, [op.id for op, _ in found if op.kind == "debt_repayment"])
        rows = tuple(
            HistoryRow(
                operation_id=op.id,
                kind=op.kind,
                points=op.points,
                created_at=op.created_at,
                store_name=store_name,
                receipt_id=op.receipt_id,
                receipt_kopecks=op.receipt_kopecks,
                rate_bp=op.rate_bp,
                reason=op.reason,
                debt_repaid=repaid.get(op.id, 0),
            )
            for op, store_name in found
        )
        if not rows:
            return HistoryPage((), False, False, None, None)
        first, last = rows[0], rows[-1]
        has_newer = await _exists(session, card_id, _newer_than(first.created_at, first.operation_id))
        has_older = await _exists(session, card_id, _older_than(last.created_at, last.operation_id))
        return HistoryPage(
            rows,
            has_older,
            has_newer,
            _cursor(last) if has_older else None,
            _cursor(first) if has_newer else None,
        )

    return await uow.read(work)


async def _exists(session: AsyncSession, card_id: int, condition: ColumnElement[bool]) -> bool:
    stmt = select(Operation.id).where(Operation.card_id == card_id, condition).limit(1)
    return (await session.execute(stmt)).first() is not None


async def _debt_repaid(session: AsyncSession, operation_ids: list[int]) -> dict[int, int]:
    if not operation_ids:
        return {}
    rows = await session.execute(
        select(Allocation.operation_id, func.sum(Allocation.points))
        .where(Allocation.operation_id.in_(operation_ids))
        .group_by(Allocation.operation_id)
    )
    return {int(op_id): int(total) for op_id, total in rows}
