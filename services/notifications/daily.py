"""The daily producers that are not ledger use cases: birthday greetings (with the birthday bonus
when earned) and "points expire on DATE" warnings. Both may run any number of times a day: the
bonus is once per card and year, and every message has its UNIQUE outbox key."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer, Lot, OutboxMessage
from db.uow import UnitOfWork
from services import ledger
from services.clock import Clock
from services.errors import CardBlocked
from services.notifications import kinds
from services.notifications.outbox import Message, enqueue_many
from services.program import get_settings

CHUNK = 1000


@dataclass(frozen=True)
class BirthdayRun:
    greeted: int  # greetings queued now (not counting those queued by an earlier run)
    bonuses: int  # bonuses granted now


def _birthday_days(today: date) -> list[tuple[int, int]]:
    """(month, day) pairs celebrated today: 29 February is celebrated on 28 February in other years."""
    days = [(today.month, today.day)]
    if (today.month, today.day) == (2, 28) and not calendar.isleap(today.year):
        days.append((2, 29))
    return days


async def _celebrants(uow: UnitOfWork, today: date) -> list[tuple[int, datetime | None, int | None]]:
    """(customer id, birthday set at, primary usable card id) of consenting customers born today."""

    async def work(session: AsyncSession) -> list[tuple[int, datetime | None, int | None]]:
        days = _birthday_days(today)
        card = (
            select(Card.id)
            .where(Card.customer_id == Customer.id, Card.status != "blocked")
            .order_by(Card.is_primary.desc(), Card.id)
            .limit(1)
            .scalar_subquery()
        )
        rows = await session.execute(
            select(Customer.id, Customer.birthday_set_at, card)
            .where(
                Customer.deleted_at.is_(None),
                Customer.marketing_consent.is_(True),
                or_(*(and_(Customer.birthday_month == m, Customer.birthday_day == d) for m, d in days)),
                # The job runs hourly: those greeted by an earlier run today need no more work.
                ~exists(
                    select(OutboxMessage.id).where(
                        OutboxMessage.customer_id == Customer.id,
                        OutboxMessage.kind == kinds.BIRTHDAY,
                        OutboxMessage.occasion == f"birthday:{today.year}",
                    )
                ),
            )
            .order_by(Customer.id)
        )
        return [(int(i), s, None if c is None else int(c)) for i, s, c in rows]

    return await uow.read(work)


async def greet_birthdays(uow: UnitOfWork, clock: Clock, *, tz: ZoneInfo) -> BirthdayRun:
    """Greet today's birthday people who accept marketing; grant the bonus to those whose birthday
    was set long enough ago (DOMAIN: >= 30 days, a setting). The greeting that reports a bonus is
    queued by the ledger in the bonus's own transaction; the others are queued here."""
    now = clock.now()
    today = now.astimezone(tz).date()
    settings = await get_settings(uow)
    greeted = bonuses = 0
    for customer_id, set_at, card_id in await _celebrants(uow, today):
        eligible = (
            card_id is not None
            and settings.birthday_bonus_points > 0
            and ledger.birthday_bonus_eligible(set_at, settings, now)
        )
        if eligible:
            assert card_id is not None
            try:
                result = await ledger.grant_birthday_bonus(uow, clock, card_id=card_id, year=today.year)
            except CardBlocked:
                eligible = False
            else:
                bonuses += int(result.granted)
                greeted += int(result.granted)
                continue
        greeting = Message(customer_id, kinds.BIRTHDAY, f"birthday:{today.year}", {"bonus": 0}, marketing=True)

        async def work(session: AsyncSession, greeting: Message = greeting) -> int:
            return await enqueue_many(session, [greeting], now=now)

        greeted += int(await uow.write(work) > 0)
    return BirthdayRun(greeted, bonuses)


async def warn_expiring(uow: UnitOfWork, clock: Clock, *, tz: ZoneInfo) -> int:
    """Queue "N points expire on DATE" for every card whose active points expire on the business day
    `expiry_warning_days` from today; one message per card and expiry date. Returns how many new."""
    now = clock.now()
    settings = await get_settings(uow)
    target = now.astimezone(tz).date() + timedelta(days=settings.expiry_warning_days)
    start = datetime.combine(target, time(0), tzinfo=tz)
    end = datetime.combine(target + timedelta(days=1), time(0), tzinfo=tz)
    queued = 0
    after = 0
    while True:

        async def work(session: AsyncSession, after: int = after) -> tuple[int, int | None]:
            rows = (
                await session.execute(
                    select(Lot.card_id, Card.customer_id, func.sum(Lot.remaining))
                    .join(Card, Card.id == Lot.card_id)
                    .where(
                        Lot.status == "active",
                        Lot.remaining > 0,
                        Lot.expires_at >= start,
                        Lot.expires_at < end,
                        Lot.card_id > after,
                        Card.customer_id.is_not(None),
                    )
                    .group_by(Lot.card_id, Card.customer_id)
                    .order_by(Lot.card_id)
                    .limit(CHUNK)
                )
            ).all()
            messages = [
                Message(
                    int(owner), kinds.EXPIRY_WARNING, f"card:{card_id}:{target.isoformat()}",
                    {"points": int(total), "date": target.isoformat()},
                )
                for card_id, owner, total in rows
                if owner is not None
            ]
            added = await enqueue_many(session, messages, now=now)
            return added, (int(rows[-1][0]) if len(rows) == CHUNK else None)

        added, last = await uow.write(work)
        queued += added
        if last is None:
            return queued
        after = last
