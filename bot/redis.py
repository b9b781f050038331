"""Redis, when REDIS_URL is set: shared FSM state with per-chat event isolation, webhook update
de-duplication, the API rate limits and the API's used request signatures, so several instances
behave as one."""

from __future__ import annotations

from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisEventIsolation, RedisStorage
from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.update_dedup import LEASE, Claim

# Conversations left half-way are forgotten after a week rather than kept forever.
FSM_TTL_SECONDS = 7 * 24 * 3600
# Telegram keeps an undelivered update for at most 24 hours.
UPDATE_CLAIM_TTL_SECONDS = 25 * 3600


def create_redis(url: str) -> Redis:
    return Redis.from_url(url)


# aiogram's default: a chat's lock outlives an instance that died holding it by this much.
CHAT_LOCK_SECONDS = 60


def build_fsm(redis: Redis, *, update_lease_seconds: int) -> tuple[RedisStorage, RedisEventIsolation]:
    keys = DefaultKeyBuilder(prefix="fsm", with_bot_id=True, with_destiny=True)
    storage = RedisStorage(redis, key_builder=keys, state_ttl=FSM_TTL_SECONDS, data_ttl=FSM_TTL_SECONDS)
    # Never longer than the update's own lease: the update taken over after it must find its chat free.
    lock = {"timeout": min(CHAT_LOCK_SECONDS, update_lease_seconds)}
    return storage, RedisEventIsolation(redis, key_builder=keys, lock_kwargs=lock)


async def redis_problem(redis: Redis) -> str | None:
    """None when Redis answers, else a short description of why not."""
    try:
        await redis.ping()
    except (RedisError, OSError) as exc:
        return str(exc)[:200] or type(exc).__name__
    return None


class RedisUpdateDeduplicator:
    """`SET key busy NX EX lease`: only the first instance to see an update id gets it; once handled
    the key says `done` for a day. A `busy` key outlives an instance that died mid-update by the
    lease only, then the next redelivery claims the update again (services/update_dedup.py)."""

    def __init__(
        self, redis: Redis, *, bot_id: int, ttl_seconds: int = UPDATE_CLAIM_TTL_SECONDS,
        lease_seconds: int = int(LEASE.total_seconds()),
    ) -> None:
        self.redis = redis
        self.prefix = f"tg:update:{bot_id}:"
        self.ttl_seconds = ttl_seconds
        self.lease_seconds = lease_seconds

    async def claim(self, update_id: int) -> Claim:
        key = f"{self.prefix}{update_id}"
        if await self.redis.set(key, b"busy", nx=True, ex=self.lease_seconds):
            return Claim.NEW
        state = await self.redis.get(key)
        if state is None:  # the lease ran out between the two calls
            return await self.claim(update_id)
        return Claim.DONE if state == b"done" else Claim.BUSY

    async def finish(self, update_id: int) -> None:
        await self.redis.set(f"{self.prefix}{update_id}", b"done", ex=self.ttl_seconds)

    async def release(self, update_id: int) -> None:
        await self.redis.delete(f"{self.prefix}{update_id}")


class RedisReplayGuard:
    """`SET apisig:<key> 1 NX EX ttl`: one round trip; only the first instance to see a signature
    gets it, and Redis forgets it once its timestamp can no longer be accepted."""

    def __init__(self, redis: Redis, *, ttl_seconds: int) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds

    async def first_use(self, key: str) -> bool:
        return bool(await self.redis.set(f"apisig:{key}", b"1", nx=True, ex=self.ttl_seconds))


# A token bucket in one atomic step, on Redis's clock so that instances with skewed clocks agree.
# ARGV[3] = 'peek' answers without taking a token. A refusal stores nothing: the refill is computed
# from the last taken token's time, which gives the same answer later.
_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
if tokens < 1 then return tostring((1 - tokens) / rate) end
if ARGV[3] == 'peek' then return '0' end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return '0'
"""


class RedisTokenBucket:
    """The API rate limit shared by all instances: `per_minute` requests, bursts up to `burst`."""

    def __init__(self, redis: Redis, *, per_minute: int, burst: int) -> None:
        self.redis = redis
        self.rate = per_minute / 60
        self.burst = burst
        self._script = redis.register_script(_BUCKET)

    async def hit(self, key: str) -> float | None:
        """None when allowed, else seconds to wait."""
        return await self._run(key, "hit")

    async def peek(self, key: str) -> float | None:
        """Like `hit` without taking a token: would a request be refused now?"""
        return await self._run(key, "peek")

    async def _run(self, key: str, mode: str) -> float | None:
        retry = float(await self._script(keys=[f"ratelimit:{key}"], args=[self.rate, self.burst, mode]))
        return retry if retry > 0 else None
