"""Who is speaking (services/identity.py): one read on a connection that every update makes."""

from __future__ import annotations

from db.uow import UnitOfWork
from services import customers, links, staff
from services.clock import FrozenClock
from services.identity import identify
from services.phones import PhonePolicy
from services.stores import add_store
from tests.family.helpers import type_id, walk_in, without_card


async def _register(uow: UnitOfWork, clock: FrozenClock, telegram_id: int, phone: str) -> customers.Registration:
    return await customers.register_by_telegram(
        uow,
        clock,
        telegram_id=telegram_id,
        phone=phone,
        first_name="Анна",
        last_name="Канарейкина",
        language="en",
        policy_version="v1",
        phone_policy=PhonePolicy(),
    )


async def test_a_stranger_is_nobody(uow: UnitOfWork) -> None:
    who = await identify(uow, 404)
    assert (who.customer, who.staff) == (None, None)


async def test_a_customer_with_their_card_who_is_also_a_cashier(uow: UnitOfWork, clock: FrozenClock) -> None:
    registered = await _register(uow, clock, 101, "+79161110101")
    await add_store(uow, clock, code="S1", name="Shop", actor="test")
    await staff.add_staff(uow, clock, telegram_id=101, role="cashier", name="Anna", store_code="S1", actor="test")

    who = await identify(uow, 101)

    assert who.customer is not None and who.customer.id == registered.customer_id
    assert who.customer == await customers.get_customer(uow, registered.customer_id)  # the same view, unmasked
    assert who.customer.card_number == registered.card_number == "9161110101"
    assert who.staff is not None and (who.staff.role, who.staff.store_code, who.staff.active) == ("cashier", "S1", True)


async def test_a_deactivated_cashier_and_an_erased_customer_are_nobody(uow: UnitOfWork, clock: FrozenClock) -> None:
    registered = await _register(uow, clock, 102, "+79161110102")
    owner = await staff.add_staff(uow, clock, telegram_id=1, role="owner", actor="test")
    cashier = await staff.add_staff(uow, clock, telegram_id=102, role="cashier", actor="test")
    await staff.deactivate(uow, clock, by=owner, staff_id=cashier.id)
    await customers.delete_personal_data(uow, clock, customer_id=registered.customer_id, actor="test")

    who = await identify(uow, 102)

    assert (who.customer, who.staff) == (None, None)


async def test_a_family_member_without_a_card_of_their_own_uses_the_owners(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161110103")
    member = await without_card(uow, clock, phone="+79161110104", telegram_id=104)
    await links.save_links(
        uow,
        clock,
        customer_id=owner.id,
        other_customer_id=member,
        forward_type_ids=[await type_id(uow, "card_owner")],
        actor="staff:1",
    )

    who = await identify(uow, 104)

    assert who.customer is not None and who.customer.id == member
    assert (who.customer.card_id, who.customer.card_number) == (owner.card_id, owner.card_number)
