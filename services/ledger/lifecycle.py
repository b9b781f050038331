"""Time moves points: pending lots become active, active lots expire. Both jobs work set-based on
a batch of cards per transaction (a few SQL statements per batch whatever the number of lots), lock
the batch's cards first (in id order, so two runs cannot deadlock) and keep the cards' cached
amounts in the same transaction. They can run at any time and any number of times.

Activation moves points between two parts of what a card holds and changes no sum, so it writes
no operation; expiry writes one `expiry` operation per card per batch, with an allocation per lot
it burnt (so the history and the restored-points rules can see what was lost, and where from).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, and_, cast, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.elements import ColumnElement

from db.models import Allocation, Card, Lot, Operation
from db.types import UTCDateTime
from db.uow import UnitOfWork
from services.clock import Clock
from services.ledger.results import CardPoints
from services.notifications import events as notify

DEFAULT_BATCH = 500


async def _due_cards(session: AsyncSession, due: ColumnElement[bool], batch_size: int) -> list[int]:
    ids = list(
        (
            await session.execute(select(Lot.card_id).where(due).distinct().order_by(Lot.card_id).limit(batch_size))
        ).scalars()
    )
    if ids:
        await session.execute(select(Card.id).where(Card.id.in_(ids)).order_by(Card.id).with_for_update())
    return ids


async def _sums(session: AsyncSession, due: ColumnElement[bool]) -> list[CardPoints]:
    rows = await session.execute(
        select(Lot.card_id, func.sum(Lot.remaining)).where(due).group_by(Lot.card_id).order_by(Lot.card_id)
    )
    return [CardPoints(int(card_id), int(total)) for card_id, total in rows if total]


def _pending_due(now: datetime) -> ColumnElement[bool]:
    return and_(Lot.status == "pending", Lot.available_at <= now)


def _active_due(now: datetime) -> ColumnElement[bool]:
    return and_(Lot.status == "active", Lot.expires_at.is_not(None), Lot.expires_at <= now)


async def _activate_batch(session: AsyncSession, now: datetime, batch_size: int) -> tuple[bool, list[CardPoints]]:
    ids = await _due_cards(session, _pending_due(now), batch_size)
    if not ids:
        return False, []
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
    await notify.lots_activated(session, summaries, now=now)
    return True, summaries


async def _expire_batch(
    session: AsyncSession, now: datetime, batch_size: int, run: str
) -> tuple[bool, list[CardPoints]]:
    ids = await _due_cards(session, _active_due(now), batch_size)
    if not ids:
        return False, []
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
    await notify.lots_expired(session, summaries, now=now, run=run)
    return True, summaries


async def activate_due_lots(uow: UnitOfWork, clock: Clock, *, batch_size: int = DEFAULT_BATCH) -> list[CardPoints]:
    """Make pending lots whose return window has ended spendable; per card, the points activated."""
    result: list[CardPoints] = []
    while True:
        now = clock.now()

        async def work(session: AsyncSession, now: datetime = now) -> tuple[bool, list[CardPoints]]:
            return await _activate_batch(session, now, batch_size)

        more, summaries = await uow.write(work)
        result.extend(summaries)
        if not more:
            return result


async def expire_due_lots(uow: UnitOfWork, clock: Clock, *, batch_size: int = DEFAULT_BATCH) -> list[CardPoints]:
    """Burn what is left of lots past their expiry; per card, the points that expired."""
    result: list[CardPoints] = []
    while True:
        now = clock.now()
        run = clock.token(8)  # makes this batch's operation keys unique across runs

        async def work(session: AsyncSession, now: datetime = now, run: str = run) -> tuple[bool, list[CardPoints]]:
            return await _expire_batch(session, now, batch_size, run)

        more, summaries = await uow.write(work)
        result.extend(summaries)
        if not more:
            return result
