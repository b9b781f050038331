"""/start: the welcome, the data-processing consent and the one button that shares the contact.

A deep-link payload (`/start <payload>`) is kept in the FSM data under START_PAYLOAD_KEY, so that
invitations (family `family-<code>`, staff `staff-<code>`) can be handled once the person is known:
their routers read it with `start_payload(state)`; this module does not interpret it.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup

from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, main_menu
from locales import Translator, percent
from services.consent import POLICY_VERSION
from services.customers import CustomerView
from services.program import get_settings

START_PAYLOAD_KEY = "start_payload"
# The policy version whose text this chat was shown; sharing a contact gives consent to it.
CONSENT_SHOWN_KEY = "consent_shown"
# A stranger's language chosen with /language before registering (a customer's lives in the database).
LANGUAGE_KEY = "language"
_PAYLOAD_MAX = 64  # Telegram's own limit for deep-link payloads


async def start_payload(state: FSMContext) -> str | None:
    value = (await state.get_data()).get(START_PAYLOAD_KEY)
    return value if isinstance(value, str) else None


async def stranger_locale(state: FSMContext, locale: str) -> str:
    chosen = (await state.get_data()).get(LANGUAGE_KEY)
    return chosen if chosen in ("ru", "en") else locale


def contact_keyboard(tr: Translator, locale: str) -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=tr.get(locale, "start-share-contact"), request_contact=True)]],
        resize_keyboard=True,
        is_persistent=True,
    )


async def send_registration_prompt(
    message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str
) -> None:
    """The welcome with the consent text and the contact button; also the answer to anything a
    stranger sends, because a dismissed reply keyboard must come back."""
    locale = await stranger_locale(state, locale)
    await state.update_data({CONSENT_SHOWN_KEY: POLICY_VERSION})
    cap = percent((await get_settings(uow)).redemption_cap_bp)
    text = "\n\n".join(
        (tr.get(locale, "start-welcome", cap=cap), tr.get(locale, "start-consent", version=POLICY_VERSION),
         tr.get(locale, "start-share-hint"))
    )
    await message.answer(text, reply_markup=contact_keyboard(tr, locale))


def get_router() -> Router:
    router = Router(name="start")
    router.message.filter(PRIVATE)

    @router.message(CommandStart())
    async def start(
        message: Message, command: CommandObject, state: FSMContext, tr: Translator, locale: str,
        customer: CustomerView | None, uow: UnitOfWork,
    ) -> None:
        payload = (command.args or "").strip()
        if payload and len(payload) <= _PAYLOAD_MAX:
            await state.update_data({START_PAYLOAD_KEY: payload})
        if customer is None:
            await send_registration_prompt(message, state, uow, tr, locale)
            return
        await state.set_state(None)
        await message.answer(tr.get(locale, "start-welcome-back"), reply_markup=main_menu(tr, locale))

    return router
