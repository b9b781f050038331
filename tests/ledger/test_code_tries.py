"""Wrong one-time codes are counted per till (the API key or the cashier that typed them) and card,
with a limit per till across cards; a right code presented again is "already used", never a wrong
try. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.errors import BadCode, DomainError, TooManyCodeAttempts
from services.ledger import adjust_points, get_balance, otp, redeem
from tests.ledger.helpers import P, World, code_now, invariants, make_card, make_world, wrong_code

RUB = 100
TILL_A, TILL_B = "api:1", "staff:2"


class Till:
    def __init__(self, uow: UnitOfWork, clock: FrozenClock, w: World, actor: str) -> None:
        self.uow, self.clock, self.w, self.actor = uow, clock, w, actor
        self.receipts = 0

    async def pay(self, code: str, card_id: int | None = None) -> None:
        self.receipts += 1
        await redeem(
            self.uow, self.clock, card_id=card_id or self.w.card_id, store_id=self.w.store_id,
            receipt_id=f"{self.actor}-{self.receipts}", receipt_amount_kopecks=100 * RUB, points=P(1), code=code,
            actor=self.actor,
        )

    async def outcome(self, code: str, card_id: int | None = None) -> str:
        try:
            await self.pay(code, card_id)
        except DomainError as refused:
            return refused.code
        return "posted"


@pytest.fixture
async def world(uow: UnitOfWork, clock: FrozenClock) -> World:
    w = await make_world(uow, clock)
    await adjust_points(uow, clock, card_id=w.card_id, points=P(100), reason="r", idempotency_key="k", actor="s")
    return w


async def test_wrong_codes_lock_the_till_that_typed_them_not_the_card(
    uow: UnitOfWork, clock: FrozenClock, world: World
) -> None:
    a, b = Till(uow, clock, world, TILL_A), Till(uow, clock, world, TILL_B)
    wrong = wrong_code(world.secret, clock)
    for _ in range(otp.MAX_FAILURES):
        with pytest.raises(BadCode):
            await a.pay(wrong)

    with pytest.raises(TooManyCodeAttempts) as locked:
        await a.pay(code_now(world.secret, clock))  # even the right code: the till is locked for this card
    assert locked.value.params["scope"] == "card"
    assert locked.value.params["retry_after_seconds"] == otp.FAILURE_WINDOW.total_seconds()
    assert locked.value.params["minutes"] == 10

    await b.pay(code_now(world.secret, clock))  # another till, the customer's right code: paid
    clock.advance(timedelta(minutes=4))
    with pytest.raises(TooManyCodeAttempts) as still:
        await a.pay(code_now(world.secret, clock))
    assert still.value.params["retry_after_seconds"] == 6 * 60
    assert still.value.params["minutes"] == 6

    clock.advance(timedelta(minutes=6))
    await a.pay(code_now(world.secret, clock))  # the lockout is over
    assert (await get_balance(uow, clock, world.card_id)).available == P(98)
    await invariants(uow)


async def test_a_till_guessing_many_customers_codes_is_locked_for_every_card(
    uow: UnitOfWork, clock: FrozenClock, world: World
) -> None:
    """Staying under the per-card limit on each of many cards does not let a till guess on."""
    a, b = Till(uow, clock, world, TILL_A), Till(uow, clock, world, TILL_B)
    per_card = otp.MAX_FAILURES - 1
    cards_needed = -(-otp.TILL_MAX_FAILURES // per_card)
    cards = [await make_card(uow, clock) for _ in range(cards_needed + 1)]
    tried = 0
    for card_id, _, secret in cards[:cards_needed]:
        for _ in range(per_card):
            if tried < otp.TILL_MAX_FAILURES:
                assert await a.outcome(wrong_code(secret, clock), card_id) == "bad_code"
                tried += 1
    card_id, _, secret = cards[-1]  # a card this till never tried, even with its right code
    with pytest.raises(TooManyCodeAttempts) as locked:
        await a.pay(code_now(secret, clock), card_id)
    assert locked.value.params["scope"] == "till"
    assert await b.outcome(code_now(world.secret, clock)) == "posted"  # other tills go on


async def test_a_right_code_presented_again_is_already_used_and_counts_no_wrong_try(
    uow: UnitOfWork, clock: FrozenClock, world: World
) -> None:
    a = Till(uow, clock, world, TILL_A)
    code = code_now(world.secret, clock)
    await a.pay(code)
    assert [await a.outcome(code) for _ in range(otp.MAX_FAILURES + 1)] == ["code_already_used"] * 6
    # Older than the code used: superseded, and no more a wrong try than the used one.
    assert await a.outcome(code_now(world.secret, clock, -1)) == "code_already_used"
    assert await a.outcome(code_now(world.secret, clock, +1)) == "posted"  # no lockout came of it
    assert (await get_balance(uow, clock, world.card_id)).available == P(98)
