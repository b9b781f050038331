"""The till in the bot at an expiry instant: the customer's welcome points (100, expiring 30 days
after the shop opened) count at `expires_at - 1 µs` and not at `expires_at`, in the card a cashier
reads and in /redeem, before any expiry job has run."""

from __future__ import annotations

from datetime import timedelta

from services.ledger import adjust_points
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, Shop

TICK = timedelta(microseconds=1)


async def test_the_till_reads_and_redeems_without_points_past_their_instant(shop: Shop) -> None:
    instant = shop.clock.now() + timedelta(days=30)
    await adjust_points(shop.uow, shop.clock, card_id=shop.card_id, points=5_000, reason="seed", idempotency_key="s",
                        actor="test")  # 50 points that outlive the welcome points
    shop.clock.set(instant - TICK)
    await shop.send(CASHIER, "/accrue")
    assert (await shop.send(CASHIER, CUSTOMER_CARD))[0].startswith(f"Карта {CUSTOMER_CARD}, баланс 150 б.")
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}")
    answers = await shop.confirm(CASHIER)
    assert answers[0].startswith("✅ Списано 30 б.") and "Баланс карты: 120 б." in answers[0]

    shop.clock.set(instant)
    await shop.send(CASHIER, "/accrue")
    assert (await shop.send(CASHIER, CUSTOMER_CARD))[0].startswith(f"Карта {CUSTOMER_CARD}, баланс 50 б.")
    code = await shop.code()
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 60 1000 {code}") == [err("insufficient_points")]
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 50 1000 {code}")
    answers = await shop.confirm(CASHIER)
    assert answers[0].startswith("✅ Списано 50 б.") and "Баланс карты: 0 б." in answers[0]
    assert await shop.balance() == 7_000  # the 70 expired points, cached until the job burns them
