"""Registration's three issuing cases, walk-ins, search, profile and deletion against a real database."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select, text

from db.models import AuditEntry, Card, Customer, Lot, Operation, PhoneConflict
from db.uow import UnitOfWork
from services import cards, customers
from services.clock import FrozenClock
from services.errors import (
    BirthdayAlreadySet,
    CardAlreadyExists,
    InvalidDate,
    InvalidEmail,
    InvalidPhone,
    PhoneRegionNotAllowed,
)
from services.phones import PhonePolicy

POLICY = PhonePolicy()


async def register(uow: UnitOfWork, clock: FrozenClock, telegram_id: int, phone: str) -> customers.Registration:
    return await customers.register_by_telegram(
        uow, clock, telegram_id=telegram_id, phone=phone, first_name="Анна", last_name="Петрова",
        language="ru", policy_version="2026-01", phone_policy=POLICY,
    )


async def scalar(uow: UnitOfWork, stmt: object) -> object:
    async def work(session):  # type: ignore[no-untyped-def]
        return (await session.execute(stmt)).scalar_one()

    return await uow.read(work)


async def test_new_phone_creates_customer_card_and_welcome_bonus(uow: UnitOfWork, clock: FrozenClock) -> None:
    result = await register(uow, clock, 1001, "79161234567")
    assert result.outcome == "created"
    assert result.card_number == "9161234567"
    assert result.welcome_points == 100_00
    card = await cards.find_card(uow, clock, "+7 916 123-45-67", POLICY)
    assert (card.customer_id, card.balance, card.status) == (result.customer_id, 100_00, "active")
    customer = await customers.get_by_telegram(uow, 1001)
    assert customer is not None and customer.phone == "+79161234567" and customer.name == "Анна"
    consent = await scalar(uow, select(Customer.pd_policy_version).where(Customer.id == result.customer_id))
    assert consent == "2026-01"


async def test_registering_twice_is_recognised(uow: UnitOfWork, clock: FrozenClock) -> None:
    first = await register(uow, clock, 1001, "89161234567")
    again = await register(uow, clock, 1001, "89161234567")
    assert again.outcome == "already" and again.customer_id == first.customer_id
    assert await scalar(uow, select(func.count()).select_from(Lot)) == 1


async def test_walk_in_customer_gets_telegram_attached(uow: UnitOfWork, clock: FrozenClock) -> None:
    walk_in = await customers.create_walk_in(
        uow, clock, phone="8 (916) 123-45-67", name="Иван", surname="Сидоров", phone_policy=POLICY, actor="staff:1"
    )
    assert walk_in.card_number == "9161234567" and walk_in.telegram_id is None
    result = await register(uow, clock, 2002, "+79161234567")
    assert result.outcome == "attached"
    assert result.customer_id == walk_in.id
    assert result.card_number == "9161234567"
    attached = await customers.get_customer(uow, walk_in.id)
    assert attached.telegram_id == 2002
    assert attached.name == "Иван"  # the cashier's data is kept
    # The welcome bonus came with the card, once.
    assert await scalar(uow, select(func.count()).select_from(Operation)) == 1


async def test_recycled_number_raises_conflict_and_hands_over_nothing(uow: UnitOfWork, clock: FrozenClock) -> None:
    original = await register(uow, clock, 1001, "79161234567")
    newcomer = await register(uow, clock, 3003, "79161234567")
    assert newcomer.outcome == "conflict"
    assert newcomer.card_number is None
    assert newcomer.customer_id != original.customer_id
    card = await cards.find_card(uow, clock, "9161234567", POLICY)
    assert card.customer_id == original.customer_id  # the balance stays with its owner
    conflicts = await customers.list_conflicts(uow)
    assert [(c.card_number, c.claimant_customer_id) for c in conflicts] == [("9161234567", newcomer.customer_id)]
    assert conflicts[0].phone_masked == "+7 *** ***-45-67"


async def test_conflict_resolution_moves_the_card(uow: UnitOfWork, clock: FrozenClock) -> None:
    original = await register(uow, clock, 1001, "79161234567")
    newcomer = await register(uow, clock, 3003, "79161234567")
    [conflict] = await customers.list_conflicts(uow)
    resolved = await customers.resolve_conflict(
        uow, clock, conflict_id=conflict.id, move_card=True, actor="staff:1", staff_id=None
    )
    assert resolved.holder_customer_id == newcomer.customer_id
    assert (await customers.get_customer(uow, newcomer.customer_id)).card_number == "9161234567"
    assert (await customers.get_customer(uow, original.customer_id)).card_number is None
    assert await customers.list_conflicts(uow) == []


@pytest.mark.parametrize(
    ("phone", "error"), [("12345", InvalidPhone), ("+7 701 123 45 67", PhoneRegionNotAllowed), ("abc", InvalidPhone)]
)
async def test_bad_phone_stores_nothing(uow: UnitOfWork, clock: FrozenClock, phone: str, error: type) -> None:
    with pytest.raises(error):
        await register(uow, clock, 1001, phone)
    assert await scalar(uow, select(func.count()).select_from(Customer)) == 0


async def test_walk_in_with_existing_card_is_refused(uow: UnitOfWork, clock: FrozenClock) -> None:
    await register(uow, clock, 1001, "79161234567")
    with pytest.raises(CardAlreadyExists):
        await customers.create_walk_in(uow, clock, phone="89161234567", name="Иван", phone_policy=POLICY, actor="x")


async def test_concurrent_registration_of_one_phone_gives_one_card(uow: UnitOfWork, clock: FrozenClock) -> None:
    results = await asyncio.gather(*(register(uow, clock, 5000 + i, "79161234567") for i in range(2)))
    outcomes = sorted(r.outcome for r in results)
    assert outcomes == ["conflict", "created"]
    assert await scalar(uow, select(func.count()).select_from(Card)) == 1
    assert await scalar(uow, select(func.count()).select_from(PhoneConflict)) == 1


async def test_find_by_phone_card_surname_birthday_and_code_word(uow: UnitOfWork, clock: FrozenClock) -> None:
    result = await register(uow, clock, 1001, "79161234567")
    await customers.update_profile(
        uow, clock, customer_id=result.customer_id, actor="staff:1", by_staff=True, birthday="01.02.1990",
        code_word="Ромашка",
    )
    for query in ("8 916 123-45-67", "9161234567", "петрова", "01.02.1990", "ромашка"):
        found = await customers.find_customers(uow, query, phone_policy=POLICY, full_access=True)
        assert [c.id for c in found] == [result.customer_id], query
    masked = await customers.find_customers(uow, "9161234567", phone_policy=POLICY, full_access=False)
    assert masked[0].phone == "+7 *** ***-45-67" and masked[0].birthday is None
    assert await customers.find_customers(uow, "Иванов", phone_policy=POLICY, full_access=True) == []


async def test_customer_sets_birthday_once_and_bad_input_changes_nothing(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    result = await register(uow, clock, 1001, "79161234567")
    cid = result.customer_id
    for bad in ("31.02.1990", "завтра", "01.01.1899", "01.01.2030"):
        with pytest.raises(InvalidDate):
            await customers.update_profile(uow, clock, customer_id=cid, actor="c", by_staff=False, birthday=bad)
    with pytest.raises(InvalidEmail):
        await customers.update_profile(uow, clock, customer_id=cid, actor="c", by_staff=False, email="anna.mail.ru")
    view = await customers.update_profile(uow, clock, customer_id=cid, actor="c", by_staff=False, birthday="29.02.2000")
    assert view.birthday is not None and view.birthday.isoformat() == "2000-02-29"
    with pytest.raises(BirthdayAlreadySet):
        await customers.update_profile(uow, clock, customer_id=cid, actor="c", by_staff=False, birthday="01.03.2000")
    staff_fix = await customers.update_profile(
        uow, clock, customer_id=cid, actor="s", by_staff=True, birthday="01.03.2000"
    )
    assert staff_fix.birthday is not None and staff_fix.birthday.isoformat() == "2000-03-01"


async def test_deletion_erases_personal_data_and_keeps_the_ledger(uow: UnitOfWork, clock: FrozenClock) -> None:
    result = await register(uow, clock, 1001, "79161234567")
    await customers.update_profile(
        uow, clock, customer_id=result.customer_id, actor="c", by_staff=False, email="a@b.ru", birthday="01.02.1990"
    )
    await customers.delete_personal_data(uow, clock, customer_id=result.customer_id, actor="customer")
    assert await customers.get_by_telegram(uow, 1001) is None

    async def check(session):  # type: ignore[no-untyped-def]
        customer = await session.get(Customer, result.customer_id)
        assert customer.deleted_at is not None
        assert (customer.name, customer.surname, customer.phone, customer.birthday, customer.email) == (None,) * 5
        assert customer.telegram_id is None
        card = (await session.execute(select(Card))).scalar_one()
        assert card.customer_id is None and card.status == "blocked" and "9161234567" not in card.number
        # Ledger rows stay and still balance.
        points = (await session.execute(select(func.sum(Operation.points)))).scalar_one()
        held = (await session.execute(select(func.sum(Lot.remaining)))).scalar_one()
        assert points == held == card.balance
        if session.bind.dialect.name == "sqlite":
            violations = (await session.execute(text("PRAGMA foreign_key_check"))).all()
            assert violations == []

    await uow.read(check)
    # The person is a stranger again and can register afresh with a clean card.
    again = await register(uow, clock, 1001, "79161234567")
    assert again.outcome == "created" and again.customer_id != result.customer_id


async def test_audit_log_is_append_only(uow: UnitOfWork, clock: FrozenClock) -> None:
    await customers.create_walk_in(uow, clock, phone="89161234567", name="Иван", phone_policy=POLICY, actor="staff:1")

    async def tamper(session):  # type: ignore[no-untyped-def]
        await session.execute(text("UPDATE audit_log SET actor = 'nobody'"))

    with pytest.raises(Exception, match="append-only"):
        await uow.write(tamper)
    assert await scalar(uow, select(func.count()).select_from(AuditEntry).where(AuditEntry.actor == "staff:1")) >= 1
