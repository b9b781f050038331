"""The store a staff member tied to no store works in: `/newstore CODE Name` creates the first
(owner, admin), `/shift` or a refused receipt operation offers the stores as buttons."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject, ExceptionTypeFilter
from aiogram.types import CallbackQuery, ErrorEvent, InlineKeyboardMarkup, Message, User

from db.uow import UnitOfWork
from handlers.telegram.errors import error_locale
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import esc
from handlers.telegram.staff.keyboards import ShiftStore, button, column
from locales import Translator
from services import shifts, stores
from services.clock import Clock
from services.errors import StoreChoiceNeeded
from services.staff import StaffView


async def _choices(uow: UnitOfWork) -> InlineKeyboardMarkup:
    return column(
        *(button(f"{s.name} ({s.code})", ShiftStore(store_id=s.id)) for s in await shifts.shift_store_choices(uow))
    )


def get_router() -> Router:
    router = Router(name="staff-shift")

    @router.message(Command("newstore"))
    async def new_store(
        message: Message, command: CommandObject, staff: StaffView | None, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str,
    ) -> None:
        member = require(staff, "admin")
        code, _, name = (command.args or "").strip().partition(" ")
        if not code or not name.strip():
            await message.answer(tr.get(locale, "staff-usage-newstore"))
            return
        store = await stores.add_store(uow, clock, code=code, name=name, actor=member.actor)
        await message.answer(tr.get(locale, "staff-store-created", code=esc(store.code), name=esc(store.name)))

    @router.message(Command("shift"))
    async def shift(message: Message, staff: StaffView | None, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        member = require(staff)
        if member.store_id is not None:
            await message.answer(tr.get(locale, "staff-shift-own-store", store=esc(member.store_code or "")))
            return
        await message.answer(tr.get(locale, "staff-shift-choose"), reply_markup=await _choices(uow))

    @router.callback_query(ShiftStore.filter(), StaffOnly())
    async def chosen(
        query: CallbackQuery, callback_data: ShiftStore, staff: StaffView | None, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str,
    ) -> None:
        member = require(staff)
        store = await shifts.choose_shift_store(uow, clock, member=member, store_id=callback_data.store_id)
        await query.answer()
        if isinstance(query.message, Message):
            text = tr.get(locale, "staff-shift-chosen", store=esc(store.name), code=esc(store.code))
            await query.message.answer(text)

    @router.error(ExceptionTypeFilter(StoreChoiceNeeded))
    async def choose_first(
        event: ErrorEvent, uow: UnitOfWork, tr: Translator, locale: str | None = None,
        event_from_user: User | None = None,
    ) -> None:
        """A receipt operation by a member tied to no store, with several stores: offer them."""
        locale = await error_locale(locale, uow, event_from_user)
        if event.update.message:
            await event.update.message.answer(tr.get(locale, "staff-shift-choose"), reply_markup=await _choices(uow))
        elif event.update.callback_query:
            await event.update.callback_query.answer(tr.get(locale, "staff-shift-choose"), show_alert=True)

    return router
