"""/cardstatus CARD active|accrual_only|payment_only|blocked (manager and above)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from db.uow import UnitOfWork
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, tokens_of
from handlers.telegram.staff.keyboards import StatusChoice, ask, button, with_cancel
from handlers.telegram.staff.states import CardStatusDialog
from locales import Translator
from services import staff_desk
from services.cards import CardView
from services.clock import Clock
from services.phones import PhonePolicy
from services.staff import StaffView

STATUSES = ("active", "accrual_only", "payment_only", "blocked")


def render_status(card: CardView, tr: Translator, locale: str) -> str:
    return tr.get(
        locale, "staff-cardstatus-done", card=esc(card.number), status=tr.get(locale, f"staff-status-{card.status}")
    )


def get_router() -> Router:
    router = Router(name="staff-cards")
    router.message.filter(F.chat.type == "private")

    @router.message(Command("cardstatus"))
    async def cardstatus_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff, "manager")
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await ask(message, state, CardStatusDialog.card, tr, locale, "staff-ask-card")
            return
        if len(tokens) < 2:
            await message.answer(tr.get(locale, "staff-usage-cardstatus"))
            return
        card, _ = await staff_desk.find_card_in(uow, clock, tokens, phone_policy, (len(tokens) - 1,))
        changed = await staff_desk.set_card_status(uow, clock, by=member, card_id=card.id, status=tokens[-1])
        await message.answer(render_status(changed, tr, locale))

    @router.message(CardStatusDialog.card, ANSWER, StaffOnly())
    async def cardstatus_card(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy,
    ) -> None:
        assert message.text is not None
        card = await staff_desk.find_card(uow, clock, message.text, phone_policy)
        await state.update_data(card_id=card.id)
        await state.set_state(CardStatusDialog.status)
        choices = [button(tr.get(locale, f"staff-status-{s}"), StatusChoice(status=s)) for s in STATUSES]
        await message.answer(
            tr.get(
                locale, "staff-ask-status", card=esc(card.number), status=tr.get(locale, f"staff-status-{card.status}")
            ),
            reply_markup=with_cancel(tr, locale, *choices),
        )

    @router.callback_query(CardStatusDialog.status, StatusChoice.filter(), StaffOnly())
    async def cardstatus_choice(
        query: CallbackQuery, callback_data: StatusChoice, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, staff: StaffView | None = None,
    ) -> None:
        data = await state.get_data()
        changed = await staff_desk.set_card_status(
            uow, clock, by=staff, card_id=data["card_id"], status=callback_data.status
        )
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(render_status(changed, tr, locale))

    return router
