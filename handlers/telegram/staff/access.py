"""Who may use staff commands. Every staff handler starts with `require(staff, ROLE)`: a non-staff
user gets `error-not_staff` and nothing else (no data, no dialog); a staff member below the role
gets `error-role_too_high`. Both are DomainErrors answered by the error router. Dialog steps and
buttons additionally carry `StaffOnly()`, so a deactivated member's half-finished dialog goes nowhere.
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.telegram.staff.keyboards import DialogAction
from handlers.telegram.staff.states import ALL_DIALOGS
from locales import Translator
from services.staff import StaffView
from services.staff_desk import require

__all__ = ["StaffOnly", "get_router", "require"]


class StaffOnly(Filter):
    async def __call__(self, event: Any, staff: StaffView | None = None) -> bool:
        return staff is not None and staff.active


def get_router() -> Router:
    router = Router(name="staff-access")
    in_dialog = StateFilter(*ALL_DIALOGS)

    @router.callback_query(DialogAction.filter(F.action == "cancel"))
    async def cancel_button(query: CallbackQuery, state: FSMContext, tr: Translator, locale: str) -> None:
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "staff-cancelled"))

    @router.message(Command("cancel"), in_dialog)
    async def cancel_command(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        await state.clear()
        await message.answer(tr.get(locale, "staff-cancelled"))

    return router
