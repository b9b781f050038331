"""/history: the card's operations, newest first, 10 a page, Previous/Next editing one message.

The callback data carries only a position in the history (a keyset cursor and a page number for
the label). The card is always the sender's own, taken from the identity middleware, so editing
the data can at most move within one's own history; a malformed cursor is answered as outdated.
"""

from __future__ import annotations

from html import escape
from zoneinfo import ZoneInfo

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from db.uow import UnitOfWork
from handlers.telegram.card import no_card_text
from handlers.telegram.menu import PRIVATE, PRIVATE_CALLBACK, REGISTERED, button, main_menu
from locales import Translator, money, percent, points
from services.customers import CustomerView
from services.errors import ValidationFailed
from services.ledger import HistoryPage, HistoryRow, get_history
from services.ledger.amounts import format_points
from services.program import get_settings

PAGE_SIZE = 10
# The one kind whose stored reason is words a person wrote for the customer (the adjustment's
# reason); every other reason is a system tag with internal ids ("refund RF-2", "debt repaid from
# operation 17", "opening balance, import line 5"), which the kind's own name already says better.
_WRITTEN_BY_A_PERSON = frozenset({"manual_adjustment"})
_MAX_PAGE = 10_000


class HistoryNav(CallbackData, prefix="hist", sep="|"):
    # "older" = Next (before=cursor), "newer" = Previous (after=cursor), "first" = back to the top.
    direction: str
    cursor: str = ""
    page: int = 1


def _signed(units: int, locale: str) -> str:
    text = format_points(units, locale=locale)
    return text if units < 0 else f"+{text}"


def _row_text(tr: Translator, locale: str, row: HistoryRow, tz: ZoneInfo) -> str:
    when = row.created_at.astimezone(tz).strftime("%d.%m.%Y %H:%M")
    what = tr.get(locale, f"history-kind-{row.kind}") if tr.has(f"history-kind-{row.kind}") else row.kind
    head = tr.get(locale, "history-line", when=when, what=what, points=_signed(row.points, locale))
    details: list[str] = []
    if row.store_name:
        details.append(tr.get(locale, "history-where", store=escape(row.store_name)))
    if row.receipt_id:
        if row.receipt_kopecks is not None:
            details.append(tr.get(locale, "history-receipt-amount", receipt=escape(row.receipt_id),
                                  amount=money(row.receipt_kopecks)))
        else:
            details.append(tr.get(locale, "history-receipt", receipt=escape(row.receipt_id)))
    if row.rate_bp is not None:
        details.append(tr.get(locale, "history-rate", rate=percent(row.rate_bp)))
    if row.debt_repaid:
        details.append(tr.get(locale, "history-debt-repaid", points=points(row.debt_repaid)))
    if row.reason and row.kind in _WRITTEN_BY_A_PERSON:
        details.append(tr.get(locale, "history-reason", reason=escape(row.reason)))
    return head if not details else f"{head}\n    " + " · ".join(details)


def _page_text(tr: Translator, locale: str, page: HistoryPage, number: int, tz: ZoneInfo) -> str:
    title = tr.get(locale, "history-title", page=number)
    return "\n\n".join([title, *(_row_text(tr, locale, row, tz) for row in page.rows)])


def _keyboard(tr: Translator, locale: str, page: HistoryPage, number: int) -> InlineKeyboardMarkup | None:
    buttons: list[InlineKeyboardButton] = []
    if page.has_newer and page.newer_cursor:
        data = HistoryNav(direction="newer", cursor=page.newer_cursor, page=number - 1).pack()
        buttons.append(InlineKeyboardButton(text=tr.get(locale, "history-previous"), callback_data=data))
    if page.has_older and page.older_cursor:
        data = HistoryNav(direction="older", cursor=page.older_cursor, page=number + 1).pack()
        buttons.append(InlineKeyboardButton(text=tr.get(locale, "history-next"), callback_data=data))
    return InlineKeyboardMarkup(inline_keyboard=[buttons]) if buttons else None


def _first_page_keyboard(tr: Translator, locale: str) -> InlineKeyboardMarkup:
    data = HistoryNav(direction="first").pack()
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=tr.get(locale, "history-to-start"), callback_data=data)]]
    )


def get_router() -> Router:
    router = Router(name="history")
    router.message.filter(PRIVATE, REGISTERED)
    router.callback_query.filter(PRIVATE_CALLBACK, REGISTERED)

    @router.message(Command("history"))
    @router.message(button("history"))
    async def show_history(message: Message, tr: Translator, locale: str, uow: UnitOfWork,
                           customer: CustomerView) -> None:
        if customer.card_id is None:
            await message.answer(no_card_text(tr, locale), reply_markup=main_menu(tr, locale))
            return
        page = await get_history(uow, customer.card_id, limit=PAGE_SIZE)
        if not page.rows:
            await message.answer(tr.get(locale, "history-empty"), reply_markup=main_menu(tr, locale))
            return
        tz = (await get_settings(uow)).tz
        await message.answer(_page_text(tr, locale, page, 1, tz), reply_markup=_keyboard(tr, locale, page, 1))

    @router.callback_query(HistoryNav.filter(F.direction.in_({"older", "newer", "first"})))
    async def turn_page(query: CallbackQuery, callback_data: HistoryNav, tr: Translator, locale: str,
                        uow: UnitOfWork, customer: CustomerView) -> None:
        if customer.card_id is None:
            await query.answer(no_card_text(tr, locale), show_alert=True)
            return
        cursor = callback_data.cursor or None
        try:
            if callback_data.direction == "first" or cursor is None:
                page = await get_history(uow, customer.card_id, limit=PAGE_SIZE)
            elif callback_data.direction == "older":
                page = await get_history(uow, customer.card_id, limit=PAGE_SIZE, before=cursor)
            else:
                page = await get_history(uow, customer.card_id, limit=PAGE_SIZE, after=cursor)
        except ValidationFailed:
            await query.answer(tr.get(locale, "menu-button-outdated"), show_alert=True)
            return
        # The label is cosmetic; the first page is known for sure.
        number = min(max(callback_data.page, 2), _MAX_PAGE) if page.has_newer else 1
        if page.rows:
            text, markup = _page_text(tr, locale, page, number, (await get_settings(uow)).tz), _keyboard(
                tr, locale, page, number)
        else:
            text, markup = tr.get(locale, "history-nothing-here"), _first_page_keyboard(tr, locale)
        await query.answer()
        if not isinstance(query.message, Message):
            return
        try:
            await query.message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise

    return router
