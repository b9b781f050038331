"""The till's API at an expiry instant: the card's welcome points (100, expiring 30 days after the
fixture's start) count at `expires_at - 1 µs` and not at `expires_at`, in the lookup, the quote,
a purchase's answer and a purchase paid with points, before any expiry job has run."""

from __future__ import annotations

from datetime import timedelta

from tests.http.conftest import CARD, Api
from tests.http.test_api_pos import problem_of, purchase

TICK = timedelta(microseconds=1)


async def _lookup_and_quote(api: Api) -> tuple[int, int]:
    lookup = await api.call("GET", f"/api/v1/cards/lookup?q={CARD}")
    assert lookup.status == 200
    quote = await api.call("POST", "/api/v1/purchases/quote", body={"card": CARD, "amount_kopecks": 1_000_000})
    assert quote.status == 200
    body = await quote.json()
    assert body["card"]["balance"] == (await lookup.json())["balance"]
    return (await lookup.json())["balance"], body["max_redeemable"]


async def test_lookup_quote_and_a_purchase_at_the_instant(api: Api) -> None:
    instant = api.clock.now() + timedelta(days=30)
    api.clock.set(instant - TICK)
    assert await _lookup_and_quote(api) == (110_000, 110_000)
    api.clock.set(instant)
    assert await _lookup_and_quote(api) == (100_000, 100_000)
    too_much = await api.call(
        "POST", "/api/v1/purchases/quote", body={"card": CARD, "amount_kopecks": 1_000_000, "redeem_points": 100_100}
    )
    await problem_of(too_much, 422, "insufficient_points")
    bought = await api.call("POST", "/api/v1/purchases", body=purchase())
    assert bought.status == 201
    assert (await bought.json())["balance"] == 100_000  # the 50 points earned are pending


async def test_a_purchase_paid_with_points_at_the_instant(api: Api) -> None:
    instant = api.clock.now() + timedelta(days=30)
    api.clock.set(instant - TICK)
    before = await api.call(
        "POST", "/api/v1/purchases", body=purchase("R-1", 1_000_000, redeem_points=3_000, code=await api.code())
    )
    assert before.status == 201, await before.text()
    assert (await before.json())["balance"] == 107_000  # 30 of the welcome points spent, 70 left
    api.clock.set(instant + timedelta(minutes=2))  # a fresh code step
    refused = await api.call(
        "POST", "/api/v1/purchases", body=purchase("R-2", 1_000_000, redeem_points=100_100, code=await api.code())
    )
    await problem_of(refused, 422, "insufficient_points")  # 1070 held, 1000 of them not expired
    paid = await api.call(
        "POST", "/api/v1/purchases", body=purchase("R-3", 1_000_000, redeem_points=100_000, code=await api.code())
    )
    assert paid.status == 201, await paid.text()
    assert (await paid.json())["balance"] == 0
