"""Typed application keys: how HTTP handlers reach the shared context and infrastructure."""

from __future__ import annotations

from aiohttp import web
from redis.asyncio import Redis

from bot.context import AppContext
from handlers.http.api.ratelimit import RateLimiter
from handlers.http.api.replays import ReplayGuard

CONTEXT = web.AppKey("context", AppContext)
# Present only when REDIS_URL is set.
REDIS = web.AppKey("redis", Redis)
RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)  # per API key
AUTH_FAILURE_LIMITER = web.AppKey("auth_failure_limiter", RateLimiter)  # per client address
REPLAY_GUARD = web.AppKey("replay_guard", ReplayGuard)
