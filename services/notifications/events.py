"""What the ledger's use cases queue, each called once inside the use case's transaction.

Payloads hold plain numbers (points in units) and ISO dates; the text is rendered at send time in
the recipient's language. The occasion makes the key unique per real event (an operation id, a card
and a run), so a replayed use case queues nothing new. One operation's messages go with its COMMIT
(outbox.enqueue_at_commit: purchases sharing a transaction send theirs in one statement); a job's
batch is one INSERT either way and stays where it is measured (benchmark 5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Level
from db.repositories.ledger import expired_held
from services.notifications import kinds
from services.notifications.outbox import Message, enqueue_at_commit, enqueue_many
from services.program import settings_in

if TYPE_CHECKING:  # the ledger imports this module: no import of it at run time
    from services.ledger.results import AccrualResult, BonusResult, CardPoints, RedemptionResult, RefundResult


_OWNER = select(Card.customer_id).where(Card.id == bindparam("card_id"))


async def _owner(session: AsyncSession, card_id: int) -> int | None:
    owner = (await session.execute(_OWNER, {"card_id": card_id})).scalar_one_or_none()
    return None if owner is None else int(owner)


async def _business_date(session: AsyncSession, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    settings = await settings_in(session)
    return moment.astimezone(settings.tz).date().isoformat()


async def _level_names(session: AsyncSession, card_id: int) -> dict[str, str]:
    """The level's name in each language: the message is rendered later, in the owner's language
    at send time (services/notifications/render.py)."""
    row = (
        await session.execute(
            select(Level.name_ru, Level.name_en).join(Card, Card.level_id == Level.id).where(Card.id == card_id)
        )
    ).one_or_none()
    return {} if row is None else {"level_ru": str(row.name_ru), "level_en": str(row.name_en)}


async def _purchase_messages(session: AsyncSession, owner: int, result: AccrualResult) -> list[Message]:
    messages: list[Message] = []
    if result.accrued_points > 0:
        messages.append(
            Message(
                owner,
                kinds.ACCRUAL,
                f"op:{result.operation_id}",
                {
                    "points": result.accrued_points,
                    "balance": result.card.balance,
                    "pending": result.lot_status == "pending",
                    "available_on": await _business_date(session, result.available_at),
                },
            )
        )
    if result.level_up:
        messages.append(
            Message(
                owner,
                kinds.LEVEL_UP,
                f"op:{result.operation_id}",
                {**await _level_names(session, result.card.card_id), "code": result.card.level_code},
            )
        )
    return messages


async def purchase_posted(session: AsyncSession, result: AccrualResult, *, now: datetime, owner: int | None) -> None:
    """Points earned on a receipt (and a level reached by it) -> the card's owner (the locked card
    row the accrual holds says who it is)."""
    if result.replayed:
        return
    if owner is not None:
        await enqueue_at_commit(session, await _purchase_messages(session, owner, result), now=now)


async def redemption_made(session: AsyncSession, result: RedemptionResult, *, now: datetime) -> None:
    """Points spent on a receipt, plus what the rest of the receipt earned -> the card's owner."""
    if result.replayed:
        return
    owner = await _owner(session, result.accrual.card.card_id)
    if owner is None:
        return
    spent = Message(
        owner,
        kinds.REDEMPTION,
        f"op:{result.operation_id}",
        {"points": result.redeemed_points, "balance": result.accrual.card.balance},
    )
    await enqueue_at_commit(session, [spent, *await _purchase_messages(session, owner, result.accrual)], now=now)


async def refund_made(session: AsyncSession, result: RefundResult, *, now: datetime) -> None:
    if result.replayed or (result.reversed_points == 0 and result.restored_points == 0):
        return
    owner = await _owner(session, result.card.card_id)
    if owner is None:
        return
    payload: dict[str, Any] = {
        "reversed": result.reversed_points,
        "restored": result.restored_points,
        "balance": result.card.balance,
        "debt": result.card.debt,
    }
    await enqueue_at_commit(session, [Message(owner, kinds.REFUND, f"op:{result.operation_id}", payload)], now=now)


async def _owners(
    session: AsyncSession, card_ids: Sequence[int], *, available_at: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """card id -> (owner id, balance) for cards that have an owner; with `available_at`, the
    balance available then (without what expired lots the expiry job has not burnt yet hold)."""
    balance = Card.balance if available_at is None else Card.balance - expired_held(Card.id, available_at)
    rows = await session.execute(
        select(Card.id, Card.customer_id, balance)
        .where(Card.id.in_(list(card_ids)), Card.customer_id.is_not(None))
        .execution_options(populate_existing=True)
    )
    return {int(card): (int(owner), int(balance)) for card, owner, balance in rows if owner is not None}


async def lots_activated(session: AsyncSession, summaries: Sequence[CardPoints], *, now: datetime) -> None:
    """Pending points whose return window ended are now spendable -> each card's owner."""
    if not summaries:
        return
    # The activation job may run while lots that expired since the last expiry run wait to burn.
    owners = await _owners(session, [s.card_id for s in summaries], available_at=now)
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    messages = [
        Message(owners[s.card_id][0], kinds.ACTIVATION, f"card:{s.card_id}:{stamp}",
                {"points": s.points, "balance": owners[s.card_id][1]})
        for s in summaries
        if s.card_id in owners
    ]
    await enqueue_at_commit(session, messages, now=now)


async def lots_expired(session: AsyncSession, summaries: Sequence[CardPoints], *, now: datetime, run: str) -> None:
    """Points that burnt -> each card's owner; `run` is the expiry batch's unique key. The batch has
    just burnt every lot of these cards expired by `now`: their balance is what is available."""
    if not summaries:
        return
    owners = await _owners(session, [s.card_id for s in summaries])
    messages = [
        Message(owners[s.card_id][0], kinds.EXPIRED, f"card:{s.card_id}:{run}",
                {"points": s.points, "balance": owners[s.card_id][1]})
        for s in summaries
        if s.card_id in owners
    ]
    await enqueue_at_commit(session, messages, now=now)


async def birthday_bonus_granted(session: AsyncSession, result: BonusResult, *, year: int, now: datetime) -> None:
    """The greeting that carries the bonus (the greeting without one is queued by the job)."""
    if not result.granted:
        return
    owner = await _owner(session, result.card.card_id)
    if owner is None:
        return
    payload = {"bonus": result.points, "valid_until": await _business_date(session, result.expires_at)}
    await enqueue_many(
        session, [Message(owner, kinds.BIRTHDAY, f"birthday:{year}", payload, marketing=True)], now=now
    )

