"""Staff service rules that don't need the bot: invites die with their inviter's powers."""

from __future__ import annotations

import pytest

from db.uow import UnitOfWork
from services import staff, stores
from services.clock import FrozenClock
from services.errors import InviteInvalid, RoleTooHigh


async def test_invite_from_a_deactivated_inviter_is_void(uow: UnitOfWork, clock: FrozenClock) -> None:
    await stores.add_store(uow, clock, code="MAIN", name="Main", actor="test")
    owner = await staff.add_staff(uow, clock, telegram_id=1, role="owner", store_code="MAIN", actor="test")
    manager = await staff.add_staff(uow, clock, telegram_id=2, role="manager", store_code="MAIN", actor="test")
    invite = await staff.create_invite(uow, clock, by=manager, role="cashier")
    await staff.deactivate(uow, clock, by=owner, staff_id=manager.id)
    with pytest.raises(InviteInvalid):
        await staff.accept_invite(uow, clock, code=invite.code, telegram_id=3, name="Newcomer")
    assert await staff.find_active_staff(uow, 3) is None


async def test_invite_role_never_above_the_inviter(uow: UnitOfWork, clock: FrozenClock) -> None:
    manager = await staff.add_staff(uow, clock, telegram_id=2, role="manager", actor="test")
    with pytest.raises(RoleTooHigh):
        await staff.create_invite(uow, clock, by=manager, role="admin")
    invite = await staff.create_invite(uow, clock, by=manager, role="manager")
    joined = await staff.accept_invite(uow, clock, code=invite.code, telegram_id=5, name="M2")
    assert joined.role == "manager"
    with pytest.raises(InviteInvalid):  # one-time
        await staff.accept_invite(uow, clock, code=invite.code, telegram_id=6, name="M3")
