"""Broadcast audiences and their refusals (services/broadcasts.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.uow import UnitOfWork
from services import broadcasts
from services.clock import FrozenClock
from services.ledger import accrue_purchase
from tests.notifications.helpers import make_person, make_store


@pytest.mark.parametrize(
    ("kind", "value"),
    [("nobody", None), ("level", ""), ("store", None), ("birthday_month", 13), ("birthday_month", "x"),
     ("inactive", 0), ("inactive", "-5"), ("inactive", True)],
)
def test_bad_audiences_are_refused(kind: str, value: object) -> None:
    with pytest.raises(broadcasts.InvalidAudience):
        broadcasts.audience(kind, value)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "x" * 4097])
def test_bad_texts_are_refused(text: str) -> None:
    with pytest.raises(broadcasts.InvalidBroadcastText):
        broadcasts.check_text(text)


async def test_audiences_pick_the_right_customers(uow: UnitOfWork, clock: FrozenClock) -> None:
    north = await make_store(uow, clock, "N")
    south = await make_store(uow, clock, "S")
    rich = await make_person(uow, clock)
    home_south = await make_person(uow, clock, store_id=south)
    idle = await make_person(uow, clock)
    await make_person(uow, clock, marketing=False, store_id=south)  # never in any audience
    await accrue_purchase(uow, clock, card_id=idle.card_id, store_id=north, receipt_id="old",
                          amount_kopecks=1000, actor="test")
    clock.advance(timedelta(days=40))
    await accrue_purchase(uow, clock, card_id=rich.card_id, store_id=north, receipt_id="big",
                          amount_kopecks=3_500_000, actor="test")

    async def count(kind: str, value: str | int | None = None) -> int:
        return await broadcasts.count_audience(uow, clock, broadcasts.audience(kind, value))

    assert await count("all") == 3
    assert await count("level", "silver") == 1
    assert await count("level", "gold") == 0
    assert await count("store", "N") == 2  # bought there
    assert await count("store", "S") == 1  # home store
    assert await count("inactive", 30) == 2  # idle bought 40 days ago, home_south never
    assert await count("inactive", 50) == 1
    assert home_south.customer_id
