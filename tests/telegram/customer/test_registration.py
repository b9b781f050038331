"""/start, consent and sharing the contact: the three issuing cases and every way it can go wrong."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, PhoneConflict
from db.uow import UnitOfWork
from handlers.telegram.start import start_payload
from services import customers
from services.clock import FrozenClock
from services.consent import POLICY_VERSION
from services.phones import PhonePolicy
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.telegram.customer.helpers import (
    CARD,
    PHONE,
    customer_count,
    fsm,
    has_contact_button,
    last_message,
    register,
    reply_buttons,
)

WELCOME = {"ru": "бонусная программа", "en": "loyalty program"}
CONSENT = {"ru": "согласие", "en": "consent"}
CREATED = {"ru": "Ваша карта", "en": "Your card"}
MENU_CARD = {"ru": "💳 Карта", "en": "💳 Card"}


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_start_shows_welcome_consent_and_one_contact_button(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    await harness.feed(updates.text(updates.user(11, language=language), "/start"))
    answer = last_message(harness)
    assert WELCOME[language] in answer.text
    assert CONSENT[language] in answer.text.lower()
    assert POLICY_VERSION in answer.text
    assert has_contact_button(answer.reply_markup)
    assert await customer_count(uow) == 0  # nothing is stored before the contact


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_own_contact_issues_the_phone_card_and_records_consent(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(12, language=language)
    await harness.feed(updates.text(sender, "/start"))
    await harness.feed(updates.contact(sender, PHONE))
    answer = last_message(harness)
    assert CREATED[language] in answer.text and CARD in answer.text
    assert "100" in answer.text  # the welcome bonus
    assert MENU_CARD[language] in reply_buttons(answer.reply_markup)

    async def stored(session: AsyncSession) -> Customer:
        return (await session.execute(select(Customer).where(Customer.telegram_id == 12))).scalar_one()

    customer = await uow.read(stored)
    assert customer.pd_consent_at == clock.now()
    assert customer.pd_policy_version == POLICY_VERSION
    assert customer.phone == "+79161234567"
    assert customer.language == language


@pytest.mark.parametrize("language", ["ru", "en"])
@pytest.mark.parametrize("owner_id", [999, None], ids=["someone-else", "no-user-id"])
async def test_foreign_contact_is_refused_and_nothing_stored(
    uow: UnitOfWork, clock: FrozenClock, language: str, owner_id: int | None
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(13, language=language)
    await harness.feed(updates.text(sender, "/start"))
    await harness.feed(updates.contact(sender, PHONE, owner_id=owner_id))
    answer = last_message(harness)
    assert {"ru": "не ваш контакт", "en": "not your contact"}[language] in answer.text
    assert has_contact_button(answer.reply_markup)
    assert await customer_count(uow) == 0


@pytest.mark.parametrize(
    ("phone", "expected"),
    [
        ("12025550123", {"ru": "Номера этой страны (US)", "en": "Numbers of this country (US)"}),
        ("7123", {"ru": "не похож на номер", "en": "does not look like a phone"}),
    ],
    ids=["foreign-region", "invalid"],
)
@pytest.mark.parametrize("language", ["ru", "en"])
async def test_bad_phone_gets_a_clear_message_and_nothing_stored(
    uow: UnitOfWork, clock: FrozenClock, language: str, phone: str, expected: dict[str, str]
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(14, language=language)
    await harness.feed(updates.text(sender, "/start"))
    await harness.feed(updates.contact(sender, phone))
    answer = last_message(harness)
    assert expected[language] in answer.text
    assert has_contact_button(answer.reply_markup)
    assert await customer_count(uow) == 0


async def test_contact_before_the_consent_text_shows_it_first(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(15)
    await harness.feed(updates.contact(sender, PHONE))
    assert POLICY_VERSION in last_message(harness).text
    assert await customer_count(uow) == 0
    await harness.feed(updates.contact(sender, PHONE))  # now the person has seen what they agree to
    assert await customers.get_by_telegram(uow, 15) is not None


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_walk_in_customer_gets_their_telegram_attached(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    walk_in = await customers.create_walk_in(
        uow, clock, phone="+7 916 123-45-67", name="Анна", phone_policy=PhonePolicy(), actor="staff:1"
    )
    harness = make_harness(uow, clock)
    sender = updates.user(16, language=language)
    await harness.feed(updates.text(sender, "/start"))
    await harness.feed(updates.contact(sender, PHONE))
    assert {"ru": "Мы нашли вашу карту", "en": "We found your card"}[language] in last_message(harness).text
    customer = await customers.get_by_telegram(uow, 16)
    assert customer is not None and customer.id == walk_in.id and customer.card_number == CARD


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_recycled_number_is_a_conflict_and_hands_over_nothing(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    await register(harness, updates.user(17))
    newcomer = updates.user(18, language=language)
    await harness.feed(updates.text(newcomer, "/start"))
    await harness.feed(updates.contact(newcomer, PHONE))
    assert {"ru": "уже привязана к другому", "en": "already belongs to another"}[language] in last_message(
        harness).text
    claimant = await customers.get_by_telegram(uow, 18)
    assert claimant is not None and claimant.card_id is None

    async def conflicts(session: AsyncSession) -> list[PhoneConflict]:
        return list((await session.execute(select(PhoneConflict))).scalars())

    assert [c.claimant_customer_id for c in await uow.read(conflicts)] == [claimant.id]
    # Without a card, the card screens explain instead of failing.
    for command in ("/card", "/balance", "/history"):
        harness.session.clear()
        await harness.feed(updates.text(newcomer, command))
        assert {"ru": "нет карты", "en": "no card yet"}[language] in last_message(harness).text


async def test_sharing_again_is_recognised_not_duplicated(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(19)
    await register(harness, sender)
    await harness.feed(updates.contact(sender, PHONE))
    assert "уже зарегистрированы" in last_message(harness).text
    assert await customer_count(uow) == 1


async def test_a_display_name_that_is_not_a_name_does_not_block_registration(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(20, first_name="Anna 2000", last_name="<b>")
    customer = await register(harness, sender)
    assert customer.card_number == CARD and customer.name is None


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_start_payload_is_kept_for_invitations(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(21, language=language)
    await harness.feed(updates.text(sender, "/start family-abc123"))
    assert await start_payload(fsm(harness, 21)) == "family-abc123"
    assert has_contact_button(last_message(harness).reply_markup)
    await harness.feed(updates.contact(sender, PHONE))
    # Registration keeps it, so the invitation can be applied to the now known customer.
    assert await start_payload(fsm(harness, 21)) == "family-abc123"


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_start_for_a_customer_shows_the_menu(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(22, language=language)
    await register(harness, sender)
    await harness.feed(updates.text(sender, "/start"))
    assert MENU_CARD[language] in reply_buttons(last_message(harness).reply_markup)
