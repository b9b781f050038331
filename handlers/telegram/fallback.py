"""The catch-all, registered LAST: whatever no feature took.

A stranger gets the registration prompt again (the contact button comes back: on phones a reply
keyboard is easily dismissed); a customer gets a hint and the main menu; a button nobody handles
(from an old message, or tampered data) is answered as outdated. Never an error.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, PRIVATE_CALLBACK, main_menu
from handlers.telegram.start import send_registration_prompt, stranger_locale
from locales import Translator
from services.customers import CustomerView
from services.staff import StaffView


def get_router() -> Router:
    router = Router(name="fallback")
    router.message.filter(PRIVATE)
    router.callback_query.filter(PRIVATE_CALLBACK)

    @router.message()
    async def anything(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str,
                       customer: CustomerView | None) -> None:
        if customer is None:
            await send_registration_prompt(message, state, uow, tr, locale)
            return
        await message.answer(tr.get(locale, "menu-unknown"), reply_markup=main_menu(tr, locale))

    @router.callback_query()
    async def stale_button(query: CallbackQuery, state: FSMContext, tr: Translator, locale: str,
                           customer: CustomerView | None, staff: StaffView | None = None) -> None:
        if customer is None and staff is None:
            locale = await stranger_locale(state, locale)
            await query.answer(tr.get(locale, "start-need-registration"), show_alert=True)
            return
        await query.answer(tr.get(locale, "menu-button-outdated"), show_alert=True)

    return router
