"""The app factory: everything a process needs, built fresh (tests build their own; nothing global)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage
from aiohttp import web
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.context import AppContext, build_context
from bot.conversations import FsmConversations
from bot.metrics import UpdateMetricsMiddleware
from bot.redis import RedisReplayGuard, RedisTokenBucket, build_fsm, create_redis
from bot.retry import RetryAfterMiddleware
from bot.settings import Settings
from handlers.http import setup_routes
from handlers.http.api.auth import signature_window
from handlers.http.api.ratelimit import MemoryTokenBucket
from handlers.http.api.replays import DatabaseReplayGuard
from handlers.http.keys import AUTH_FAILURE_LIMITER, CONTEXT, RATE_LIMITER, REDIS, REPLAY_GUARD
from handlers.telegram import get_routers
from handlers.telegram.commands import set_customer_commands
from handlers.telegram.inline_filters import run_filters_inline
from handlers.telegram.middlewares import CommandEndsDialog, IdentityMiddleware
from handlers.telegram.reachability import ReachableAgainMiddleware
from handlers.telegram.throttling import ThrottlingMiddleware
from services.clock import Clock

# The local emulator accepts any well-formed token; this one can never be a real bot's.
SANDBOX_TOKEN = "1000000001:SANDBOX-local-emulator-token"


def bot_api_base(settings: Settings) -> str:
    if settings.sandbox:
        return f"http://{settings.http_host}:{settings.http_port}/emulator"
    return settings.bot_api_base_url


def build_bot(settings: Settings, *, api_base: str | None = None) -> Bot:
    token = settings.bot_token.get_secret_value() if settings.bot_token else SANDBOX_TOKEN
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base or bot_api_base(settings)))
    session.middleware(RetryAfterMiddleware())
    return Bot(token, session=session, default=DefaultBotProperties(parse_mode="HTML"))


def build_dispatcher(
    context: AppContext, *, storage: BaseStorage | None = None, events_isolation: BaseEventIsolation | None = None
) -> Dispatcher:
    dispatcher = Dispatcher(
        storage=storage or MemoryStorage(), events_isolation=events_isolation, **context.workflow_data()
    )
    dispatcher.update.outer_middleware(UpdateMetricsMiddleware())
    dispatcher.update.outer_middleware(ThrottlingMiddleware(limit=context.settings.flood_limit))
    dispatcher.startup.register(set_customer_commands)
    identity = IdentityMiddleware()
    dispatcher.message.outer_middleware(identity)
    dispatcher.message.outer_middleware(CommandEndsDialog())
    dispatcher.callback_query.outer_middleware(identity)
    reachable_again = ReachableAgainMiddleware()  # needs the customer the identity middleware found
    dispatcher.message.outer_middleware(reachable_again)
    dispatcher.callback_query.outer_middleware(reachable_again)
    dispatcher.edited_message.outer_middleware(identity)
    dispatcher.my_chat_member.outer_middleware(identity)
    dispatcher.include_routers(*get_routers())
    run_filters_inline(dispatcher)
    return dispatcher


def build_web_app(context: AppContext, *, redis: Redis | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024)
    app[CONTEXT] = context
    settings = context.settings
    per_key, key_burst = settings.api_rate_limit_per_minute, settings.api_rate_limit_burst
    per_address, address_burst = settings.api_auth_failures_per_minute, settings.api_auth_failures_burst
    remembered = signature_window(settings).remembered_seconds
    if redis is not None:
        app[REDIS] = redis
        app[RATE_LIMITER] = RedisTokenBucket(redis, per_minute=per_key, burst=key_burst)
        app[AUTH_FAILURE_LIMITER] = RedisTokenBucket(redis, per_minute=per_address, burst=address_burst)
        app[REPLAY_GUARD] = RedisReplayGuard(redis, ttl_seconds=remembered)
    else:
        app[RATE_LIMITER] = MemoryTokenBucket(per_minute=per_key, burst=key_burst)
        app[AUTH_FAILURE_LIMITER] = MemoryTokenBucket(per_minute=per_address, burst=address_burst)
        app[REPLAY_GUARD] = DatabaseReplayGuard(context.uow, context.clock, ttl_seconds=remembered)
    setup_routes(app)
    return app


@dataclass
class Application:
    engine: AsyncEngine
    context: AppContext
    bot: Bot
    dispatcher: Dispatcher
    web: web.Application
    redis: Redis | None = None

    async def close(self) -> None:
        await self.bot.session.close()
        await self.engine.dispose()
        if self.redis is not None:
            await self.redis.aclose()


def build_application(settings: Settings, *, clock: Clock | None = None, bot: Bot | None = None) -> Application:
    """With REDIS_URL, FSM state and per-chat event isolation live in Redis, so that instances
    behind one webhook URL continue each other's conversations."""
    engine, context = build_context(settings, clock=clock)
    redis = create_redis(settings.redis_url) if settings.redis_url else None
    storage: BaseStorage
    isolation: BaseEventIsolation | None
    storage, isolation = (
        build_fsm(redis, update_lease_seconds=settings.update_lease_seconds)
        if redis is not None
        else (MemoryStorage(), None)
    )
    bot = bot or build_bot(settings)
    # One storage for the dispatcher and for the doors that erase customers (the HTTP API).
    context = replace(context, conversations=FsmConversations(storage, bot.id))
    return Application(
        engine=engine,
        context=context,
        bot=bot,
        dispatcher=build_dispatcher(context, storage=storage, events_isolation=isolation),
        web=build_web_app(context, redis=redis),
        redis=redis,
    )
