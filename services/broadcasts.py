"""Broadcasts: an admin's message to an audience of customers with marketing consent, delivered
through the outbox (one row per recipient, marketing, `broadcast_id` set). The final delivered /
blocked / failed counts go back to the admin as a direct message from the sender when the last
row is resolved (the admin is staff, not necessarily a customer, so not an outbox row)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, Card, Customer, Level, Operation, OutboxMessage, Receipt, Staff, Store
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import ValidationFailed
from services.levels import LevelNames
from services.notifications.kinds import BROADCAST
from services.notifications.outbox import Message, enqueue_many
from services.notifications.ports import Texts
from services.staff import StaffView

AUDIENCES = ("all", "level", "store", "birthday_month", "inactive")
MAX_TEXT = 4096
PURCHASE_KINDS = ("purchase_accrual", "redemption", "discount_purchase")


class InvalidAudience(ValidationFailed):
    code = "invalid_audience"


class InvalidBroadcastText(ValidationFailed):
    code = "invalid_broadcast_text"


@dataclass(frozen=True)
class Audience:
    """Who gets it, always within "marketing consent, alive, reachable in Telegram":
    all | level (value = level code) | store (value = store code: home store or bought there) |
    birthday_month (1..12) | inactive (no purchase for `value` days)."""

    kind: str
    value: str | int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


def audience(kind: str, value: str | int | None = None) -> Audience:
    """Validate an audience given by the admin."""
    if kind not in AUDIENCES:
        raise InvalidAudience(kind=kind)
    if kind == "all":
        return Audience("all")
    if kind in ("level", "store"):
        if not isinstance(value, str) or not value.strip():
            raise InvalidAudience(kind=kind)
        return Audience(kind, value.strip())
    number = _int(value)
    if kind == "birthday_month" and (number is None or not 1 <= number <= 12):
        raise InvalidAudience(kind=kind)
    if kind == "inactive" and (number is None or not 1 <= number <= 3650):
        raise InvalidAudience(kind=kind)
    return Audience(kind, number)


def _int(value: str | int | None) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def check_text(text: str) -> str:
    if not text.strip() or len(text) > MAX_TEXT:
        raise InvalidBroadcastText(limit=MAX_TEXT)
    return text


def _recipients(who: Audience, now: datetime) -> Select[Any]:
    stmt = select(Customer.id).where(
        Customer.deleted_at.is_(None),
        Customer.marketing_consent.is_(True),
        Customer.telegram_id.is_not(None),
        Customer.unreachable.is_(False),
    )
    if who.kind == "level":
        level_ids = select(Level.id).where(Level.code == who.value)
        on_card = exists(select(Card.id).where(Card.customer_id == Customer.id, Card.level_id.in_(level_ids)))
        stmt = stmt.where(or_(Customer.pinned_level_id.in_(level_ids), on_card))
    elif who.kind == "store":
        store_id = select(Store.id).where(Store.code == who.value).scalar_subquery()
        bought = exists(
            select(Receipt.id)
            .join(Card, Card.id == Receipt.card_id)
            .where(Card.customer_id == Customer.id, Receipt.store_id == store_id)
        )
        stmt = stmt.where(or_(Customer.store_id == store_id, bought))
    elif who.kind == "birthday_month":
        stmt = stmt.where(Customer.birthday_month == who.value)
    elif who.kind == "inactive":
        assert isinstance(who.value, int)
        since = now - timedelta(days=who.value)
        recent = exists(
            select(Operation.id)
            .join(Card, Card.id == Operation.card_id)
            .where(Card.customer_id == Customer.id, Operation.kind.in_(PURCHASE_KINDS), Operation.created_at >= since)
        )
        stmt = stmt.where(~recent)
    return stmt.order_by(Customer.id)


async def count_audience(uow: UnitOfWork, clock: Clock, who: Audience) -> int:
    async def work(session: AsyncSession) -> int:
        inner = _recipients(who, clock.now()).subquery()
        return int((await session.execute(select(func.count()).select_from(inner))).scalar_one())

    return await uow.read(work)


@dataclass(frozen=True)
class AudienceChoices:
    levels: tuple[tuple[str, LevelNames], ...]  # (code, names)
    stores: tuple[tuple[str, str], ...]


async def audience_choices(uow: UnitOfWork) -> AudienceChoices:
    async def work(session: AsyncSession) -> AudienceChoices:
        levels = await session.execute(
            select(Level.code, func.min(Level.name_ru), func.min(Level.name_en))
            .group_by(Level.code)
            .order_by(func.min(Level.threshold_kopecks))
        )
        stores = await session.execute(select(Store.code, Store.name).order_by(Store.code))
        return AudienceChoices(
            tuple((str(c), LevelNames(str(ru), str(en))) for c, ru, en in levels),
            tuple((str(c), str(n)) for c, n in stores),
        )

    return await uow.read(work)


@dataclass(frozen=True)
class BroadcastView:
    id: int
    queued: int


async def start_broadcast(uow: UnitOfWork, clock: Clock, *, by: StaffView, text: str, who: Audience) -> BroadcastView:
    """Queue the broadcast for everyone in the audience now, in one transaction."""
    check_text(text)

    async def work(session: AsyncSession) -> BroadcastView:
        now = clock.now()
        broadcast = Broadcast(
            created_by_staff_id=by.id, text=text, audience=who.to_json(), status="sending", queued=0, created_at=now
        )
        session.add(broadcast)
        await session.flush()
        ids = [int(i) for i in (await session.execute(_recipients(who, now))).scalars()]
        occasion = f"broadcast:{broadcast.id}"
        messages = [Message(i, BROADCAST, occasion, {}, marketing=True, broadcast_id=broadcast.id) for i in ids]
        queued = await enqueue_many(session, messages, now=now)
        broadcast.queued = queued
        if queued == 0:
            broadcast.status, broadcast.finished_at = "done", now
        await audit.record(
            session, at=now, actor=by.actor, action="broadcast.start", entity="broadcast",
            entity_id=broadcast.id, after={"audience": who.to_json(), "queued": queued, "length": len(text)},
        )
        return BroadcastView(broadcast.id, queued)

    return await uow.write(work)


@dataclass(frozen=True)
class BroadcastProgress:
    broadcast_id: int
    admin_chat_id: int | None
    queued: int
    delivered: int
    blocked: int
    failed: int  # failed or unknown
    skipped: int
    waiting: int  # pending, claimed or sending
    status: str
    admin_locale: str = "ru"


async def _admin_locale(session: AsyncSession, telegram_id: int | None) -> str:
    """Staff have no language of their own; an admin who is also a customer chose one."""
    if telegram_id is None:
        return "ru"
    language = (
        await session.execute(
            select(Customer.language).where(Customer.telegram_id == telegram_id, Customer.deleted_at.is_(None))
        )
    ).scalar_one_or_none()
    return str(language or "ru")


async def _progress(session: AsyncSession, broadcast: Broadcast, admin_chat_id: int | None) -> BroadcastProgress:
    rows = await session.execute(
        select(OutboxMessage.status, OutboxMessage.last_error, func.count())
        .where(OutboxMessage.broadcast_id == broadcast.id)
        .group_by(OutboxMessage.status, OutboxMessage.last_error)
    )
    counts = {"sent": 0, "blocked": 0, "failed": 0, "skipped": 0, "waiting": 0}
    for status, error, n in rows:
        if status == "sent":
            counts["sent"] += n
        elif status == "failed" and error == "blocked":
            counts["blocked"] += n
        elif status in ("failed", "unknown"):
            counts["failed"] += n
        elif status == "skipped":
            counts["skipped"] += n
        else:
            counts["waiting"] += n
    return BroadcastProgress(
        broadcast.id, admin_chat_id, broadcast.queued, counts["sent"], counts["blocked"], counts["failed"],
        counts["skipped"], counts["waiting"], broadcast.status, await _admin_locale(session, admin_chat_id),
    )


async def finish_completed(uow: UnitOfWork, clock: Clock) -> list[BroadcastProgress]:
    """Mark broadcasts with nothing left to send as done; each is returned exactly once."""

    async def work(session: AsyncSession) -> list[BroadcastProgress]:
        waiting = exists(
            select(OutboxMessage.id).where(
                OutboxMessage.broadcast_id == Broadcast.id,
                OutboxMessage.status.in_(("pending", "claimed", "sending")),
            )
        )
        done = (
            await session.execute(
                update(Broadcast)
                .where(and_(Broadcast.status == "sending", ~waiting))
                .values(status="done", finished_at=clock.now())
                .returning(Broadcast.id)
            )
        ).scalars().all()
        result = []
        for broadcast_id in done:
            broadcast = await session.get(Broadcast, broadcast_id, populate_existing=True)
            assert broadcast is not None
            admin = await session.get(Staff, broadcast.created_by_staff_id)
            result.append(await _progress(session, broadcast, admin.telegram_id if admin else None))
        return result

    return await uow.write(work)


async def running_progress(uow: UnitOfWork) -> list[BroadcastProgress]:
    """Broadcasts still being delivered, with their admin's chat."""

    async def work(session: AsyncSession) -> list[BroadcastProgress]:
        found = (
            await session.execute(
                select(Broadcast, Staff.telegram_id)
                .join(Staff, Staff.id == Broadcast.created_by_staff_id)
                .where(Broadcast.status == "sending")
                .order_by(Broadcast.id)
            )
        ).all()
        return [await _progress(session, broadcast, int(chat)) for broadcast, chat in found]

    return await uow.read(work)


async def recent_progress(uow: UnitOfWork, *, limit: int = 5) -> list[BroadcastProgress]:
    async def work(session: AsyncSession) -> list[BroadcastProgress]:
        found = (
            await session.execute(select(Broadcast).order_by(Broadcast.id.desc()).limit(limit))
        ).scalars().all()
        return [await _progress(session, b, None) for b in found]

    return await uow.read(work)


def progress_text(texts: Texts, progress: BroadcastProgress) -> str:
    return texts.get(
        progress.admin_locale, "broadcast-progress", id=progress.broadcast_id, queued=progress.queued,
        delivered=progress.delivered, waiting=progress.waiting,
    )


def report_text(texts: Texts, progress: BroadcastProgress) -> str:
    return texts.get(
        progress.admin_locale, "broadcast-finished", id=progress.broadcast_id, queued=progress.queued,
        delivered=progress.delivered, blocked=progress.blocked, failed=progress.failed, skipped=progress.skipped,
    )
