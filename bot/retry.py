"""Replies to users wait out Telegram's flood control instead of failing the update.

Telegram answers 429 with `retry_after` when a chat gets messages faster than about one a second
(or the bot more than about 30 a second); a handler that sends two messages in a row (a text and a
QR code), or five updates of one person handled at once, meets it. Every call of the bot's session
goes through this middleware, in polling and in webhook mode alike, the webhook's own answers
included (handlers/http/webhook.py sends them with the same bot): a 429 is waited out and the
same call made again, as often as Telegram asks, until it is delivered or the waits of that one
call would pass `max_total_wait` (a webhook update must still be answered while Telegram waits for
it). Past that the TelegramRetryAfter goes up to the error router, which logs it as a warning
(handlers/telegram/errors.py): the reply is dropped, never a failed update.

The outbox sender has its own pacing and must not be slowed here, so it passes through (`bypass`).
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

MAX_TOTAL_WAIT = 30.0


class RetryAfterMiddleware(BaseRequestMiddleware):
    def __init__(self, *, max_total_wait: float = MAX_TOTAL_WAIT) -> None:
        self.max_total_wait = max_total_wait

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        waited = 0.0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if bypass.get() or waited + exc.retry_after > self.max_total_wait:
                    raise
                waited += exc.retry_after
                log.info("429 on %s, waiting %ss", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
