"""A Bot whose session records every request and answers like Telegram would, without a network.

Handler tests feed updates through the real Dispatcher and assert on `bot.session.requests`.
Errors can be queued per method to see how handlers and the sender react (e.g. 429, 403).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncGenerator
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.methods import (
    EditMessageReplyMarkup,
    EditMessageText,
    SendDocument,
    SendMessage,
    SendPhoto,
    TelegramMethod,
)
from aiogram.methods.base import TelegramType
from aiogram.types import Chat, Message, PhotoSize, User

BOT_USER = User(id=1000000001, is_bot=True, first_name="Loyalty", username="loyalty_test_bot")


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.requests: list[TelegramMethod[Any]] = []
        self.errors: dict[type, deque[Exception]] = {}
        self._message_ids = itertools.count(1)

    def fail_next(self, method: type, error: Exception) -> None:
        self.errors.setdefault(method, deque()).append(error)

    async def close(self) -> None:
        return None

    async def stream_content(
        self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30, chunk_size: int = 65536,
        raise_for_status: bool = True,
    ) -> AsyncGenerator[bytes, None]:
        yield b""

    async def make_request(
        self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None
    ) -> TelegramType:
        self.requests.append(method)
        queued = self.errors.get(type(method))
        if queued:
            raise queued.popleft()
        return self._answer(method)  # type: ignore[no-any-return]

    def _message(self, chat_id: int | str, **fields: Any) -> Message:
        chat = Chat(id=int(chat_id), type="private")
        return Message(
            message_id=next(self._message_ids), date=datetime.now(UTC), chat=chat, from_user=BOT_USER, **fields
        )

    def _answer(self, method: TelegramMethod[Any]) -> Any:
        if isinstance(method, SendMessage):
            return self._message(method.chat_id, text=method.text, reply_markup=_inline(method.reply_markup))
        if isinstance(method, SendPhoto):
            photo = [PhotoSize(file_id="photo", file_unique_id="photo", width=300, height=300)]
            return self._message(method.chat_id, photo=photo, caption=method.caption)
        if isinstance(method, SendDocument):
            return self._message(method.chat_id, caption=method.caption)
        if isinstance(method, EditMessageText):
            return self._message(method.chat_id or 0, text=method.text, reply_markup=method.reply_markup)
        if isinstance(method, EditMessageReplyMarkup):
            return self._message(method.chat_id or 0, text="", reply_markup=method.reply_markup)
        if method.__returning__ is User:
            return BOT_USER
        return True

    # Convenience for assertions -------------------------------------------------------------
    def sent(self, method: type = SendMessage) -> list[Any]:
        return [request for request in self.requests if isinstance(request, method)]

    def texts(self) -> list[str]:
        """Texts of sent and edited messages, in order."""
        return [
            request.text
            for request in self.requests
            if isinstance(request, SendMessage | EditMessageText)
        ]

    def clear(self) -> None:
        self.requests.clear()


def _inline(markup: Any) -> Any:
    # Messages only carry inline keyboards; reply keyboards live on the client.
    from aiogram.types import InlineKeyboardMarkup

    return markup if isinstance(markup, InlineKeyboardMarkup) else None


def recording_bot() -> Bot:
    bot = Bot("1000000001:TEST-recording-session-token", session=RecordingSession(),
              default=DefaultBotProperties(parse_mode="HTML"))
    return bot
