"""The wiring works end to end through Dispatcher.feed_update with a recording session."""

from __future__ import annotations

from db.uow import UnitOfWork
from services.clock import FrozenClock
from tests.support import updates
from tests.support.fixtures import make_harness


async def test_start_answers_in_the_users_language(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    await harness.feed(updates.text(updates.user(1, language="ru"), "/start"))
    await harness.feed(updates.text(updates.user(2, language="en"), "/start"))
    texts = harness.texts()
    assert "бонусная программа" in texts[0]
    assert "loyalty program" in texts[1]
