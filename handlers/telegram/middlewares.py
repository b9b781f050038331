"""Outer middlewares: who is speaking (customer, staff, language) before any handler runs, and a
command ending a dialog it interrupts."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject, User

from db.uow import UnitOfWork
from services import customers
from services.identity import identify


class IdentityMiddleware(BaseMiddleware):
    """Puts `customer` (CustomerView | None), `staff` (StaffView | None) and `locale` into the
    handler data. A customer's chosen language wins over Telegram's."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user: User | None = data.get("event_from_user")
        uow: UnitOfWork = data["uow"]
        customer = staff_member = None
        if user is not None and not user.is_bot:
            identity = await identify(uow, user.id)
            customer, staff_member = identity.customer, identity.staff
        data["customer"] = customer
        data["staff"] = staff_member
        data["locale"] = customer.language if customer else customers.language_of(user.language_code if user else None)
        return await handler(event, data)


class CommandEndsDialog(BaseMiddleware):
    """A command typed in the middle of a dialog (a staff member's /accrue steps, naming a link
    type) ends the dialog, then runs as usual: otherwise the next plain message, a card number say,
    would still be taken as the dialog's answer. `/cancel` is left to the dialog, which answers it."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        text = getattr(event, "text", None)
        if data.get("raw_state") is not None and text and text.startswith("/") and not _is_cancel(text):
            state: FSMContext = data["state"]
            await state.clear()
            data["raw_state"] = None
        return await handler(event, data)


def _is_cancel(text: str) -> bool:
    command = text.split(maxsplit=1)[0][1:].split("@", 1)[0]
    return command.lower() == "cancel"
