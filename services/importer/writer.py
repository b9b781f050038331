"""Writing planned rows in batches: multi-row INSERTs on SQLite (one statement per table per batch,
not an ORM object per row), COPY on PostgreSQL (`copy_batch`: the same rows, their ids drawn from
the sequences up front, so nothing is read back). Each batch is one transaction; a batch the
database refuses is written again row by row with INSERTs, so one bad row costs only itself."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Awaitable, Callable, Container, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, cast
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy import Table, insert, select, text
from sqlalchemy.exc import DBAPIError
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


def _otp_secrets(count: int) -> list[str]:
    """`count` secrets like `_otp_secret`'s from one draw: base32 turns every 5 bytes into 8
    characters on their own, so 20 bytes each are 32 characters each."""
    text = base64.b32encode(secrets.token_bytes(20 * count)).decode()
    return [text[start : start + 32] for start in range(0, 32 * count, 32)]


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
    return _registered_at(record.registered, ctx.now, ctx.tz)


@lru_cache(maxsize=8192)
def _registered_at(registered: date | None, now: datetime, tz: ZoneInfo) -> datetime:
    """Midnight of the registration day in the business time zone (a file has few distinct days)."""
    if registered is None or registered > now.date():
        return now
    return datetime.combine(registered, time(0, 0), tz).astimezone(now.tzinfo)


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


def _issued_cards(
    decision: Decision, record: Record, ctx: WriteContext, delta: Written
) -> Iterator[tuple[str, str, bool, int, int]]:
    """(number, source, is the balance card, purchases, held units) of each card a row issues: its
    phone card and its legacy card. Opening balances round down to the program's step; what is
    rounded off is counted in `delta`."""
    for number, source in ((decision.phone_card, "phone"), (decision.legacy_card, "legacy")):
        if number is None:
            continue
        is_balance_card = number == decision.balance_card
        purchases = record.orders_kopecks if is_balance_card else 0
        units = record.balance_kopecks if is_balance_card else 0  # 1 point = 1 RUB: units == kopecks
        held = units - units % ctx.quantum
        delta.rounded_off_units += units - held
        yield number, source, is_balance_card, purchases, held


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
        for number, source, is_balance_card, purchases, held in _issued_cards(decision, record, ctx, delta):
            if held:
                openings.append((number, held, record))
            card_rows.append({
                "number": number, "customer_id": customer_id, "is_primary": is_balance_card, "status": "active",
                "level_id": rung_for(ctx.rungs, purchases).id if ctx.rungs else None,
                "purchases_kopecks": purchases, "balance": held, "pending": 0, "debt": 0,
                "otp_secret": _otp_secret(), "source": source, "created_at": ctx.now,
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


def merge(total: Written, delta: Written, owners: Container[str] | None = None) -> None:
    """Add `delta` to `total`; of its cards, only the numbers in `owners` (when given) are kept for
    later batches' family links."""
    total.customers += delta.customers
    total.cards += delta.cards
    total.legacy_cards += delta.legacy_cards
    total.links += delta.links
    total.opening_units += delta.opening_units
    total.rounded_off_units += delta.rounded_off_units
    if owners is None:
        total.file_cards.update(delta.file_cards)
    else:
        total.file_cards.update((n, card) for n, card in delta.file_cards.items() if n in owners)


# --- PostgreSQL: COPY ------------------------------------------------------------------------------

# What SQLAlchemy's JSON type stores for these values (json.dumps; None is JSON null, not SQL NULL).
_JSON_NULL = json.dumps(None)
_JSON_EMPTY_OBJECT = json.dumps({})
_JSON_EMPTY_LIST = json.dumps([])

_CUSTOMER_COLUMNS = (
    "id", "surname", "name", "patronymic", "sex", "birthday", "birthday_month", "birthday_day", "birthday_set_at",
    "phone", "extra_phone", "email", "city", "language", "unreachable", "marketing_consent", "marketing_consent_at",
    "notification_optouts", "store_id", "import_key", "created_at",
)
_CARD_COLUMNS = (
    "id", "number", "customer_id", "is_primary", "status", "level_id", "purchases_kopecks", "balance", "pending",
    "debt", "otp_secret", "source", "created_at",
)
_OPERATION_COLUMNS = (
    "id", "card_id", "customer_id", "kind", "points", "store_id", "actor", "reason", "idempotency_key", "created_at",
)
_LOT_COLUMNS = (
    "id", "card_id", "points", "remaining", "status", "available_at", "expires_at", "operation_id", "created_at",
)
_LINK_COLUMNS = ("id", "from_customer_id", "to_customer_id", "link_type_id", "card_id", "created_by", "created_at")
_TIMELINE_COLUMNS = ("id", "customer_id", "at", "actor", "kind", "data")
_AUDIT_COLUMNS = ("id", "at", "actor", "action", "entity", "entity_id", "before", "after")

# One round trip for every id a batch needs, in the order the INSERTs would have drawn them (ids
# of every table, so that the order of the rows does not depend on when each COPY runs).
_ALLOCATED_TABLES = ("customers", "cards", "operations", "lots", "customer_links", "customer_timeline", "audit_log")
_ALLOCATE = text(
    "SELECT "
    + ", ".join(
        f"ARRAY(SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :{table}))"
        for table in _ALLOCATED_TABLES
    )
)


async def copy_batch(
    session: AsyncSession,
    decisions: list[Decision],
    ctx: WriteContext,
    written: Written,
    *,
    pending: Mapping[str, tuple[int, int]] | None = None,
    planned: Callable[[dict[str, tuple[int, int]]], None] | None = None,
    before_links: Callable[[], Awaitable[None]] | None = None,
) -> Written:
    """PostgreSQL: what `write_batch` writes, row for row and id for id, with one COPY per table.

    The ids come from the tables' sequences before anything is written (one statement), so no row
    is read back. A row the database refuses fails the whole COPY, and so the batch: the caller
    then writes it row by row with `write_batch`, which names the refused row.

    For writing the next batch while this one is still in the database: `pending` are the cards of
    a batch not committed yet (family owners are looked up there too), `planned` is told this
    batch's cards as soon as their ids are drawn, and `before_links` is awaited before the links are
    written (once the batch before has committed)."""
    delta = Written()
    records: list[Record] = []
    for decision in decisions:
        assert isinstance(decision.record, Record)
        records.append(decision.record)
    if not records:
        return delta

    # Plan the cards, opening balances and links (indexes into `records`), before any id exists.
    cards: list[tuple[int, str, str, bool, int, int]] = []  # (row, number, source, is primary, purchases, held)
    openings: list[tuple[int, int, int]] = []  # (row, card index, units)
    batch_cards: dict[str, int] = {}  # number -> card index
    for row, decision in enumerate(decisions):
        record = records[row]
        for number, source, is_balance_card, purchases, held in _issued_cards(decision, record, ctx, delta):
            if held:
                openings.append((row, len(cards), held))
            batch_cards[number] = len(cards)
            cards.append((row, number, source, is_balance_card, purchases, held))
            if source == "legacy":
                delta.legacy_cards += 1
    links: list[tuple[int, int | None, int | None, int | None]] = []  # (member row, owner id, card id, card index)
    for row, decision in enumerate(decisions):
        if decision.owner is None:
            continue
        if isinstance(decision.owner, ExistingCard):
            assert decision.owner.customer_id is not None
            links.append((row, decision.owner.customer_id, decision.owner.card_id, None))
            continue
        assert isinstance(decision.owner, FileCard)
        number = decision.owner.number
        if number in batch_cards:
            links.append((row, None, None, batch_cards[number]))
        elif number in written.file_cards:
            owner_id, card_id = written.file_cards[number]
            links.append((row, owner_id, card_id, None))
        elif pending is not None and number in pending:
            owner_id, card_id = pending[number]
            links.append((row, owner_id, card_id, None))
        else:
            raise OwnerMissing(records[row].line)

    # The first statement of the transaction goes through SQLAlchemy, which begins it; the COPYs
    # below run on the same driver connection, inside it.
    counts = (len(records), len(cards), len(openings), len(openings), len(links), len(records) + 2 * len(links),
              len(links) + 1)
    allocated = (await session.execute(_ALLOCATE, dict(zip(_ALLOCATED_TABLES, counts, strict=True)))).one()
    customer_ids, card_ids, operation_ids, lot_ids, link_ids, timeline_ids, audit_ids = (
        sorted(int(i) for i in ids) for ids in allocated
    )
    for index, (row, number, *_) in enumerate(cards):
        delta.file_cards[number] = (customer_ids[row], card_ids[index])
    if planned is not None:
        planned(delta.file_cards)
    raw = await (await session.connection()).get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection

    now, actor, store_id = ctx.now, ctx.actor, ctx.store_id
    customer_rows = []
    for customer_id, record in zip(customer_ids, records, strict=True):
        birthday = record.birthday
        created_at = _created_at(record, ctx)
        customer_rows.append((
            customer_id, record.surname, record.name, record.patronymic, record.sex, birthday,
            birthday.month if birthday else None, birthday.day if birthday else None,
            created_at if birthday else None, record.phone_e164, record.extra_phone, record.email, record.city,
            "ru", False, record.marketing, now if record.marketing else None, _JSON_EMPTY_LIST, store_id,
            record.import_key, created_at,
        ))
    card_rows = [
        (
            card_ids[index], number, customer_ids[row], is_primary, "active",
            rung_for(ctx.rungs, purchases).id if ctx.rungs else None, purchases, held, 0, 0, otp_secret, source,
            now,
        )
        for index, ((row, number, source, is_primary, purchases, held), otp_secret) in enumerate(
            zip(cards, _otp_secrets(len(cards)), strict=True)
        )
    ]
    operation_rows = [
        (
            operation_ids[n], card_ids[index], customer_ids[row], "opening_balance", units, store_id, actor,
            f"opening balance, import line {records[row].line}", f"import:{records[row].import_key}:opening", now,
        )
        for n, (row, index, units) in enumerate(openings)
    ]
    expires = now + timedelta(days=ctx.expiry_days)
    lot_rows = [
        (lot_ids[n], card_ids[index], units, units, "active", now, expires, operation_ids[n], now)
        for n, (_, index, units) in enumerate(openings)
    ]
    link_rows = []
    timeline_rows: list[tuple[Any, ...]] = [
        (timeline_id, customer_id, now, actor, "imported", _JSON_EMPTY_OBJECT)
        for timeline_id, customer_id in zip(timeline_ids[: len(customer_ids)], customer_ids, strict=True)
    ]
    link_timeline_rows: list[tuple[Any, ...]] = []
    audit_rows: list[tuple[Any, ...]] = []
    for link_id, (row, known_owner, known_card, card_index) in zip(link_ids, links, strict=True):
        if card_index is None:
            assert known_owner is not None and known_card is not None
            owner_id, card_id = known_owner, known_card
        else:  # a card of this batch
            owner_id, card_id = customer_ids[cards[card_index][0]], card_ids[card_index]
        member_id = customer_ids[row]
        link_rows.append((link_id, owner_id, member_id, ctx.card_owner_type_id, card_id, actor, now))
        data = json.dumps(
            {"link_id": link_id, "type": "card_owner", "from": owner_id, "to": member_id, "card_id": card_id}
        )
        first = len(customer_ids) + len(link_timeline_rows)  # timeline ids: the imported ones, then these
        link_timeline_rows.append((timeline_ids[first], owner_id, now, actor, "link_added", data))
        link_timeline_rows.append((timeline_ids[first + 1], member_id, now, actor, "link_added", data))
        audit_rows.append(
            (audit_ids[len(audit_rows)], now, actor, "link.add", "customer_link", str(link_id), _JSON_NULL, data)
        )

    delta.customers, delta.cards, delta.links = len(customer_rows), len(card_rows), len(link_rows)
    delta.opening_units = sum(units for _, _, units in openings)
    audit_rows.append((
        audit_ids[-1], now, actor, "customers.import_batch", "import", None, _JSON_NULL,
        json.dumps({
            "customers": delta.customers, "cards": delta.cards, "links": delta.links,
            "opening_units": delta.opening_units, "lines": [records[0].line, records[-1].line],
        }),
    ))

    async def copy(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        try:
            await driver.copy_records_to_table(table, records=rows, columns=columns)
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # As SQLAlchemy would have raised it: the caller retries transient conflicts and splits
            # a refused batch into rows.
            raise DBAPIError(f"COPY {table}", None, exc) from exc

    await copy("customers", _CUSTOMER_COLUMNS, customer_rows)
    await copy("cards", _CARD_COLUMNS, card_rows)
    await copy("operations", _OPERATION_COLUMNS, operation_rows)
    await copy("lots", _LOT_COLUMNS, lot_rows)
    await copy("customer_timeline", _TIMELINE_COLUMNS, timeline_rows)
    await copy("audit_log", _AUDIT_COLUMNS, audit_rows)
    # The links may point at the cards of the batch before (`pending`): a foreign-key check does not
    # see rows another transaction has not committed, so these wait until it has.
    if before_links is not None:
        await before_links()
    await copy("customer_links", _LINK_COLUMNS, link_rows)
    await copy("customer_timeline", _TIMELINE_COLUMNS, link_timeline_rows)
    return delta
