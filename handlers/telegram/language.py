"""/language: Russian or English. A customer's choice is stored; a stranger's lives in the chat's
FSM data until they register (and then becomes their customer language)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, PRIVATE_CALLBACK, main_menu
from handlers.telegram.start import LANGUAGE_KEY, send_registration_prompt, stranger_locale
from locales import SUPPORTED, Translator, translator
from services import customers
from services.clock import Clock
from services.customers import CustomerView


class LanguageChoice(CallbackData, prefix="lang"):
    code: str


def language_keyboard() -> InlineKeyboardMarkup:
    tr = translator()
    # Each language is named in itself, so anyone can find their own.
    buttons = [
        InlineKeyboardButton(text=tr.get(code, f"language-name-{code}"), callback_data=LanguageChoice(code=code).pack())
        for code in SUPPORTED
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons])


def get_router() -> Router:
    router = Router(name="language")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)

    @router.message(Command("language"))
    async def ask(message: Message, state: FSMContext, tr: Translator, locale: str,
                  customer: CustomerView | None) -> None:
        if customer is None:
            locale = await stranger_locale(state, locale)
        await message.answer(tr.get(locale, "language-choose"), reply_markup=language_keyboard())

    @router.callback_query(LanguageChoice.filter(F.code.in_(set(SUPPORTED))))
    async def choose(query: CallbackQuery, callback_data: LanguageChoice, state: FSMContext, tr: Translator,
                     uow: UnitOfWork, clock: Clock, customer: CustomerView | None) -> None:
        code = callback_data.code
        await query.answer()
        if not isinstance(query.message, Message):
            return
        if customer is None:
            await state.update_data({LANGUAGE_KEY: code})
            await send_registration_prompt(query.message, state, uow, tr, code)
            return
        await customers.set_language(uow, clock, customer_id=customer.id, language=code)
        # A fresh reply keyboard: the buttons' labels change with the language.
        await query.message.answer(tr.get(code, "language-changed"), reply_markup=main_menu(tr, code))

    return router
