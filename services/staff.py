"""Staff: roles, what each role may see and do, invites, activation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import STAFF_ROLES, Staff, StaffInvite, Store
from db.repositories import staff as repo
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import InvalidRole, InviteInvalid, NotStaff, RoleTooHigh, StaffNotFound
from services.stores import get_store

# Higher rank = more power. A role may only grant roles of its own rank or lower.
ROLE_RANK = {"cashier": 1, "manager": 2, "admin": 3, "owner": 4}
INVITE_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class StaffView:
    id: int
    telegram_id: int
    name: str
    role: str
    store_id: int | None
    store_code: str | None
    active: bool

    @property
    def sees_personal_data(self) -> bool:
        """Cashiers see masked phones and no birthdays; managers and above see everything."""
        return ROLE_RANK[self.role] >= ROLE_RANK["manager"]

    def at_least(self, role: str) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]

    @property
    def actor(self) -> str:
        return f"staff:{self.id}"


def check_role(role: str) -> str:
    role = role.strip().lower()
    if role not in STAFF_ROLES:
        raise InvalidRole(role=role, roles=", ".join(STAFF_ROLES))
    return role


async def staff_view(session: AsyncSession, staff: Staff) -> StaffView:
    store_code = None
    if staff.store_id is not None:
        store = await session.get(Store, staff.store_id)
        store_code = store.code if store else None
    return staff_view_of(staff, store_code)


def staff_view_of(staff: Staff, store_code: str | None) -> StaffView:
    """The view of a staff member whose store code the caller has already read."""
    return StaffView(
        id=staff.id, telegram_id=staff.telegram_id, name=staff.name, role=staff.role,
        store_id=staff.store_id, store_code=store_code, active=staff.active,
    )


async def add_staff(
    uow: UnitOfWork, clock: Clock, *, telegram_id: int, role: str, name: str = "", store_code: str | None = None,
    actor: str,
) -> StaffView:
    """Create or update a staff member (the CLI's `staff add` and owner bootstrap)."""
    role = check_role(role)

    async def work(session: AsyncSession) -> StaffView:
        store_id = (await get_store(session, store_code)).id if store_code else None
        staff = await repo.staff_by_telegram_id(session, telegram_id)
        before = None
        if staff is None:
            staff = Staff(
                telegram_id=telegram_id, name=name or str(telegram_id), role=role, store_id=store_id,
                active=True, created_at=clock.now(),
            )
            session.add(staff)
        else:
            before = {"role": staff.role, "store_id": staff.store_id, "active": staff.active}
            staff.role, staff.active = role, True
            if store_id is not None:
                staff.store_id = store_id
            if name:
                staff.name = name
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="staff.add", entity="staff", entity_id=staff.id,
            before=before, after={"role": role, "store_id": staff.store_id, "active": True},
        )
        return await staff_view(session, staff)

    return await uow.write(work)


async def bootstrap_owners(uow: UnitOfWork, clock: Clock, telegram_ids: list[int]) -> None:
    """Make the configured OWNER_TELEGRAM_IDS owners, once; later changes are the owners' own."""

    async def work(session: AsyncSession) -> None:
        for telegram_id in telegram_ids:
            if await repo.staff_by_telegram_id(session, telegram_id) is None:
                staff = Staff(
                    telegram_id=telegram_id, name=str(telegram_id), role="owner", store_id=None,
                    active=True, created_at=clock.now(),
                )
                session.add(staff)
                await session.flush()
                await audit.record(
                    session, at=clock.now(), actor="system", action="staff.bootstrap_owner",
                    entity="staff", entity_id=staff.id, after={"role": "owner"},
                )

    await uow.write(work)


async def find_active_staff(uow: UnitOfWork, telegram_id: int) -> StaffView | None:
    async def work(session: AsyncSession) -> StaffView | None:
        staff = await repo.staff_by_telegram_id(session, telegram_id)
        if staff is None or not staff.active:
            return None
        return await staff_view(session, staff)

    return await uow.read(work)


async def require_staff(uow: UnitOfWork, telegram_id: int, minimum_role: str = "cashier") -> StaffView:
    staff = await find_active_staff(uow, telegram_id)
    if staff is None:
        raise NotStaff()
    if not staff.at_least(minimum_role):
        raise RoleTooHigh(role=minimum_role)
    return staff


async def list_staff(uow: UnitOfWork) -> list[StaffView]:
    async def work(session: AsyncSession) -> list[StaffView]:
        return [await staff_view(session, staff) for staff in await repo.all_staff(session)]

    return await uow.read(work)


async def _deactivatable(session: AsyncSession, by: StaffView, staff_id: int) -> Staff:
    """The member `by` may switch off, or the reason they may not."""
    if not by.at_least("admin"):
        raise RoleTooHigh(role="admin")
    staff = await session.get(Staff, staff_id)
    if staff is None:
        raise StaffNotFound(staff_id=staff_id)
    if ROLE_RANK[staff.role] > ROLE_RANK[by.role]:
        raise RoleTooHigh(role=staff.role)
    return staff


async def deactivation_candidate(uow: UnitOfWork, *, by: StaffView, staff_id: int) -> StaffView:
    """Who a deactivation would switch off, to ask about it first; refused as the deactivation would be."""

    async def work(session: AsyncSession) -> StaffView:
        return await staff_view(session, await _deactivatable(session, by, staff_id))

    return await uow.read(work)


async def deactivate(uow: UnitOfWork, clock: Clock, *, by: StaffView, staff_id: int) -> StaffView:
    async def work(session: AsyncSession) -> StaffView:
        staff = await _deactivatable(session, by, staff_id)
        staff.active = False
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=by.actor, action="staff.deactivate", entity="staff",
            entity_id=staff.id, before={"active": True}, after={"active": False},
        )
        return await staff_view(session, staff)

    return await uow.write(work)


@dataclass(frozen=True)
class InviteView:
    code: str
    role: str
    store_code: str | None
    expires_at_iso: str


async def create_invite(
    uow: UnitOfWork, clock: Clock, *, by: StaffView, role: str, store_code: str | None = None
) -> InviteView:
    """A one-time deep link (`/start staff-<code>`) for a role not above the inviter's."""
    role = check_role(role)
    if ROLE_RANK[role] > ROLE_RANK[by.role]:
        raise RoleTooHigh(role=role)

    async def work(session: AsyncSession) -> InviteView:
        store_id = (await get_store(session, store_code)).id if store_code else by.store_id
        invite = StaffInvite(
            code=clock.token(12), role=role, store_id=store_id, created_by_staff_id=by.id,
            expires_at=clock.now() + INVITE_TTL,
        )
        session.add(invite)
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=by.actor, action="staff.invite", entity="staff_invite",
            entity_id=invite.id, after={"role": role, "store_id": store_id},
        )
        return InviteView(
            code=invite.code, role=role, store_code=store_code or by.store_code,
            expires_at_iso=invite.expires_at.isoformat(),
        )

    return await uow.write(work)


async def accept_invite(
    uow: UnitOfWork, clock: Clock, *, code: str, telegram_id: int, name: str
) -> StaffView:
    async def work(session: AsyncSession) -> StaffView:
        invite = (
            await session.execute(select(StaffInvite).where(StaffInvite.code == code).with_for_update())
        ).scalar_one_or_none()
        if invite is None or invite.used_at is not None or invite.expires_at <= clock.now():
            raise InviteInvalid()
        inviter = await session.get(Staff, invite.created_by_staff_id)
        if inviter is None or not inviter.active or ROLE_RANK[inviter.role] < ROLE_RANK[invite.role]:
            # A deactivated or demoted inviter's links die with their powers.
            raise InviteInvalid()
        invite.used_at, invite.used_by_telegram_id = clock.now(), telegram_id
        staff = await repo.staff_by_telegram_id(session, telegram_id)
        before = None
        if staff is None:
            staff = Staff(
                telegram_id=telegram_id, name=name or str(telegram_id), role=invite.role,
                store_id=invite.store_id, active=True, created_at=clock.now(),
            )
            session.add(staff)
        else:
            before = {"role": staff.role, "store_id": staff.store_id, "active": staff.active}
            staff.role, staff.store_id, staff.active = invite.role, invite.store_id, True
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=f"staff:{staff.id}", action="staff.accept_invite",
            entity="staff", entity_id=staff.id, before=before,
            after={"role": invite.role, "store_id": invite.store_id, "invite_id": invite.id},
        )
        return await staff_view(session, staff)

    return await uow.write(work)
