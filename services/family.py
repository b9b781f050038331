"""Family cards built by customers themselves: the owner of a card invites relatives with a one-time
link (`/start family-<code>`, valid 48 h); whoever accepts becomes a member through a "card owner"
link, so their purchases earn and pay on the owner's card (services.cards.card_for_customer).

Decisions (README, domain section):
  * Only a customer who owns a card invites; members of the card count against the program setting
    `family_members_limit` (default 5); pending invites do not, the limit is checked on joining.
  * A customer who holds a card of their own chooses: keep it (nothing changes, the invite stays
    usable until it expires) or join. Joining moves every point of their card, lot by lot with its
    own expiry (pending lots stay pending), to the family card with a pair of `manual_adjustment`
    operations, then closes their card: blocked, unbound, and its number (the phone) freed, so a
    cashier typing their phone finds the family card. A card with debt cannot join.
  * Leaving (or being removed by the owner) ends the link; the former member gets a fresh, empty
    card by their phone again when the number is free (no second welcome bonus).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import phonenumbers
import pyotp
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer, CustomerLink, FamilyInvite, LinkType, Operation
from db.repositories import cards as cards_repo
from db.repositories import customers as customers_repo
from db.repositories import ledger as ledger_repo
from db.uow import UnitOfWork
from services import audit
from services.cards import card_for_customer
from services.clock import Clock
from services.errors import CustomerNotFound, DomainError, Forbidden, NotFound
from services.ledger import lots
from services.links import add_link_in_session, full_name, link_type_by_code, remove_link_in_session
from services.program import load_settings

INVITE_TTL = timedelta(hours=48)
START_PREFIX = "family-"


class FamilyInviteInvalid(DomainError):
    code = "family_invite_invalid"


class FamilyFull(DomainError):
    code = "family_full"


class FamilyNoCard(DomainError):
    code = "family_no_card"


class FamilyOwnInvite(DomainError):
    code = "family_own_invite"


class FamilyCardHasDebt(DomainError):
    code = "family_card_debt"


class NotFamilyMember(NotFound):
    code = "family_not_member"


class NotFamilyOwner(Forbidden):
    code = "family_not_owner"


@dataclass(frozen=True)
class Member:
    customer_id: int
    name: str


@dataclass(frozen=True)
class FamilyView:
    card_id: int
    card_number: str
    owner_customer_id: int
    owner_name: str
    members: tuple[Member, ...]
    limit: int
    viewer_is_owner: bool

    @property
    def places_left(self) -> int:
        return max(0, self.limit - len(self.members))


@dataclass(frozen=True)
class InviteView:
    code: str
    card_number: str
    expires_at_iso: str

    @property
    def start_payload(self) -> str:
        return f"{START_PREFIX}{self.code}"


@dataclass(frozen=True)
class JoinResult:
    """`joined`; `already` (was a member of this card); `needs_choice` (holds a card of their own:
    ask, then call again with keep_own_card); `kept` (chose to keep their card: nothing changed)."""

    outcome: Literal["joined", "already", "needs_choice", "kept"]
    owner_name: str
    card_number: str
    moved_points: int = 0


def code_from_start_payload(payload: str | None) -> str | None:
    if payload and payload.startswith(START_PREFIX) and len(payload) > len(START_PREFIX):
        return payload[len(START_PREFIX):]
    return None


async def _live(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


def _member_links_stmt(card: Card) -> Select[CustomerLink, Customer]:
    return (
        select(CustomerLink, Customer)
        .join(LinkType, LinkType.id == CustomerLink.link_type_id)
        .join(Customer, Customer.id == CustomerLink.to_customer_id)
        .where(
            LinkType.semantics == "card_owner",
            CustomerLink.from_customer_id == card.customer_id,
            (CustomerLink.card_id == card.id) | CustomerLink.card_id.is_(None),
            Customer.deleted_at.is_(None),
        )
        .order_by(CustomerLink.id)
    )


async def _members(session: AsyncSession, card: Card) -> list[tuple[CustomerLink, Customer]]:
    return [(link, customer) for link, customer in (await session.execute(_member_links_stmt(card))).all()]


async def _family(session: AsyncSession, customer_id: int) -> tuple[Card, bool]:
    """The card whose family the customer is in, and whether they own it."""
    card = await card_for_customer(session, customer_id)
    if card is None or card.customer_id is None:
        raise FamilyNoCard(customer_id=customer_id)
    return card, card.customer_id == customer_id


async def get_family(uow: UnitOfWork, *, customer_id: int) -> FamilyView:
    async def work(session: AsyncSession) -> FamilyView:
        await _live(session, customer_id)
        card, is_owner = await _family(session, customer_id)
        assert card.customer_id is not None
        owner = await _live(session, card.customer_id)
        members = await _members(session, card)
        settings = await load_settings(session)
        return FamilyView(
            card_id=card.id, card_number=card.number, owner_customer_id=owner.id, owner_name=full_name(owner),
            members=tuple(Member(c.id, full_name(c)) for _, c in members), limit=settings.family_members_limit,
            viewer_is_owner=is_owner,
        )

    return await uow.read(work)


async def create_invite(uow: UnitOfWork, clock: Clock, *, customer_id: int) -> InviteView:
    async def work(session: AsyncSession) -> InviteView:
        await _live(session, customer_id)
        card, is_owner = await _family(session, customer_id)
        if not is_owner:
            raise NotFamilyOwner()
        settings = await load_settings(session)
        if len(await _members(session, card)) >= settings.family_members_limit:
            raise FamilyFull(limit=settings.family_members_limit)
        now = clock.now()
        invite = FamilyInvite(
            code=clock.token(9), card_id=card.id, created_by_customer_id=customer_id, expires_at=now + INVITE_TTL
        )
        session.add(invite)
        await session.flush()
        await audit.timeline(
            session, customer_id=customer_id, at=now, actor=f"customer:{customer_id}", kind="family_invite",
            data={"invite_id": invite.id, "card_id": card.id},
        )
        return InviteView(invite.code, card.number, invite.expires_at.isoformat())

    return await uow.write(work)


async def _move_points(session: AsyncSession, clock: Clock, *, source: Card, target: Card, actor: str) -> int:
    """Move everything `source` holds onto `target`, each lot keeping its dates. Lots whose expiry
    instant has come are gone already: they stay on the closed card for the expiry job to burn."""
    now = clock.now()
    active = await ledger_repo.active_lots(session, source.id, now)
    pending = await ledger_repo.pending_lots(session, source.id, now)
    total = sum(lot.remaining for lot in active) + sum(lot.remaining for lot in pending)
    if total == 0:
        return 0
    key = f"family-move:{source.id}:{target.id}:{int(now.timestamp())}"
    out = Operation(
        card_id=source.id, customer_id=source.customer_id, kind="manual_adjustment", points=-total, actor=actor,
        # The reasons name no card number (a phone): the pair is linked by related_operation_id.
        reason="moved to the family card", idempotency_key=f"{key}:out", created_at=now,
    )
    await ledger_repo.add(session, out)
    incoming = Operation(
        card_id=target.id, customer_id=source.customer_id, kind="manual_adjustment", points=total, actor=actor,
        reason="moved from a family member's card", related_operation_id=out.id, idempotency_key=f"{key}:in",
        created_at=now,
    )
    await ledger_repo.add(session, incoming)
    moved = [(lot.remaining, lot.status, lot.available_at, lot.expires_at) for lot in [*active, *pending]]
    active_units = sum(lot.remaining for lot in active)
    if active_units:
        await lots.debit(session, clock, operation=out, units=active_units)
    pending_units = total - active_units
    if pending_units:
        await lots.reverse(
            session, clock, operation=out, units=pending_units, own_lot_ids=tuple(lot.id for lot in pending)
        )
    for units, status, available_at, expires_at in moved:
        await lots.credit(
            session, operation=incoming, units=units, status=status, available_at=available_at,
            expires_at=expires_at, at=now,
        )
    return total


async def join_family(
    uow: UnitOfWork, clock: Clock, *, code: str, customer_id: int, keep_own_card: bool | None = None
) -> JoinResult:
    """Accept an invite. Called from the `/start family-<code>` handler, at once for a registered
    customer or right after registration for a new one."""

    async def work(session: AsyncSession) -> JoinResult:
        customer = await _live(session, customer_id)
        invite = (
            await session.execute(select(FamilyInvite).where(FamilyInvite.code == code).with_for_update())
        ).scalar_one_or_none()
        now = clock.now()
        if invite is None or invite.used_at is not None or invite.expires_at <= now:
            raise FamilyInviteInvalid()
        card = await cards_repo.by_id(session, invite.card_id, for_update=True)
        if card is None or card.customer_id != invite.created_by_customer_id or card.status == "blocked":
            raise FamilyInviteInvalid()
        owner = await _live(session, card.customer_id)
        if owner.id == customer_id:
            raise FamilyOwnInvite()
        members = await _members(session, card)
        if any(member.id == customer_id for _, member in members):
            return JoinResult("already", full_name(owner), card.number)
        settings = await load_settings(session)
        if len(members) >= settings.family_members_limit:
            raise FamilyFull(limit=settings.family_members_limit)
        own_cards = await customers_repo.cards_of(session, customer_id)
        if own_cards and keep_own_card is None:
            return JoinResult("needs_choice", full_name(owner), card.number)
        if own_cards and keep_own_card:
            return JoinResult("kept", full_name(owner), card.number)
        actor = f"customer:{customer_id}"
        moved = 0
        for own in own_cards:
            locked = await ledger_repo.lock_card(session, own.id, now)
            assert locked is not None
            if locked.debt > 0:
                raise FamilyCardHasDebt(card=locked.number)
            moved += await _move_points(session, clock, source=locked, target=card, actor=actor)
            before = {"customer_id": locked.customer_id, "status": locked.status}
            # The number is the member's phone: free it so that their phone finds the family card.
            locked.number, locked.customer_id, locked.status = f"joined-{locked.id}", None, "blocked"
            await session.flush()
            await audit.record(
                session, at=now, actor=actor, action="card.close_for_family", entity="card", entity_id=locked.id,
                before=before, after={"family_card_id": card.id, "moved": moved},
            )
        invite.used_at, invite.used_by_customer_id = now, customer_id
        link_type = await link_type_by_code(session, "card_owner")
        # One family card at a time: joining this one ends a membership elsewhere.
        for old_link in (
            await session.execute(
                select(CustomerLink).where(
                    CustomerLink.to_customer_id == customer_id, CustomerLink.link_type_id == link_type.id
                )
            )
        ).scalars():
            await remove_link_in_session(session, clock, link=old_link, actor=actor)
        await add_link_in_session(
            session, clock, from_customer_id=owner.id, to_customer_id=customer.id, link_type=link_type, actor=actor,
            card_id=card.id,
        )
        await audit.record(
            session, at=now, actor=actor, action="family.join", entity="card", entity_id=card.id,
            after={"customer_id": customer_id, "invite_id": invite.id, "moved_points": moved},
        )
        return JoinResult("joined", full_name(owner), card.number, moved)

    return await uow.write(work)


async def _issue_phone_card(session: AsyncSession, clock: Clock, customer: Customer, actor: str) -> Card | None:
    """Give a former member a card by their phone again, if the number is free."""
    if not customer.phone or await customers_repo.primary_card(session, customer.id) is not None:
        return None
    try:
        number = str(phonenumbers.parse(customer.phone).national_number)
    except phonenumbers.NumberParseException:
        return None
    if await cards_repo.by_number(session, number) is not None:
        return None
    card = Card(
        number=number, customer_id=customer.id, is_primary=True, status="active", otp_secret=pyotp.random_base32(),
        source="phone", created_at=clock.now(), purchases_kopecks=0, balance=0, pending=0, debt=0,
    )
    session.add(card)
    await session.flush()
    await audit.record(
        session, at=clock.now(), actor=actor, action="card.issue", entity="card", entity_id=card.id,
        after={"customer_id": customer.id, "reason": "left family"},
    )
    return card


async def _end_membership(
    session: AsyncSession, clock: Clock, *, card: Card, member_id: int, actor: str, action: str
) -> None:
    links = [link for link, member in await _members(session, card) if member.id == member_id]
    if not links:
        raise NotFamilyMember(customer_id=member_id)
    for link in links:
        await remove_link_in_session(session, clock, link=link, actor=actor)
    await audit.record(
        session, at=clock.now(), actor=actor, action=action, entity="card", entity_id=card.id,
        after={"customer_id": member_id},
    )
    member = await session.get(Customer, member_id)
    if member is not None:
        await _issue_phone_card(session, clock, member, actor)


async def leave_family(uow: UnitOfWork, clock: Clock, *, customer_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        await _live(session, customer_id)
        card, is_owner = await _family(session, customer_id)
        if is_owner:
            raise NotFamilyMember(customer_id=customer_id)
        await _end_membership(
            session, clock, card=card, member_id=customer_id, actor=f"customer:{customer_id}", action="family.leave"
        )

    await uow.write(work)


async def remove_member(uow: UnitOfWork, clock: Clock, *, owner_customer_id: int, member_customer_id: int) -> None:
    async def work(session: AsyncSession) -> None:
        await _live(session, owner_customer_id)
        card, is_owner = await _family(session, owner_customer_id)
        if not is_owner:
            raise NotFamilyOwner()
        await _end_membership(
            session, clock, card=card, member_id=member_customer_id, actor=f"customer:{owner_customer_id}",
            action="family.remove",
        )

    await uow.write(work)

