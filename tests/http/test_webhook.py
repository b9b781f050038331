"""The Telegram webhook of one instance: the secret, malformed bodies, redelivery (database claims),
drain on shutdown, and what set_webhook asks Telegram for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiogram import Router
from aiogram.filters import Command
from aiogram.methods import SetWebhook
from aiogram.types import Message
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runners import WEBHOOK_PATH, set_webhook
from services import update_dedup
from services.update_dedup import Claim
from tests.http.instances import Instance, instance_settings, running_instance, unique_bot
from tests.support import updates


@pytest.fixture
async def instance(db_url: str, engine: AsyncEngine) -> AsyncIterator[Instance]:
    # `engine` resets the PostgreSQL database; the instance opens its own engine on the same URL.
    async with running_instance(instance_settings(db_url, None), unique_bot()) as running:
        yield running


async def test_wrong_or_missing_secret_is_401(instance: Instance) -> None:
    update = updates.text(updates.user(501), "/count")
    assert (await instance.deliver(update, secret=None)).status == 401
    assert (await instance.deliver(update, secret="wrong-secret-wrong-secret")).status == 401
    assert (await instance.deliver(update, secret="")).status == 401
    assert instance.seen.handled == []
    assert (await instance.deliver(update)).status == 200
    assert instance.seen.handled == ["count"]


async def test_malformed_bodies_are_400(instance: Instance) -> None:
    url = instance.server.make_url(WEBHOOK_PATH)
    headers = {"X-Telegram-Bot-Api-Secret-Token": "test-webhook-secret-0123456789"}
    for body in [b"{", b"[]", b'{"no_update_id": 1}', b'{"update_id": "x"}']:
        response = await instance.http.post(url, data=body, headers=headers)
        assert response.status == 400, body


async def test_redelivered_update_is_processed_once(instance: Instance) -> None:
    update = updates.text(updates.user(502), "/count")
    first, again = await instance.deliver(update), await instance.deliver(update)
    assert (first.status, again.status) == (200, 200)
    concurrent = await asyncio.gather(*(instance.deliver(update) for _ in range(5)))
    assert [r.status for r in concurrent] == [200] * 5
    assert instance.seen.handled == ["count"]


async def test_shutdown_drains_updates_in_flight(instance: Instance) -> None:
    release = asyncio.Event()
    started = asyncio.Event()
    slow = Router(name="slow")
    finished: list[int] = []

    @slow.message(Command("slow"))
    async def handle_slowly(message: Message) -> None:
        started.set()
        await release.wait()
        finished.append(message.message_id)

    instance.app.dispatcher.sub_routers.insert(0, slow)
    slow._parent_router = instance.app.dispatcher  # as include_router would, but first in line
    request = asyncio.create_task(instance.deliver(updates.text(updates.user(503), "/slow")))
    await asyncio.wait_for(started.wait(), 5)
    drain = asyncio.create_task(instance.webhook.drain())
    await asyncio.sleep(0.05)
    assert not drain.done()
    # While draining, new updates are refused (503): Telegram redelivers them, maybe elsewhere.
    assert (await instance.deliver(updates.text(updates.user(504), "/count"))).status == 503
    release.set()
    await asyncio.wait_for(drain, 5)
    assert len(finished) == 1
    assert (await request).status == 200


async def test_set_webhook_asks_only_for_handled_update_types(instance: Instance) -> None:
    await set_webhook(instance.app)
    calls = [r for r in instance.session.requests if isinstance(r, SetWebhook)]
    assert len(calls) == 1
    call = calls[0]
    assert call.url == "https://loyalty.example.org/telegram/webhook"
    assert call.secret_token == "test-webhook-secret-0123456789"
    assert call.allowed_updates == instance.app.dispatcher.resolve_used_update_types()
    assert call.allowed_updates is not None and "message" in call.allowed_updates
    assert "error" not in call.allowed_updates and "update" not in call.allowed_updates
    assert call.max_connections == 40


async def test_an_update_abandoned_by_a_dead_instance_is_handled_after_the_lease(
    instance: Instance, engine: AsyncEngine
) -> None:
    update = updates.text(updates.user(505), "/count")
    uow = instance.app.context.uow
    clock = instance.app.context.clock
    # Another instance claimed the update and died before handling it.
    assert await update_dedup.claim_update(uow, clock, update.update_id) is Claim.NEW
    assert (await instance.deliver(update)).status == 503  # not acknowledged: Telegram tries again
    assert instance.seen.handled == []
    async with engine.begin() as conn:  # the lease runs out
        await conn.execute(
            text("UPDATE processed_updates SET at = :at WHERE update_id = :id"),
            {"at": clock.now() - update_dedup.LEASE - timedelta(seconds=1), "id": update.update_id},
        )
    assert (await instance.deliver(update)).status == 200
    assert (await instance.deliver(update)).status == 200
    assert instance.seen.handled == ["count"]
