"""Staff callback data (prefixes all start with "st") and the keyboards built from them."""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, Message

from locales import Translator


class DialogAction(CallbackData, prefix="stx"):
    """Buttons inside a guided dialog: cancel | skip (no receipt id) | full (refund everything)."""

    action: str


class OpenCustomer(CallbackData, prefix="stf"):
    customer_id: int


class FindPage(CallbackData, prefix="stp"):
    """Another page of the last /find (its query is kept in the dialog data: it may be long)."""

    offset: int


class EraseCustomer(CallbackData, prefix="ster"):
    """The customer card's "erase personal data": ask | confirm."""

    action: str
    customer_id: int


class StatusChoice(CallbackData, prefix="sts"):
    status: str


class RoleChoice(CallbackData, prefix="sti"):
    role: str


class StoreChoice(CallbackData, prefix="stw"):
    store: str  # a store code, or "-" for the inviter's own store


class ReportPeriod(CallbackData, prefix="str"):
    period: str


class ConflictAction(CallbackData, prefix="stc"):
    conflict_id: int
    move: bool


class ShiftStore(CallbackData, prefix="sth"):
    """The store a member tied to no store works in for the shift."""

    store_id: int


class StaffMemberAction(CallbackData, prefix="stm"):
    """Deactivate a staff member: asks first (StaffMemberConfirmed then does it)."""

    staff_id: int


class StaffMemberConfirmed(CallbackData, prefix="stq"):
    staff_id: int


# Another feature (customer links) owns this prefix; the customer card only links to it.
LINKS_CALLBACK = "lk:open:{customer_id}"


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data if isinstance(data, str) else data.pack())


def column(*buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[b] for b in buttons])


def cancel_button(tr: Translator, locale: str) -> InlineKeyboardButton:
    return button(tr.get(locale, "staff-button-cancel"), DialogAction(action="cancel"))


def cancel_keyboard(tr: Translator, locale: str) -> InlineKeyboardMarkup:
    return column(cancel_button(tr, locale))


def with_cancel(tr: Translator, locale: str, *buttons: InlineKeyboardButton) -> InlineKeyboardMarkup:
    return column(*buttons, cancel_button(tr, locale))


async def ask(message: Message, state: FSMContext, next_state: State, tr: Translator, locale: str, key: str) -> None:
    """One step of a guided dialog: remember where we are and ask, with a Cancel button."""
    await state.set_state(next_state)
    await message.answer(tr.get(locale, key), reply_markup=cancel_keyboard(tr, locale))
