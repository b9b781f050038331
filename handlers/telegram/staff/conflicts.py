"""/conflicts (manager and above): recycled phone numbers waiting for a decision. Moving the card
hands its balance to the new Telegram account; keeping it leaves the claimant without a card."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from db.uow import UnitOfWork
from handlers.telegram.staff.access import require
from handlers.telegram.staff.common import esc, local_datetime, pts
from handlers.telegram.staff.keyboards import ConflictAction, button, column
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.customers import ConflictView
from services.staff import StaffView

MAX_SHOWN = 20


def render_conflict(conflict: ConflictView, tr: Translator, locale: str, settings: Settings) -> str:
    from datetime import datetime

    return tr.get(
        locale, "staff-conflict", id=str(conflict.id), phone=esc(conflict.phone_masked), card=esc(conflict.card_number),
        balance=pts(conflict.card_balance),
        created=local_datetime(datetime.fromisoformat(conflict.created_at_iso), settings),
    )


def get_router() -> Router:
    router = Router(name="staff-conflicts")
    router.message.filter(F.chat.type == "private")

    @router.message(Command("conflicts"))
    async def conflicts_command(
        message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str, settings: Settings,
        staff: StaffView | None = None,
    ) -> None:
        member = require(staff, "manager")
        await state.clear()
        conflicts = await staff_desk.open_conflicts(uow, by=member)
        if not conflicts:
            await message.answer(tr.get(locale, "staff-conflicts-none"))
            return
        await message.answer(tr.get(locale, "staff-conflicts-title", count=len(conflicts)))
        for conflict in conflicts[:MAX_SHOWN]:
            keyboard = column(
                button(tr.get(locale, "staff-button-move-card"), ConflictAction(conflict_id=conflict.id, move=True)),
                button(tr.get(locale, "staff-button-keep-card"), ConflictAction(conflict_id=conflict.id, move=False)),
            )
            await message.answer(render_conflict(conflict, tr, locale, settings), reply_markup=keyboard)

    @router.callback_query(ConflictAction.filter())
    async def resolve(
        query: CallbackQuery, callback_data: ConflictAction, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, staff: StaffView | None = None,
    ) -> None:
        resolved = await staff_desk.resolve_conflict(
            uow, clock, by=staff, conflict_id=callback_data.conflict_id, move_card=callback_data.move
        )
        await query.answer()
        key = "staff-conflict-moved" if callback_data.move else "staff-conflict-kept"
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, key, id=str(resolved.id), card=esc(resolved.card_number)))

    return router
