"""Who can be written to. A customer who blocks the bot (my_chat_member: kicked) is unreachable
and the outbox skips them; unblocking it, or writing anything (a message or a button press),
makes them reachable again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.types import ChatMemberUpdated, TelegramObject

from db.uow import UnitOfWork
from services import customers
from services.customers import CustomerView

GONE = ("kicked", "left")


class ReachableAgainMiddleware(BaseMiddleware):
    """A message from a customer marked unreachable proves they can be written to again."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        customer: CustomerView | None = data.get("customer")
        if customer is not None and customer.unreachable and customer.telegram_id is not None:
            await customers.set_reachable(data["uow"], telegram_id=customer.telegram_id, reachable=True)
        return await handler(event, data)


def get_router() -> Router:
    """Blocking and unblocking. A message or button press proving a customer reachable again is
    `ReachableAgainMiddleware`, on the dispatcher after who is speaking (bot/app.py): it must see
    every message and button press before a router takes it."""
    router = Router(name="reachability")

    @router.my_chat_member()
    async def membership(event: ChatMemberUpdated, uow: UnitOfWork) -> None:
        if event.chat.type != "private":
            return
        reachable = event.new_chat_member.status not in GONE
        await customers.set_reachable(uow, telegram_id=event.from_user.id, reachable=reachable)

    return router
