"""/adjust CARD +N|-N REASON (manager and above): points by hand, with a mandatory reason."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from db.uow import UnitOfWork
from handlers.telegram.committed import answer_committed
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, pts, signed_pts, tokens_of
from handlers.telegram.staff.keyboards import ask, cancel_keyboard
from handlers.telegram.staff.refusals import refuse
from handlers.telegram.staff.states import AdjustDialog
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.errors import DomainError
from services.ledger import AdjustmentResult
from services.ledger.amounts import parse_points
from services.phones import PhonePolicy
from services.staff import StaffView
from services.staff_desk import TillOrigin


def render_adjustment(result: AdjustmentResult, tr: Translator, locale: str) -> str:
    text = tr.get(locale, "staff-adjust-done", points=signed_pts(result.points, locale)) + "\n" + tr.get(
        locale, "staff-card-after", balance=pts(result.card.balance), pending=pts(result.card.pending)
    )
    if result.replayed:
        text = tr.get(locale, "staff-adjust-replayed") + "\n" + text
    return text


def _split(tokens: list[str]) -> list[int]:
    """Where the card may end: before a token that reads as points (`+50`, `-50`, `50`)."""
    ends = []
    for k in range(1, len(tokens) - 1):
        try:
            parse_points(tokens[k], signed=True)
        except DomainError:
            continue
        ends.append(k)
    return ends


def get_router() -> Router:
    router = Router(name="staff-adjustments")
    router.message.filter(F.chat.type == "private")

    async def _adjust(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, member: StaffView | None,
        card_id: int, card: str, points: int, reason: str, origin: TillOrigin,
    ) -> None:
        result = await staff_desk.adjust(
            uow, clock, by=member, card_id=card_id, points=points, reason=reason, origin=origin
        )
        await answer_committed(message, render_adjustment(result, tr, locale), tr=tr, locale=locale, card_number=card)

    @router.message(Command("adjust"))
    async def adjust_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff, "manager")
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await state.update_data(origin=message.message_id)
            await ask(message, state, AdjustDialog.card, tr, locale, "staff-ask-card")
            return
        if len(tokens) < 2:
            await message.answer(tr.get(locale, "staff-usage-adjust"))
            return
        ends = _split(tokens)
        if not ends:  # no points, or points with no reason after them
            parse_points(tokens[-1], signed=True)
            await message.answer(tr.get(locale, "error-reason_required"))
            return
        card, k = await staff_desk.find_card_in(uow, clock, tokens, phone_policy, ends)
        points = parse_points(tokens[k], signed=True)
        await _adjust(
            message, uow, clock, tr, locale, member, card.id, card.number, points, " ".join(tokens[k + 1 :]),
            TillOrigin(message.chat.id, message.message_id),
        )

    @router.message(AdjustDialog.card, ANSWER, StaffOnly())
    async def adjust_card(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy,
    ) -> None:
        assert message.text is not None
        card = await staff_desk.find_card(uow, clock, message.text, phone_policy)
        await state.update_data(card_id=card.id, card=card.number)
        await state.set_state(AdjustDialog.points)
        await message.answer(
            tr.get(locale, "staff-ask-adjust-points", card=esc(card.number), balance=pts(card.balance)),
            reply_markup=cancel_keyboard(tr, locale),
        )

    @router.message(AdjustDialog.points, ANSWER, StaffOnly())
    async def adjust_points(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        assert message.text is not None
        try:
            points = parse_points(message.text, signed=True)
        except DomainError as refusal:
            await refuse(message, tr, locale, refusal, "staff-again-adjust-points")
            return
        await state.update_data(points=points)
        await ask(message, state, AdjustDialog.reason, tr, locale, "staff-ask-reason")

    @router.message(AdjustDialog.reason, ANSWER, StaffOnly())
    async def adjust_reason(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        data = await state.get_data()
        origin = TillOrigin(message.chat.id, int(data.get("origin", message.message_id)))
        await _adjust(
            message, uow, clock, tr, locale, staff, data["card_id"], data["card"], data["points"], message.text, origin
        )
        await state.clear()

    return router
