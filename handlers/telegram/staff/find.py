"""/find: customers by phone, card, surname, birthday or code word, and the customer card."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.settings import Settings
from db.uow import UnitOfWork
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import ANSWER, esc, local_date, local_datetime, pts, signed_pts
from handlers.telegram.staff.keyboards import (
    LINKS_CALLBACK,
    EraseCustomer,
    FindPage,
    OpenCustomer,
    ask,
    button,
    column,
)
from handlers.telegram.staff.states import FindDialog
from locales import Translator
from services import staff_desk
from services.clock import Clock
from services.customers import CustomerView
from services.phones import PhonePolicy
from services.staff import StaffView
from services.staff_desk import SEARCH_PAGE, CustomerCard

# What the last search found, kept so that the page buttons can show more of it: its count and the
# matches' internal ids, never the query (a phone typed as a query is personal data, and a staff
# member's dialog data outlives any customer's erasure).
MATCHES_KEY = "find_matches"


def _result_label(customer: CustomerView) -> str:
    parts = [customer.full_name, customer.phone or "", customer.card_number or ""]
    return " · ".join(part for part in parts if part)


def render_customer_card(card: CustomerCard, tr: Translator, locale: str, settings: Settings) -> str:
    customer = card.customer
    lines = [
        tr.get(locale, "staff-card-name", name=esc(customer.full_name)),
        tr.get(locale, "staff-card-phone", phone=esc(customer.phone or "—")),
    ]
    if customer.birthday is not None:  # None for cashiers: they do not see birthdays
        lines.append(tr.get(locale, "staff-card-birthday", date=customer.birthday.strftime("%d.%m.%Y")))
    if card.balance is None:
        lines.append(tr.get(locale, "staff-card-no-card"))
        return "\n".join(lines)
    balance = card.balance
    lines += [
        tr.get(
            locale, "staff-card-card", number=esc(balance.card_number),
            status=tr.get(locale, f"staff-status-{card.card_status or 'active'}"),
        ),
        tr.get(locale, "staff-card-level", level=esc(balance.level_names.of(locale))),
        tr.get(locale, "staff-card-balance", balance=pts(balance.available), pending=pts(balance.pending)),
    ]
    if balance.debt:
        lines.append(tr.get(locale, "staff-card-debt", debt=pts(balance.debt)))
    if balance.expiring_at is not None and balance.expiring_points:
        lines.append(
            tr.get(
                locale, "staff-card-expiring", points=pts(balance.expiring_points),
                date=local_date(balance.expiring_at, settings),
            )
        )
    if card.operations:
        lines.append(tr.get(locale, "staff-card-operations"))
        for row in card.operations:
            lines.append(
                tr.get(
                    locale, "staff-card-operation", at=local_datetime(row.created_at, settings),
                    kind=tr.get(locale, f"staff-op-{row.kind}"), points=signed_pts(row.points, locale),
                    receipt=esc(row.receipt_id or ""),
                )
            )
    else:
        lines.append(tr.get(locale, "staff-card-no-operations"))
    return "\n".join(lines)


def customer_card_keyboard(
    customer_id: int, tr: Translator, locale: str, *, can_erase: bool = False
) -> InlineKeyboardMarkup:
    buttons = [button(tr.get(locale, "staff-card-links"), LINKS_CALLBACK.format(customer_id=customer_id))]
    if can_erase:
        buttons.append(button(tr.get(locale, "staff-card-erase"), EraseCustomer(action="ask", customer_id=customer_id)))
    return column(*buttons)


async def _answer_search(
    message: Message, state: FSMContext, query: str, uow: UnitOfWork, tr: Translator, locale: str,
    member: StaffView | None, phone_policy: PhonePolicy,
) -> None:
    found = await staff_desk.search(uow, by=member, query=query, policy=phone_policy)
    if not found.total:
        await message.answer(tr.get(locale, "staff-find-none", query=esc(query)))
        return
    await state.update_data({MATCHES_KEY: {"total": found.total, "ids": found.ids}})
    await _answer_page(message, found.total, found.ids, 0, uow, tr, locale, member)


async def _answer_page(
    message: Message, total: int, ids: list[int], offset: int, uow: UnitOfWork, tr: Translator, locale: str,
    member: StaffView | None,
) -> None:
    items = await staff_desk.search_page(uow, by=member, ids=ids, offset=offset)
    buttons = [button(_result_label(c), OpenCustomer(customer_id=c.id)) for c in items]
    shown = min(offset + SEARCH_PAGE, len(ids))
    paging = []
    if offset > 0:
        paging.append(button(tr.get(locale, "staff-find-previous"), FindPage(offset=max(offset - SEARCH_PAGE, 0))))
    if shown < len(ids):
        paging.append(button(tr.get(locale, "staff-find-next"), FindPage(offset=shown)))
    keyboard = column(*buttons)
    if paging:
        keyboard.inline_keyboard.append(paging)
    text = tr.get(
        locale, "staff-find-found", count=total, paged="no" if shown - offset == total else "yes",
        first=offset + 1, last=shown,
    )
    await message.answer(text, reply_markup=keyboard)


def get_router() -> Router:
    router = Router(name="staff-find")
    router.message.filter(F.chat.type == "private")

    @router.message(Command("find"))
    async def find_command(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, tr: Translator,
        locale: str, phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        member = require(staff)
        await state.clear()
        if command.args and command.args.strip():
            await _answer_search(message, state, command.args.strip(), uow, tr, locale, member, phone_policy)
            return
        await ask(message, state, FindDialog.query, tr, locale, "staff-ask-query")

    @router.message(FindDialog.query, ANSWER, StaffOnly())
    async def find_answer(
        message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str,
        phone_policy: PhonePolicy, staff: StaffView | None = None,
    ) -> None:
        assert message.text is not None
        await state.clear()
        await _answer_search(message, state, message.text.strip(), uow, tr, locale, staff, phone_policy)

    @router.callback_query(FindPage.filter(), StaffOnly())
    async def another_page(
        query: CallbackQuery, callback_data: FindPage, state: FSMContext, uow: UnitOfWork, tr: Translator,
        locale: str, staff: StaffView | None = None,
    ) -> None:
        last = (await state.get_data()).get(MATCHES_KEY)
        if not isinstance(last, dict) or not isinstance(query.message, Message):
            await query.answer(tr.get(locale, "staff-find-stale"), show_alert=True)
            return
        await query.answer()
        await _answer_page(query.message, last["total"], last["ids"], callback_data.offset, uow, tr, locale, staff)

    @router.callback_query(OpenCustomer.filter())
    async def open_customer(
        query: CallbackQuery, callback_data: OpenCustomer, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, settings: Settings, staff: StaffView | None = None,
    ) -> None:
        card = await staff_desk.customer_card(uow, clock, by=staff, customer_id=callback_data.customer_id)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(
                render_customer_card(card, tr, locale, settings),
                reply_markup=customer_card_keyboard(
                    card.customer.id, tr, locale, can_erase=staff is not None and staff.at_least("manager")
                ),
            )

    return router
