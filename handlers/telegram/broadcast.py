"""/broadcast for admins: text -> audience -> preview and count -> confirm. Delivery goes through
the outbox (marketing: only customers with consent, checked again at send time); the sender
reports the final counts to the admin, and /outbox shows the progress meanwhile.

Callback prefix: "bcast"."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from db.uow import UnitOfWork
from locales import Translator
from services import broadcasts
from services.clock import Clock
from services.staff import require_staff

MONTHS = 12


class BroadcastStates(StatesGroup):
    text = State()
    audience = State()
    choice = State()
    days = State()
    confirm = State()


class BroadcastAction(CallbackData, prefix="bcast"):
    """action: audience (value = kind) | pick (value = level/store code or month) | send | cancel."""

    action: str
    value: str = ""


def _audience_keyboard(tr: Translator, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for kind in broadcasts.AUDIENCES:
        action = BroadcastAction(action="audience", value=kind)
        builder.button(text=tr.get(locale, f"broadcast-audience-{kind}"), callback_data=action)
    builder.button(text=tr.get(locale, "broadcast-cancel"), callback_data=BroadcastAction(action="cancel"))
    builder.adjust(1)
    return builder.as_markup()


def _choices_keyboard(options: list[tuple[str, str]], tr: Translator, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for value, label in options:
        builder.button(text=label, callback_data=BroadcastAction(action="pick", value=value))
    builder.button(text=tr.get(locale, "broadcast-cancel"), callback_data=BroadcastAction(action="cancel"))
    builder.adjust(3 if len(options) == MONTHS else 1)
    return builder.as_markup()


def _confirm_keyboard(tr: Translator, locale: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=tr.get(locale, "broadcast-send"), callback_data=BroadcastAction(action="send"))
    builder.button(text=tr.get(locale, "broadcast-cancel"), callback_data=BroadcastAction(action="cancel"))
    return builder.as_markup()


async def _preview(
    message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    kind: str, value: str | int | None,
) -> None:
    """Show the text as customers will see it, the number of recipients, and the confirm buttons."""
    who = broadcasts.audience(kind, value)
    count = await broadcasts.count_audience(uow, clock, who)
    data = await state.get_data()
    await state.update_data(kind=who.kind, value=who.value)
    await message.answer(data["text"])
    if count == 0:
        await state.clear()
        await message.answer(tr.get(locale, "broadcast-preview") + "\n" + tr.get(locale, "broadcast-nobody"))
        return
    await state.set_state(BroadcastStates.confirm)
    await message.answer(
        tr.get(locale, "broadcast-preview") + "\n" + tr.get(locale, "broadcast-count", count=count),
        reply_markup=_confirm_keyboard(tr, locale),
    )


def get_router() -> Router:
    router = Router(name="broadcast")
    router.message.filter(F.chat.type == "private")
    in_dialog = StateFilter(BroadcastStates)

    @router.message(Command("broadcast"))
    async def start(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.from_user is not None
        await require_staff(uow, message.from_user.id, "admin")
        await state.set_state(BroadcastStates.text)
        await message.answer(tr.get(locale, "broadcast-ask-text"))

    @router.message(Command("cancel"), in_dialog)
    async def cancel(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        await state.clear()
        await message.answer(tr.get(locale, "broadcast-cancelled"))

    @router.message(BroadcastStates.text, F.text)
    async def got_text(message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str) -> None:
        assert message.from_user is not None
        await require_staff(uow, message.from_user.id, "admin")
        text = broadcasts.check_text(message.html_text)
        # Telegram checks the markup now, on the admin, rather than later on every customer.
        try:
            await message.answer(text)
        except TelegramBadRequest:
            await message.answer(tr.get(locale, "broadcast-preview-failed"))
            return
        await state.update_data(text=text)
        await state.set_state(BroadcastStates.audience)
        await message.answer(tr.get(locale, "broadcast-ask-audience"), reply_markup=_audience_keyboard(tr, locale))

    @router.callback_query(BroadcastAction.filter(F.action == "cancel"))
    async def cancel_button(query: CallbackQuery, state: FSMContext, tr: Translator, locale: str) -> None:
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "broadcast-cancelled"))

    @router.callback_query(BroadcastStates.audience, BroadcastAction.filter(F.action == "audience"))
    async def chose_audience(
        query: CallbackQuery, callback_data: BroadcastAction, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str,
    ) -> None:
        await require_staff(uow, query.from_user.id, "admin")
        await query.answer()
        if not isinstance(query.message, Message):
            return
        kind = callback_data.value
        await state.update_data(kind=kind)
        if kind == "all":
            await _preview(query.message, state, uow, clock, tr, locale, "all", None)
            return
        if kind == "inactive":
            await state.set_state(BroadcastStates.days)
            await query.message.answer(tr.get(locale, "broadcast-ask-days"))
            return
        if kind == "birthday_month":
            options = [(str(m), str(m)) for m in range(1, MONTHS + 1)]
        else:
            choices = await broadcasts.audience_choices(uow)
            pairs = (
                [(code, names.of(locale)) for code, names in choices.levels] if kind == "level" else choices.stores
            )
            options = [(code, f"{name} ({code})") for code, name in pairs]
        if not options:
            await query.message.answer(tr.get(locale, "broadcast-no-choices"))
            return
        await state.set_state(BroadcastStates.choice)
        question = {"level": "broadcast-ask-level", "store": "broadcast-ask-store"}.get(kind, "broadcast-ask-month")
        await query.message.answer(tr.get(locale, question), reply_markup=_choices_keyboard(options, tr, locale))

    @router.callback_query(BroadcastStates.choice, BroadcastAction.filter(F.action == "pick"))
    async def picked(
        query: CallbackQuery, callback_data: BroadcastAction, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str,
    ) -> None:
        await require_staff(uow, query.from_user.id, "admin")
        await query.answer()
        if isinstance(query.message, Message):
            kind = (await state.get_data()).get("kind", "")
            await _preview(query.message, state, uow, clock, tr, locale, kind, callback_data.value)

    @router.message(BroadcastStates.days, F.text)
    async def got_days(
        message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str
    ) -> None:
        assert message.from_user is not None and message.text is not None
        await require_staff(uow, message.from_user.id, "admin")
        await _preview(message, state, uow, clock, tr, locale, "inactive", message.text)

    @router.callback_query(BroadcastStates.confirm, BroadcastAction.filter(F.action == "send"))
    async def send(
        query: CallbackQuery, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str
    ) -> None:
        admin = await require_staff(uow, query.from_user.id, "admin")
        data = await state.get_data()
        await state.clear()  # before queueing: a double tap must not queue twice
        await query.answer()
        who = broadcasts.audience(data["kind"], data.get("value"))
        queued = await broadcasts.start_broadcast(uow, clock, by=admin, text=data["text"], who=who)
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "broadcast-queued", id=queued.id, queued=queued.queued))

    return router
