"""/deleteme: erase one's personal data (152-FZ) after an explicit confirmation."""

from __future__ import annotations

from contextlib import suppress

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyKeyboardRemove

from bot.conversations import FsmConversations
from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, PRIVATE_CALLBACK
from locales import Translator
from services import customers
from services.clock import Clock
from services.customers import CustomerView


class DeletionAction(CallbackData, prefix="del"):
    action: str  # "confirm" | "cancel"; whom to delete is always the sender
    # Whom the question was asked about: a "Yes" kept from before a deletion must not erase the
    # account registered since. Only compared with the sender's own id, never used to find anyone.
    customer: int = 0


def _keyboard(tr: Translator, locale: str, customer: CustomerView) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[
        InlineKeyboardButton(text=tr.get(locale, "deletion-confirm"),
                             callback_data=DeletionAction(action="confirm", customer=customer.id).pack()),
        InlineKeyboardButton(text=tr.get(locale, "deletion-cancel"),
                             callback_data=DeletionAction(action="cancel", customer=customer.id).pack()),
    ]])


async def _drop_buttons(query: CallbackQuery) -> None:
    if isinstance(query.message, Message):
        # Already gone or too old to edit: nothing to clean up.
        with suppress(TelegramBadRequest):
            await query.message.edit_reply_markup(reply_markup=None)


def get_router() -> Router:
    router = Router(name="deletion")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)

    @router.message(Command("deleteme"))
    async def explain(message: Message, tr: Translator, locale: str, customer: CustomerView | None) -> None:
        if customer is None:
            await message.answer(tr.get(locale, "deletion-nothing"))
            return
        await message.answer(tr.get(locale, "deletion-explain"), reply_markup=_keyboard(tr, locale, customer))

    @router.callback_query(DeletionAction.filter(F.action == "confirm"))
    async def confirm(query: CallbackQuery, callback_data: DeletionAction, state: FSMContext, tr: Translator,
                      locale: str, uow: UnitOfWork, clock: Clock, customer: CustomerView | None, bot: Bot,
                      fsm_storage: BaseStorage) -> None:
        if customer is not None and callback_data.customer != customer.id:
            await query.answer(tr.get(locale, "menu-button-outdated"), show_alert=True)
            await _drop_buttons(query)
            return
        if customer is None:
            # A button from before: this account holds no data any more.
            await query.answer(tr.get(locale, "deletion-nothing"), show_alert=True)
            await _drop_buttons(query)
            return
        await customers.delete_personal_data(
            uow, clock, customer_id=customer.id, actor=f"customer:{customer.id}",
            conversations=FsmConversations(fsm_storage, bot.id),
        )
        await state.clear()  # the erasure forgot the dialog in the storage; this clears the context's view
        await query.answer()
        await _drop_buttons(query)
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "deletion-done"), reply_markup=ReplyKeyboardRemove())

    @router.callback_query(DeletionAction.filter(F.action == "cancel"))
    async def cancel(query: CallbackQuery, tr: Translator, locale: str) -> None:
        await query.answer(tr.get(locale, "deletion-cancelled"))
        await _drop_buttons(query)
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "deletion-cancelled"))

    return router
