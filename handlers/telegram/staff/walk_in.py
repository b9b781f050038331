"""/newcustomer PHONE NAME [SURNAME]: a customer created at the till; the card is the phone number.
The phone may be typed with spaces; the first word with letters starts the name."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from db.uow import UnitOfWork
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, tokens_of
from handlers.telegram.staff.keyboards import ask
from handlers.telegram.staff.states import NewCustomerDialog
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.customers import CustomerView
from services.phones import PhonePolicy, parse_phone
from services.staff import StaffView


def _split_name(words: list[str]) -> tuple[str, str | None]:
    """"Анна" -> name; "Анна Петрова" -> name and surname (as Telegram's first and last name)."""
    return words[0], " ".join(words[1:]) or None


def render_new_customer(customer: CustomerView, tr: Translator, locale: str) -> str:
    return tr.get(
        locale, "staff-newcustomer-done", name=esc(customer.full_name), card=esc(customer.card_number or "—"),
        phone=esc(customer.phone or "—"),
    )


def get_router() -> Router:
    router = Router(name="staff-walk-in")
    router.message.filter(F.chat.type == "private")

    async def _create(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, member: StaffView | None,
        phone: str, words: list[str], phone_policy: PhonePolicy,
    ) -> None:
        name, surname = _split_name(words)
        customer = await staff_desk.new_customer(
            uow, clock, by=member, phone=phone, name=name, surname=surname, policy=phone_policy
        )
        await message.answer(render_new_customer(customer, tr, locale))

    @router.message(Command("newcustomer"))
    async def newcustomer_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await ask(message, state, NewCustomerDialog.phone, tr, locale, "staff-ask-phone")
            return
        phone_end = next((i for i, token in enumerate(tokens) if any(ch.isalpha() for ch in token)), len(tokens))
        if phone_end == 0 or phone_end == len(tokens):
            await message.answer(tr.get(locale, "staff-usage-newcustomer"))
            return
        phone = " ".join(tokens[:phone_end])
        await _create(message, uow, clock, tr, locale, member, phone, tokens[phone_end:], phone_policy)

    @router.message(NewCustomerDialog.phone, ANSWER, StaffOnly())
    async def newcustomer_phone(
        message: Message, state: FSMContext, tr: Translator, locale: str, phone_policy: PhonePolicy
    ) -> None:
        assert message.text is not None
        parsed = parse_phone(message.text, phone_policy)  # refuse a bad number before asking the name
        await state.update_data(phone=parsed.e164)
        await ask(message, state, NewCustomerDialog.name, tr, locale, "staff-ask-name")

    @router.message(NewCustomerDialog.name, ANSWER, StaffOnly())
    async def newcustomer_name(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        words = message.text.split()
        if not words:
            await message.answer(tr.get(locale, "staff-ask-name"))
            return
        data = await state.get_data()
        await _create(message, uow, clock, tr, locale, staff, data["phone"], words, phone_policy)
        await state.clear()

    return router
