"""The sender's pacing when chats have several queued messages each (benchmark 4's shape): it keeps
the global rate busy instead of waiting, batch after batch, for chats it wrote to a second ago,
without breaking the per-chat order, the limits or the bound on messages claimed at once."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, OutboxMessage
from db.uow import UnitOfWork
from locales import translator
from services.clock import FrozenClock
from services.notifications.limits import Limiter
from services.notifications.outbox import enqueue
from services.notifications.sender import CONCURRENCY, OutboxSender
from tests.notifications.helpers import (
    VirtualTime,
    assert_within_limits,
    make_person,
    make_sender,
    outbox,
    set_optouts,
    timed_bot,
)


async def queue_for(uow: UnitOfWork, clock: FrozenClock, customer_id: int, count: int, tag: str = "op") -> None:
    """`count` messages to one customer, queued back to back (consecutive ids)."""

    async def work(session: AsyncSession) -> None:
        for n in range(count):
            payload = {"points": 100 * (n + 1), "balance": 12000, "pending": False, "available_on": None}
            await enqueue(session, customer_id=customer_id, kind="accrual", occasion=f"{tag}:{n}",
                          payload=payload, now=clock.now())

    await uow.write(work)


class SpyNotifier:
    """Notes, for each send, the virtual time, the chat, the ids of the rows held (claimed or being
    sent) for that chat, and how many rows are held and being sent overall."""

    def __init__(self, uow: UnitOfWork, vt: VirtualTime) -> None:
        self.uow, self.vt = uow, vt
        self.sends: list[tuple[float, int]] = []
        self.claimed: dict[int, list[list[int]]] = {}
        self.held: list[int] = []
        self.in_flight: list[int] = []

    async def send(self, chat_id: int, text: str) -> None:
        self.sends.append((self.vt.monotonic(), chat_id))

        async def look(session: AsyncSession) -> tuple[list[int], int, int]:
            held = OutboxMessage.status.in_(("claimed", "sending"))
            mine = await session.execute(
                select(OutboxMessage.id)
                .join(Customer, Customer.id == OutboxMessage.customer_id)
                .where(held, Customer.telegram_id == chat_id)
            )
            total = await session.execute(select(func.count()).select_from(OutboxMessage).where(held))
            sending = await session.execute(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sending")
            )
            return [int(i) for i in mine.scalars()], int(total.scalar_one()), int(sending.scalar_one())

        mine, total, sending = await self.uow.read(look)
        self.claimed.setdefault(chat_id, []).append(mine)
        self.held.append(total)
        self.in_flight.append(sending)


def spy_sender(uow: UnitOfWork, clock: FrozenClock, rate: int) -> tuple[OutboxSender, SpyNotifier, VirtualTime]:
    vt = VirtualTime()
    spy = SpyNotifier(uow, vt)
    sender = OutboxSender(
        uow=uow, clock=clock, notifier=spy, texts=translator(),
        limiter=Limiter(rate, monotonic=vt.monotonic, sleep=vt.sleep),
    )
    return sender, spy, vt


async def test_chats_with_several_messages_each_keep_the_global_rate_busy(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    # 30 chats x 6 messages queued chat by chat: the oldest rows are a few chats' backlogs, and a
    # chat takes one message per 1.1 s, so batches of "the oldest rows" would crawl.
    people = [await make_person(uow, clock) for _ in range(30)]
    for person in people:
        await queue_for(uow, clock, person.customer_id, 6)
    rate = 10
    sender, spy, _ = spy_sender(uow, clock, rate)
    report = await sender.drain()
    assert report is not None and report.sent == 180
    assert_within_limits(spy.sends, rate)
    span = spy.sends[-1][0] - spy.sends[0][0]
    assert span < 180 / rate + 1.5, span  # the global rate sets the pace, not the chats' intervals
    rows = await outbox(uow)
    assert {m.status for m in rows} == {"sent"}
    for person in people:
        # One row claimed per chat at a time, and a chat's messages go in the order queued.
        claimed = spy.claimed[person.telegram_id or 0]
        assert all(len(ids) == 1 for ids in claimed), claimed
        assert [ids[0] for ids in claimed] == sorted(m.id for m in rows if m.customer_id == person.customer_id)
    # At most one second's worth claimed at any moment, and of it only the row whose request is
    # being made is `sending`: all a crash could leave `unknown`.
    assert max(spy.held) <= rate
    assert set(spy.in_flight) == {CONCURRENCY}


async def test_a_long_backlog_of_one_chat_does_not_hide_the_chats_queued_after_it(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    busy = await make_person(uow, clock)
    await queue_for(uow, clock, busy.customer_id, 120)  # far more than any lookahead of rows
    others = [await make_person(uow, clock) for _ in range(12)]
    for person in others:
        await queue_for(uow, clock, person.customer_id, 1)
    vt = VirtualTime()
    bot, session = timed_bot(vt.monotonic)
    sender = make_sender(uow, clock, bot, rate=5, time=vt)
    sender.batch_size = 3
    report = await sender.drain()
    assert report is not None and report.sent == 132
    assert_within_limits(session.sends, 5)
    first = {chat: t for t, chat in reversed(session.sends)}
    start = session.sends[0][0]
    # 13 chats at 5 messages a second: every other chat is written to within the first 3 seconds.
    assert all(first[p.telegram_id or 0] - start < 3.0 for p in others), [first[p.telegram_id or 0] for p in others]


async def test_an_opted_out_customers_backlog_is_all_skipped_in_one_drain(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    quiet, other = await make_person(uow, clock), await make_person(uow, clock)
    await queue_for(uow, clock, quiet.customer_id, 4)
    await queue_for(uow, clock, other.customer_id, 1)
    await set_optouts(uow, quiet.customer_id, ["accrual"])
    vt = VirtualTime()
    bot, session = timed_bot(vt.monotonic)
    report = await make_sender(uow, clock, bot, time=vt).drain()
    assert report is not None and (report.sent, report.skipped) == (1, 4)
    assert [chat for _, chat in session.sends] == [other.telegram_id]
    assert sorted(m.status for m in await outbox(uow)) == ["sent", "skipped", "skipped", "skipped", "skipped"]


async def test_a_drain_ends_as_soon_as_nothing_is_due(uow: UnitOfWork, clock: FrozenClock) -> None:
    """No waiting out the per-chat interval of chats that have nothing more queued."""
    people = [await make_person(uow, clock) for _ in range(3)]
    for person in people:
        await queue_for(uow, clock, person.customer_id, 1)
    vt = VirtualTime()
    bot, _ = timed_bot(vt.monotonic)
    report = await make_sender(uow, clock, bot, time=vt).drain()
    assert report is not None and report.sent == 3
    assert vt.now - 1000.0 < 0.01
