"""Erasing a customer's personal data on their request to staff (152-FZ): managers and above, from
the customer card (/find), after a confirmation. The same erasure as the customer's /deleteme."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, Message

from bot.conversations import FsmConversations
from db.uow import UnitOfWork
from handlers.telegram.staff.common import esc
from handlers.telegram.staff.keyboards import EraseCustomer, button, with_cancel
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.staff import StaffView


def get_router() -> Router:
    router = Router(name="staff-erase")

    @router.callback_query(EraseCustomer.filter(F.action == "ask"))
    async def ask(
        query: CallbackQuery, callback_data: EraseCustomer, uow: UnitOfWork, tr: Translator, locale: str,
        staff: StaffView | None = None,
    ) -> None:
        customer = await staff_desk.customer_to_erase(uow, by=staff, customer_id=callback_data.customer_id)
        await query.answer()
        if isinstance(query.message, Message):
            confirm = EraseCustomer(action="confirm", customer_id=customer.id)
            await query.message.answer(
                tr.get(locale, "staff-erase-ask", name=esc(customer.full_name)),
                reply_markup=with_cancel(tr, locale, button(tr.get(locale, "staff-erase-confirm"), confirm)),
            )

    @router.callback_query(EraseCustomer.filter(F.action == "confirm"))
    async def confirm(
        query: CallbackQuery, callback_data: EraseCustomer, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, bot: Bot, fsm_storage: BaseStorage, staff: StaffView | None = None,
    ) -> None:
        await staff_desk.erase_customer(
            uow, clock, by=staff, customer_id=callback_data.customer_id,
            conversations=FsmConversations(fsm_storage, bot.id),
        )
        await query.answer()
        if isinstance(query.message, Message):
            # The question named the customer: it goes with them.
            with suppress(TelegramBadRequest):
                await query.message.delete()
            await query.message.answer(tr.get(locale, "staff-erase-done", id=callback_data.customer_id))

    return router
