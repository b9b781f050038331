"""Who is speaking: the customer and the staff member behind a Telegram account, in one read.

Every update asks this first, so it is one statement on a connection, without a session, shared by
the updates handled at the same moment (`UnitOfWork.read_batched`): the customer with their own
primary card and the staff member with their store's code, each outer-joined to the Telegram ids,
selected as the views' fields. The family-card fallback costs a second read only for a customer
without a card of their own."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from db.dialects import key_table
from db.models import Card, Customer, Staff, Store
from db.uow import UnitOfWork
from services.cards import card_for_customer
from services.customers import CustomerView
from services.staff import StaffView


@dataclass(frozen=True)
class Identity:
    customer: CustomerView | None
    staff: StaffView | None  # active staff only


_OWN_PRIMARY_CARD = (
    select(Card.id)
    .where(Card.customer_id == Customer.id)
    .order_by(Card.is_primary.desc(), Card.id)
    .limit(1)
    .correlate(Customer)
    .scalar_subquery()
)


# The views' fields under their own names: a field a view shares with its table is that column.
_CUSTOMER_FIELDS = {
    "card_number": Card.number,
    "card_id": Card.id,
    **{field.name: getattr(Customer, field.name) for field in fields(CustomerView) if hasattr(Customer, field.name)},
}
_STAFF_FIELDS = {
    "store_code": Store.code,
    **{f.name: getattr(Staff, f.name) for f in fields(StaffView) if f.name != "store_code"},
}


@cache
def _who(dialect: str) -> Select[Any]:
    """Built once per database: every update runs it, and building it cost as much as running it."""
    me = key_table(dialect, "me")  # the Telegram ids asked for, a row each
    return (
        select(
            me.c.key,
            *(column.label(f"customer_{name}") for name, column in _CUSTOMER_FIELDS.items()),
            *(column.label(f"staff_{name}") for name, column in _STAFF_FIELDS.items()),
        )
        .select_from(me)
        .outerjoin(Customer, and_(Customer.telegram_id == me.c.key, Customer.deleted_at.is_(None)))
        .outerjoin(Card, Card.id == _OWN_PRIMARY_CARD)
        .outerjoin(Staff, Staff.telegram_id == me.c.key)
        .outerjoin(Store, Store.id == Staff.store_id)
    )


def _customer(row: Row[Any]) -> CustomerView | None:
    values = {name: row._mapping[f"customer_{name}"] for name in _CUSTOMER_FIELDS}
    if values["id"] is None:
        return None
    values["notification_optouts"] = tuple(values["notification_optouts"] or ())
    return CustomerView(**values, masked=False)


def _staff(row: Row[Any]) -> StaffView | None:
    values = {name: row._mapping[f"staff_{name}"] for name in _STAFF_FIELDS}
    if values["id"] is None or not values["active"]:
        return None
    return StaffView(**values)


async def _who_are(connection: AsyncConnection, telegram_ids: list[int]) -> list[Row[Any]]:
    # Telegram ids are unique among customers and among staff: one row per id.
    result = await connection.execute(_who(connection.dialect.name), {"keys": telegram_ids})
    rows = {row.key: row for row in result}
    return [rows[telegram_id] for telegram_id in telegram_ids]


async def identify(uow: UnitOfWork, telegram_id: int) -> Identity:
    row = await uow.read_batched(_who_are, telegram_id)
    customer, staff = _customer(row), _staff(row)
    if customer is not None and customer.card_id is None:
        customer = await _with_family_card(uow, customer)
    return Identity(customer=customer, staff=staff)


async def _with_family_card(uow: UnitOfWork, customer: CustomerView) -> CustomerView:
    card = await uow.read(lambda session: card_for_customer(session, customer.id))
    return customer if card is None else replace(customer, card_number=card.number, card_id=card.id)
