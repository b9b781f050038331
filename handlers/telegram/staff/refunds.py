"""/refund RECEIPT [AMOUNT]: all that is left of a receipt, or a part; one line or a dialog."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from db.uow import UnitOfWork
from handlers.telegram.committed import answer_committed
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, money, pts, tokens_of
from handlers.telegram.staff.keyboards import DialogAction, ask, button, with_cancel
from handlers.telegram.staff.states import RefundDialog
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.ledger import RefundResult
from services.ledger.amounts import parse_money
from services.staff import StaffView
from services.staff_desk import TillOrigin


def render_refund(result: RefundResult, tr: Translator, locale: str) -> str:
    text = tr.get(
        locale, "staff-refund-done", receipt=esc(result.receipt_id), amount=money(result.refunded_kopecks),
        total=money(result.receipt_refunded_kopecks), reversed=pts(result.reversed_points),
        restored=pts(result.restored_points),
    )
    if result.new_debt:
        text += "\n" + tr.get(locale, "staff-refund-debt", debt=pts(result.new_debt))
    after = tr.get(locale, "staff-card-after", balance=pts(result.card.balance), pending=pts(result.card.pending))
    if result.replayed:
        text = tr.get(locale, "staff-refund-replayed") + "\n" + text
    return text + "\n" + after


def _origin(message: Message, data: dict[str, Any] | None = None) -> TillOrigin:
    """The command that started the refund (remembered when it opened a dialog)."""
    return TillOrigin(message.chat.id, int((data or {}).get("origin", message.message_id)))


def get_router() -> Router:
    router = Router(name="staff-refunds")
    router.message.filter(F.chat.type == "private")

    async def _refund(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, member: StaffView | None,
        receipt_id: str, amount: int | None, origin: TillOrigin,
    ) -> None:
        result = await staff_desk.refund(
            uow, clock, by=member, receipt_id=receipt_id, amount_kopecks=amount, origin=origin
        )
        await answer_committed(
            message, render_refund(result, tr, locale), tr=tr, locale=locale, card_number=None
        )

    @router.message(Command("refund"))
    async def refund_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await state.update_data(origin=message.message_id)
            await ask(message, state, RefundDialog.receipt, tr, locale, "staff-ask-refund-receipt")
            return
        if len(tokens) > 2:
            await message.answer(tr.get(locale, "staff-usage-refund"))
            return
        amount = parse_money(tokens[1]) if len(tokens) == 2 else None
        await _refund(message, uow, clock, tr, locale, member, tokens[0], amount, _origin(message))

    @router.message(RefundDialog.receipt, ANSWER, StaffOnly())
    async def refund_receipt(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        assert message.text is not None
        await state.update_data(receipt=message.text.strip())
        await state.set_state(RefundDialog.amount)
        full = button(tr.get(locale, "staff-button-full-refund"), DialogAction(action="full"))
        await message.answer(tr.get(locale, "staff-ask-refund-amount"), reply_markup=with_cancel(tr, locale, full))

    @router.message(RefundDialog.amount, ANSWER, StaffOnly())
    async def refund_amount(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        data = await state.get_data()
        await _refund(
            message, uow, clock, tr, locale, staff, data["receipt"], parse_money(message.text), _origin(message, data)
        )
        await state.clear()

    @router.callback_query(RefundDialog.amount, DialogAction.filter(F.action == "full"), StaffOnly())
    async def refund_full(
        query: CallbackQuery, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        staff: StaffView | None = None,
    ) -> None:
        data = await state.get_data()
        await query.answer()
        assert isinstance(query.message, Message)
        await _refund(query.message, uow, clock, tr, locale, staff, data["receipt"], None, _origin(query.message, data))
        await state.clear()

    return router
