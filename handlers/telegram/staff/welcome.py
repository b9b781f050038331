"""/start and /help for staff: a keyboard of the commands their role has, what to do first (create
the first store, post the first receipt, invite a cashier) and the commands with examples. A staff
member who is also a customer sees their customer commands too; one who is not can still share
their contact to become one."""

from __future__ import annotations

from aiogram import Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import KeyboardButton, Message, ReplyKeyboardMarkup

from db.uow import UnitOfWork
from handlers.telegram.help import customer_help
from handlers.telegram.menu import PRIVATE
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.start import CONSENT_SHOWN_KEY
from locales import Translator
from services import stores
from services.consent import POLICY_VERSION
from services.customers import CustomerView
from services.staff import StaffView

# Keyboard rows of commands, each with the least role that has them (as in staff/menu.py).
_ROWS: tuple[tuple[tuple[str, str], ...], ...] = (
    (("accrue", "cashier"), ("redeem", "cashier")),
    (("find", "cashier"), ("refund", "cashier")),
    (("adjust", "manager"), ("invite", "manager")),
    (("broadcast", "admin"), ("staff", "manager")),
    (("report", "cashier"), ("help", "cashier")),
)
# Help sections, each shown to a role and above.
_HELP_SECTIONS = (("cashier", "staff-help-cashier"), ("manager", "staff-help-manager"), ("admin", "staff-help-admin"))


def staff_keyboard(member: StaffView, tr: Translator, locale: str, *, with_contact: bool) -> ReplyKeyboardMarkup:
    """Buttons that send the commands themselves, so they reach the same handlers as typed ones."""
    rows = [
        [KeyboardButton(text=f"/{name}") for name, role in row if member.at_least(role)] for row in _ROWS
    ]
    keyboard = [row for row in rows if row]
    if with_contact:
        keyboard.append([KeyboardButton(text=tr.get(locale, "start-share-contact"), request_contact=True)])
    return ReplyKeyboardMarkup(keyboard=keyboard, resize_keyboard=True, is_persistent=True)


async def _first_step(member: StaffView, uow: UnitOfWork, tr: Translator, locale: str) -> str:
    if member.store_id is None and not await stores.list_stores(uow):
        return tr.get(locale, "staff-first-store" if member.at_least("admin") else "staff-first-ask-admin")
    if member.at_least("manager"):
        return tr.get(locale, "staff-first-invite")
    return tr.get(locale, "staff-first-receipt")


def get_router() -> Router:
    router = Router(name="staff-welcome")
    router.message.filter(PRIVATE, StaffOnly())

    @router.message(CommandStart())
    async def start(
        message: Message, command: CommandObject, state: FSMContext, staff: StaffView | None,
        customer: CustomerView | None, uow: UnitOfWork, tr: Translator, locale: str,
    ) -> None:
        if command.args:  # an invitation's deep link: its own router takes it
            raise SkipHandler()
        member = require(staff)
        await state.set_state(None)
        parts = [
            tr.get(locale, "staff-start", name=member.name or "", role=tr.get(locale, f"staff-role-{member.role}")),
            await _first_step(member, uow, tr, locale),
            tr.get(locale, "staff-start-help"),
        ]
        if customer is None:
            await state.update_data({CONSENT_SHOWN_KEY: POLICY_VERSION})
            parts.append(tr.get(locale, "staff-start-become-customer", version=POLICY_VERSION))
        await message.answer(
            "\n\n".join(parts), reply_markup=staff_keyboard(member, tr, locale, with_contact=customer is None)
        )

    @router.message(Command("help"))
    async def help_(
        message: Message, staff: StaffView | None, customer: CustomerView | None, uow: UnitOfWork,
        tr: Translator, locale: str,
    ) -> None:
        member = require(staff)
        parts = [tr.get(locale, key) for role, key in _HELP_SECTIONS if member.at_least(role)]
        if customer is not None:
            parts.insert(0, await customer_help(uow, tr, locale))
        await message.answer("\n\n".join(parts))

    return router
