"""/accrue CARD AMOUNT [RECEIPT] and /redeem CARD POINTS RECEIPT_AMOUNT CODE, in one line or as a
guided dialog. A card may be typed as its number or as a phone in any spelling (spaces included).

Money-moving dialogs never guess:
- a refused answer says what was wrong, what is allowed and which value to type again, and the
  dialog stays at that step (handlers/telegram/staff/refusals.py);
- before a redemption, and before an accrual above the `confirm_accrual_above_rub` setting, the
  cashier sees a summary (customer, card, receipt, points paid, points to earn) with Confirm and
  Cancel. The pending operation waits in the FSM data; its receipt id comes from the message that
  started it (staff_desk.TillOrigin), so a second press, a redelivered callback or a redelivered
  command is the same receipt, which the ledger answers with its first result;
- the customer's code is checked when typed (a typo is caught before the summary) and again, and
  used, in the transaction that spends the points when Confirm is pressed: points never move on a
  code that expired while the summary was read;
- after the commit, a failed answer says what was committed (handlers/telegram/staff/committed.py).
"""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.settings import Settings
from db.uow import UnitOfWork
from handlers.telegram.committed import answer_committed
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, local_date, money, percent, pts, tokens_of
from handlers.telegram.staff.keyboards import (
    DialogAction,
    ask,
    button,
    cancel_button,
    cancel_keyboard,
    column,
    with_cancel,
)
from handlers.telegram.staff.refusals import refuse
from handlers.telegram.staff.states import AccrueDialog, ConfirmDialog, RedeemDialog
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.errors import BadCode, CodeAlreadyUsed, DomainError
from services.ledger import AccrualResult, RedemptionResult
from services.ledger.amounts import parse_money, parse_points
from services.phones import PhonePolicy
from services.staff import StaffView
from services.staff_desk import TillOrigin, TillSummary

PENDING = "pending"  # FSM data: the operation a summary waits to have confirmed


class TillConfirm(CallbackData, prefix="stk"):
    """Confirm (`ok`) or cancel the summary of the operation started by message `origin`: a press on
    an older summary never confirms a newer one."""

    ok: bool
    origin: int


def _looks_like_spaced_thousands(rest: list[str]) -> bool:
    """`1 500` is 1500 RUB written with a space, or 1 RUB on receipt `500`? Ask rather than guess."""
    return len(rest) == 2 and rest[0].isdigit() and len(rest[0]) <= 3 and rest[1].isdigit() and len(rest[1]) == 3


def origin_of(message: Message) -> TillOrigin:
    return TillOrigin(message.chat.id, message.message_id)


def _dialog_origin(message: Message, data: dict[str, Any]) -> TillOrigin:
    """The command that opened the dialog (remembered by `_open_dialog`)."""
    return TillOrigin(message.chat.id, int(data.get("origin", message.message_id)))


async def _open_dialog(message: Message, state: FSMContext, first: State, tr: Translator, locale: str) -> None:
    await state.update_data(origin=message.message_id)
    await ask(message, state, first, tr, locale, "staff-ask-card")


def render_accrual(
    result: AccrualResult, tr: Translator, locale: str, settings: Settings, *, say_replayed: bool = True
) -> str:
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
    if result.replayed and say_replayed:
        text = tr.get(locale, "staff-receipt-replayed") + "\n" + text
    return text


def render_redemption(result: RedemptionResult, tr: Translator, locale: str, settings: Settings) -> str:
    text = tr.get(locale, "staff-redeem-done", points=pts(result.redeemed_points))
    text += "\n" + render_accrual(result.accrual, tr, locale, settings, say_replayed=False)
    if result.replayed:
        text = tr.get(locale, "staff-receipt-replayed") + "\n" + text
    return text


def render_summary(summary: TillSummary, tr: Translator, locale: str, *, title: str, **title_args: Any) -> str:
    lines = [tr.get(locale, title, **title_args)]
    if summary.customer_name is None:
        lines.append(tr.get(locale, "staff-summary-no-customer"))
    else:
        who = esc(summary.customer_name) + (f", {esc(summary.customer_phone)}" if summary.customer_phone else "")
        lines.append(tr.get(locale, "staff-summary-customer", name=who))
    lines.append(tr.get(locale, "staff-summary-card", card=esc(summary.card_number)))
    lines.append(tr.get(
        locale, "staff-summary-receipt", receipt=esc(summary.receipt_id), amount=money(summary.amount_kopecks)
    ))
    lines.append(tr.get(locale, "staff-summary-paid", points=pts(summary.points)))
    if summary.mode == "discount":
        lines.append(tr.get(locale, "staff-summary-discount", discount=money(summary.discount_kopecks)))
    else:
        lines.append(tr.get(locale, "staff-summary-earn", points=pts(summary.points_to_earn)))
    return "\n".join(lines)


def confirm_keyboard(tr: Translator, locale: str, origin: TillOrigin) -> InlineKeyboardMarkup:
    return column(
        button(tr.get(locale, "staff-button-confirm"), TillConfirm(ok=True, origin=origin.message_id)),
        button(tr.get(locale, "staff-button-cancel-operation"), TillConfirm(ok=False, origin=origin.message_id)),
    )


async def _take_card(
    message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    phone_policy: PhonePolicy, next_state: State, key: str,
) -> None:
    """The card step of a dialog: find the card typed, remember it, show its balance and ask on."""
    assert message.text is not None
    card = await staff_desk.find_card(uow, clock, message.text, phone_policy)
    await state.update_data(card_id=card.id, card=card.number)
    await state.set_state(next_state)
    await message.answer(
        tr.get(locale, key, card=esc(card.number), balance=pts(card.balance)), reply_markup=cancel_keyboard(tr, locale)
    )


def get_router() -> Router:
    router = Router(name="staff-purchases")
    router.message.filter(F.chat.type == "private")

    # Posting and confirming --------------------------------------------------------------------

    async def _post(
        message: Message, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, settings: Settings,
        member: StaffView | None, pending: dict[str, Any],
    ) -> None:
        """Post the operation `pending` describes and say what was posted (or what it was before)."""
        origin = TillOrigin(pending["chat"], pending["origin"])
        text: str
        if pending["op"] == "redeem":
            redeemed = await staff_desk.redeem(
                uow, clock, by=member, card_id=pending["card_id"], points=pending["points"],
                receipt_kopecks=pending["amount"], code=pending["code"], receipt_id=pending["receipt"], origin=origin,
            )
            text = render_redemption(redeemed, tr, locale, settings)
        else:
            accrued = await staff_desk.accrue(
                uow, clock, by=member, card_id=pending["card_id"], amount_kopecks=pending["amount"],
                receipt_id=pending["receipt"], origin=origin,
            )
            text = render_accrual(accrued, tr, locale, settings)
        await answer_committed(message, text, tr=tr, locale=locale, card_number=pending["card"])

    async def _post_or_confirm(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, phone_policy: PhonePolicy, member: StaffView | None, pending: dict[str, Any],
    ) -> None:
        """Post at once what needs no confirmation (and what was posted before: a redelivered command
        gets the first result, or the conflict); else show the summary and wait for Confirm."""
        origin = TillOrigin(pending["chat"], pending["origin"])
        pending["receipt"] = staff_desk.receipt_of(pending["receipt"], origin)
        needs = await staff_desk.check_receipt(uow, amount_kopecks=pending["amount"], points=pending["points"])
        if not needs or await staff_desk.posted(uow, clock, by=member, receipt_id=pending["receipt"]) is not None:
            await _post(message, uow, clock, tr, locale, settings, member, pending)
            await state.clear()
            return
        summary = await staff_desk.summarize(
            uow, clock, by=member, card_id=pending["card_id"], amount_kopecks=pending["amount"],
            points=pending["points"], receipt_id=pending["receipt"], policy=phone_policy,
        )
        if pending["op"] == "redeem":
            text = render_summary(summary, tr, locale, title="staff-summary-title-redeem")
        else:
            text = render_summary(summary, tr, locale, title="staff-summary-title-accrue",
                                  threshold=money(summary.confirm_above_kopecks))
        await state.set_state(ConfirmDialog.pending)
        await state.update_data({PENDING: pending})
        await message.answer(text, reply_markup=confirm_keyboard(tr, locale, origin))

    @router.callback_query(TillConfirm.filter(), StaffOnly())
    async def confirm(
        query: CallbackQuery, callback_data: TillConfirm, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, settings: Settings, staff: StaffView | None = None,
    ) -> None:
        pending = (await state.get_data()).get(PENDING)
        current = await state.get_state()
        if current != ConfirmDialog.pending.state or not pending or pending["origin"] != callback_data.origin:
            # Posted already (a second press, a redelivered callback), cancelled, or superseded.
            await query.answer(tr.get(locale, "staff-confirm-stale"), show_alert=True)
            return
        await query.answer()
        assert isinstance(query.message, Message)
        if not callback_data.ok:
            await state.clear()
            await query.message.answer(tr.get(locale, "staff-confirm-cancelled"))
            return
        try:
            await _post(query.message, uow, clock, tr, locale, settings, staff, pending)
        except (BadCode, CodeAlreadyUsed):
            # The code expired (or was used) while the summary was read: nothing was spent. A new
            # code brings the summary back.
            await state.set_data({key: pending[key] for key in ("card_id", "card", "points", "amount", "origin")})
            await state.set_state(RedeemDialog.code)
            await query.message.answer(
                tr.get(locale, "staff-confirm-code-stale"), reply_markup=cancel_keyboard(tr, locale)
            )
            return
        await state.clear()

    # /accrue -----------------------------------------------------------------------------------

    def _accrual(message: Message, origin: TillOrigin, card_id: int, card: str, amount: int,
                 receipt: str | None) -> dict[str, Any]:
        return {"op": "accrue", "chat": message.chat.id, "origin": origin.message_id, "card_id": card_id,
                "card": card, "amount": amount, "points": 0, "code": None, "receipt": receipt}

    @router.message(Command("accrue"))
    async def accrue_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await _open_dialog(message, state, AccrueDialog.card, tr, locale)
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
        pending = _accrual(message, origin_of(message), card.id, card.number, amount, receipt)
        await _post_or_confirm(message, state, uow, clock, tr, locale, settings, phone_policy, member, pending)

    @router.message(AccrueDialog.card, ANSWER, StaffOnly())
    async def accrue_card(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy,
    ) -> None:
        await _take_card(message, state, uow, clock, tr, locale, phone_policy, AccrueDialog.amount, "staff-ask-amount")

    @router.message(AccrueDialog.amount, ANSWER, StaffOnly())
    async def accrue_amount(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.text is not None
        try:
            amount = parse_money(message.text)
            await staff_desk.check_receipt(uow, amount_kopecks=amount)
        except DomainError as refusal:
            await refuse(message, tr, locale, refusal, "staff-again-amount")
            return
        await state.update_data(amount=amount)
        await state.set_state(AccrueDialog.receipt)
        skip = button(tr.get(locale, "staff-button-no-receipt"), DialogAction(action="skip"))
        await message.answer(
            tr.get(locale, "staff-ask-receipt-for", amount=money(amount)),
            reply_markup=with_cancel(tr, locale, skip),
        )

    async def _accrue_from_dialog(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, phone_policy: PhonePolicy, member: StaffView | None, receipt: str | None,
    ) -> None:
        data = await state.get_data()
        origin = _dialog_origin(message, data)
        pending = _accrual(message, origin, data["card_id"], data["card"], data["amount"], receipt)
        await _post_or_confirm(message, state, uow, clock, tr, locale, settings, phone_policy, member, pending)

    @router.message(AccrueDialog.receipt, ANSWER, StaffOnly())
    async def accrue_receipt(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        await _accrue_from_dialog(
            message, state, uow, clock, tr, locale, settings, phone_policy, staff, message.text.strip()
        )

    @router.callback_query(AccrueDialog.receipt, DialogAction.filter(F.action == "skip"), StaffOnly())
    async def accrue_without_receipt(
        query: CallbackQuery, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await _accrue_from_dialog(query.message, state, uow, clock, tr, locale, settings, phone_policy, staff, None)

    # /redeem -----------------------------------------------------------------------------------

    def _redemption(message: Message, origin: TillOrigin, card_id: int, card: str, points: int, amount: int,
                    code: str) -> dict[str, Any]:
        return {"op": "redeem", "chat": message.chat.id, "origin": origin.message_id, "card_id": card_id,
                "card": card, "amount": amount, "points": points, "code": code.strip(), "receipt": None}

    @router.message(Command("redeem"))
    async def redeem_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        tokens = tokens_of(command)
        if not tokens:
            await _open_dialog(message, state, RedeemDialog.card, tr, locale)
            return
        if len(tokens) < 4:
            await message.answer(tr.get(locale, "staff-usage-redeem"))
            return
        card, k = await staff_desk.find_card_in(uow, clock, tokens, phone_policy, (len(tokens) - 3,))
        points_text, amount_text, code = tokens[k:]
        points, amount = parse_points(points_text), parse_money(amount_text, field="receipt_amount")
        origin = origin_of(message)
        pending = _redemption(message, origin, card.id, card.number, points, amount, code)
        if await staff_desk.posted(uow, clock, by=member, receipt_id=origin.key) is None:  # else: a redelivery
            await staff_desk.check_receipt(uow, amount_kopecks=amount, points=points)
            await staff_desk.check_code(uow, clock, by=member, card_id=card.id, code=code)
        await _post_or_confirm(message, state, uow, clock, tr, locale, settings, phone_policy, member, pending)

    @router.message(RedeemDialog.card, ANSWER, StaffOnly())
    async def redeem_card(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        phone_policy: PhonePolicy,
    ) -> None:
        await _take_card(message, state, uow, clock, tr, locale, phone_policy, RedeemDialog.points, "staff-ask-points")

    @router.message(RedeemDialog.points, ANSWER, StaffOnly())
    async def redeem_points(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        assert message.text is not None
        try:
            points = parse_points(message.text)
        except DomainError as refusal:
            await refuse(message, tr, locale, refusal, "staff-again-points")
            return
        await state.update_data(points=points)
        await state.set_state(RedeemDialog.receipt_amount)
        await message.answer(
            tr.get(locale, "staff-ask-receipt-amount-for", points=pts(points)),
            reply_markup=cancel_keyboard(tr, locale),
        )

    @router.message(RedeemDialog.receipt_amount, ANSWER, StaffOnly())
    async def redeem_amount(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.text is not None
        points = (await state.get_data())["points"]
        try:
            amount = parse_money(message.text, field="receipt_amount")
            # Before the customer is asked for a code that lives 60 seconds.
            await staff_desk.check_receipt(uow, amount_kopecks=amount, points=points)
        except DomainError as refusal:
            change = button(tr.get(locale, "staff-button-change-points"), DialogAction(action="points"))
            await refuse(message, tr, locale, refusal, "staff-again-receipt-amount",
                         column(change, cancel_button(tr, locale)))
            return
        await state.update_data(amount=amount)
        await state.set_state(RedeemDialog.code)
        # The amount taken is said back: a code typed here by mistake shows up as an odd receipt.
        await message.answer(
            tr.get(locale, "staff-ask-code-for", amount=money(amount), points=pts(points)),
            reply_markup=cancel_keyboard(tr, locale),
        )

    @router.callback_query(RedeemDialog.receipt_amount, DialogAction.filter(F.action == "points"), StaffOnly())
    async def redeem_change_points(query: CallbackQuery, state: FSMContext, tr: Translator, locale: str) -> None:
        await query.answer()
        assert isinstance(query.message, Message)
        await ask(query.message, state, RedeemDialog.points, tr, locale, "staff-ask-points-again")

    @router.message(RedeemDialog.code, ANSWER, StaffOnly())
    async def redeem_code(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        settings: Settings, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        data = await state.get_data()
        try:
            await staff_desk.check_code(uow, clock, by=staff, card_id=data["card_id"], code=message.text)
        except (BadCode, CodeAlreadyUsed) as refusal:
            await refuse(message, tr, locale, refusal, "staff-again-code")
            return
        pending = _redemption(
            message, _dialog_origin(message, data), data["card_id"], data["card"], data["points"], data["amount"],
            message.text,
        )
        await _post_or_confirm(message, state, uow, clock, tr, locale, settings, phone_policy, staff, pending)

    return router
