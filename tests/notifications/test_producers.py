"""The ledger's use cases queue their messages in their own transaction: exactly when the change
commits, once per real event, with copies for contact persons."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.errors import IdempotencyConflict
from services.ledger import accrue_purchase, grant_welcome_bonus, redeem, refund
from services.notifications.outbox import enqueue
from services.phones import PhonePolicy
from services.pos import accrue_once
from tests.notifications.helpers import (
    VirtualTime,
    by_kind,
    link_contact_person,
    make_person,
    make_sender,
    make_store,
    outbox,
    sent_texts,
)
from tests.support.recording_bot import recording_bot


async def accept_any_code(session: AsyncSession, card: Card, code: str, now: datetime) -> None:
    return None


async def test_a_purchase_queues_accrual_and_level_up_once(uow: UnitOfWork, clock: FrozenClock) -> None:
    store = await make_store(uow, clock)
    person = await make_person(uow, clock)
    for _ in range(2):  # the till retries the same receipt
        await accrue_purchase(uow, clock, card_id=person.card_id, store_id=store, receipt_id="R1",
                              amount_kopecks=3_500_000, actor="test")
    with pytest.raises(IdempotencyConflict):  # a refused use case queues nothing
        await accrue_purchase(uow, clock, card_id=person.card_id, store_id=store, receipt_id="R1",
                              amount_kopecks=100, actor="test")
    rows = await outbox(uow)
    assert [(r.kind, r.customer_id) for r in rows] == [
        ("accrual", person.customer_id), ("level_up", person.customer_id)
    ]
    assert rows[0].payload == {"points": 175_000, "balance": 0, "pending": True, "available_on": "2026-01-29"}
    assert rows[1].payload == {"level_ru": "Серебряный", "level_en": "Silver", "code": "silver"}

    bot = recording_bot()
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    texts = [text for _, text in sent_texts(bot.session)]  # type: ignore[arg-type]
    assert texts[1] == "Поздравляем! Ваш уровень теперь <b>Серебряный</b>."


async def test_redemption_and_refund_are_reported(uow: UnitOfWork, clock: FrozenClock) -> None:
    store = await make_store(uow, clock)
    person = await make_person(uow, clock, language="en")
    await grant_welcome_bonus(uow, clock, card_id=person.card_id)
    await redeem(uow, clock, card_id=person.card_id, store_id=store, receipt_id="R2", receipt_amount_kopecks=100_000,
                 points=5_000, code="000000", actor="test", code_check=accept_any_code)
    await refund(uow, clock, store_id=store, receipt_id="R2", amount_kopecks=None, refund_id="F1", actor="test")
    rows = await outbox(uow)
    assert [r.kind for r in rows] == ["redemption", "accrual", "refund"]
    assert rows[0].payload == {"points": 5_000, "balance": 5_000}
    assert rows[2].payload["restored"] == 5_000

    bot = recording_bot()
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    texts = [text for _, text in sent_texts(bot.session)]  # type: ignore[arg-type]
    assert texts[0] == "You paid 50 points for your purchase. Balance: 50 points."
    assert texts[2] == "Refund: 47 points taken back, 50 spent points returned. Balance: 100 points."


async def test_contact_persons_get_copies_of_service_messages_only(uow: UnitOfWork, clock: FrozenClock) -> None:
    store = await make_store(uow, clock)
    child = await make_person(uow, clock, name="Миша")
    parent = await make_person(uow, clock, name="Ольга")
    await link_contact_person(uow, clock, contact=parent.customer_id, about=child.customer_id)
    await accrue_purchase(uow, clock, card_id=child.card_id, store_id=store, receipt_id="R1",
                          amount_kopecks=10_000, actor="test")

    async def birthday(session: AsyncSession) -> None:
        await enqueue(session, customer_id=child.customer_id, kind="birthday", occasion="birthday:2026",
                      payload={"bonus": 0}, now=clock.now(), marketing=True)

    await uow.write(birthday)
    rows = await outbox(uow)
    assert sorted((r.customer_id, r.kind) for r in rows) == sorted(
        [(child.customer_id, "accrual"), (parent.customer_id, "accrual"), (child.customer_id, "birthday")]
    )
    [copy] = [r for r in by_kind(rows, "accrual") if r.customer_id == parent.customer_id]
    assert copy.payload["about"] == child.customer_id

    bot = recording_bot()
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    texts = dict(sent_texts(bot.session))  # type: ignore[arg-type]
    assert texts[parent.telegram_id].startswith("<i>О клиенте Миша Петрова:</i>\n+5 баллов за покупку.")  # type: ignore[index]


async def test_a_tills_purchase_copies_to_the_owners_live_contact_persons(uow: UnitOfWork, clock: FrozenClock) -> None:
    """The till's purchase reads the contact persons with its card lock (repositories/ledger.py::
    lock_card_for_till); the copies must be the ones the general path makes."""
    store = await make_store(uow, clock)
    child = await make_person(uow, clock, name="Миша")
    parent = await make_person(uow, clock, name="Ольга")
    erased = await make_person(uow, clock, name="Пётр")
    for contact in (parent, erased):
        await link_contact_person(uow, clock, contact=contact.customer_id, about=child.customer_id)

    async def erase_and_number(session: AsyncSession) -> str:
        customer = await session.get(Customer, erased.customer_id)
        assert customer is not None
        customer.deleted_at = clock.now()
        card = await session.get(Card, child.card_id)
        assert card is not None
        return card.number

    number = await uow.write(erase_and_number)
    stored = await accrue_once(
        uow, clock, key="api:T1", request_hash="h", query=number, policy=PhonePolicy(), store_id=store,
        receipt_id="T1", amount_kopecks=10_000, actor="till", render=lambda card, result: {"card": card},
    )
    assert stored.body == {"card": number}
    rows = await outbox(uow)
    assert sorted((r.customer_id, r.kind) for r in rows) == sorted(
        [(child.customer_id, "accrual"), (parent.customer_id, "accrual")]
    )
