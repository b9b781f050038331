"""Webhook delivery: POST each update to the bot's URL, retrying with backoff until it answers 2xx.

Like Telegram, up to `max_connections` deliveries run at once, the secret token travels in
X-Telegram-Bot-Api-Secret-Token, failures are reported through getWebhookInfo.last_error_message,
and a 2xx answer may itself carry a method call (aiogram does this when handling in the foreground).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import aiohttp

from emulator.errors import ApiError
from emulator.params import Params, read_multipart

if TYPE_CHECKING:
    from emulator.state import BotState, Emulator

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Much shorter than Telegram's minutes-long backoff: tests must see the retry within seconds.
FIRST_RETRY_DELAY = 0.2
MAX_RETRY_DELAY = 5.0
DELIVERY_TIMEOUT = 10.0

MethodExecutor = Callable[["BotState", str, Params], Awaitable[Any]]


class WebhookDelivery:
    def __init__(
        self,
        emulator: Emulator,
        bot: BotState,
        *,
        url: str,
        secret_token: str | None,
        max_connections: int,
        execute: MethodExecutor,
    ) -> None:
        self.url = url
        self.secret_token = secret_token
        self.max_connections = max_connections
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._emulator = emulator
        self._bot = bot
        self._execute = execute
        self._in_flight: set[int] = set()
        self._tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(self.max_connections)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"url": self.url, "max_connections": self.max_connections, "ip_address": "127.0.0.1"}
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    def _take(self) -> dict[str, Any] | None:
        for update in self._bot.pending:
            if update["update_id"] not in self._in_flight:
                self._in_flight.add(update["update_id"])
                return update
        return None

    async def _worker(self) -> None:
        while not self._emulator.closing:
            update = await self._emulator.wait_until(self._take, 3600)
            if update is None:
                continue
            delay = FIRST_RETRY_DELAY
            while not await self._deliver(update) and update in self._bot.pending:
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_RETRY_DELAY)
            self._in_flight.discard(update["update_id"])
            if update in self._bot.pending:
                self._bot.pending.remove(update)
            self._emulator.changed.fire()

    async def _deliver(self, update: dict[str, Any]) -> bool:
        headers = {SECRET_HEADER: self.secret_token} if self.secret_token else {}
        try:
            async with self._emulator.http().post(
                self.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT)
            ) as response:
                if not 200 <= response.status < 300:
                    self._fail(f"Wrong response from the webhook: {response.status} {response.reason}")
                    return False
                await self._run_reply(response)
                return True
        except TimeoutError:
            self._fail("Read timeout expired")
        except aiohttp.ClientConnectorError:
            self._fail("Connection refused")
        except aiohttp.ClientError as error:
            self._fail(f"{type(error).__name__}: {error}")
        return False

    def _fail(self, message: str) -> None:
        self.last_error_date = self._emulator.now()
        self.last_error_message = message

    async def _run_reply(self, response: aiohttp.ClientResponse) -> None:
        """Execute a method the webhook answered with; Telegram ignores its result and errors."""
        if response.content_type == "application/json":
            body = await response.json()
            values = body if isinstance(body, dict) else {}
        elif response.content_type.startswith("multipart/"):
            values = await read_multipart(aiohttp.MultipartReader(response.headers, response.content))
        else:
            return
        method = values.pop("method", None)
        if isinstance(method, str):
            with contextlib.suppress(ApiError):
                await self._execute(self._bot, method, Params(values))
