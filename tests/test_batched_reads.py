"""Reads shared by the callers asking at the same moment (`UnitOfWork.read_batched`): who is
speaking and the balance, one statement for all the updates handled at once, each answered with
its own row, read afresh every time."""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from db.uow import UnitOfWork
from services import customers, staff
from services.clock import FrozenClock
from services.identity import identify
from services.ledger import accrue_purchase, get_balance
from services.phones import PhonePolicy
from services.stores import add_store
from tests.ledger.helpers import make_card, make_store
from tests.support.statements import statements


def selects(uow: UnitOfWork) -> AbstractContextManager[list[str]]:
    return statements(uow.engine, lambda statement: statement.startswith("SELECT"))  # not SQLite's BEGIN


async def _register(uow: UnitOfWork, clock: FrozenClock, telegram_id: int) -> int:
    registered = await customers.register_by_telegram(
        uow, clock, telegram_id=telegram_id, phone=f"+7916111{telegram_id:04d}", first_name="Анна", last_name=None,
        language="ru", policy_version="v1", phone_policy=PhonePolicy(),
    )
    return registered.customer_id


async def test_who_is_speaking_for_updates_handled_at_once_is_one_statement(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    anna, boris = await _register(uow, clock, 101), await _register(uow, clock, 102)
    await add_store(uow, clock, code="S1", name="Shop", actor="test")
    await staff.add_staff(uow, clock, telegram_id=103, role="cashier", name="Vera", store_code="S1", actor="test")

    with selects(uow) as seen:
        # 101 twice: one person's two updates in the same moment.
        who = await asyncio.gather(*(identify(uow, telegram_id) for telegram_id in (101, 102, 103, 404, 101)))

    assert len(seen) == 1
    assert [w.customer.id if w.customer else None for w in who] == [anna, boris, None, None, anna]
    assert [w.staff.name if w.staff else None for w in who] == [None, None, "Vera", None, None]


async def test_a_batched_read_is_never_served_from_an_earlier_one(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await staff.add_staff(uow, clock, telegram_id=1, role="owner", actor="test")
    cashier = await staff.add_staff(uow, clock, telegram_id=103, role="cashier", actor="test")
    assert (await identify(uow, 103)).staff is not None

    await staff.deactivate(uow, clock, by=owner, staff_id=cashier.id)

    assert (await identify(uow, 103)).staff is None  # a deactivated cashier loses the till at once


async def test_balances_asked_for_at_once_are_one_statement_each_with_its_own_lots(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    store_id = await make_store(uow, clock)
    cards = [(await make_card(uow, clock))[0] for _ in range(3)]
    for rubles, card_id in zip((100, 250), cards, strict=False):  # the third card has no lot
        await accrue_purchase(
            uow, clock, card_id=card_id, store_id=store_id, receipt_id=f"r{card_id}", amount_kopecks=rubles * 100,
            actor="s",
        )
    one_by_one = [await get_balance(uow, clock, card_id) for card_id in cards]

    with selects(uow) as seen:
        at_once = await asyncio.gather(*(get_balance(uow, clock, card_id) for card_id in cards))

    assert len(seen) == 1
    assert list(at_once) == one_by_one
    assert [view.card_id for view in at_once] == cards
    pending = [view.pending for view in one_by_one]  # purchase points wait before they can be spent
    assert 0 < pending[0] < pending[1] and pending[2] == 0
    assert [len(view.pending_unlocks) for view in one_by_one] == [1, 1, 0]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_reads_again(uow: UnitOfWork) -> None:
    calls: list[list[int]] = []

    async def doubled(_connection: AsyncConnection, keys: list[int]) -> list[int]:
        calls.append(keys)
        if len(calls) == 1:
            raise RuntimeError("the first batch fails")
        return [key * 2 for key in keys]

    failed = await asyncio.gather(*(uow.read_batched(doubled, key) for key in (1, 2, 3)), return_exceptions=True)
    assert [type(outcome) for outcome in failed] == [RuntimeError] * 3

    assert await asyncio.gather(*(uow.read_batched(doubled, key) for key in (4, 5))) == [8, 10]
    assert calls == [[1, 2, 3], [4, 5]]


async def test_a_caller_that_gives_up_leaves_the_others_their_answers(uow: UnitOfWork) -> None:
    release = asyncio.Event()

    async def slow(_connection: AsyncConnection, keys: list[int]) -> list[int]:
        await release.wait()
        return keys

    impatient = asyncio.ensure_future(uow.read_batched(slow, 1))
    patient = asyncio.ensure_future(uow.read_batched(slow, 2))
    await asyncio.sleep(0.01)  # both are in the batch now
    impatient.cancel()
    release.set()

    assert await patient == 2
    with pytest.raises(asyncio.CancelledError):
        await impatient
