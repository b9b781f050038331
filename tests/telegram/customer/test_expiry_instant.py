"""/balance at an expiry instant: the welcome points (100, expiring 30 days after registration)
count at `expires_at - 1 µs` and not at `expires_at`, before any expiry job has run."""

from __future__ import annotations

from datetime import timedelta

from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.ledger import adjust_points
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.telegram.customer.helpers import last_message, register


async def test_balance_drops_the_welcome_points_at_their_instant(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(41)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    instant = clock.now() + timedelta(days=30)  # 14.02.2026, 12:00 in Moscow
    await adjust_points(uow, clock, card_id=customer.card_id, points=5_000, reason="seed", idempotency_key="s",
                        actor="test")  # 50 points expiring on 15.01.2027

    clock.set(instant - timedelta(microseconds=1))
    await harness.feed(updates.text(sender, "/balance"))
    text = last_message(harness).text or ""
    assert "Доступно: <b>150</b>" in text
    assert "Сгорят 14.02.2026: 100 баллов" in text

    clock.set(instant)
    await harness.feed(updates.text(sender, "/balance"))
    text = last_message(harness).text or ""
    assert "Доступно: <b>50</b>" in text
    assert "14.02.2026" not in text and "Сгорят 15.01.2027: 50 баллов" in text
