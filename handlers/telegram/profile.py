"""/profile: name, birthday (once), email, notification switches, marketing consent, language.

Typed values go through a small FSM; the service validates them before anything is written, so a
wrong value leaves the profile as it was and the customer can try again or /cancel.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from db.uow import UnitOfWork
from handlers.telegram.errors import error_text
from handlers.telegram.language import language_keyboard
from handlers.telegram.menu import PRIVATE, PRIVATE_CALLBACK, REGISTERED, button, main_menu
from locales import Translator
from services import customers
from services.clock import Clock
from services.customers import SERVICE_NOTIFICATION_KINDS, CustomerView
from services.errors import DomainError

FIELDS = ("name", "birthday", "email")


class ProfileForm(StatesGroup):
    name = State()
    birthday = State()
    email = State()


class ProfileAction(CallbackData, prefix="prof"):
    # edit (field), notifications, toggle (kind), marketing, language, back
    action: str
    value: str = ""


def _actor(customer: CustomerView) -> str:
    return f"customer:{customer.id}"


def _on_off(tr: Translator, locale: str, enabled: bool) -> str:
    return tr.get(locale, "profile-on" if enabled else "profile-off")


def profile_text(tr: Translator, locale: str, customer: CustomerView) -> str:
    unset = tr.get(locale, "profile-not-set")  # "не указан": телефон, день рождения, e-mail
    name = " ".join(part for part in (customer.name, customer.surname) if part)
    return tr.get(
        locale, "profile-text",
        name=escape(name) if name else tr.get(locale, "profile-not-set-name"),  # "не указано": имя
        birthday=customer.birthday.strftime("%d.%m.%Y") if customer.birthday else unset,
        email=escape(customer.email) if customer.email else unset,
        phone=escape(customer.phone or unset),
        language=tr.get(locale, f"language-name-{customer.language}"),
        marketing=_on_off(tr, locale, customer.marketing_consent),
    )


def _button(text: str, action: str, value: str = "") -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=ProfileAction(action=action, value=value).pack())


def profile_keyboard(tr: Translator, locale: str, customer: CustomerView) -> InlineKeyboardMarkup:
    first_row = [_button(tr.get(locale, "profile-edit-name"), "edit", "name")]
    if customer.birthday is None:
        first_row.append(_button(tr.get(locale, "profile-edit-birthday"), "edit", "birthday"))
    first_row.append(_button(tr.get(locale, "profile-edit-email"), "edit", "email"))
    marketing_key = "profile-marketing-turn-off" if customer.marketing_consent else "profile-marketing-turn-on"
    return InlineKeyboardMarkup(inline_keyboard=[
        first_row,
        [_button(tr.get(locale, "profile-notifications"), "notifications"),
         _button(tr.get(locale, marketing_key), "marketing")],
        [_button(tr.get(locale, "profile-language"), "language")],
    ])


def notifications_text(tr: Translator, locale: str, customer: CustomerView) -> str:
    lines = [tr.get(locale, "profile-notifications-title")]
    for kind in SERVICE_NOTIFICATION_KINDS:
        enabled = kind not in customer.notification_optouts
        lines.append(f"{tr.get(locale, f'profile-kind-{kind}')}: {_on_off(tr, locale, enabled)}")
    return "\n".join(lines)


def notifications_keyboard(tr: Translator, locale: str, customer: CustomerView) -> InlineKeyboardMarkup:
    rows = []
    for kind in SERVICE_NOTIFICATION_KINDS:
        mark = "✅" if kind not in customer.notification_optouts else "⛔"
        rows.append([_button(f"{mark} {tr.get(locale, f'profile-kind-{kind}')}", "toggle", kind)])
    rows.append([_button(tr.get(locale, "profile-back"), "back")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def _edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup) -> None:
    if not isinstance(query.message, Message):
        return
    try:
        await query.message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as error:
        if "not modified" not in error.message:
            raise


def get_router() -> Router:
    router = Router(name="profile")
    router.message.filter(PRIVATE, REGISTERED)
    router.callback_query.filter(PRIVATE_CALLBACK, REGISTERED)

    @router.message(Command("profile"))
    @router.message(button("profile"))
    async def show_profile(message: Message, state: FSMContext, tr: Translator, locale: str,
                           customer: CustomerView) -> None:
        await state.set_state(None)
        await message.answer(profile_text(tr, locale, customer), reply_markup=profile_keyboard(tr, locale, customer))

    @router.message(Command("cancel"))
    async def cancel(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        await state.set_state(None)
        await message.answer(tr.get(locale, "profile-cancelled"), reply_markup=main_menu(tr, locale))

    @router.callback_query(ProfileAction.filter(F.action == "edit"))
    async def ask_value(query: CallbackQuery, callback_data: ProfileAction, state: FSMContext, tr: Translator,
                        locale: str, customer: CustomerView) -> None:
        field = callback_data.value
        if field not in FIELDS:
            await query.answer(tr.get(locale, "menu-button-outdated"), show_alert=True)
            return
        if field == "birthday" and customer.birthday is not None:
            await query.answer(tr.get(locale, "error-birthday_already_set"), show_alert=True)
            return
        await state.set_state(getattr(ProfileForm, field))
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, f"profile-ask-{field}"))

    @router.message(StateFilter(ProfileForm), F.text.startswith("/"))
    async def command_while_typing(message: Message, state: FSMContext) -> None:
        # A command in the middle of typing a value: leave the form and let the command's own
        # router (staff, family, or the fallback) take it, rather than store it as a value.
        await state.set_state(None)
        raise SkipHandler()

    @router.message(StateFilter(ProfileForm), F.text)
    async def receive_value(message: Message, state: FSMContext, tr: Translator, locale: str, uow: UnitOfWork,
                            clock: Clock, customer: CustomerView) -> None:
        assert message.text is not None
        field = (await state.get_state() or "").rpartition(":")[2]
        value = message.text.strip()
        if field == "email" and value == "-":
            value = ""
        try:
            updated = await customers.update_profile(
                uow, clock, customer_id=customer.id, actor=_actor(customer), by_staff=False,
                name=value if field == "name" else None,
                birthday=value if field == "birthday" else None,
                email=value if field == "email" else None,
            )
        except DomainError as error:
            if error.code == "birthday_already_set":
                await state.set_state(None)
            await message.answer(error_text(tr, locale, error))
            return
        await state.set_state(None)
        await message.answer(tr.get(locale, "profile-saved"), reply_markup=main_menu(tr, locale))
        await message.answer(profile_text(tr, locale, updated), reply_markup=profile_keyboard(tr, locale, updated))

    @router.message(StateFilter(ProfileForm))
    async def not_text(message: Message, state: FSMContext, tr: Translator, locale: str) -> None:
        field = (await state.get_state() or "").rpartition(":")[2]
        await message.answer(tr.get(locale, "profile-need-text") + "\n" + tr.get(locale, f"profile-ask-{field}"))

    @router.callback_query(ProfileAction.filter(F.action == "notifications"))
    async def show_notifications(query: CallbackQuery, tr: Translator, locale: str, customer: CustomerView) -> None:
        await query.answer()
        await _edit(query, notifications_text(tr, locale, customer), notifications_keyboard(tr, locale, customer))

    @router.callback_query(ProfileAction.filter(F.action == "toggle"))
    async def toggle(query: CallbackQuery, callback_data: ProfileAction, tr: Translator, locale: str,
                     uow: UnitOfWork, clock: Clock, customer: CustomerView) -> None:
        kind = callback_data.value
        if kind not in SERVICE_NOTIFICATION_KINDS:
            await query.answer(tr.get(locale, "menu-button-outdated"), show_alert=True)
            return
        updated = await customers.set_notification(
            uow, clock, customer_id=customer.id, kind=kind, enabled=kind in customer.notification_optouts,
            actor=_actor(customer),
        )
        await query.answer(tr.get(locale, "profile-saved"))
        await _edit(query, notifications_text(tr, locale, updated), notifications_keyboard(tr, locale, updated))

    @router.callback_query(ProfileAction.filter(F.action == "marketing"))
    async def toggle_marketing(query: CallbackQuery, tr: Translator, locale: str, uow: UnitOfWork, clock: Clock,
                               customer: CustomerView) -> None:
        updated = await customers.set_marketing_consent(
            uow, clock, customer_id=customer.id, consent=not customer.marketing_consent, actor=_actor(customer)
        )
        await query.answer(tr.get(locale, "profile-saved"))
        await _edit(query, profile_text(tr, locale, updated), profile_keyboard(tr, locale, updated))

    @router.callback_query(ProfileAction.filter(F.action == "language"))
    async def choose_language(query: CallbackQuery, tr: Translator, locale: str) -> None:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "language-choose"), reply_markup=language_keyboard())

    @router.callback_query(ProfileAction.filter(F.action == "back"))
    async def back(query: CallbackQuery, tr: Translator, locale: str, customer: CustomerView) -> None:
        await query.answer()
        await _edit(query, profile_text(tr, locale, customer), profile_keyboard(tr, locale, customer))

    return router
