"""/card: the card number as a QR code and a Code 128 barcode, its status and level, and the
current 6-digit redemption code with a button that refreshes it in place."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command
from aiogram.filters.callback_data import CallbackData
from aiogram.types import BufferedInputFile, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, PRIVATE_CALLBACK, REGISTERED, button, main_menu
from locales import Translator, points
from services.card_images import card_png
from services.clock import Clock
from services.customer_views import CardScreen, card_screen
from services.customers import CustomerView
from services.levels import LevelNames


class CardAction(CallbackData, prefix="card"):
    action: str  # "refresh"; the card is always the sender's own, never named here


def level_label(locale: str, names: LevelNames) -> str:
    """The level's name in the reader's language (levels are program data, named per language)."""
    return escape(names.of(locale))


def no_card_text(tr: Translator, locale: str) -> str:
    return tr.get(locale, "card-none")


def _caption(tr: Translator, locale: str, screen: CardScreen) -> str:
    head = tr.get(
        locale, "card-caption", number=screen.number, status=tr.get(locale, f"card-status-{screen.status}"),
        level=level_label(locale, screen.level_names), points=points(screen.available),
    )
    if not screen.can_pay:
        # No code where it cannot be used: a blocked or earning-only card, or outside its dates.
        return f"{head}\n\n{tr.get(locale, 'card-no-payment')}"
    return f"{head}\n\n{tr.get(locale, 'card-code', code=screen.code, seconds=screen.seconds_left)}"


def _keyboard(tr: Translator, locale: str, screen: CardScreen) -> InlineKeyboardMarkup | None:
    if not screen.can_pay:
        return None
    data = CardAction(action="refresh").pack()
    refresh = InlineKeyboardButton(text=tr.get(locale, "card-refresh"), callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=[[refresh]])


async def _send_card(message: Message, screen: CardScreen, tr: Translator, locale: str) -> None:
    photo = BufferedInputFile(card_png(screen.number), filename=f"card-{screen.number}.png")
    markup = _keyboard(tr, locale, screen)
    await message.answer_photo(photo, caption=_caption(tr, locale, screen), reply_markup=markup)


def get_router() -> Router:
    router = Router(name="card")
    router.message.filter(PRIVATE, REGISTERED)
    router.callback_query.filter(PRIVATE_CALLBACK, REGISTERED)

    @router.message(Command("card"))
    @router.message(button("card"))
    async def show_card(
        message: Message, tr: Translator, locale: str, uow: UnitOfWork, clock: Clock, customer: CustomerView
    ) -> None:
        if customer.card_id is None:
            await message.answer(no_card_text(tr, locale), reply_markup=main_menu(tr, locale))
            return
        await _send_card(message, await card_screen(uow, clock, customer.card_id), tr, locale)

    @router.callback_query(CardAction.filter(F.action == "refresh"))
    async def refresh(
        query: CallbackQuery, tr: Translator, locale: str, uow: UnitOfWork, clock: Clock, customer: CustomerView
    ) -> None:
        if customer.card_id is None:
            await query.answer(no_card_text(tr, locale), show_alert=True)
            return
        screen = await card_screen(uow, clock, customer.card_id)
        message = query.message
        if not isinstance(message, Message) or screen.number not in (message.caption or ""):
            # The button belongs to a message we can no longer edit, or to a card this account no
            # longer has (deleted and registered again): show the current card afresh.
            await query.answer()
            if message is not None:
                await query.bot.send_photo(  # type: ignore[union-attr]
                    message.chat.id, BufferedInputFile(card_png(screen.number), filename="card.png"),
                    caption=_caption(tr, locale, screen), reply_markup=_keyboard(tr, locale, screen),
                )
            return
        try:
            markup = _keyboard(tr, locale, screen)
            await message.edit_caption(caption=_caption(tr, locale, screen), reply_markup=markup)
        except TelegramBadRequest as error:
            if "not modified" not in error.message:
                raise
        await query.answer(tr.get(locale, "card-refreshed"))

    return router
