"""Time moves points: pending lots become active, active lots expire. They can run at any time and
any number of times, also two at once.

A run first reads which cards have due lots (one index range scan of the due lots, so the cost
follows the day's due work, not the size of the base), then works through them in batches of
cards, one transaction per batch:

1. lock the batch's cards (`FOR UPDATE`, in id order, so two runs or a run and a use case cannot
   deadlock); every ledger use case locks its card first, so from here on nobody else changes
   these cards' lots or amounts;
2. re-check what is due *after* the lock (a new statement sees what the lock holders committed: a
   card another run has just done has nothing left) and change lots, operations, allocations and
   the cards' cached amounts together: on PostgreSQL one statement of data-modifying CTEs, on
   SQLite (whose writers `BEGIN IMMEDIATE` serialises anyway) a few plain statements;
3. queue one notification per card of the batch.

When the batches are done the run looks again (points restored by a refund with a past expiry
date, lots that fell due meanwhile), and stops when nothing is due.

Activation moves points between two parts of what a card holds and changes no sum, so it writes
no operation; expiry writes one `expiry` operation per card per batch, with an allocation per lot
it burnt (so the history and the restored-points rules can see what was lost, and where from).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, BigInteger, String, and_, bindparam, cast, func, insert, literal, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from db.dialects import is_postgres
from db.models import Allocation, Card, Lot, Operation
from db.types import UTCDateTime
from db.uow import UnitOfWork
from services.clock import Clock
from services.ledger.results import CardPoints
from services.notifications import events as notify

# Cards per transaction: enough that the per-batch round trips do not count, few enough that a
# purchase on one of the batch's cards waits for the batch's commit only a fraction of a second.
DEFAULT_BATCH = 2000


def _pending_due(now: datetime) -> ColumnElement[bool]:
    return and_(Lot.status == "pending", Lot.available_at <= now)


def _active_due(now: datetime) -> ColumnElement[bool]:
    return and_(Lot.status == "active", Lot.expires_at.is_not(None), Lot.expires_at <= now)


async def _due_cards(session: AsyncSession, due: ColumnElement[bool]) -> list[int]:
    """Cards holding a due lot, in id order (served by ix_lots_due_activation / ix_lots_due_expiry)."""
    rows = await session.execute(select(Lot.card_id).where(due).distinct().order_by(Lot.card_id))
    return [int(card_id) for card_id in rows.scalars()]


def _due_cards_reader(due: ColumnElement[bool]) -> Callable[[AsyncSession], Awaitable[list[int]]]:
    async def read(session: AsyncSession) -> list[int]:
        return await _due_cards(session, due)

    return read


def _batches(ids: list[int], size: int) -> list[list[int]]:
    return [ids[start : start + size] for start in range(0, len(ids), size)]


_IDS = bindparam("ids", type_=ARRAY(BigInteger))
_NOW = bindparam("now", type_=UTCDateTime)

_LOCK = text("SELECT id FROM cards WHERE id = ANY(:ids) ORDER BY id FOR UPDATE").bindparams(_IDS)

# Both statements run after _LOCK in the same transaction, so their snapshot already holds every
# change the lock's previous holders made to these cards.
_ACTIVATE = text(
    """
    WITH moved AS (
        UPDATE lots SET status = 'active'
        WHERE card_id = ANY(:ids) AND status = 'pending' AND available_at <= :now
        RETURNING card_id, remaining
    ), per_card AS (
        SELECT card_id, sum(remaining) AS points FROM moved GROUP BY card_id HAVING sum(remaining) > 0
    )
    UPDATE cards SET balance = cards.balance + per_card.points, pending = cards.pending - per_card.points
    FROM per_card
    WHERE cards.id = per_card.card_id
    RETURNING cards.id, per_card.points
    """
).bindparams(_IDS, _NOW)

# `lots.remaining = due.remaining` only guards the arithmetic: a lot changed under us (impossible
# while every writer locks the card first) would be left for the next run rather than be
# burnt with a stale amount.
_EXPIRE = text(
    """
    WITH due AS (
        SELECT id, card_id, remaining FROM lots
        WHERE card_id = ANY(:ids) AND status = 'active' AND expires_at IS NOT NULL AND expires_at <= :now
    ), burnt AS (
        UPDATE lots SET status = 'expired', remaining = 0
        FROM due
        WHERE lots.id = due.id AND lots.status = 'active' AND lots.remaining = due.remaining
        RETURNING lots.id, lots.card_id, due.remaining
    ), per_card AS (
        SELECT card_id, sum(remaining) AS points FROM burnt GROUP BY card_id HAVING sum(remaining) > 0
    ), ops AS (
        INSERT INTO operations (card_id, kind, points, actor, reason, idempotency_key, created_at)
        SELECT card_id, 'expiry', -points, 'system', 'expired',
               'expiry:' || card_id || ':' || CAST(:run AS text), :now
        FROM per_card
        RETURNING id, card_id
    ), allocated AS (
        INSERT INTO allocations (operation_id, lot_id, points, restored)
        SELECT ops.id, burnt.id, burnt.remaining, 0
        FROM burnt JOIN ops ON ops.card_id = burnt.card_id
        WHERE burnt.remaining > 0
    )
    UPDATE cards SET balance = cards.balance - per_card.points
    FROM per_card
    WHERE cards.id = per_card.card_id
    RETURNING cards.id, per_card.points
    """
).bindparams(_IDS, _NOW, bindparam("run", type_=String()))


def _summaries(rows: Sequence[Row[int, int]]) -> list[CardPoints]:
    return [CardPoints(card_id, points) for card_id, points in sorted((int(row[0]), int(row[1])) for row in rows)]


async def _sums(session: AsyncSession, due: ColumnElement[bool]) -> list[CardPoints]:
    rows = await session.execute(
        select(Lot.card_id, func.sum(Lot.remaining)).where(due).group_by(Lot.card_id).order_by(Lot.card_id)
    )
    return [CardPoints(int(card_id), int(total)) for card_id, total in rows if total]


async def _activate_sqlite(session: AsyncSession, ids: list[int], now: datetime) -> list[CardPoints]:
    due = and_(_pending_due(now), Lot.card_id.in_(ids))
    summaries = await _sums(session, due)
    moving = (
        select(func.coalesce(func.sum(Lot.remaining), 0))
        .where(_pending_due(now), Lot.card_id == Card.id)
        .scalar_subquery()
    )
    await session.execute(
        update(Card)
        .where(Card.id.in_(ids))
        .values(balance=Card.balance + moving, pending=Card.pending - moving)
        .execution_options(synchronize_session=False)
    )
    await session.execute(update(Lot).where(due).values(status="active").execution_options(synchronize_session=False))
    return summaries


async def _expire_sqlite(session: AsyncSession, ids: list[int], now: datetime, run: str) -> list[CardPoints]:
    due = and_(_active_due(now), Lot.card_id.in_(ids))
    summaries = await _sums(session, due)

    def key(card_id: InstrumentedAttribute[int]) -> ColumnElement[str]:
        return literal("expiry:") + cast(card_id, String) + literal(f":{run}")

    # One operation per card (only where something is left to burn)...
    per_card = (
        select(
            Lot.card_id,
            literal("expiry"),
            -func.sum(Lot.remaining),
            literal("system"),
            literal("expired"),
            key(Lot.card_id),
            literal(now, UTCDateTime),
        )
        .where(due, Lot.remaining > 0)
        .group_by(Lot.card_id)
    )
    await session.execute(
        insert(Operation).from_select(
            ["card_id", "kind", "points", "actor", "reason", "idempotency_key", "created_at"], per_card
        )
    )
    # ...an allocation per burnt lot, found through the operation's key...
    per_lot = (
        select(Operation.id, Lot.id, Lot.remaining, literal(0))
        .join(Operation, Operation.idempotency_key == key(Lot.card_id))
        .where(due, Lot.remaining > 0)
    )
    await session.execute(insert(Allocation).from_select(["operation_id", "lot_id", "points", "restored"], per_lot))
    # ...the cached balance, then the lots themselves.
    burning = (
        select(func.coalesce(func.sum(Lot.remaining), 0)).where(_active_due(now), Lot.card_id == Card.id)
    ).scalar_subquery()
    await session.execute(
        update(Card)
        .where(Card.id.in_(ids))
        .values(balance=Card.balance - burning)
        .execution_options(synchronize_session=False)
    )
    await session.execute(
        update(Lot).where(due).values(status="expired", remaining=0).execution_options(synchronize_session=False)
    )
    return summaries


async def _activate_batch(session: AsyncSession, ids: list[int], now: datetime) -> list[CardPoints]:
    if is_postgres(session):
        await session.execute(_LOCK, {"ids": ids})
        rows = await session.execute(_ACTIVATE, {"ids": ids, "now": now})
        summaries = _summaries(rows.all())
    else:
        summaries = await _activate_sqlite(session, ids, now)
    await notify.lots_activated(session, summaries, now=now)
    return summaries


async def _expire_batch(session: AsyncSession, ids: list[int], now: datetime, run: str) -> list[CardPoints]:
    if is_postgres(session):
        await session.execute(_LOCK, {"ids": ids})
        rows = await session.execute(_EXPIRE, {"ids": ids, "now": now, "run": run})
        summaries = _summaries(rows.all())
    else:
        summaries = await _expire_sqlite(session, ids, now, run)
    await notify.lots_expired(session, summaries, now=now, run=run)
    return summaries


BatchWork = Callable[[AsyncSession], Awaitable[list[CardPoints]]]


async def _in_passes(
    uow: UnitOfWork, clock: Clock, batch_size: int, due: Callable[[datetime], ColumnElement[bool]],
    falls_due: InstrumentedAttribute[Any], work_on: Callable[[list[int], datetime], BatchWork],
) -> list[CardPoints]:
    """Pass over the cards with a due lot, a batch per transaction (`work_on(batch, now)`), until a
    pass finds none. A later pass looks only at lots whose `falls_due` came after the pass before
    took its time: those before were all handled, and the index range of the lots just handled is
    full of their dead entries until VACUUM (a second full look cost 30-45 ms of a job's 0.9 s in
    benchmark 5)."""
    result: list[CardPoints] = []
    since: datetime | None = None
    while True:
        now = clock.now()
        ids = await uow.read(_due_cards_reader(due(now) if since is None else and_(due(now), falls_due > since)))
        if not ids:
            return result
        for batch in _batches(ids, batch_size):
            result.extend(await uow.write(work_on(batch, now)))
        since = now


async def activate_due_lots(uow: UnitOfWork, clock: Clock, *, batch_size: int = DEFAULT_BATCH) -> list[CardPoints]:
    """Make pending lots whose return window has ended spendable; per card, the points activated."""

    def work_on(batch: list[int], now: datetime) -> BatchWork:
        return lambda session: _activate_batch(session, batch, now)

    return await _in_passes(uow, clock, batch_size, _pending_due, Lot.available_at, work_on)


async def expire_due_lots(uow: UnitOfWork, clock: Clock, *, batch_size: int = DEFAULT_BATCH) -> list[CardPoints]:
    """Burn what is left of lots past their expiry; per card, the points that expired."""

    def work_on(batch: list[int], now: datetime) -> BatchWork:
        run = clock.token(8)  # makes this batch's operation keys unique across runs (and its retries share it)
        return lambda session: _expire_batch(session, batch, now, run)

    return await _in_passes(uow, clock, batch_size, _active_due, Lot.expires_at, work_on)
