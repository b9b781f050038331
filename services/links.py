"""Links between customers (ITigris "Связи клиентов") and their directory of types.

A link is directed: `from` IS <type> FOR `to`. Staff save links from one customer's card in two
columns, as ITigris does: "this customer is ..." (forward: from = this customer) and "for this
customer ..." (backward: from = the other customer). Semantics that change behaviour:
  * card_owner: `to` without a card of their own uses `from`'s card (services.cards.card_for_customer);
  * contact_person: service notifications about `to` are copied to `from`;
  * legal_representative: `from` gives consents on behalf of `to` (a minor).
Every change writes the audit log and both customers' timelines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, CustomerLink, LinkType
from db.repositories import customers as customers_repo
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.errors import CustomerNotFound, DomainError, Forbidden, NotFound, ValidationFailed

_NAME_MAX = 100


class LinkTypeNotFound(NotFound):
    code = "link_type_not_found"


class SystemLinkType(Forbidden):
    """Types with behaviour (card owner, contact person, legal representative, the seeded family
    relations) can be renamed but not switched off: links and code depend on them."""

    code = "link_type_system"


class LinkNotFound(NotFound):
    code = "link_not_found"


class LinkToSelf(ValidationFailed):
    code = "link_self"


class CardOwnerWithoutCard(DomainError):
    code = "link_owner_no_card"


class NotLegalRepresentative(Forbidden):
    code = "link_not_representative"


class InvalidLinkTypeName(ValidationFailed):
    code = "link_type_name"


@dataclass(frozen=True)
class LinkTypeView:
    id: int
    code: str
    name_ru: str
    name_en: str
    semantics: str
    default_forward: bool
    default_backward: bool
    system: bool
    active: bool

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_ru


@dataclass(frozen=True)
class LinkView:
    """One link seen from `customer_id`'s side: `outgoing` means "this customer is <type> for
    <other>", otherwise "<other> is <type> for this customer"."""

    id: int
    link_type: LinkTypeView
    from_customer_id: int
    to_customer_id: int
    other_customer_id: int
    other_name: str
    outgoing: bool
    card_id: int | None


@dataclass(frozen=True)
class CustomerLinks:
    customer_id: int
    is_for_others: tuple[LinkView, ...]  # "Текущий клиент является"
    others_for_this: tuple[LinkView, ...]  # "Для текущего клиента"

    @property
    def all(self) -> tuple[LinkView, ...]:
        return self.is_for_others + self.others_for_this


def type_view(row: LinkType) -> LinkTypeView:
    return LinkTypeView(
        id=row.id, code=row.code, name_ru=row.name_ru, name_en=row.name_en, semantics=row.semantics,
        default_forward=row.default_forward, default_backward=row.default_backward, system=row.system,
        active=row.active,
    )


def full_name(customer: Customer) -> str:
    return " ".join(p for p in (customer.surname, customer.name, customer.patronymic) if p) or f"#{customer.id}"


# --- the directory ------------------------------------------------------------------------------


async def list_link_types(uow: UnitOfWork, *, include_inactive: bool = False) -> list[LinkTypeView]:
    async def work(session: AsyncSession) -> list[LinkTypeView]:
        stmt = select(LinkType).order_by(LinkType.id)
        if not include_inactive:
            stmt = stmt.where(LinkType.active.is_(True))
        return [type_view(row) for row in (await session.execute(stmt)).scalars()]

    return await uow.read(work)


async def link_type_by_code(session: AsyncSession, code: str) -> LinkType:
    row = (await session.execute(select(LinkType).where(LinkType.code == code))).scalar_one_or_none()
    if row is None:
        raise LinkTypeNotFound(link_type=code)
    return row


async def _type(session: AsyncSession, link_type_id: int) -> LinkType:
    row = await session.get(LinkType, link_type_id, with_for_update=True)
    if row is None:
        raise LinkTypeNotFound(link_type=link_type_id)
    return row


def _clean_type_name(value: str) -> str:
    value = " ".join(value.split())
    if not value or len(value) > _NAME_MAX:
        raise InvalidLinkTypeName(max=_NAME_MAX)
    return value


async def add_link_type(
    uow: UnitOfWork, clock: Clock, *, name_ru: str, name_en: str | None = None, actor: str
) -> LinkTypeView:
    """A new relation for the directory (e.g. "Сестра"); it has no behaviour beyond being shown."""
    ru = _clean_type_name(name_ru)
    en = _clean_type_name(name_en) if name_en else ru

    async def work(session: AsyncSession) -> LinkTypeView:
        base = re.sub(r"[^a-z0-9]+", "_", en.lower()).strip("_")[:20] or "type"
        code, n = base, 1
        while (await session.execute(select(LinkType.id).where(LinkType.code == code))).first() is not None:
            n += 1
            code = f"{base}_{n}"
        row = LinkType(
            code=code, name_ru=ru, name_en=en, semantics="relative", default_forward=False,
            default_backward=False, system=False, active=True,
        )
        session.add(row)
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="link_type.add", entity="link_type", entity_id=row.id,
            after={"code": code, "name_ru": ru, "name_en": en},
        )
        return type_view(row)

    return await uow.write(work)


async def rename_link_type(
    uow: UnitOfWork, clock: Clock, *, link_type_id: int, name_ru: str | None = None, name_en: str | None = None,
    actor: str,
) -> LinkTypeView:
    ru = _clean_type_name(name_ru) if name_ru is not None else None
    en = _clean_type_name(name_en) if name_en is not None else None

    async def work(session: AsyncSession) -> LinkTypeView:
        row = await _type(session, link_type_id)
        before = {"name_ru": row.name_ru, "name_en": row.name_en}
        row.name_ru = ru or row.name_ru
        row.name_en = en or row.name_en
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="link_type.rename", entity="link_type", entity_id=row.id,
            before=before, after={"name_ru": row.name_ru, "name_en": row.name_en},
        )
        return type_view(row)

    return await uow.write(work)


async def set_link_type_active(
    uow: UnitOfWork, clock: Clock, *, link_type_id: int, active: bool, actor: str
) -> LinkTypeView:
    """Deactivating hides a type from new links; existing links stay and keep showing."""

    async def work(session: AsyncSession) -> LinkTypeView:
        row = await _type(session, link_type_id)
        if row.system and not active:
            raise SystemLinkType(link_type=row.code)
        before = row.active
        row.active = active
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="link_type.active", entity="link_type", entity_id=row.id,
            before={"active": before}, after={"active": active},
        )
        return type_view(row)

    return await uow.write(work)


async def set_link_type_defaults(
    uow: UnitOfWork, clock: Clock, *, link_type_id: int, forward: bool, backward: bool, actor: str
) -> LinkTypeView:
    """ITigris "Настройки связей": which column is pre-ticked when staff create links (a setting for
    all customers, changed by admins)."""

    async def work(session: AsyncSession) -> LinkTypeView:
        row = await _type(session, link_type_id)
        before = {"default_forward": row.default_forward, "default_backward": row.default_backward}
        row.default_forward, row.default_backward = forward, backward
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="link_type.defaults", entity="link_type",
            entity_id=row.id, before=before, after={"default_forward": forward, "default_backward": backward},
        )
        return type_view(row)

    return await uow.write(work)


async def toggle_link_type_default(
    uow: UnitOfWork, clock: Clock, *, link_type_id: int, forward: bool, actor: str
) -> LinkTypeView:
    """Flip one default tick (the `/linktypes` buttons), read and written in one transaction."""

    async def work(session: AsyncSession) -> LinkTypeView:
        row = await _type(session, link_type_id)
        before = {"default_forward": row.default_forward, "default_backward": row.default_backward}
        if forward:
            row.default_forward = not row.default_forward
        else:
            row.default_backward = not row.default_backward
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="link_type.defaults", entity="link_type",
            entity_id=row.id, before=before,
            after={"default_forward": row.default_forward, "default_backward": row.default_backward},
        )
        return type_view(row)

    return await uow.write(work)


# --- links --------------------------------------------------------------------------------------


async def _live_customer(session: AsyncSession, customer_id: int) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None or customer.deleted_at is not None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


async def links_of(session: AsyncSession, customer_id: int) -> CustomerLinks:
    rows = (
        await session.execute(
            select(CustomerLink, LinkType)
            .join(LinkType, LinkType.id == CustomerLink.link_type_id)
            .where((CustomerLink.from_customer_id == customer_id) | (CustomerLink.to_customer_id == customer_id))
            .order_by(LinkType.id, CustomerLink.id)
        )
    ).all()
    others = {
        link.to_customer_id if link.from_customer_id == customer_id else link.from_customer_id for link, _ in rows
    }
    names = {
        c.id: full_name(c)
        for c in (await session.execute(select(Customer).where(Customer.id.in_(others)))).scalars()
    } if others else {}
    outgoing: list[LinkView] = []
    incoming: list[LinkView] = []
    for link, link_type in rows:
        is_out = link.from_customer_id == customer_id
        other = link.to_customer_id if is_out else link.from_customer_id
        view = LinkView(
            id=link.id, link_type=type_view(link_type), from_customer_id=link.from_customer_id,
            to_customer_id=link.to_customer_id, other_customer_id=other, other_name=names.get(other, f"#{other}"),
            outgoing=is_out, card_id=link.card_id,
        )
        (outgoing if is_out else incoming).append(view)
    return CustomerLinks(customer_id, tuple(outgoing), tuple(incoming))


async def get_links(uow: UnitOfWork, customer_id: int) -> CustomerLinks:
    async def work(session: AsyncSession) -> CustomerLinks:
        await _live_customer(session, customer_id)
        return await links_of(session, customer_id)

    return await uow.read(work)


async def add_link_in_session(
    session: AsyncSession, clock: Clock, *, from_customer_id: int, to_customer_id: int, link_type: LinkType,
    actor: str, card_id: int | None = None,
) -> CustomerLink | None:
    """Create one link inside the caller's transaction (None if it already exists), with the audit
    row and both timelines. A card-owner link remembers which card is shared."""
    if from_customer_id == to_customer_id:
        raise LinkToSelf()
    existing = (
        await session.execute(
            select(CustomerLink).where(
                CustomerLink.from_customer_id == from_customer_id,
                CustomerLink.to_customer_id == to_customer_id,
                CustomerLink.link_type_id == link_type.id,
            )
        )
    ).scalar_one_or_none()
    if existing is not None:
        return None
    if link_type.semantics == "card_owner" and card_id is None:
        card = await customers_repo.primary_card(session, from_customer_id)
        if card is None:
            raise CardOwnerWithoutCard(customer_id=from_customer_id)
        card_id = card.id
    now = clock.now()
    link = CustomerLink(
        from_customer_id=from_customer_id, to_customer_id=to_customer_id, link_type_id=link_type.id,
        card_id=card_id, created_by=actor, created_at=now,
    )
    session.add(link)
    await session.flush()
    await _log(session, clock, link, link_type, actor, added=True)
    return link


async def _log(
    session: AsyncSession, clock: Clock, link: CustomerLink, link_type: LinkType, actor: str, *, added: bool
) -> None:
    now = clock.now()
    data = {
        "link_id": link.id, "type": link_type.code, "from": link.from_customer_id, "to": link.to_customer_id,
        "card_id": link.card_id,
    }
    await audit.record(
        session, at=now, actor=actor, action="link.add" if added else "link.remove", entity="customer_link",
        entity_id=link.id, before=None if added else data, after=data if added else None,
    )
    for customer_id in (link.from_customer_id, link.to_customer_id):
        await audit.timeline(
            session, customer_id=customer_id, at=now, actor=actor, kind="link_added" if added else "link_removed",
            data=data,
        )


async def save_links(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, other_customer_id: int,
    forward_type_ids: tuple[int, ...] | list[int] = (), backward_type_ids: tuple[int, ...] | list[int] = (),
    actor: str,
) -> CustomerLinks:
    """The staff form: `forward` = "this customer is <type> for the other", `backward` = "the other
    is <type> for this customer". Existing links stay; returns this customer's links afterwards."""
    if customer_id == other_customer_id:
        raise LinkToSelf()
    if not forward_type_ids and not backward_type_ids:
        raise ValidationFailed(field="link_types")

    async def work(session: AsyncSession) -> CustomerLinks:
        await _live_customer(session, customer_id)
        await _live_customer(session, other_customer_id)
        for ids, source, target in (
            (forward_type_ids, customer_id, other_customer_id),
            (backward_type_ids, other_customer_id, customer_id),
        ):
            for type_id in dict.fromkeys(ids):
                link_type = await session.get(LinkType, type_id)
                if link_type is None or not link_type.active:
                    raise LinkTypeNotFound(link_type=type_id)
                await add_link_in_session(
                    session, clock, from_customer_id=source, to_customer_id=target, link_type=link_type, actor=actor
                )
        return await links_of(session, customer_id)

    return await uow.write(work)


async def remove_link_in_session(session: AsyncSession, clock: Clock, *, link: CustomerLink, actor: str) -> None:
    link_type = await session.get(LinkType, link.link_type_id)
    assert link_type is not None
    await _log(session, clock, link, link_type, actor, added=False)
    await session.execute(delete(CustomerLink).where(CustomerLink.id == link.id))


async def remove_link(uow: UnitOfWork, clock: Clock, *, link_id: int, actor: str) -> None:
    async def work(session: AsyncSession) -> None:
        link = await session.get(CustomerLink, link_id, with_for_update=True)
        if link is None:
            raise LinkNotFound(link_id=link_id)
        await remove_link_in_session(session, clock, link=link, actor=actor)

    await uow.write(work)


async def _linked(session: AsyncSession, customer_id: int, semantics: str, *, incoming: bool) -> list[int]:
    """Ids linked to `customer_id` by a type of `semantics`: who is <semantics> FOR the customer
    (incoming) or for whom the customer is <semantics> (outgoing). Deleted customers are skipped."""
    mine = CustomerLink.to_customer_id if incoming else CustomerLink.from_customer_id
    theirs = CustomerLink.from_customer_id if incoming else CustomerLink.to_customer_id
    rows = await session.execute(
        select(theirs)
        .join(LinkType, LinkType.id == CustomerLink.link_type_id)
        .join(Customer, Customer.id == theirs)
        .where(mine == customer_id, LinkType.semantics == semantics, Customer.deleted_at.is_(None))
        .order_by(CustomerLink.id)
    )
    return [int(x) for x in rows.scalars()]


async def contact_persons(uow: UnitOfWork, customer_id: int) -> list[int]:
    """Who receives copies of service notifications about `customer_id`."""
    return await uow.read(lambda session: _linked(session, customer_id, "contact_person", incoming=True))


async def contact_persons_in_session(session: AsyncSession, customer_id: int) -> list[int]:
    return await _linked(session, customer_id, "contact_person", incoming=True)


async def legal_representatives(uow: UnitOfWork, customer_id: int) -> list[int]:
    return await uow.read(lambda session: _linked(session, customer_id, "legal_representative", incoming=True))


async def record_consent_by_representative(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, representative_id: int, policy_version: str, actor: str
) -> None:
    """Data-processing consent for a minor, given by their legal representative (152-FZ art. 9)."""

    async def work(session: AsyncSession) -> None:
        customer = await _live_customer(session, customer_id)
        await _live_customer(session, representative_id)
        if representative_id not in await _linked(session, customer_id, "legal_representative", incoming=True):
            raise NotLegalRepresentative(customer_id=customer_id)
        now = clock.now()
        customer.pd_consent_at, customer.pd_policy_version = now, policy_version
        customer.pd_consent_by_customer_id = representative_id
        await session.flush()
        await audit.record(
            session, at=now, actor=actor, action="customer.consent_by_representative", entity="customer",
            entity_id=customer_id, after={"representative_id": representative_id, "policy": policy_version},
        )
        for cid in (customer_id, representative_id):
            await audit.timeline(
                session, customer_id=cid, at=now, actor=actor, kind="consent_by_representative",
                data={"customer_id": customer_id, "representative_id": representative_id},
            )

    await uow.write(work)
