"""The guided dialogs keep their state in Redis when several instances share it: what a dialog
stores must survive the trip (plain ints and strings), and a second instance continues it."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest
from aiogram.fsm.storage.base import DefaultKeyBuilder
from aiogram.fsm.storage.redis import RedisStorage

from bot.app import build_dispatcher
from db.uow import UnitOfWork
from services.clock import FrozenClock
from tests.support.fixtures import BotHarness
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, Shop, open_shop

REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")

pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis: set TEST_REDIS_URL or REDIS_URL")


@pytest.fixture
async def storage() -> AsyncIterator[RedisStorage]:
    assert REDIS_URL is not None
    # A prefix of its own: the database may be shared with other tests, so nothing else is touched.
    prefix = f"test-staff-{secrets.token_hex(4)}"
    storage = RedisStorage.from_url(REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix))
    yield storage
    keys = [key async for key in storage.redis.scan_iter(f"{prefix}:*")]
    if keys:
        await storage.redis.delete(*keys)
    await storage.close()


async def test_an_accrual_dialog_continues_on_another_instance(
    uow: UnitOfWork, clock: FrozenClock, storage: RedisStorage
) -> None:
    shop: Shop = await open_shop(uow, clock)
    first = build_dispatcher(shop.harness.context, storage=storage)
    second = build_dispatcher(shop.harness.context, storage=storage)
    shop.harness = BotHarness(shop.harness.context, first, shop.harness.bot)
    await shop.send(CASHIER, "/accrue")
    await shop.send(CASHIER, CUSTOMER_CARD)
    shop.harness = BotHarness(shop.harness.context, second, shop.harness.bot)
    await shop.send(CASHIER, "1000")
    answers = await shop.press(CASHIER, "stx:skip")
    assert answers[0].startswith("✅ Начислено 50 б.")
    assert await shop.operations("purchase_accrual") == 1
