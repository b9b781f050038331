"""/deleteme: explained, confirmed with a button, erased; afterwards the person is a stranger."""

from __future__ import annotations

import pytest
from aiogram.methods import EditMessageText, SendPhoto
from aiogram.types import ReplyKeyboardRemove
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer
from db.uow import UnitOfWork
from handlers.telegram.card import CardAction
from handlers.telegram.deletion import DeletionAction
from handlers.telegram.history import HistoryNav
from services import customers, stores
from services.clock import FrozenClock
from services.ledger import accrue_purchase, get_history
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.telegram.customer.helpers import (
    CARD,
    PHONE,
    alerts,
    callback_on_photo,
    has_contact_button,
    inline_buttons,
    last_message,
    register,
)


def confirm(customer: customers.CustomerView) -> str:
    return DeletionAction(action="confirm", customer=customer.id).pack()


def cancel(customer: customers.CustomerView) -> str:
    return DeletionAction(action="cancel", customer=customer.id).pack()


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_cancel_keeps_everything(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(61, language=language)
    customer = await register(harness, sender)
    await harness.feed(updates.text(sender, "/deleteme"))
    explain = last_message(harness)
    assert {"ru": "Удалить?", "en": "Delete?"}[language] in explain.text
    assert [data for _, data in inline_buttons(explain.reply_markup)] == [confirm(customer), cancel(customer)]
    await harness.feed(updates.callback(sender, cancel(customer)))
    assert await customers.get_by_telegram(uow, 61) is not None


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_deletion_erases_and_the_user_is_a_stranger_again(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(62, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    store = await stores.add_store(uow, clock, code="S1", name="Тверская", actor="test")
    await accrue_purchase(uow, clock, card_id=customer.card_id, store_id=store.id, receipt_id="OLD-1",
                          amount_kopecks=100_000, actor="test")
    await harness.feed(updates.text(sender, "/deleteme"))
    await harness.feed(updates.callback(sender, confirm(customer)))
    done = last_message(harness)
    assert {"ru": "данные удалены", "en": "data is deleted"}[language] in done.text
    assert isinstance(done.reply_markup, ReplyKeyboardRemove)

    async def erased(session: AsyncSession) -> tuple[Customer, Card]:
        row = await session.get(Customer, customer.id)
        card = await session.get(Card, customer.card_id)
        assert row is not None and card is not None
        return row, card

    row, card = await uow.read(erased)
    assert (row.name, row.phone, row.telegram_id, row.deleted_at) == (None, None, None, clock.now())
    assert card.status == "blocked" and card.customer_id is None and card.number != CARD

    # A stranger now: every feature leads back to the registration prompt.
    for command in ("/card", "/balance", "/history", "/profile", "/help", "привет"):
        harness.session.clear()
        await harness.feed(updates.text(sender, command))
        assert has_contact_button(last_message(harness).reply_markup), command
    # Old buttons show nothing either.
    harness.session.clear()
    await harness.feed(callback_on_photo(sender, CardAction(action="refresh").pack(), f"Карта {CARD}"))
    await harness.feed(updates.callback(sender, HistoryNav(direction="first").pack()))
    await harness.feed(updates.callback(sender, confirm(customer)))
    assert not harness.session.sent(SendPhoto) and not harness.session.sent(EditMessageText)
    assert len(alerts(harness)) == 3
    assert await customers.get_by_telegram(uow, 62) is None

    # Registering again starts afresh: a new card with the same number and none of the old history.
    fresh = await register(harness, sender, PHONE)
    assert fresh.id != customer.id and fresh.card_id != customer.card_id and fresh.card_number == CARD
    await harness.feed(updates.text(sender, "/history"))
    assert "OLD-1" not in last_message(harness).text
    assert fresh.card_id is not None
    assert len((await get_history(uow, fresh.card_id)).rows) == 1  # only the new welcome bonus
    # The "Yes, delete" kept from before does not erase the new account.
    harness.session.clear()
    await harness.feed(updates.callback(sender, confirm(customer)))
    assert "устарела" in alerts(harness)[0] or "outdated" in alerts(harness)[0]
    assert await customers.get_by_telegram(uow, 62) is not None


async def test_a_stranger_has_nothing_to_delete(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    await harness.feed(updates.text(updates.user(63), "/deleteme"))
    assert "удалять нечего" in last_message(harness).text


async def test_deletion_keeps_other_customers(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    alice, bob = updates.user(64), updates.user(65)
    alice_view = await register(harness, alice, "79161110000")
    bob_view = await register(harness, bob, "79162220000")
    await harness.feed(updates.text(alice, "/deleteme"))
    await harness.feed(updates.callback(alice, confirm(bob_view)))  # tampered: Bob's id
    await harness.feed(updates.callback(bob, confirm(alice_view)))  # tampered: Alice's id
    assert await customers.get_by_telegram(uow, 64) is not None
    assert await customers.get_by_telegram(uow, 65) is not None
    await harness.feed(updates.callback(alice, confirm(alice_view)))

    async def live(session: AsyncSession) -> list[int | None]:
        rows = await session.execute(select(Customer.telegram_id).where(Customer.deleted_at.is_(None)))
        return list(rows.scalars())

    assert await uow.read(live) == [65]
