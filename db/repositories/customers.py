"""Customer queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, and_, bindparam, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Card, Customer, CustomerLink, LinkType

# Who gets copies of the service notifications about a customer: the live customers holding a
# `contact_person` link to them.
_CONTACT = aliased(Customer, name="contact")  # distinct from any `customers` of an outer query
_CONTACTS = (
    select(CustomerLink.to_customer_id, CustomerLink.from_customer_id)
    .join(LinkType, LinkType.id == CustomerLink.link_type_id)
    .join(_CONTACT, _CONTACT.id == CustomerLink.from_customer_id)
    .where(LinkType.semantics == "contact_person", _CONTACT.deleted_at.is_(None))
)
# (about, contact) pairs for the customers in the expanding parameter `ids`.
CONTACT_PERSONS = _CONTACTS.where(CustomerLink.to_customer_id.in_(bindparam("ids", expanding=True))).order_by(
    CustomerLink.from_customer_id
)


def contact_person_ids(about: Any) -> Any:
    """The contact persons of the customer `about` (a column of an outer query) as one text of
    comma-separated ids, NULL when there are none (see parse_ids)."""
    return (
        _CONTACTS.with_only_columns(func.aggregate_strings(cast(CustomerLink.from_customer_id, String), ","))
        .where(CustomerLink.to_customer_id == about)
        .scalar_subquery()
    )


def parse_ids(text: str | None) -> list[int]:
    return sorted(int(part) for part in text.split(",")) if text else []


async def by_id(session: AsyncSession, customer_id: int, *, for_update: bool = False) -> Customer | None:
    stmt = select(Customer).where(Customer.id == customer_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_telegram_id(session: AsyncSession, telegram_id: int) -> Customer | None:
    stmt = select(Customer).where(Customer.telegram_id == telegram_id, Customer.deleted_at.is_(None))
    return (await session.execute(stmt)).scalar_one_or_none()


async def by_phone(session: AsyncSession, e164: str, *, limit: int = 20) -> list[Customer]:
    stmt = (
        select(Customer)
        .where(Customer.phone == e164, Customer.deleted_at.is_(None))
        .order_by(Customer.id)
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())


async def search_page(
    session: AsyncSession, match: ColumnElement[bool], *, offset: int, limit: int
) -> tuple[int, list[Customer]]:
    """How many live customers match, and the page of them from `offset`, oldest first."""
    live = and_(match, Customer.deleted_at.is_(None))
    total = int((await session.execute(select(func.count()).select_from(Customer).where(live))).scalar_one())
    stmt = select(Customer).where(live).order_by(Customer.id).offset(offset).limit(limit)
    return total, list((await session.execute(stmt)).scalars())


async def search_ids(session: AsyncSession, match: ColumnElement[bool], *, limit: int) -> tuple[int, list[int]]:
    """How many live customers match, and the ids of the first `limit` of them, oldest first."""
    live = and_(match, Customer.deleted_at.is_(None))
    total = int((await session.execute(select(func.count()).select_from(Customer).where(live))).scalar_one())
    ids = (await session.execute(select(Customer.id).where(live).order_by(Customer.id).limit(limit))).scalars()
    return total, [int(i) for i in ids]


async def live_by_ids(session: AsyncSession, ids: list[int]) -> list[Customer]:
    """The live customers among `ids`, in the order of `ids`."""
    rows = {c.id: c for c in (await session.execute(
        select(Customer).where(Customer.id.in_(ids), Customer.deleted_at.is_(None))
    )).scalars()}
    return [rows[i] for i in ids if i in rows]


async def primary_card(session: AsyncSession, customer_id: int) -> Card | None:
    stmt = (
        select(Card)
        .where(Card.customer_id == customer_id)
        .order_by(Card.is_primary.desc(), Card.id)
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def cards_of(session: AsyncSession, customer_id: int) -> list[Card]:
    stmt = select(Card).where(Card.customer_id == customer_id).order_by(Card.is_primary.desc(), Card.id)
    return list((await session.execute(stmt)).scalars())
