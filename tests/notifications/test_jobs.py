"""The scheduled jobs through `run_job(..., today=D)` (what `python -m bot jobs run NAME --today D`
does): time travel over a lot's life, birthdays, idempotence, and two instances at once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from aiogram.methods import SendMessage
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.engine import create_engine
from db.models import Operation
from db.uow import UnitOfWork
from scheduler.jobs import JOBS, run_job
from services.clock import FrozenClock
from services.ledger import accrue_purchase
from tests.notifications.helpers import (
    VirtualTime,
    by_kind,
    context_for,
    make_person,
    make_sender,
    make_store,
    outbox,
    sent_texts,
)
from tests.support.recording_bot import recording_bot

DAY0 = date(2026, 1, 15)  # the FrozenClock's default day (09:00 UTC = 12:00 in Moscow)


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


async def operations(uow: UnitOfWork, kind: str) -> list[Operation]:
    async def work(session: AsyncSession) -> list[Operation]:
        return list((await session.execute(select(Operation).where(Operation.kind == kind))).scalars())

    return await uow.read(work)


async def test_every_job_is_registered() -> None:
    assert set(JOBS) == {"birthdays", "expiry-warnings", "expire", "activate-pending", "deliver"}


async def test_a_lots_life_unlocks_day_14_warns_day_372_burns_day_379(uow: UnitOfWork, clock: FrozenClock) -> None:
    store = await make_store(uow, clock)
    person = await make_person(uow, clock, language="en")
    await accrue_purchase(uow, clock, card_id=person.card_id, store_id=store, receipt_id="R1",
                          amount_kopecks=100_000, actor="test")
    ctx = context_for(uow, clock)

    async def run_twice(name: str, when: date) -> None:
        await run_job(ctx, name, today=when)
        await run_job(ctx, name, today=when)

    await run_twice("activate-pending", day(13))
    assert by_kind(await outbox(uow), "activation") == []
    await run_twice("activate-pending", day(14))
    [activation] = by_kind(await outbox(uow), "activation")
    assert activation.payload == {"points": 5000, "balance": 5000}

    await run_twice("expiry-warnings", day(371))
    assert by_kind(await outbox(uow), "expiry_warning") == []
    await run_twice("expiry-warnings", day(372))
    [warning] = by_kind(await outbox(uow), "expiry_warning")
    assert warning.payload == {"points": 5000, "date": day(379).isoformat()}

    await run_twice("expire", day(378))
    assert by_kind(await outbox(uow), "expired") == []
    await run_twice("expire", day(379))
    [expired] = by_kind(await outbox(uow), "expired")
    assert expired.payload == {"points": 5000, "balance": 0}

    bot = recording_bot()
    clock.set(datetime.combine(day(380), datetime.min.time(), tzinfo=UTC))
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert [text for _, text in sent_texts(bot.session)] == [  # type: ignore[arg-type]
        f"+50 points for your purchase, to spend from {day(14):%d.%m.%Y}.",
        "50 points can now be spent. Balance: 50 points.",
        f"On {day(379):%d.%m.%Y}, 50 points will expire. Spend them before then!",
        "50 points expired. Balance: 0 points.",
    ]


async def test_birthday_on_29_february_is_greeted_on_28_february_in_other_years(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    person = await make_person(uow, clock, birthday=date(2000, 2, 29), birthday_set_at=long_ago)
    ctx = context_for(uow, clock)
    await run_job(ctx, "birthdays", today=date(2027, 2, 27))
    assert by_kind(await outbox(uow), "birthday") == []
    await run_job(ctx, "birthdays", today=date(2027, 2, 28))
    await run_job(ctx, "birthdays", today=date(2027, 3, 1))
    [greeting] = by_kind(await outbox(uow), "birthday")
    assert greeting.occasion == "birthday:2027" and greeting.payload["bonus"] == 50_000

    await run_job(ctx, "birthdays", today=date(2028, 2, 28))  # a leap year: not yet
    assert len(by_kind(await outbox(uow), "birthday")) == 1
    await run_job(ctx, "birthdays", today=date(2028, 2, 29))
    assert [r.occasion for r in by_kind(await outbox(uow), "birthday")] == ["birthday:2027", "birthday:2028"]
    assert len(await operations(uow, "birthday_bonus")) == 2
    assert person.customer_id == greeting.customer_id


async def test_a_birthday_set_10_days_ago_gets_a_greeting_but_no_bonus(uow: UnitOfWork, clock: FrozenClock) -> None:
    today = date(2026, 6, 10)
    greeting_time = datetime(2026, 6, 10, 7, 0, tzinfo=UTC)  # 10:00 in Moscow
    recent = await make_person(uow, clock, birthday=date(1990, 6, 10),
                               birthday_set_at=greeting_time - timedelta(days=10))
    settled = await make_person(uow, clock, language="en", birthday=date(1985, 6, 10),
                                birthday_set_at=greeting_time - timedelta(days=30))
    no_consent = await make_person(uow, clock, marketing=False, birthday=date(1980, 6, 10),
                                   birthday_set_at=greeting_time - timedelta(days=400))
    ctx = context_for(uow, clock)
    await run_job(ctx, "birthdays", today=today)
    await run_job(ctx, "birthdays", today=today)
    greetings = {row.customer_id: row for row in by_kind(await outbox(uow), "birthday")}
    assert set(greetings) == {recent.customer_id, settled.customer_id}
    assert greetings[recent.customer_id].payload == {"bonus": 0}
    assert greetings[settled.customer_id].payload == {"bonus": 50_000, "valid_until": "2026-06-17"}
    [bonus] = await operations(uow, "birthday_bonus")
    assert bonus.card_id == settled.card_id
    assert no_consent.customer_id not in greetings

    bot = recording_bot()
    clock.set(greeting_time)
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    texts = dict(sent_texts(bot.session))  # type: ignore[arg-type]
    assert texts[recent.telegram_id] == "С днём рождения! Желаем всего самого лучшего."  # type: ignore[index]
    assert texts[settled.telegram_id] == (  # type: ignore[index]
        "Happy birthday! Here are 500 gift points, valid until 17.06.2026."
    )


async def test_birthdays_wait_for_the_greeting_hour(uow: UnitOfWork, clock: FrozenClock) -> None:
    await make_person(uow, clock, birthday=date(1990, 6, 10), birthday_set_at=datetime(2020, 1, 1, tzinfo=UTC))
    clock.set(datetime(2026, 6, 10, 5, 0, tzinfo=UTC))  # 08:00 in Moscow
    ctx = context_for(uow, clock)
    assert "before the greeting hour" in await run_job(ctx, "birthdays")
    clock.set(datetime(2026, 6, 10, 7, 0, tzinfo=UTC))
    await run_job(ctx, "birthdays")
    assert len(by_kind(await outbox(uow), "birthday")) == 1


async def test_two_instances_running_every_job_at_once_queue_and_send_each_message_once(
    uow: UnitOfWork, clock: FrozenClock, db_url: str
) -> None:
    store = await make_store(uow, clock)
    people = [
        await make_person(uow, clock, birthday=date(1990, 1, 29), birthday_set_at=datetime(2020, 1, 1, tzinfo=UTC))
        for _ in range(5)
    ]
    for i, person in enumerate(people):
        await accrue_purchase(uow, clock, card_id=person.card_id, store_id=store, receipt_id=f"R{i}",
                              amount_kopecks=100_000, actor="test")
    other_engine = create_engine(db_url)
    try:
        other = UnitOfWork(other_engine)
        first, second = context_for(uow, clock), context_for(other, clock)
        for name, when in (
            ("activate-pending", day(14)),
            ("birthdays", day(14)),
            ("expiry-warnings", day(372)),
            ("expire", day(379)),
        ):
            await asyncio.gather(run_job(first, name, today=when), run_job(second, name, today=when))
            await asyncio.gather(run_job(first, name, today=when), run_job(second, name, today=when))
        rows = await outbox(uow)
        for kind in ("accrual", "activation", "birthday", "expiry_warning", "expired"):
            assert sorted(r.customer_id for r in by_kind(rows, kind)) == [p.customer_id for p in people], kind
        assert len(await operations(uow, "birthday_bonus")) == 5

        clock.set(datetime.combine(day(380), datetime.min.time(), tzinfo=UTC))
        bot_a, bot_b = recording_bot(), recording_bot()
        senders = (
            make_sender(uow, clock, bot_a, time=VirtualTime()),
            make_sender(other, clock, bot_b, time=VirtualTime()),
        )
        for _ in range(2):
            await asyncio.gather(*(sender.drain() for sender in senders))
    finally:
        await other_engine.dispose()
    sent = bot_a.session.sent(SendMessage) + bot_b.session.sent(SendMessage)  # type: ignore[attr-defined]
    assert len(sent) == len(rows) == 25
    assert {r.status for r in await outbox(uow)} == {"sent"}
