"""Test data and test doubles for the notification tests: customers with cards written straight
through the session, a virtual time for the limiter, and a recording Telegram bot that notes when
each message was sent."""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime

from aiogram import Bot
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.methods.base import TelegramType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.context import AppContext
from bot.notifier import TelegramNotifier
from bot.settings import Settings
from db.models import Card, Customer, CustomerLink, LinkType, OutboxMessage, Staff, Store
from db.uow import UnitOfWork
from locales import translator
from services.clock import Clock, FrozenClock
from services.ledger import otp
from services.notifications.limits import Limiter, Monotonic
from services.notifications.sender import OutboxSender
from services.phones import PhonePolicy
from tests.support.recording_bot import RecordingSession, recording_bot

_numbers = itertools.count(9_100_000_000)
_telegram_ids = itertools.count(500_000)


async def make_store(uow: UnitOfWork, clock: Clock, code: str = "S1") -> int:
    async def work(session: AsyncSession) -> int:
        store = Store(code=code, name=f"Store {code}", created_at=clock.now())
        session.add(store)
        await session.flush()
        return store.id

    return await uow.write(work)


@dataclass(frozen=True)
class Person:
    customer_id: int
    card_id: int
    telegram_id: int | None


async def make_person(
    uow: UnitOfWork,
    clock: Clock,
    *,
    marketing: bool = True,
    language: str = "ru",
    telegram: bool = True,
    birthday: date | None = None,
    birthday_set_at: datetime | None = None,
    optouts: list[str] | None = None,
    name: str = "Анна",
    store_id: int | None = None,
) -> Person:
    telegram_id = next(_telegram_ids) if telegram else None

    async def work(session: AsyncSession) -> Person:
        customer = Customer(
            name=name, surname="Петрова", language=language, telegram_id=telegram_id,
            marketing_consent=marketing, pd_consent_at=clock.now(), notification_optouts=optouts or [],
            birthday=birthday, birthday_month=birthday.month if birthday else None,
            birthday_day=birthday.day if birthday else None, birthday_set_at=birthday_set_at,
            store_id=store_id, created_at=clock.now(),
        )
        session.add(customer)
        await session.flush()
        card = Card(number=str(next(_numbers)), customer_id=customer.id, otp_secret=otp.new_secret(),
                    created_at=clock.now())
        session.add(card)
        await session.flush()
        return Person(customer.id, card.id, telegram_id)

    return await uow.write(work)


async def make_admin(uow: UnitOfWork, clock: Clock, telegram_id: int, role: str = "admin") -> int:
    async def work(session: AsyncSession) -> int:
        staff = Staff(telegram_id=telegram_id, name="Admin", role=role, created_at=clock.now())
        session.add(staff)
        await session.flush()
        return staff.id

    return await uow.write(work)


async def link_contact_person(uow: UnitOfWork, clock: Clock, *, contact: int, about: int) -> None:
    async def work(session: AsyncSession) -> None:
        link_type = (
            await session.execute(select(LinkType.id).where(LinkType.semantics == "contact_person"))
        ).scalar_one()
        session.add(CustomerLink(from_customer_id=contact, to_customer_id=about, link_type_id=link_type,
                                 created_by="test", created_at=clock.now()))

    await uow.write(work)


async def outbox(uow: UnitOfWork) -> list[OutboxMessage]:
    async def work(session: AsyncSession) -> list[OutboxMessage]:
        return list((await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars())

    return await uow.read(work)


async def set_optouts(uow: UnitOfWork, customer_id: int, optouts: list[str]) -> None:
    async def work(session: AsyncSession) -> None:
        customer = await session.get(Customer, customer_id)
        assert customer is not None
        customer.notification_optouts = optouts

    await uow.write(work)


@dataclass
class VirtualTime:
    """Monotonic time that moves only when someone sleeps: the limiter's waits cost nothing."""

    now: float = 1000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class TimedSession(RecordingSession):
    """Records (time, chat id) of every sendMessage, by the given monotonic time."""

    def __init__(self, monotonic: Monotonic) -> None:
        super().__init__()
        self.monotonic = monotonic
        self.sends: list[tuple[float, int]] = []

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        if isinstance(method, SendMessage):
            self.sends.append((self.monotonic(), int(method.chat_id)))
        return await super().make_request(bot, method, timeout)


def timed_bot(monotonic: Monotonic) -> tuple[Bot, TimedSession]:
    bot = recording_bot()
    session = TimedSession(monotonic)
    bot.session = session
    return bot, session


def make_sender(
    uow: UnitOfWork, clock: FrozenClock | Clock, bot: Bot, *, rate: int = 25, time: VirtualTime | None = None
) -> OutboxSender:
    limiter = (
        Limiter(rate, monotonic=time.monotonic, sleep=time.sleep) if time is not None else Limiter(rate)
    )
    return OutboxSender(uow=uow, clock=clock, notifier=TelegramNotifier(bot), texts=translator(), limiter=limiter)


def sent_texts(session: RecordingSession) -> list[tuple[int, str]]:
    return [(int(m.chat_id), m.text) for m in session.sent(SendMessage)]


def assert_within_limits(sends: list[tuple[float, int]], rate: int, *, tolerance: float = 0.0) -> None:
    """No more than `rate` sends in any one-second window; no chat twice within a second."""
    times = sorted(t for t, _ in sends)
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 1.0 - tolerance)
        assert in_window <= rate, f"{in_window} messages within a second from {start}"
    by_chat: dict[int, list[float]] = {}
    for t, chat in sends:
        by_chat.setdefault(chat, []).append(t)
    for chat, stamps in by_chat.items():
        stamps.sort()
        gaps = [b - a for a, b in itertools.pairwise(stamps)]
        assert all(g >= 1.0 - tolerance for g in gaps), f"chat {chat} written to {gaps} s apart"


def context_for(uow: UnitOfWork, clock: Clock) -> AppContext:
    return AppContext(settings=Settings(), uow=uow, clock=clock, translator=translator(), phone_policy=PhonePolicy())


def by_kind(rows: list[OutboxMessage], kind: str) -> list[OutboxMessage]:
    return [row for row in rows if row.kind == kind]
