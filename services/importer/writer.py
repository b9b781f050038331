"""Writing planned rows in batches with multi-row INSERTs (one statement per table per batch, not
an ORM object per row). Each batch is one transaction; a batch the database refuses is written
again row by row, so one bad row costs only itself."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.base import Base
from db.models import AuditEntry, Card, Customer, CustomerLink, Lot, Operation, TimelineEntry
from services.importer.parsing import Record
from services.importer.rules import Decision, ExistingCard, FileCard
from services.levels import LevelInfo, rung_for

_CHUNK = 900  # ids read back per SELECT: under SQLite's bound-parameter limit


def _t(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


def _otp_secret() -> str:
    """What pyotp.random_base32() makes (32 base32 characters), an order of magnitude faster."""
    return base64.b32encode(secrets.token_bytes(20)).decode()


@dataclass(frozen=True)
class WriteContext:
    now: datetime
    actor: str
    store_id: int | None
    card_owner_type_id: int
    rungs: list[LevelInfo]
    quantum: int  # the smallest amount of points, in units
    expiry_days: int
    tz: ZoneInfo


@dataclass
class Written:
    customers: int = 0
    cards: int = 0
    legacy_cards: int = 0
    links: int = 0
    opening_units: int = 0
    rounded_off_units: int = 0
    # card number -> (owner customer id, card id) of the cards this import created so far
    file_cards: dict[str, tuple[int, int]] = field(default_factory=dict)


class OwnerMissing(Exception):
    """The family card this row should join was not written (its row failed)."""


def _created_at(record: Record, ctx: WriteContext) -> datetime:
    if record.registered is None or record.registered > ctx.now.date():
        return ctx.now
    return datetime.combine(record.registered, time(0, 0), ctx.tz).astimezone(ctx.now.tzinfo)


def _customer_row(record: Record, ctx: WriteContext) -> dict[str, Any]:
    birthday: date | None = record.birthday
    return {
        "surname": record.surname, "name": record.name, "patronymic": record.patronymic, "sex": record.sex,
        "birthday": birthday, "birthday_month": birthday.month if birthday else None,
        "birthday_day": birthday.day if birthday else None,
        # Imported birthdays were set long ago in the old system: the bonus's "set 30 days before"
        # rule counts from the registration there, not from today.
        "birthday_set_at": _created_at(record, ctx) if birthday else None,
        "phone": record.phone_e164, "extra_phone": record.extra_phone, "email": record.email,
        "city": record.city, "language": "ru", "unreachable": False, "marketing_consent": record.marketing,
        "marketing_consent_at": ctx.now if record.marketing else None, "notification_optouts": [],
        "store_id": ctx.store_id, "import_key": record.import_key, "created_at": _created_at(record, ctx),
    }


async def write_batch(
    session: AsyncSession, decisions: list[Decision], ctx: WriteContext, written: Written
) -> Written:
    """Insert one batch; returns the increments (`written` is only read, for earlier batches' cards)."""
    delta = Written()
    records = [d.record for d in decisions]
    assert all(isinstance(r, Record) for r in records)
    rows = [_customer_row(r, ctx) for r in records if isinstance(r, Record)]
    if not rows:
        return delta
    # Plain multi-row INSERTs, then one SELECT for the new ids: INSERT ... RETURNING goes row by
    # row on SQLite.
    await session.execute(insert(_t(Customer)), rows)
    keys = [row["import_key"] for row in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        found0 = await session.execute(
            select(Customer.id, Customer.import_key).where(Customer.import_key.in_(keys[start : start + _CHUNK]))
        )
        ids.update({str(key): int(cid) for cid, key in found0.all()})
    delta.customers = len(ids)

    card_rows: list[dict[str, Any]] = []
    openings: list[tuple[str, int, Record]] = []  # (card number, units, record)
    for decision in decisions:
        record = decision.record
        assert isinstance(record, Record)
        customer_id = ids[record.import_key]
        for number, source in ((decision.phone_card, "phone"), (decision.legacy_card, "legacy")):
            if number is None:
                continue
            is_balance_card = number == decision.balance_card
            purchases = record.orders_kopecks if is_balance_card else 0
            units = record.balance_kopecks if is_balance_card else 0  # 1 point = 1 RUB: units == kopecks
            held = units - units % ctx.quantum
            delta.rounded_off_units += units - held
            if held:
                openings.append((number, held, record))
            card_rows.append({
                "number": number, "customer_id": customer_id, "is_primary": is_balance_card, "status": "active",
                "level_id": rung_for(ctx.rungs, purchases).id if ctx.rungs else None,
                "purchases_kopecks": purchases, "balance": held, "pending": 0, "debt": 0,
                "otp_secret": _otp_secret(), "otp_failures": 0, "source": source, "created_at": ctx.now,
            })
            if source == "legacy":
                delta.legacy_cards += 1
    card_ids: dict[str, int] = {}
    if card_rows:
        await session.execute(insert(_t(Card)), card_rows)
        numbers = [row["number"] for row in card_rows]
        for start in range(0, len(numbers), _CHUNK):
            found1 = await session.execute(
                select(Card.id, Card.number).where(Card.number.in_(numbers[start : start + _CHUNK]))
            )
            card_ids.update({str(number): int(cid) for cid, number in found1.all()})
        delta.cards = len(card_ids)
        for row in card_rows:
            delta.file_cards[row["number"]] = (row["customer_id"], card_ids[row["number"]])

    if openings:
        op_rows = [
            {
                "card_id": card_ids[number], "customer_id": ids[record.import_key], "kind": "opening_balance",
                "points": units, "store_id": ctx.store_id, "actor": ctx.actor,
                "reason": f"opening balance, import line {record.line}",
                "idempotency_key": f"import:{record.import_key}:opening", "created_at": ctx.now,
            }
            for number, units, record in openings
        ]
        await session.execute(insert(_t(Operation)), op_rows)
        op_keys = [row["idempotency_key"] for row in op_rows]
        op_by_card: dict[int, int] = {}
        for start in range(0, len(op_keys), _CHUNK):
            found2 = await session.execute(
                select(Operation.id, Operation.card_id).where(
                    Operation.idempotency_key.in_(op_keys[start : start + _CHUNK])
                )
            )
            op_by_card.update({int(card_id): int(op_id) for op_id, card_id in found2.all()})
        expires = ctx.now + timedelta(days=ctx.expiry_days)
        await session.execute(
            insert(_t(Lot)),
            [
                {
                    "card_id": card_ids[number], "points": units, "remaining": units, "status": "active",
                    "available_at": ctx.now, "expires_at": expires, "operation_id": op_by_card[card_ids[number]],
                    "created_at": ctx.now,
                }
                for number, units, _ in openings
            ],
        )
        delta.opening_units = sum(units for _, units, _ in openings)

    timeline: list[dict[str, Any]] = [
        {"customer_id": cid, "at": ctx.now, "actor": ctx.actor, "kind": "imported", "data": {}} for cid in ids.values()
    ]
    link_rows: list[dict[str, Any]] = []
    for decision in decisions:
        if decision.owner is None:
            continue
        record = decision.record
        assert isinstance(record, Record)
        owner: tuple[int, int] | None
        if isinstance(decision.owner, ExistingCard):
            assert decision.owner.customer_id is not None
            owner = (decision.owner.customer_id, decision.owner.card_id)
        else:
            assert isinstance(decision.owner, FileCard)
            number = decision.owner.number
            owner = delta.file_cards.get(number) or written.file_cards.get(number)
        if owner is None:
            raise OwnerMissing(record.line)
        link_rows.append({
            "from_customer_id": owner[0], "to_customer_id": ids[record.import_key],
            "link_type_id": ctx.card_owner_type_id, "card_id": owner[1], "created_by": ctx.actor,
            "created_at": ctx.now,
        })
    if link_rows:
        await session.execute(insert(_t(CustomerLink)), link_rows)
        members = [row["to_customer_id"] for row in link_rows]
        link_by_member: dict[int, int] = {}
        for start in range(0, len(members), _CHUNK):
            found3 = await session.execute(
                select(CustomerLink.id, CustomerLink.to_customer_id).where(
                    CustomerLink.to_customer_id.in_(members[start : start + _CHUNK]),
                    CustomerLink.link_type_id == ctx.card_owner_type_id,
                )
            )
            link_by_member.update({int(member): int(link_id) for link_id, member in found3.all()})
        link_ids = [link_by_member[row["to_customer_id"]] for row in link_rows]
        audit_rows = []
        for link_id, link in zip(link_ids, link_rows, strict=True):
            data = {
                "link_id": link_id, "type": "card_owner", "from": link["from_customer_id"],
                "to": link["to_customer_id"], "card_id": link["card_id"],
            }
            for customer_id in (link["from_customer_id"], link["to_customer_id"]):
                timeline.append(
                    {"customer_id": customer_id, "at": ctx.now, "actor": ctx.actor, "kind": "link_added", "data": data}
                )
            audit_rows.append({
                "at": ctx.now, "actor": ctx.actor, "action": "link.add", "entity": "customer_link",
                "entity_id": str(link_id), "before": None, "after": data,
            })
        await session.execute(insert(_t(AuditEntry)), audit_rows)
        delta.links = len(link_ids)
    await session.execute(insert(_t(TimelineEntry)), timeline)
    await session.execute(
        insert(_t(AuditEntry)),
        [{
            "at": ctx.now, "actor": ctx.actor, "action": "customers.import_batch", "entity": "import",
            "entity_id": None, "before": None,
            "after": {
                "customers": delta.customers, "cards": delta.cards, "links": delta.links,
                "opening_units": delta.opening_units, "lines": [records[0].line, records[-1].line],
            },
        }],
    )
    return delta


def merge(total: Written, delta: Written) -> None:
    total.customers += delta.customers
    total.cards += delta.cards
    total.legacy_cards += delta.legacy_cards
    total.links += delta.links
    total.opening_units += delta.opening_units
    total.rounded_off_units += delta.rounded_off_units
    total.file_cards.update(delta.file_cards)
