"""A small shop for staff tests: two stores, one staff member of every role, a walk-in customer."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import InlineKeyboardMarkup, Update
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Card, Operation
from db.uow import UnitOfWork
from locales import translator
from services import customers, staff, stores
from services.clock import FrozenClock
from services.ledger import otp
from services.phones import PhonePolicy
from tests.support import updates
from tests.support.fixtures import BotHarness, make_harness

OWNER, ADMIN, MANAGER, CASHIER, CASHIER2, STRANGER = 10, 11, 12, 13, 14, 99
CUSTOMER_PHONE = "+79161234567"
CUSTOMER_CARD = "9161234567"


@dataclass
class Shop:
    harness: BotHarness
    uow: UnitOfWork
    clock: FrozenClock
    store1: int
    store2: int
    customer_id: int
    card_id: int
    seen: int = field(default=0)

    async def send(self, user_id: int, text: str, *, language: str = "ru") -> list[str]:
        """Feed a message; return the texts the bot sent in answer."""
        return await self._feed(updates.text(updates.user(user_id, language=language), text))

    async def press(self, user_id: int, data: str, *, language: str = "ru") -> list[str]:
        """Press an inline button; return sent texts and callback alerts."""
        return await self._feed(updates.callback(updates.user(user_id, language=language), data))

    async def confirm(self, user_id: int, *, language: str = "ru") -> list[str]:
        """Press Confirm under the last summary (a redemption, a large accrual)."""
        label = translator().get(language, "staff-button-confirm")
        return await self.press(user_id, self.buttons()[label], language=language)

    async def feed(self, update: Update) -> list[str]:
        """Feed a ready update (again, for a redelivery); return what the bot sent in answer."""
        return await self._feed(update)

    async def _feed(self, update: Update) -> list[str]:
        start = len(self.harness.session.requests)
        await self.harness.feed(update)
        out: list[str] = []
        for request in self.harness.session.requests[start:]:
            # Texts sent, and what button presses were answered with (alerts carry refusals).
            if isinstance(request, SendMessage | AnswerCallbackQuery) and request.text:
                out.append(request.text)
        return out

    def last_keyboard(self) -> InlineKeyboardMarkup:
        for request in reversed(self.harness.session.requests):
            if isinstance(request, SendMessage) and isinstance(request.reply_markup, InlineKeyboardMarkup):
                return request.reply_markup
        raise AssertionError("no inline keyboard sent")

    def buttons(self) -> dict[str, str]:
        """Text -> callback data of the last inline keyboard."""
        return {b.text: str(b.callback_data) for row in self.last_keyboard().inline_keyboard for b in row}

    async def card(self, card_id: int | None = None) -> Card:
        async def work(session: AsyncSession) -> Card:
            card = await session.get(Card, card_id or self.card_id)
            assert card is not None
            return card

        return await self.uow.read(work)

    async def balance(self, card_id: int | None = None) -> int:
        return (await self.card(card_id)).balance

    async def code(self, card_id: int | None = None) -> str:
        return otp.current_code(await self.card(card_id), self.clock.now())[0]

    async def operations(self, kind: str | None = None) -> int:
        async def work(session: AsyncSession) -> int:
            stmt = select(func.count(Operation.id))
            if kind:
                stmt = stmt.where(Operation.kind == kind)
            return int((await session.execute(stmt)).scalar_one())

        return await self.uow.read(work)

    async def audit_actions(self) -> list[str]:
        async def work(session: AsyncSession) -> list[str]:
            return [a for (a,) in await session.execute(select(AuditEntry.action).order_by(AuditEntry.id))]

        return await self.uow.read(work)


async def open_shop(uow: UnitOfWork, clock: FrozenClock) -> Shop:
    store1 = await stores.add_store(uow, clock, code="S1", name="Main street", actor="test")
    store2 = await stores.add_store(uow, clock, code="S2", name="Station", actor="test")
    for telegram_id, role, code, name in (
        (OWNER, "owner", None, "Olga"),
        (ADMIN, "admin", "S1", "Alex"),
        (MANAGER, "manager", "S1", "Maria"),
        (CASHIER, "cashier", "S1", "Kate"),
        (CASHIER2, "cashier", "S2", "Kirill"),
    ):
        await staff.add_staff(uow, clock, telegram_id=telegram_id, role=role, name=name, store_code=code, actor="test")
    customer = await customers.create_walk_in(
        uow, clock, phone=CUSTOMER_PHONE, name="Анна", surname="Петрова", phone_policy=PhonePolicy(), actor="test",
        store_id=store1.id,
    )
    await customers.update_profile(
        uow, clock, customer_id=customer.id, actor="test", by_staff=True, birthday="01.02.1990"
    )
    assert customer.card_id is not None
    return Shop(make_harness(uow, clock), uow, clock, store1.id, store2.id, customer.id, customer.card_id)
