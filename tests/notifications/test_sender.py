"""The sender: exactly once, the send-time checks, Telegram's answers (429, 403, timeouts) and the
limits, asserted on recorded send times."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiogram.exceptions import TelegramForbiddenError, TelegramNetworkError, TelegramRetryAfter
from aiogram.methods import SendMessage
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, OutboxMessage
from db.uow import UnitOfWork
from locales import translator
from services import customers
from services.clock import FrozenClock
from services.notifications.limits import Limiter
from services.notifications.outbox import enqueue
from services.notifications.sender import OutboxSender
from services.notifications.stats import outbox_counts
from tests.notifications.helpers import (
    VirtualTime,
    assert_within_limits,
    make_person,
    make_sender,
    outbox,
    sent_texts,
    set_optouts,
    timed_bot,
)
from tests.support.recording_bot import recording_bot

SEND = SendMessage(chat_id=0, text="")


async def queue(uow: UnitOfWork, clock: FrozenClock, customer_id: int, kind: str = "accrual",
                occasion: str = "op:1", marketing: bool = False, **payload: object) -> None:
    payload = payload or {"points": 5000, "balance": 12000, "pending": False, "available_on": None}

    async def work(session: AsyncSession) -> None:
        await enqueue(session, customer_id=customer_id, kind=kind, occasion=occasion, payload=dict(payload),
                      now=clock.now(), marketing=marketing)

    await uow.write(work)


async def test_a_message_is_rendered_in_the_customers_language_and_sent_once(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    ru = await make_person(uow, clock, language="ru")
    en = await make_person(uow, clock, language="en")
    await queue(uow, clock, ru.customer_id)
    await queue(uow, clock, ru.customer_id)  # the producer retried: still one row
    await queue(uow, clock, en.customer_id)
    bot = recording_bot()
    sender = make_sender(uow, clock, bot, time=VirtualTime())
    first = await sender.drain()
    second = await sender.drain()
    assert first is not None and first.sent == 2
    assert second is not None and second.sent == 0
    texts = dict(sent_texts(bot.session))  # type: ignore[arg-type]
    assert texts == {
        ru.telegram_id: "+50 баллов за покупку. Баланс: 120 баллов.",
        en.telegram_id: "+50 points for your purchase. Balance: 120 points.",
    }
    assert {m.status for m in await outbox(uow)} == {"sent"}


async def test_opting_out_after_queueing_sends_nothing(uow: UnitOfWork, clock: FrozenClock) -> None:
    person = await make_person(uow, clock)
    await queue(uow, clock, person.customer_id, kind="activation", points=100, balance=100)
    await set_optouts(uow, person.customer_id, ["accrual"])  # activation belongs to the accrual switch
    bot = recording_bot()
    report = await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert report is not None and report.skipped == 1 and report.sent == 0
    assert bot.session.sent(SendMessage) == []  # type: ignore[attr-defined]
    [row] = await outbox(uow)
    assert (row.status, row.last_error) == ("skipped", "opted out")


async def test_marketing_needs_consent_at_send_time(uow: UnitOfWork, clock: FrozenClock) -> None:
    person = await make_person(uow, clock, marketing=True)
    await queue(uow, clock, person.customer_id, kind="birthday", occasion="birthday:2026", marketing=True, bonus=0)
    await customers.set_marketing_consent(uow, clock, customer_id=person.customer_id, consent=False, actor="test")
    bot = recording_bot()
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert bot.session.sent(SendMessage) == []  # type: ignore[attr-defined]
    [row] = await outbox(uow)
    assert (row.status, row.last_error) == ("skipped", "no marketing consent")


async def test_deleted_unreachable_and_walk_in_customers_are_skipped(uow: UnitOfWork, clock: FrozenClock) -> None:
    deleted = await make_person(uow, clock)
    blocked = await make_person(uow, clock)
    walk_in = await make_person(uow, clock, telegram=False)
    for person in (deleted, blocked, walk_in):
        await queue(uow, clock, person.customer_id)
    await customers.delete_personal_data(uow, clock, customer_id=deleted.customer_id, actor="test")
    assert blocked.telegram_id is not None
    await customers.set_reachable(uow, telegram_id=blocked.telegram_id, reachable=False)
    bot = recording_bot()
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert bot.session.sent(SendMessage) == []  # type: ignore[attr-defined]
    rows = {row.customer_id: row for row in await outbox(uow)}
    assert {row.status for row in rows.values()} == {"skipped"}
    assert "deleted" in (rows[deleted.customer_id].last_error or "")  # by the erasure itself or the sender
    assert rows[blocked.customer_id].last_error == "unreachable"
    assert rows[walk_in.customer_id].last_error == "no telegram"


async def test_403_marks_the_customer_unreachable_until_they_write_again(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    person = await make_person(uow, clock)
    await queue(uow, clock, person.customer_id, occasion="op:1")
    await queue(uow, clock, person.customer_id, occasion="op:2")
    bot = recording_bot()
    bot.session.fail_next(SendMessage, TelegramForbiddenError(SEND, "Forbidden: bot was blocked by the user"))  # type: ignore[attr-defined]
    report = await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert report is not None and (report.blocked, report.sent, report.skipped) == (1, 0, 1)
    assert len(bot.session.sent(SendMessage)) == 1  # type: ignore[attr-defined]  # the second was not tried
    first, second = await outbox(uow)
    assert (first.status, first.last_error) == ("failed", "blocked")
    assert (second.status, second.last_error) == ("skipped", "unreachable")
    view = await customers.get_customer(uow, person.customer_id)
    assert view.unreachable

    assert person.telegram_id is not None
    await customers.set_reachable(uow, telegram_id=person.telegram_id, reachable=True)
    await queue(uow, clock, person.customer_id, occasion="op:3")
    report = await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert report is not None and report.sent == 1


async def test_429_pauses_everything_for_retry_after_and_puts_the_row_back(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    people = [await make_person(uow, clock) for _ in range(3)]
    for person in people:
        await queue(uow, clock, person.customer_id)
    vt = VirtualTime()
    bot, session = timed_bot(vt.monotonic)
    session.fail_next(SendMessage, TelegramRetryAfter(SEND, "Too Many Requests", retry_after=7))
    report = await make_sender(uow, clock, bot, time=vt).drain()
    assert report is not None and (report.sent, report.retried) == (3, 1)
    times = [t for t, _ in session.sends]
    assert len(times) == 4  # the refused attempt, then all three
    assert all(t >= times[0] + 7 for t in times[1:]), times
    assert [c for _, c in session.sends].count(people[0].telegram_id or 0) == 2
    assert {m.status for m in await outbox(uow)} == {"sent"}
    assert_within_limits(session.sends, 25)


async def test_a_timeout_is_unknown_and_never_retried(uow: UnitOfWork, clock: FrozenClock) -> None:
    person = await make_person(uow, clock)
    await queue(uow, clock, person.customer_id)
    bot = recording_bot()
    bot.session.fail_next(SendMessage, TelegramNetworkError(SEND, "Request timeout error"))  # type: ignore[attr-defined]
    sender = make_sender(uow, clock, bot, time=VirtualTime())
    report = await sender.drain()
    assert report is not None and report.unknown == 1
    again = await sender.drain()
    assert again is not None and again.sent == 0
    assert len(bot.session.sent(SendMessage)) == 1  # type: ignore[attr-defined]
    counts = await outbox_counts(uow)
    assert counts["unknown"] == 1 and counts["sent"] == 0


async def test_rows_a_dead_sender_left_in_flight_become_unknown(uow: UnitOfWork, clock: FrozenClock) -> None:
    person = await make_person(uow, clock)
    await queue(uow, clock, person.customer_id)

    async def crash_mid_send(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).values(status="sending", attempts=1))

    await uow.write(crash_mid_send)
    bot = recording_bot()
    report = await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    assert report is not None and report.recovered == 1 and report.sent == 0
    assert bot.session.sent(SendMessage) == []  # type: ignore[attr-defined]
    assert (await outbox_counts(uow))["unknown"] == 1


async def _hand_to(uow: UnitOfWork, ids: list[int], status: str, owner: str, until: datetime | None) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(OutboxMessage).where(OutboxMessage.id.in_(ids))
            .values(status=status, claim_owner=owner, claimed_until=until)
        )

    await uow.write(work)


async def test_a_dead_senders_claims_go_back_to_the_queue_when_the_lease_lapses(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    people = [await make_person(uow, clock) for _ in range(4)]
    for person in people:
        await queue(uow, clock, person.customer_id)
    ids = [m.id for m in await outbox(uow)]
    wall = FrozenClock()
    lease = timedelta(seconds=10)
    # A sender that died holding four rows: three claimed, one with its request under way.
    await _hand_to(uow, ids[:3], "claimed", "dead", wall.now() + lease)
    await _hand_to(uow, ids[3:], "sending", "dead", wall.now() + lease)
    bot = recording_bot()
    sender = make_sender(uow, clock, bot, time=VirtualTime())
    sender.lease, sender.lease_clock = lease, wall
    draining = asyncio.create_task(sender.drain())
    await asyncio.sleep(0.3)  # the drain goes round on virtual time, waiting for the lease
    assert not draining.done()
    assert bot.session.sent(SendMessage) == []  # type: ignore[attr-defined]
    wall.advance(lease)
    report = await asyncio.wait_for(draining, 10)
    assert report is not None and (report.returned, report.recovered, report.sent) == (3, 1, 3)
    sent = sent_texts(bot.session)  # type: ignore[arg-type]
    assert sorted(chat for chat, _ in sent) == sorted(p.telegram_id or 0 for p in people[:3])
    assert [m.status for m in await outbox(uow)] == ["sent", "sent", "sent", "unknown"]
    assert (await outbox_counts(uow))["unknown"] == 1


class TakenOverMidRequest:
    """A notifier during whose first request the sender's lease lapses and another sender takes
    over: the rows still claimed are the other sender's (for an hour), the one being sent becomes
    `unknown`."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.sent: list[int] = []

    async def send(self, chat_id: int, text: str) -> None:
        if not self.sent:
            until = datetime.now(UTC) + timedelta(hours=1)

            async def take_over(session: AsyncSession) -> None:
                claimed = OutboxMessage.status == "claimed"
                await session.execute(
                    update(OutboxMessage).where(claimed).values(claim_owner="other", claimed_until=until)
                )
                sending = OutboxMessage.status == "sending"
                await session.execute(update(OutboxMessage).where(sending).values(status="unknown"))

            await self.uow.write(take_over)
        self.sent.append(chat_id)


async def test_a_sender_that_lost_its_claims_sends_none_of_them(uow: UnitOfWork, clock: FrozenClock) -> None:
    people = [await make_person(uow, clock) for _ in range(5)]
    for person in people:
        await queue(uow, clock, person.customer_id)
    notifier = TakenOverMidRequest(uow)
    vt = VirtualTime()
    sender = OutboxSender(uow=uow, clock=clock, notifier=notifier, texts=translator(),
                          limiter=Limiter(25, monotonic=vt.monotonic, sleep=vt.sleep))
    draining = asyncio.create_task(sender.drain())
    await asyncio.sleep(0.3)  # it tries its four other rows, finds them taken, waits for the other sender
    assert not draining.done()
    rows = await outbox(uow)
    assert [(m.status, m.claim_owner) for m in rows[1:]] == [("claimed", "other")] * 4

    async def the_other_sends_them(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).where(OutboxMessage.claim_owner == "other").values(status="sent"))

    await uow.write(the_other_sends_them)
    report = await asyncio.wait_for(draining, 10)
    assert report is not None and report.sent == 1
    assert notifier.sent == [people[0].telegram_id]
    # Telegram's answer to the request under way is still recorded: sent, not `unknown`.
    assert (await outbox(uow))[0].status == "sent"


@dataclass
class LeaseWatch(VirtualTime):
    """Virtual time that also drives the lease clock, and notes after every sleep whether any
    claimed row's lease has lapsed."""

    uow: UnitOfWork | None = None
    wall: FrozenClock = field(default_factory=FrozenClock)
    lapsed: list[float] = field(default_factory=list)

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds)
        self.wall.advance(timedelta(seconds=seconds))
        assert self.uow is not None

        async def earliest(session: AsyncSession) -> datetime | None:
            found = await session.execute(
                select(func.min(OutboxMessage.claimed_until)).where(OutboxMessage.status == "claimed")
            )
            return found.scalar_one()

        until = await self.uow.read(earliest)
        if until is not None and until <= self.wall.now():
            self.lapsed.append(self.now)


async def test_claims_are_renewed_through_a_pause_longer_than_the_lease(uow: UnitOfWork, clock: FrozenClock) -> None:
    people = [await make_person(uow, clock) for _ in range(3)]
    for person in people:
        await queue(uow, clock, person.customer_id)
    vt = LeaseWatch(uow=uow)
    bot, session = timed_bot(vt.monotonic)
    session.fail_next(SendMessage, TelegramRetryAfter(SEND, "Too Many Requests", retry_after=30))
    sender = make_sender(uow, clock, bot, time=vt)
    sender.lease, sender.lease_clock = timedelta(seconds=3), vt.wall
    report = await sender.drain()
    assert report is not None and (report.sent, report.retried) == (3, 1)
    assert vt.now - session.sends[0][0] >= 30  # the pause lasted ten leases
    assert vt.lapsed == []


async def test_limits_hold_for_a_burst_on_virtual_time(uow: UnitOfWork, clock: FrozenClock) -> None:
    people = [await make_person(uow, clock) for _ in range(20)]
    for round_ in range(3):  # three messages per chat, queued round-robin
        for person in people:
            await queue(uow, clock, person.customer_id, occasion=f"op:{round_}")
    vt = VirtualTime()
    bot, session = timed_bot(vt.monotonic)
    rate = 7
    report = await make_sender(uow, clock, bot, rate=rate, time=vt).drain()
    assert report is not None and report.sent == 60
    assert_within_limits(session.sends, rate)
    # ...and it does not dawdle: 60 messages at 7/s take a little over 8 virtual seconds.
    assert session.sends[-1][0] - session.sends[0][0] < 60 / rate + 1


async def test_limits_hold_in_real_time(uow: UnitOfWork, clock: FrozenClock) -> None:
    people = [await make_person(uow, clock) for _ in range(4)]
    for round_ in range(3):
        for person in people:
            await queue(uow, clock, person.customer_id, occasion=f"op:{round_}")
    bot, session = timed_bot(time.monotonic)
    started = time.monotonic()
    report = await make_sender(uow, clock, bot, rate=5).drain()
    assert report is not None and report.sent == 12
    assert_within_limits(session.sends, 5, tolerance=0.02)
    assert time.monotonic() - started >= 2.0  # 12 messages at 5/s cannot take less


async def test_two_senders_at_once_send_each_message_once(
    uow: UnitOfWork, clock: FrozenClock, db_url: str
) -> None:
    from db.engine import create_engine

    people = [await make_person(uow, clock) for _ in range(30)]
    for person in people:
        await queue(uow, clock, person.customer_id)
    other_engine = create_engine(db_url)  # a second app instance: its own engine and pool
    try:
        other = UnitOfWork(other_engine)
        bot_a, bot_b = recording_bot(), recording_bot()
        reports = await asyncio.gather(
            make_sender(uow, clock, bot_a, time=VirtualTime()).drain(),
            make_sender(other, clock, bot_b, time=VirtualTime()).drain(),
        )
    finally:
        await other_engine.dispose()
    sent = sent_texts(bot_a.session) + sent_texts(bot_b.session)  # type: ignore[arg-type]
    assert sorted(chat for chat, _ in sent) == sorted(p.telegram_id for p in people)  # type: ignore[type-var]
    assert sum(r.sent for r in reports if r is not None) == 30
    assert {m.status for m in await outbox(uow)} == {"sent"}


async def test_a_sender_that_may_wait_sends_once_the_other_one_lets_go(
    uow: UnitOfWork, clock: FrozenClock, db_url: str
) -> None:
    from db.engine import create_engine
    from services.notifications.leadership import sender_lock

    person = await make_person(uow, clock)
    await queue(uow, clock, person.customer_id)
    other_engine = create_engine(db_url)  # the running app, holding the lock for one tick
    try:
        held, release = asyncio.Event(), asyncio.Event()

        async def running_app() -> None:
            async with sender_lock(UnitOfWork(other_engine)) as leader:
                assert leader
                held.set()
                await release.wait()

        app = asyncio.create_task(running_app())
        await held.wait()
        bot = recording_bot()
        assert await make_sender(uow, clock, bot, time=VirtualTime()).drain() is None  # no wait: gives up
        waiting = asyncio.create_task(make_sender(uow, clock, bot, time=VirtualTime()).drain(wait=30))
        await asyncio.sleep(0.3)
        assert not waiting.done()
        release.set()
        await app
        report = await asyncio.wait_for(waiting, 10)
    finally:
        await other_engine.dispose()
    assert report is not None and report.sent == 1
    assert [chat for chat, _ in sent_texts(bot.session)] == [person.telegram_id]  # type: ignore[arg-type]


async def test_a_message_queued_for_later_waits(uow: UnitOfWork, clock: FrozenClock) -> None:
    person = await make_person(uow, clock)
    await queue(uow, clock, person.customer_id)

    async def later(session: AsyncSession) -> None:
        await session.execute(update(OutboxMessage).values(not_before=clock.now() + timedelta(minutes=5)))
        await session.execute(update(Customer).values(language="en"))

    await uow.write(later)
    bot = recording_bot()
    sender = make_sender(uow, clock, bot, time=VirtualTime())
    await sender.drain()
    assert bot.session.sent(SendMessage) == []  # type: ignore[attr-defined]
    clock.advance(timedelta(minutes=5))
    await sender.drain()
    assert len(bot.session.sent(SendMessage)) == 1  # type: ignore[attr-defined]


async def test_a_long_broadcast_reports_progress_then_the_final_counts(uow: UnitOfWork, clock: FrozenClock) -> None:
    from services import broadcasts, staff

    admin = await staff.add_staff(uow, clock, telegram_id=4242, role="admin", name="A", store_code=None, actor="t")
    for _ in range(4):
        await make_person(uow, clock)
    queued = await broadcasts.start_broadcast(uow, clock, by=admin, text="Hi", who=broadcasts.audience("all"))
    assert queued.queued == 4
    vt = VirtualTime()
    bot, session = timed_bot(vt.monotonic)
    sender = make_sender(uow, clock, bot, rate=1, time=vt)
    sender.batch_size = 1
    sender.progress_every = 2.0
    await sender.drain()
    to_admin = [text for chat, text in sent_texts(session) if chat == 4242]
    assert to_admin[:-1] and all(t.startswith("Рассылка №1 идёт: доставлено") for t in to_admin[:-1])
    assert to_admin[-1] == (
        "Рассылка №1 завершена: в очереди 4, доставлено 4, заблокировали бота 0, ошибок 0, пропущено 0."
    )
    assert_within_limits(session.sends, 1)


async def test_one_customers_burst_does_not_hold_up_other_chats(uow: UnitOfWork, clock: FrozenClock) -> None:
    """A batch takes the oldest message of each chat: the chats of the second batch start at once
    instead of waiting behind a burst to one chat that may only take one message a second."""
    busy, other = await make_person(uow, clock), await make_person(uow, clock)
    for n in range(3):
        await queue(uow, clock, busy.customer_id, occasion=f"op:{n}")
    await queue(uow, clock, other.customer_id, occasion="op:other")
    bot = recording_bot()
    vt = VirtualTime()
    report = await make_sender(uow, clock, bot, rate=2, time=vt).drain()
    assert report is not None and report.sent == 4
    chats = [request.chat_id for request in bot.session.sent(SendMessage)]  # type: ignore[attr-defined]
    assert chats[:2] == [busy.telegram_id, other.telegram_id]
    # Three messages to one chat need two waits of the per-chat interval, and no more.
    assert vt.now - 1000.0 < 2 * 1.1 + 0.5
