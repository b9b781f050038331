"""Sharing the contact: the customer proves their phone and gets the phone-number card."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import Message

from db.uow import UnitOfWork
from handlers.telegram.errors import error_text
from handlers.telegram.menu import PRIVATE, main_menu
from handlers.telegram.start import (
    CONSENT_SHOWN_KEY,
    LANGUAGE_KEY,
    contact_keyboard,
    send_registration_prompt,
    stranger_locale,
)
from locales import Translator, points
from services import customers
from services.clock import Clock
from services.consent import POLICY_VERSION
from services.customers import CustomerView, Registration
from services.errors import InvalidName, ValidationFailed
from services.phones import PhonePolicy


def get_router() -> Router:
    router = Router(name="registration")
    router.message.filter(PRIVATE)

    @router.message(F.contact)
    async def contact_shared(
        message: Message, state: FSMContext, tr: Translator, locale: str, uow: UnitOfWork, clock: Clock,
        phone_policy: PhonePolicy, customer: CustomerView | None,
    ) -> None:
        assert message.contact is not None and message.from_user is not None
        if customer is not None:
            await message.answer(
                tr.get(locale, "registration-already", number=customer.card_number or "—"),
                reply_markup=main_menu(tr, locale),
            )
            return
        locale = await stranger_locale(state, locale)
        if message.contact.user_id != message.from_user.id or message.forward_origin is not None:
            # A forwarded or attached contact proves nothing about the sender's phone, and only the
            # button (not a forward) gives the consent shown with it.
            await message.answer(tr.get(locale, "registration-foreign-contact"),
                                 reply_markup=contact_keyboard(tr, locale))
            return
        if (await state.get_data()).get(CONSENT_SHOWN_KEY) != POLICY_VERSION:
            # Consent is given to a text the person saw: show it before taking any data.
            await send_registration_prompt(message, state, uow, tr, locale)
            return
        try:
            result = await _register(message, uow, clock, phone_policy, locale)
        except ValidationFailed as error:
            await message.answer(error_text(tr, locale, error), reply_markup=contact_keyboard(tr, locale))
            return
        data = await state.get_data()
        data.pop(CONSENT_SHOWN_KEY, None)
        data.pop(LANGUAGE_KEY, None)
        await state.set_data(data)  # the start payload stays for the invitation handlers
        await message.answer(_outcome_text(tr, locale, result), reply_markup=main_menu(tr, locale))

    return router


async def _register(
    message: Message, uow: UnitOfWork, clock: Clock, phone_policy: PhonePolicy, locale: str
) -> Registration:
    assert message.contact is not None and message.from_user is not None
    contact, sender = message.contact, message.from_user

    async def attempt(first_name: str | None, last_name: str | None) -> Registration:
        return await customers.register_by_telegram(
            uow, clock, telegram_id=sender.id, phone=contact.phone_number, first_name=first_name,
            last_name=last_name, language=locale, policy_version=POLICY_VERSION, phone_policy=phone_policy,
        )

    try:
        return await attempt(contact.first_name or sender.first_name, contact.last_name or sender.last_name)
    except InvalidName:
        # A Telegram display name ("Anna 2000") is not a name: register without one; the customer
        # can set it in /profile.
        return await attempt(None, None)


def _outcome_text(tr: Translator, locale: str, result: Registration) -> str:
    if result.outcome == "created":
        return tr.get(locale, "registration-created", number=result.card_number or "",
                      points=points(result.welcome_points))
    if result.outcome == "attached":
        return tr.get(locale, "registration-attached", number=result.card_number or "")
    if result.outcome == "conflict":
        return tr.get(locale, "registration-conflict")
    return tr.get(locale, "registration-already", number=result.card_number or "—")
