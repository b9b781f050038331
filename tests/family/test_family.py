"""Family cards built by customers: invites (one-time, 48 h, limited), joining with or without a
card of one's own, leaving and removal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from db.models import Card
from db.uow import UnitOfWork
from services import cards, family
from services.clock import FrozenClock
from services.ledger import check_invariants
from services.phones import PhonePolicy
from services.program import update_settings
from tests.family.helpers import audit_count, timeline_kinds, walk_in, without_card

POLICY = PhonePolicy()


async def test_an_invited_customer_joins_and_earns_on_the_family_card(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    member = await without_card(uow, clock, phone="+79161000002", telegram_id=42)
    invite = await family.create_invite(uow, clock, customer_id=owner.id)
    assert invite.start_payload == f"family-{invite.code}"
    assert family.code_from_start_payload(invite.start_payload) == invite.code
    result = await family.join_family(uow, clock, code=invite.code, customer_id=member)
    assert result.outcome == "joined" and result.card_number == owner.card_number
    assert (await cards.find_card(uow, clock, "+79161000002", POLICY)).id == owner.card_id
    seen_by_owner = await family.get_family(uow, customer_id=owner.id)
    seen_by_member = await family.get_family(uow, customer_id=member)
    assert [m.customer_id for m in seen_by_owner.members] == [member]
    assert seen_by_owner.viewer_is_owner and not seen_by_member.viewer_is_owner
    assert seen_by_member.card_id == owner.card_id
    assert "link_added" in await timeline_kinds(uow, owner.id)
    assert "link_added" in await timeline_kinds(uow, member)
    assert await audit_count(uow, "family.join") == 1


async def test_a_code_works_once(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    first = await without_card(uow, clock)
    second = await without_card(uow, clock)
    invite = await family.create_invite(uow, clock, customer_id=owner.id)
    await family.join_family(uow, clock, code=invite.code, customer_id=first)
    with pytest.raises(family.FamilyInviteInvalid):
        await family.join_family(uow, clock, code=invite.code, customer_id=second)
    with pytest.raises(family.FamilyInviteInvalid):
        await family.join_family(uow, clock, code="no-such-code", customer_id=second)
    with pytest.raises(family.FamilyOwnInvite):
        await family.join_family(
            uow, clock, code=(await family.create_invite(uow, clock, customer_id=owner.id)).code,
            customer_id=owner.id,
        )


async def test_an_invite_expires_after_48_hours(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    late, in_time = await without_card(uow, clock), await without_card(uow, clock)
    expiring = await family.create_invite(uow, clock, customer_id=owner.id)
    clock.advance(timedelta(hours=47, minutes=59))
    fresh = await family.create_invite(uow, clock, customer_id=owner.id)
    clock.advance(timedelta(minutes=1))
    with pytest.raises(family.FamilyInviteInvalid):
        await family.join_family(uow, clock, code=expiring.code, customer_id=late)
    assert (await family.join_family(uow, clock, code=fresh.code, customer_id=in_time)).outcome == "joined"


async def test_the_number_of_members_is_limited_by_the_program_setting(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    assert (await family.get_family(uow, customer_id=(await walk_in(uow, clock, "+79169999999")).id)).limit == 5
    await update_settings(uow, clock, changes={"family_members_limit": 2}, actor="test")
    owner = await walk_in(uow, clock, "+79161000001")
    codes = [(await family.create_invite(uow, clock, customer_id=owner.id)).code for _ in range(3)]
    for code in codes[:2]:
        await family.join_family(uow, clock, code=code, customer_id=await without_card(uow, clock))
    with pytest.raises(family.FamilyFull):
        await family.join_family(uow, clock, code=codes[2], customer_id=await without_card(uow, clock))
    with pytest.raises(family.FamilyFull):
        await family.create_invite(uow, clock, customer_id=owner.id)
    view = await family.get_family(uow, customer_id=owner.id)
    assert len(view.members) == 2 and view.places_left == 0


async def test_a_customer_with_a_card_chooses_to_keep_it_or_join(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    other = await walk_in(uow, clock, "+79161000002", "Ольга")
    assert other.card_id is not None
    own_before = await cards.find_card(uow, clock, "+79161000002", POLICY)
    owner_before = await cards.find_card(uow, clock, "+79161000001", POLICY)
    invite = await family.create_invite(uow, clock, customer_id=owner.id)
    assert (await family.join_family(uow, clock, code=invite.code, customer_id=other.id)).outcome == "needs_choice"
    kept = await family.join_family(uow, clock, code=invite.code, customer_id=other.id, keep_own_card=True)
    assert kept.outcome == "kept"
    assert (await cards.find_card(uow, clock, "+79161000002", POLICY)).id == other.card_id
    joined = await family.join_family(uow, clock, code=invite.code, customer_id=other.id, keep_own_card=False)
    assert joined.outcome == "joined" and joined.moved_points == own_before.balance > 0
    # The phone now finds the family card, which holds both balances; the old card is closed.
    now_found = await cards.find_card(uow, clock, "+79161000002", POLICY)
    assert now_found.id == owner.card_id
    assert now_found.balance == owner_before.balance + own_before.balance
    old = await uow.read(lambda session: session.get(Card, other.card_id))
    assert old is not None and (old.status, old.customer_id, old.number) == ("blocked", None, f"joined-{old.id}")
    await check_invariants(uow)


async def test_a_member_leaves_and_the_owner_removes_a_member(uow: UnitOfWork, clock: FrozenClock) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    leaver = await without_card(uow, clock, phone="+79161000002")
    removed = await without_card(uow, clock, phone="+79161000003")
    for member in (leaver, removed):
        code = (await family.create_invite(uow, clock, customer_id=owner.id)).code
        await family.join_family(uow, clock, code=code, customer_id=member)
    with pytest.raises(family.NotFamilyOwner):
        await family.remove_member(uow, clock, owner_customer_id=leaver, member_customer_id=removed)
    with pytest.raises(family.NotFamilyMember):
        await family.leave_family(uow, clock, customer_id=owner.id)
    await family.leave_family(uow, clock, customer_id=leaver)
    await family.remove_member(uow, clock, owner_customer_id=owner.id, member_customer_id=removed)
    assert (await family.get_family(uow, customer_id=owner.id)).members == ()
    # Former members get a fresh card by their own phone again (empty: no second welcome bonus).
    for phone in ("+79161000002", "+79161000003"):
        card = await cards.find_card(uow, clock, phone, POLICY)
        assert card.id != owner.card_id and card.balance == 0
    assert (await timeline_kinds(uow, leaver)).count("link_removed") == 1
    assert (await timeline_kinds(uow, owner.id)).count("link_removed") == 2
    assert await audit_count(uow, "family.leave") == 1 and await audit_count(uow, "family.remove") == 1
    with pytest.raises(family.NotFamilyMember):
        await family.remove_member(uow, clock, owner_customer_id=owner.id, member_customer_id=removed)
    await check_invariants(uow)


async def test_members_cannot_invite_and_customers_without_a_card_have_no_family(
    uow: UnitOfWork, clock: FrozenClock
) -> None:
    owner = await walk_in(uow, clock, "+79161000001")
    member = await without_card(uow, clock)
    await family.join_family(
        uow, clock, code=(await family.create_invite(uow, clock, customer_id=owner.id)).code, customer_id=member
    )
    with pytest.raises(family.NotFamilyOwner):
        await family.create_invite(uow, clock, customer_id=member)
    with pytest.raises(family.FamilyNoCard):
        await family.get_family(uow, customer_id=await without_card(uow, clock))


async def test_joining_another_family_ends_the_first_membership(uow: UnitOfWork, clock: FrozenClock) -> None:
    first = await walk_in(uow, clock, "+79161000001")
    second = await walk_in(uow, clock, "+79161000002")
    member = await without_card(uow, clock, phone="+79161000003")
    for owner in (first, second):
        code = (await family.create_invite(uow, clock, customer_id=owner.id)).code
        await family.join_family(uow, clock, code=code, customer_id=member)
    assert (await family.get_family(uow, customer_id=first.id)).members == ()
    assert len((await family.get_family(uow, customer_id=second.id)).members) == 1
    assert (await cards.find_card(uow, clock, "+79161000003", POLICY)).id == second.card_id
