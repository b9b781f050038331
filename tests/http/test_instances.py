"""Two instances behind one webhook URL, sharing the database and Redis, behave as one: a
conversation whose steps land on different instances completes, and an update delivered to both
is handled once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.redis import RedisEventIsolation
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.redis import RedisTokenBucket, RedisUpdateDeduplicator, create_redis
from services.update_dedup import Claim
from tests.http.instances import REDIS_SKIP_REASON, REDIS_URL, Instance, instance_settings, running_instance
from tests.http.instances import unique_bot as new_bot
from tests.support import updates

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason=REDIS_SKIP_REASON)


@pytest.fixture
async def pair(db_url: str, engine: AsyncEngine) -> AsyncIterator[tuple[Instance, Instance]]:
    settings = instance_settings(db_url, REDIS_URL)
    bot_a = new_bot()
    # The same bot (token) on both instances, each with its own session and HTTP server.
    bot_b = type(bot_a)(bot_a.token, session=type(bot_a.session)(), default=bot_a.default)
    async with running_instance(settings, bot_a) as a, running_instance(settings, bot_b) as b:
        yield a, b


def answers(*instances: Instance) -> list[str]:
    return [text for instance in instances for text in instance.session.texts()]


async def test_conversation_continues_on_the_other_instance(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    anna = updates.user(601)
    assert (await a.deliver(updates.text(anna, "/survey"))).status == 200
    assert (await b.deliver(updates.text(anna, "Anna"))).status == 200
    assert (await a.deliver(updates.text(anna, "Kazan"))).status == 200
    assert a.seen.handled == ["begin", "city"]
    assert b.seen.handled == ["name"]
    assert a.session.texts()[-1] == "done: Anna from Kazan"


async def test_update_delivered_to_both_instances_is_handled_once(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    update = updates.text(updates.user(602), "/count")
    results = await asyncio.gather(a.deliver(update), b.deliver(update), a.deliver(update), b.deliver(update))
    # One handles it; a copy arriving meanwhile is told to come back (503), one arriving after is acknowledged.
    statuses = sorted(r.status for r in results)
    assert statuses[0] == 200 and set(statuses) <= {200, 503}, statuses
    assert a.seen.handled + b.seen.handled == ["count"]
    # A redelivery later, to either instance, is still recognised.
    assert (await b.deliver(update)).status == 200
    assert (await a.deliver(update)).status == 200
    assert a.seen.handled + b.seen.handled == ["count"]


async def test_parallel_conversations_of_two_customers(pair: tuple[Instance, Instance]) -> None:
    a, b = pair
    steps = [
        (updates.user(603), ["/survey", "Oleg", "Omsk"]),
        (updates.user(604), ["/survey", "Ira", "Perm"]),
    ]
    for turn in range(3):
        # Each customer's step goes to a different instance than their previous one.
        await asyncio.gather(
            *(
                (a if (turn + i) % 2 == 0 else b).deliver(updates.text(person, texts[turn]))
                for i, (person, texts) in enumerate(steps)
            )
        )
    assert sorted(t for t in answers(a, b) if t.startswith("done")) == ["done: Ira from Perm", "done: Oleg from Omsk"]


async def test_readiness_checks_redis(pair: tuple[Instance, Instance]) -> None:
    a, _ = pair
    async with a.http.get(a.server.make_url("/readyz")) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok", "database": "ok", "redis": "ok"}


@pytest.mark.parametrize(("lease", "chat_lock"), [(None, 60), (15, 15), (300, 60)])
async def test_the_update_lease_holds_claims_and_chat_locks(db_url: str, lease: int | None, chat_lock: int) -> None:
    """A dead instance's claim lapses after UPDATE_LEASE_SECONDS (default 120) and its chat's lock
    no later (aiogram's 60 s at most), so the update taken over finds its chat free."""
    overrides = {} if lease is None else {"update_lease_seconds": lease}
    async with running_instance(instance_settings(db_url, REDIS_URL, **overrides), new_bot()) as instance:
        deduplicator = instance.webhook.deduplicator
        assert isinstance(deduplicator, RedisUpdateDeduplicator)
        assert deduplicator.lease_seconds == (lease or 120)
        isolation = instance.app.dispatcher.fsm.events_isolation
        assert isinstance(isolation, RedisEventIsolation)
        assert isolation.lock_kwargs == {"timeout": chat_lock}


async def test_redis_rate_limit_is_shared() -> None:
    assert REDIS_URL is not None
    redis = create_redis(REDIS_URL)
    try:
        first = RedisTokenBucket(redis, per_minute=60, burst=2)
        second = RedisTokenBucket(redis, per_minute=60, burst=2)  # another instance, same Redis
        key = f"test-{id(first)}-{asyncio.get_running_loop().time()}"
        assert await first.hit(key) is None
        assert await second.hit(key) is None
        retry = await first.hit(key)
        assert retry is not None and 0 < retry <= 1.0
        assert await second.hit(f"{key}-other") is None
    finally:
        await redis.aclose()


async def test_redis_claims_finish_and_expire_after_their_lease() -> None:
    assert REDIS_URL is not None
    redis = create_redis(REDIS_URL)
    claims = RedisUpdateDeduplicator(redis, bot_id=new_bot().id, lease_seconds=1)
    try:
        assert await claims.claim(1) is Claim.NEW
        assert await claims.claim(1) is Claim.BUSY
        await claims.finish(1)
        assert await claims.claim(1) is Claim.DONE
        assert await claims.claim(2) is Claim.NEW  # an instance that then dies
        await asyncio.sleep(1.2)
        assert await claims.claim(2) is Claim.NEW  # taken over after the lease
        assert await claims.claim(1) is Claim.DONE  # a finished claim keeps its day
    finally:
        await redis.aclose()
