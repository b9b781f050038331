"""Runners: start the bot (polling or webhook), the HTTP server and the scheduler in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import timedelta

from aiohttp import web

from bot import gc_tuning
from bot.app import Application, bot_api_base, build_application
from bot.notifier import TelegramNotifier
from bot.redis import RedisUpdateDeduplicator
from bot.settings import Settings, sandbox_chats_file, sandbox_database
from db import migrate
from handlers.http.webhook import DatabaseDeduplicator, UpdateDeduplicator, WebhookHandler
from scheduler.app import build_scheduler, shutdown_scheduler
from services import staff
from services.errors import DomainError

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/telegram/webhook"


def mount_webhook(app: Application) -> WebhookHandler:
    """Serve the webhook on app.web (before it starts). Redelivered updates are recognised through
    Redis when configured (shared by all instances), else through the database."""
    settings = app.context.settings
    secret = settings.webhook_secret
    assert secret is not None
    deduplicator: UpdateDeduplicator
    if app.redis is not None:
        deduplicator = RedisUpdateDeduplicator(
            app.redis, bot_id=app.bot.id, lease_seconds=settings.update_lease_seconds
        )
    else:
        lease = timedelta(seconds=settings.update_lease_seconds)
        deduplicator = DatabaseDeduplicator(app.context.uow, app.context.clock, lease=lease)
    handler = WebhookHandler(
        app.dispatcher, app.bot, secret_token=secret.get_secret_value(), deduplicator=deduplicator
    )
    handler.register(app.web, path=WEBHOOK_PATH)
    return handler


async def set_webhook(app: Application) -> None:
    """Register with Telegram, asking only for the update types some handler handles."""
    settings = app.context.settings
    assert settings.webhook_secret is not None
    await app.bot.set_webhook(
        f"{settings.webhook_base_url}{WEBHOOK_PATH}",
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=app.dispatcher.resolve_used_update_types(),
        max_connections=settings.webhook_max_connections,
        drop_pending_updates=False,
    )


async def prepare_database(app: Application) -> None:
    """SQLite is embedded, so the product migrates it itself; a shared PostgreSQL is migrated
    deliberately with `python -m bot migrate` and the process refuses to run on an old schema."""
    if app.context.uow.is_sqlite:
        await migrate.upgrade(app.engine)
    elif not await migrate.is_at_head(app.engine):
        raise SystemExit("The database schema is not up to date: run `python -m bot migrate` first.")
    settings = app.context.settings
    if settings.owner_telegram_ids:
        await staff.bootstrap_owners(app.context.uow, app.context.clock, settings.owner_telegram_ids)


def _mount_sandbox(app: Application) -> None:
    from emulator import add_sandbox_routes, create_emulator_app

    emulator = create_emulator_app(state_file=sandbox_chats_file(app.context.settings.database_url))
    add_sandbox_routes(app.web, emulator)


async def run(settings: Settings, *, stop: asyncio.Event | None = None) -> None:
    if settings.sandbox:
        settings = settings.model_copy(update={"database_url": sandbox_database(settings)})
    app = build_application(settings)
    await prepare_database(app)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)

    if settings.sandbox:
        _mount_sandbox(app)
        from bot.sandbox import seed_sandbox

        try:
            await seed_sandbox(app.context.uow, app.context.clock)
        except DomainError:  # a database with real data: refused, said by the command line
            await app.close()
            raise
    webhook = bool(settings.webhook_base_url)
    if webhook:
        mount_webhook(app)

    runner = web.AppRunner(app.web, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("HTTP server on http://%s:%s", settings.http_host, settings.http_port)
    if settings.sandbox:
        print(f"Sandbox: open http://{settings.http_host}:{settings.http_port}/sandbox", flush=True)

    polling: asyncio.Task[None] | None = None
    scheduler = None
    try:
        if webhook:
            await set_webhook(app)
            # As polling does: startup hooks get the workflow data (translator, uow) injected.
            await app.dispatcher.emit_startup(bot=app.bot, **app.dispatcher.workflow_data)
        else:
            await app.bot.delete_webhook()
            polling = asyncio.create_task(
                app.dispatcher.start_polling(app.bot, handle_signals=False, close_bot_session=False)
            )
        log.info("bot started (%s) against %s", "webhook" if webhook else "polling", bot_api_base(settings))
        scheduler = build_scheduler(app.context, TelegramNotifier(app.bot))
        scheduler.start()
        gc_tuning.tune_for_serving()
        await stop.wait()
    finally:
        if scheduler is not None:
            await shutdown_scheduler(scheduler)
        if polling is not None:
            await app.dispatcher.stop_polling()
            with contextlib.suppress(asyncio.CancelledError, RuntimeError):
                await polling
        # Cleanup stops taking requests and drains the webhook updates in flight (WebhookHandler's
        # on_shutdown) before the shutdown hooks, the bot session and the database close.
        await runner.cleanup()
        if polling is None and webhook:
            await app.dispatcher.emit_shutdown(bot=app.bot)
        await app.close()
