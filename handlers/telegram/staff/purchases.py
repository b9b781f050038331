"""/accrue CARD AMOUNT [RECEIPT] and /redeem CARD POINTS RECEIPT_AMOUNT CODE, in one line or as a
guided dialog. A card may be typed as its number or as a phone in any spelling (spaces included)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, Message

from bot.settings import Settings
from db.uow import UnitOfWork
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, local_date, money, percent, pts, tokens_of
from handlers.telegram.staff.keyboards import DialogAction, ask, button, cancel_keyboard, with_cancel
from handlers.telegram.staff.states import AccrueDialog, RedeemDialog
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.ledger import AccrualResult, RedemptionResult
from services.ledger.amounts import parse_money, parse_points
from services.phones import PhonePolicy
from services.staff import StaffView


def _looks_like_spaced_thousands(rest: list[str]) -> bool:
    """`1 500` is 1500 RUB written with a space, or 1 RUB on receipt `500`? Ask rather than guess."""
    return len(rest) == 2 and rest[0].isdigit() and len(rest[0]) <= 3 and rest[1].isdigit() and len(rest[1]) == 3


def render_accrual(result: AccrualResult, tr: Translator, locale: str, settings: Settings) -> str:
    receipt = esc(result.receipt_id)
    if result.mode == "discount":
        text = tr.get(
            locale, "staff-accrue-discount", discount=money(result.discount_kopecks), percent=percent(result.rate_bp),
            amount=money(result.amount_kopecks), receipt=receipt,
        )
    elif result.accrued_points == 0:
        text = tr.get(locale, "staff-accrue-nothing", amount=money(result.amount_kopecks), receipt=receipt)
    else:
        text = tr.get(
            locale, "staff-accrue-done", points=pts(result.accrued_points), amount=money(result.amount_kopecks),
            percent=percent(result.rate_bp), receipt=receipt,
        )
        if result.lot_status == "pending" and result.available_at is not None:
            text += "\n" + tr.get(locale, "staff-accrue-pending", date=local_date(result.available_at, settings))
    text += "\n" + tr.get(
        locale, "staff-card-after", balance=pts(result.card.balance), pending=pts(result.card.pending)
    )
    if result.level_up:
        text += "\n" + tr.get(locale, "staff-accrue-level-up")
    if result.replayed:
        text = tr.get(locale, "staff-receipt-replayed") + "\n" + text
    return text


def render_redemption(result: RedemptionResult, tr: Translator, locale: str, settings: Settings) -> str:
    text = tr.get(locale, "staff-redeem-done", points=pts(result.redeemed_points))
    return text + "\n" + render_accrual(result.accrual, tr, locale, settings)



async def _take_card(
    message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    phone_policy: PhonePolicy, next_state: State, key: str,
) -> None:
    """The card step of a dialog: find the card typed, remember it, show its balance and ask on."""
    assert message.text is not None
    card = await staff_desk.find_card(uow, clock, message.text, phone_policy)
    await state.update_data(card_id=card.id)
    await state.set_state(next_state)
    await message.answer(
        tr.get(locale, key, card=esc(card.number), balance=pts(card.balance)), reply_markup=cancel_keyboard(tr, locale)
    )

def get_router() -> Router:
    router = Router(name="staff-purchases")
    router.message.filter(F.chat.type == "private")

    # /accrue -----------------------------------------------------------------------------------

    async def _accrue(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, settings: Settings,
        member: StaffView | None, card_id: int, amount_kopecks: int, receipt_id: str | None,
    ) -> None:
        result = await staff_desk.accrue(
            uow, clock, by=member, card_id=card_id, amount_kopecks=amount_kopecks, receipt_id=receipt_id
        )
        await message.answer(render_accrual(result, tr, locale, settings))

    @router.message(Command("accrue"))
    async def accrue_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await ask(message, state, AccrueDialog.card, tr, locale, "staff-ask-card")
            return
        if len(tokens) < 2:
            await message.answer(tr.get(locale, "staff-usage-accrue"))
            return
        n = len(tokens)
        card, k = await staff_desk.find_card_in(uow, clock, tokens, phone_policy, (n - 1, n - 2))
        rest = tokens[k:]
        if _looks_like_spaced_thousands(rest):
            await message.answer(tr.get(locale, "staff-accrue-ambiguous", typed=esc(" ".join(rest))))
            return
        amount = parse_money(rest[0])
        receipt = rest[1] if len(rest) > 1 else None
        await _accrue(message, uow, clock, tr, locale, settings, member, card.id, amount, receipt)

    @router.message(AccrueDialog.card, ANSWER, StaffOnly())
    async def accrue_card(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy,
    ) -> None:
        await _take_card(message, state, uow, clock, tr, locale, phone_policy, AccrueDialog.amount, "staff-ask-amount")

    @router.message(AccrueDialog.amount, ANSWER, StaffOnly())
    async def accrue_amount(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        assert message.text is not None
        await state.update_data(amount=parse_money(message.text))
        await state.set_state(AccrueDialog.receipt)
        skip = button(tr.get(locale, "staff-button-no-receipt"), DialogAction(action="skip"))
        await message.answer(tr.get(locale, "staff-ask-receipt"), reply_markup=with_cancel(tr, locale, skip))

    @router.message(AccrueDialog.receipt, ANSWER, StaffOnly())
    async def accrue_receipt(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        data = await state.get_data()
        await _accrue(
            message, uow, clock, tr, locale, settings, staff, data["card_id"], data["amount"], message.text.strip()
        )
        await state.clear()

    @router.callback_query(AccrueDialog.receipt, DialogAction.filter(F.action == "skip"), StaffOnly())
    async def accrue_without_receipt(
        query: CallbackQuery, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, staff: StaffView | None = None,
    ) -> None:
        data = await state.get_data()
        await query.answer()
        assert isinstance(query.message, Message)
        await _accrue(query.message, uow, clock, tr, locale, settings, staff, data["card_id"], data["amount"], None)
        await state.clear()

    # /redeem -----------------------------------------------------------------------------------

    async def _redeem(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, settings: Settings,
        member: StaffView | None, card_id: int, points: int, receipt_kopecks: int, code: str,
    ) -> None:
        result = await staff_desk.redeem(
            uow, clock, by=member, card_id=card_id, points=points, receipt_kopecks=receipt_kopecks, code=code
        )
        await message.answer(render_redemption(result, tr, locale, settings))

    @router.message(Command("redeem"))
    async def redeem_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await ask(message, state, RedeemDialog.card, tr, locale, "staff-ask-card")
            return
        if len(tokens) < 4:
            await message.answer(tr.get(locale, "staff-usage-redeem"))
            return
        card, k = await staff_desk.find_card_in(uow, clock, tokens, phone_policy, (len(tokens) - 3,))
        points_text, amount_text, code = tokens[k:]
        points, amount = parse_points(points_text), parse_money(amount_text, field="receipt_amount")
        await _redeem(message, uow, clock, tr, locale, settings, member, card.id, points, amount, code)

    @router.message(RedeemDialog.card, ANSWER, StaffOnly())
    async def redeem_card(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy,
    ) -> None:
        await _take_card(message, state, uow, clock, tr, locale, phone_policy, RedeemDialog.points, "staff-ask-points")

    @router.message(RedeemDialog.points, ANSWER, StaffOnly())
    async def redeem_points(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        assert message.text is not None
        await state.update_data(points=parse_points(message.text))
        await ask(message, state, RedeemDialog.receipt_amount, tr, locale, "staff-ask-receipt-amount")

    @router.message(RedeemDialog.receipt_amount, ANSWER, StaffOnly())
    async def redeem_amount(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.text is not None
        amount = parse_money(message.text, field="receipt_amount")
        # Before the customer is asked for a code that lives 60 seconds.
        await staff_desk.check_cap(uow, points=(await state.get_data())["points"], receipt_kopecks=amount)
        await state.update_data(amount=amount)
        await ask(message, state, RedeemDialog.code, tr, locale, "staff-ask-code")

    @router.message(RedeemDialog.code, ANSWER, StaffOnly())
    async def redeem_code(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        data = await state.get_data()
        await _redeem(
            message, uow, clock, tr, locale, settings, staff, data["card_id"], data["points"], data["amount"],
            message.text.strip(),
        )
        await state.clear()

    return router
