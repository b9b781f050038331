"""Links between customers: the two columns of the staff form, card-owner semantics through staff
lookups, the POS API and the ledger, contact persons' copies, legal representatives' consents,
the directory of types, and the trail every change leaves."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import OutboxMessage
from db.uow import UnitOfWork
from services import cards, links, staff_desk
from services.clock import FrozenClock
from services.ledger import accrue_purchase, check_invariants
from services.phones import PhonePolicy
from services.stores import add_store
from tests.family.helpers import audit_count, timeline_kinds, type_id, walk_in, without_card
from tests.http.conftest import CARD, Api, make_api

POLICY = PhonePolicy()


async def test_the_two_columns_create_links_in_both_directions(uow: UnitOfWork, clock: FrozenClock) -> None:
    # ITigris' example: Fyodor (this customer) is husband and contact person for Nadezhda; she is
    # card owner and wife for him.
    nadezhda = await walk_in(uow, clock, "+79115553322", "Надежда")
    fyodor = await without_card(uow, clock, phone="+79115556677")
    saved = await links.save_links(
        uow, clock, customer_id=fyodor, other_customer_id=nadezhda.id,
        forward_type_ids=[await type_id(uow, "husband"), await type_id(uow, "contact_person")],
        backward_type_ids=[await type_id(uow, "card_owner"), await type_id(uow, "wife")], actor="staff:1",
    )
    assert {v.link_type.code for v in saved.is_for_others} == {"husband", "contact_person"}
    assert {v.link_type.code for v in saved.others_for_this} == {"card_owner", "wife"}
    seen_by_her = await links.get_links(uow, nadezhda.id)
    assert {v.link_type.code for v in seen_by_her.is_for_others} == {"card_owner", "wife"}
    assert all(v.other_customer_id == fyodor for v in seen_by_her.all)
    # Every link is in both timelines and in the audit log.
    assert (await timeline_kinds(uow, fyodor)).count("link_added") == 4
    assert (await timeline_kinds(uow, nadezhda.id)).count("link_added") == 4
    assert await audit_count(uow, "link.add") == 4
    # Saving the same again adds nothing.
    await links.save_links(
        uow, clock, customer_id=fyodor, other_customer_id=nadezhda.id,
        forward_type_ids=[await type_id(uow, "husband")], actor="staff:1",
    )
    assert await audit_count(uow, "link.add") == 4


async def test_a_family_member_earns_on_the_card_owners_card(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    member = await without_card(uow, clock, phone="+79161000002")
    with pytest.raises(cards.CardNotFound):
        await cards.find_card(uow, clock, "+79161000002", POLICY)
    await links.save_links(
        uow, clock, customer_id=owner.id, other_customer_id=member,
        forward_type_ids=[await type_id(uow, "card_owner")], actor="staff:1",
    )
    # Staff commands (staff_desk) and the POS API (cards.find_card) resolve the member's phone.
    for lookup in (cards.find_card, staff_desk.find_card):
        card = await lookup(uow, clock, "8 916 100-00-02", POLICY)
        assert card.id == owner.card_id
    store = await add_store(uow, clock, code="S1", name="Main", actor="test")
    result = await accrue_purchase(
        uow, clock, card_id=card.id, store_id=store.id, receipt_id="R-1", amount_kopecks=100_000,
        actor="staff:1", customer_id=member,
    )
    assert result.card.card_id == owner.card_id and result.accrued_points > 0
    await check_invariants(uow)
    # Removing the link ends it.
    view = await links.get_links(uow, member)
    await links.remove_link(uow, clock, link_id=view.others_for_this[0].id, actor="staff:1")
    with pytest.raises(cards.CardNotFound):
        await cards.find_card(uow, clock, "+79161000002", POLICY)
    assert "link_removed" in await timeline_kinds(uow, owner.id)
    assert "link_removed" in await timeline_kinds(uow, member)


@pytest.fixture
async def api(uow: UnitOfWork, clock: FrozenClock) -> AsyncIterator[Api]:
    async for item in make_api(uow, clock):
        yield item


async def test_the_pos_api_finds_the_family_card_by_the_members_phone(api: Api, uow: UnitOfWork) -> None:
    member = await without_card(uow, api.clock, phone="+79162223344")
    owner_id = (await cards.find_card(uow, api.clock, CARD, POLICY)).customer_id
    assert owner_id is not None
    await links.save_links(
        uow, api.clock, customer_id=member, other_customer_id=owner_id,
        backward_type_ids=[await type_id(uow, "card_owner")], actor="staff:1",
    )
    response = await api.call(
        "POST", "/api/v1/purchases", body={"receipt_id": "F-1", "amount_kopecks": 50_000, "phone": "89162223344"}
    )
    assert response.status == 201
    assert (await response.json())["card_number"] == CARD


async def test_a_contact_person_gets_copies_of_service_messages(uow: UnitOfWork, clock: FrozenClock) -> None:
    child = await walk_in(uow, clock, "+79161000003", "Маша")
    parent = await without_card(uow, clock, phone="+79161000004", telegram_id=555)
    await links.save_links(
        uow, clock, customer_id=child.id, other_customer_id=parent,
        backward_type_ids=[await type_id(uow, "contact_person")], actor="staff:1",
    )
    assert await links.contact_persons(uow, child.id) == [parent]
    assert await links.contact_persons(uow, parent) == []
    from services.notifications.outbox import enqueue

    async def queue(session: AsyncSession) -> None:
        await enqueue(session, customer_id=child.id, kind="accrual", occasion="op:1", payload={}, now=clock.now())

    await uow.write(queue)

    async def rows(session: AsyncSession) -> list[tuple[int, str]]:
        result = await session.execute(select(OutboxMessage.customer_id, OutboxMessage.occasion))
        return sorted((int(c), str(o)) for c, o in result.all())

    assert await uow.read(rows) == sorted([(child.id, "op:1"), (parent, f"about:{child.id}:op:1")])


async def test_consent_for_a_minor_is_given_by_the_legal_representative(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    minor = await without_card(uow, clock, name="Петя")
    mother = await without_card(uow, clock, name="Ольга")
    stranger = await without_card(uow, clock, name="Иван")
    await links.save_links(
        uow, clock, customer_id=mother, other_customer_id=minor,
        forward_type_ids=[await type_id(uow, "legal_representative"), await type_id(uow, "mother")],
        actor="staff:1",
    )
    assert await links.legal_representatives(uow, minor) == [mother]
    with pytest.raises(links.NotLegalRepresentative):
        await links.record_consent_by_representative(
            uow, clock, customer_id=minor, representative_id=stranger, policy_version="v1", actor="staff:1"
        )
    await links.record_consent_by_representative(
        uow, clock, customer_id=minor, representative_id=mother, policy_version="v1", actor="staff:1"
    )
    from db.models import Customer

    row = await uow.read(lambda s: s.get(Customer, minor))
    assert row is not None and row.pd_consent_by_customer_id == mother and row.pd_policy_version == "v1"


async def test_bad_links_are_refused(uow: UnitOfWork, clock: FrozenClock) -> None:
    a = await without_card(uow, clock)
    b = await without_card(uow, clock)
    owner_type = await type_id(uow, "card_owner")
    with pytest.raises(links.LinkToSelf):
        await links.save_links(uow, clock, customer_id=a, other_customer_id=a, forward_type_ids=[owner_type],
                               actor="t")
    with pytest.raises(links.CardOwnerWithoutCard):
        await links.save_links(uow, clock, customer_id=a, other_customer_id=b, forward_type_ids=[owner_type],
                               actor="t")
    with pytest.raises(links.LinkTypeNotFound):
        await links.save_links(uow, clock, customer_id=a, other_customer_id=b, forward_type_ids=[999_999],
                               actor="t")
    with pytest.raises(links.LinkNotFound):
        await links.remove_link(uow, clock, link_id=999_999, actor="t")


async def test_the_directory_of_link_types(uow: UnitOfWork, clock: FrozenClock) -> None:
    seeded = {t.code for t in await links.list_link_types(uow)}
    assert seeded == {"card_owner", "contact_person", "legal_representative", "husband", "wife", "father",
                      "mother", "son", "daughter"}
    sister = await links.add_link_type(uow, clock, name_ru="Сестра", name_en="Sister", actor="staff:1")
    assert sister.code == "sister" and not sister.system and sister.semantics == "relative"
    renamed = await links.rename_link_type(uow, clock, link_type_id=sister.id, name_ru="Сестра (родная)",
                                           actor="staff:1")
    assert renamed.name("ru") == "Сестра (родная)" and renamed.name("en") == "Sister"
    await links.set_link_type_active(uow, clock, link_type_id=sister.id, active=False, actor="staff:1")
    assert "sister" not in {t.code for t in await links.list_link_types(uow)}
    a, b = await without_card(uow, clock), await without_card(uow, clock)
    with pytest.raises(links.LinkTypeNotFound):
        await links.save_links(uow, clock, customer_id=a, other_customer_id=b, forward_type_ids=[sister.id],
                               actor="t")
    with pytest.raises(links.SystemLinkType):
        await links.set_link_type_active(uow, clock, link_type_id=await type_id(uow, "card_owner"), active=False,
                                         actor="staff:1")
    with pytest.raises(links.InvalidLinkTypeName):
        await links.add_link_type(uow, clock, name_ru="  ", actor="staff:1")
    contact = await links.set_link_type_defaults(
        uow, clock, link_type_id=await type_id(uow, "contact_person"), forward=False, backward=True, actor="staff:1"
    )
    assert (contact.default_forward, contact.default_backward) == (False, True)
    assert await audit_count(uow, "link_type.defaults") == 1
    assert await audit_count(uow, "link_type.add") == 1
