"""The Telegram webhook: `POST /telegram/webhook`.

- A request without the right `X-Telegram-Bot-Api-Secret-Token` gets 401 before its body is read.
- Each update id is claimed once (Redis SET NX, or the processed_updates table) before it is handled,
  and the claim is marked finished after: a redelivery of a handled update, to this instance or
  another, is acknowledged and skipped; one of an update still being handled gets 503, so that if
  the instance handling it dies, a redelivery after the claim's lease handles it.
- The update is handled before answering, so a 200 means "done". An unexpected failure releases the
  claim and answers 500, so Telegram's redelivery gets another chance.
- On shutdown the handler stops taking updates (503: Telegram retries, maybe on another instance)
  and waits for the ones in flight before the bot session and the database close.

aiogram's SimpleRequestHandler is not used: it answers 500 on a malformed body, and on shutdown it
closes the bot session while background updates are still running.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from datetime import timedelta
from typing import Any, Protocol

from aiogram import Bot, Dispatcher
from aiogram.methods import TelegramMethod
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.metrics import UPDATES_HANDLED
from db.uow import UnitOfWork
from services import update_dedup
from services.clock import Clock
from services.update_dedup import Claim

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DRAIN_TIMEOUT_SECONDS = 30.0


class UpdateDeduplicator(Protocol):
    async def claim(self, update_id: int) -> Claim:
        """NEW for the first claim of an update id (or the take-over of one abandoned by an
        instance that died), DONE once it was handled, BUSY while another claim is fresh."""
        ...

    async def finish(self, update_id: int) -> None: ...

    async def release(self, update_id: int) -> None: ...


class DatabaseDeduplicator:
    """Claims in processed_updates; old claims are pruned now and then by whoever claims."""

    def __init__(
        self, uow: UnitOfWork, clock: Clock, *, lease: timedelta = update_dedup.LEASE,
        prune_every_seconds: float = 3600.0,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.lease = lease
        self.prune_every_seconds = prune_every_seconds
        self._pruned_at = time.monotonic()

    async def claim(self, update_id: int) -> Claim:
        if time.monotonic() - self._pruned_at > self.prune_every_seconds:
            self._pruned_at = time.monotonic()
            await update_dedup.prune_processed_updates(self.uow, self.clock)
        return await update_dedup.claim_update(self.uow, self.clock, update_id, lease=self.lease)

    async def finish(self, update_id: int) -> None:
        await update_dedup.finish_update(self.uow, self.clock, update_id)

    async def release(self, update_id: int) -> None:
        await update_dedup.release_update(self.uow, update_id)


class WebhookHandler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        bot: Bot,
        *,
        secret_token: str,
        deduplicator: UpdateDeduplicator,
        drain_timeout: float = DRAIN_TIMEOUT_SECONDS,
    ) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.secret_token = secret_token
        self.deduplicator = deduplicator
        self.drain_timeout = drain_timeout
        self.in_flight: set[asyncio.Task[Any]] = set()
        self.closing = False

    def register(self, app: web.Application, path: str) -> None:
        app.router.add_post(path, self.handle)
        app.on_shutdown.append(self._on_shutdown)

    async def _on_shutdown(self, app: web.Application) -> None:
        await self.drain()

    async def drain(self) -> None:
        """Refuse new updates and wait (bounded) for those being handled."""
        self.closing = True
        if self.in_flight:
            log.info("waiting for %d update(s) in flight", len(self.in_flight))
            _, pending = await asyncio.wait(set(self.in_flight), timeout=self.drain_timeout)
            if pending:
                log.warning("%d update(s) still running after %.0f s; closing anyway", len(pending), self.drain_timeout)

    async def handle(self, request: web.Request) -> web.Response:
        presented = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(presented.encode(), self.secret_token.encode()):
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.closing:
            return web.json_response({"error": "shutting down"}, status=503)
        try:
            data = json.loads(await request.read())
            update = Update.model_validate(data, context={"bot": self.bot})
        except (ValueError, ValidationError, TypeError):
            return web.json_response({"error": "not an update"}, status=400)
        claim = await self.deduplicator.claim(update.update_id)
        if claim is Claim.DONE:
            UPDATES_HANDLED.labels(update.event_type or "unknown", "duplicate").inc()
            return web.json_response({})
        if claim is Claim.BUSY:
            # Not acknowledged: if the instance handling it dies, a later redelivery takes it over.
            UPDATES_HANDLED.labels(update.event_type or "unknown", "in_progress").inc()
            return web.json_response({"error": "being handled"}, status=503)
        task = asyncio.create_task(self._process(update))
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)
        try:
            # Shielded: a client that hangs up does not cancel a half-handled update.
            await asyncio.shield(task)
        except Exception:
            log.exception("update %s failed; releasing it for redelivery", update.update_id)
            with contextlib.suppress(Exception):
                await self.deduplicator.release(update.update_id)
            return web.json_response({"error": "failed"}, status=500)
        try:
            await self.deduplicator.finish(update.update_id)
        except Exception:
            # Handled all the same: Telegram does not redeliver an acknowledged update.
            log.exception("update %s handled, but its claim could not be marked finished", update.update_id)
        return web.json_response({})

    async def _process(self, update: Update) -> None:
        result = await self.dispatcher.feed_update(self.bot, update)
        if isinstance(result, TelegramMethod):
            await self.dispatcher.silent_call_request(bot=self.bot, result=result)
