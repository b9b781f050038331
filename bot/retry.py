"""Replies to users wait out Telegram's flood control instead of failing the update.

Telegram answers 429 with `retry_after` when a chat gets messages faster than about one a second;
a handler that sends two messages in a row (a text and a QR code) hits it. The outbox sender has its
own pacing and must not be slowed here, so it passes through (see `bypass`).
"""

from __future__ import annotations

import asyncio
import logging
from contextvars import ContextVar
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)

# Set by callers that handle 429 themselves (the outbox sender) so they see it at once.
bypass: ContextVar[bool] = ContextVar("retry_after_bypass", default=False)


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, *, max_attempts: int = 3, max_wait: float = 5.0) -> None:
        self.max_attempts = max_attempts
        self.max_wait = max_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        for attempt in range(1, self.max_attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if bypass.get() or attempt == self.max_attempts or exc.retry_after > self.max_wait:
                    raise
                log.info("429 on %s, waiting %ss", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
        raise AssertionError("unreachable")
