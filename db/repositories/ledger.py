"""Ledger rows: operations, lots, allocations, receipts. Only flushes; the use case commits.

Every change of a cached amount is a conditional UPDATE (`... WHERE balance + :delta >= 0`) so the
database, not a Python read, decides whether points are there to take.

A lot is available until its `expires_at` instant and gone from that instant on, although only the
expiry job writes that down (it burns the lot and lowers `cards.balance`). Until it runs, the
card's balance still counts the lot: what a card can spend at an instant is its balance minus
`expired_held` at that instant, and every statement here that spends, or reads what a card holds
for a person to see, names that instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Integer,
    ScalarSelect,
    String,
    Table,
    and_,
    bindparam,
    cast,
    exists,
    func,
    nulls_last,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, with_expression
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement

from db.dialects import changed_rows, is_postgres
from db.models import Allocation, Card, Customer, IdempotentRequest, Lot, Operation, Receipt
from db.repositories.customers import contact_person_ids, parse_ids
from db.repositories.purchase_rows import reserve_ids
from db.types import UTCDateTime


def expired_held(card_id: Any, at: Any) -> ScalarSelect[int]:
    """What the active lots of card `card_id` whose `expires_at` has come by `at` still hold: points
    no longer available although the expiry job has not burnt them yet. A range of
    ix_lots_card_spend (card_id, status, expires_at) that is empty on almost every card."""
    # A sum of bigints is numeric on PostgreSQL: cast back, so that it comes as an int.
    return (
        select(cast(func.coalesce(func.sum(Lot.remaining), 0), BigInteger))
        .where(Lot.card_id == card_id, Lot.status == "active", Lot.expires_at <= at)
        .scalar_subquery()
    )


def live_at(at: Any) -> ColumnElement[bool]:
    """A lot not yet expired at `at` (no expiry date, or one still ahead): only these can be spent."""
    return or_(Lot.expires_at.is_(None), Lot.expires_at > at)


_AT = bindparam("at", type_=UTCDateTime)
_EXPIRED_HELD = select(expired_held(bindparam("card_id"), _AT))


async def expired_held_of(session: AsyncSession, card_id: int, at: datetime) -> int:
    """`expired_held` of one card, in a statement of its own (a fresh snapshot)."""
    return int((await session.execute(_EXPIRED_HELD, {"card_id": card_id, "at": at})).scalar_one())


# The card's balance as the statement's snapshot has it, beside the locked row's: they differ only
# when the lock was waited for and its holder changed the card, and then `expired_held`, read from
# that snapshot too, may be out of date (PostgreSQL re-reads the locked row, not the subqueries).
_SNAPSHOT_CARD = aliased(Card, name="snapshot_card")
_SNAPSHOT_BALANCE = (
    select(_SNAPSHOT_CARD.balance).where(_SNAPSHOT_CARD.id == Card.id).scalar_subquery().label("snapshot_balance")
)


async def _settle_expired_held(session: AsyncSession, card: Card, snapshot_balance: int, at: datetime) -> None:
    if snapshot_balance != card.balance:
        set_committed_value(card, "expired_held", await expired_held_of(session, card.id, at))

# The statements every purchase runs are built once (benchmark 2: building an expression cost
# about as much as running it).
_LOCK_CARD_WITH_PIN = (
    select(Card, Customer.pinned_level_id, _SNAPSHOT_BALANCE)
    .outerjoin(Customer, Customer.id == Card.customer_id)
    .where(Card.id == bindparam("card_id"))
    .options(with_expression(Card.expired_held, expired_held(Card.id, _AT)))
    .with_for_update(of=Card)
    .execution_options(populate_existing=True)
)
_RECEIPT = select(Receipt).where(
    Receipt.store_id == bindparam("store_id"), Receipt.receipt_id == bindparam("receipt_id")
)
_OPERATION_BY_KEY = select(Operation).where(Operation.idempotency_key == bindparam("key"))
_CHANGE_AMOUNTS = (
    update(Card)
    .where(
        Card.id == bindparam("card_id"),
        Card.balance + bindparam("d_balance") >= 0,
        Card.pending + bindparam("d_pending") >= 0,
        Card.debt + bindparam("d_debt") >= 0,
    )
    .values(
        balance=Card.balance + bindparam("d_balance"),
        pending=Card.pending + bindparam("d_pending"),
        debt=Card.debt + bindparam("d_debt"),
    )
    .returning(Card.balance, Card.pending, Card.debt)
)


async def lock_card(session: AsyncSession, card_id: int, at: datetime) -> Card | None:
    """Load a card with a row lock (FOR UPDATE on PostgreSQL; SQLite's BEGIN IMMEDIATE already
    serialises writers), with its `expired_held` at `at`. Everything a use case does on a card
    happens after this, so two use cases on one card never interleave and an idempotency lookup
    made after it sees committed rows."""
    found = await lock_card_with_pin(session, card_id, at)
    return None if found is None else found[0]


async def lock_card_with_pin(session: AsyncSession, card_id: int, at: datetime) -> tuple[Card, int | None] | None:
    """`lock_card`, plus the owner's pinned level id read in the same statement (the customer row
    is not locked)."""
    row = (await session.execute(_LOCK_CARD_WITH_PIN, {"card_id": card_id, "at": at})).first()
    if row is None:
        return None
    await _settle_expired_held(session, row[0], row[2], at)
    return row[0], row[1]


@dataclass(frozen=True)
class PurchaseSeen:
    operation_id: int | None  # the operation holding this idempotency key
    receipt: bool  # a receipt with this store and receipt id exists


def _seen(key: Any, store_id: Any, receipt_id: Any) -> tuple[Any, Any]:
    """A purchase's idempotency look-ups: the operation holding its key, whether its receipt exists."""
    operation = select(Operation.id).where(Operation.idempotency_key == key).scalar_subquery()
    receipt = exists().where(Receipt.store_id == store_id, Receipt.receipt_id == receipt_id)
    return operation, receipt


_PURCHASE_SEEN = select(*_seen(bindparam("key"), bindparam("store_id"), bindparam("receipt_id")))


async def purchase_seen(session: AsyncSession, key: str, store_id: int, receipt_id: str) -> PurchaseSeen:
    """Both idempotency look-ups of a purchase in one round trip."""
    params = {"key": key, "store_id": store_id, "receipt_id": receipt_id}
    operation_id, receipt_exists = (await session.execute(_PURCHASE_SEEN, params)).one()
    return PurchaseSeen(operation_id, bool(receipt_exists))


@dataclass(frozen=True)
class TillCard:
    """What a till's purchase reads before it writes (services/pos.py::accrue_once)."""

    card: Card  # locked
    pinned_level_id: int | None  # the owner's
    stored: IdempotentRequest | None  # the response stored for the till's request
    seen: PurchaseSeen  # the purchase's own idempotency look-ups
    contact_persons: list[int]  # the owner's (outbox.py copies the owner's notifications to them)


@dataclass(frozen=True)
class TillAsk:
    """What a till's purchase names: the card's number, and the keys its look-ups read; `at`: the
    instant the till asked, as of which the lock reads the card's `expired_held`."""

    number: str
    response_key: str
    purchase_key: str
    store_id: int
    receipt_id: str
    at: datetime


def _lock_for_till(asked: Any) -> Any:
    """Find, lock and check the cards `asked` names in one round trip: each card with the owner's
    pin and contact persons, the response stored under the ask's response key and the purchase's
    idempotency look-ups. The look-ups read the statement's snapshot: a duplicate committed while
    this one waited for the lock is not seen here, and its UNIQUE keys refuse this one's rows
    instead (write_once retries)."""
    return (
        select(
            Card, Customer.pinned_level_id, IdempotentRequest,
            *_seen(asked.c.key, asked.c.store_id, asked.c.receipt_id), contact_person_ids(Card.customer_id),
            _SNAPSHOT_BALANCE,
        )
        .select_from(asked)
        .join(Card, Card.number == asked.c.number)
        .outerjoin(Customer, Customer.id == Card.customer_id)
        .outerjoin(IdempotentRequest, IdempotentRequest.key == asked.c.response_key)
        .options(with_expression(Card.expired_held, expired_held(Card.id, asked.c.at)))
        .with_for_update(of=Card)
        .execution_options(populate_existing=True)
    )


# Built once (benchmark 2): one ask as bound parameters; a batch of asks as arrays, unnested in
# step (PostgreSQL only), locked in the order of the cards' ids so that two batches wait rather
# than deadlock.
_ONE_ASK = select(
    bindparam("number", type_=String).label("number"), bindparam("response_key", type_=String).label("response_key"),
    bindparam("key", type_=String).label("key"), bindparam("store_id", type_=Integer).label("store_id"),
    bindparam("receipt_id", type_=String).label("receipt_id"), _AT.label("at"),
).subquery("asked")
_LOCK_FOR_TILL = _lock_for_till(_ONE_ASK)
_ASKS = func.unnest(
    bindparam("numbers", type_=ARRAY(String)), bindparam("response_keys", type_=ARRAY(String)),
    bindparam("keys", type_=ARRAY(String)), bindparam("store_ids", type_=ARRAY(Integer)),
    bindparam("receipt_ids", type_=ARRAY(String)), bindparam("ats", type_=ARRAY(DateTime(timezone=True))),
).table_valued(
    "number", "response_key", "key", "store_id", "receipt_id", "at", with_ordinality="ordinal"
).render_derived()


def _next_id(table: str) -> Any:
    return func.nextval(func.pg_get_serial_sequence(table, "id"))


# With ids for each purchase's operation and lot (purchase_rows.py writes them at the COMMIT).
_LOCK_MANY_FOR_TILL = (
    _lock_for_till(_ASKS).add_columns(_ASKS.c.ordinal, _next_id("operations"), _next_id("lots")).order_by(Card.id)
)

_LOCKED_AHEAD = "till cards locked ahead"  # session.info: TillAsk -> TillCard | None


async def _till_card(session: AsyncSession, row: Any, at: datetime) -> TillCard:
    card, pinned_level_id, stored, operation_id, receipt_exists, contacts, snapshot_balance = row[:7]
    await _settle_expired_held(session, card, snapshot_balance, at)
    seen = PurchaseSeen(operation_id, bool(receipt_exists))
    return TillCard(card, pinned_level_id, stored, seen, parse_ids(contacts))


async def lock_cards_for_till(session: AsyncSession, asks: list[TillAsk]) -> None:
    """`lock_card_for_till` for the purchases of a batch sharing a transaction (services/
    card_turns.py), in one statement before any of them runs; each answer then serves the first
    `lock_card_for_till` of its ask in this transaction, and ids are drawn for each card's purchase
    (purchase_rows.py::reserve_ids). Only the first ask naming a card is read ahead: a later one must
    see what the earlier purchase wrote, so it reads for itself. A purchase naming the card another
    way (a phone) writes through the same locked card object, which keeps the amounts true; a
    duplicate among them is refused by the UNIQUE keys (the batch runs again, one by one).
    PostgreSQL only: SQLite's writers are serialised anyway."""
    if not is_postgres(session):
        return
    first: dict[str, TillAsk] = {}
    for ask in asks:
        first.setdefault(ask.number, ask)
    ahead = list(first.values())
    params = {
        "numbers": [ask.number for ask in ahead], "response_keys": [ask.response_key for ask in ahead],
        "keys": [ask.purchase_key for ask in ahead], "store_ids": [ask.store_id for ask in ahead],
        "receipt_ids": [ask.receipt_id for ask in ahead], "ats": [ask.at for ask in ahead],
    }
    answers: dict[TillAsk, TillCard | None] = dict.fromkeys(ahead)
    ids = []
    for row in (await session.execute(_LOCK_MANY_FOR_TILL, params)).all():
        ask = ahead[row.ordinal - 1]
        answers[ask] = await _till_card(session, row, ask.at)
        ids.append((row[-2], row[-1]))
    session.info[_LOCKED_AHEAD] = answers
    reserve_ids(session, ids)


async def lock_card_for_till(session: AsyncSession, ask: TillAsk) -> TillCard | None:
    """Lock the card with the ask's number (None when there is none) and read, in the same
    statement, the response stored under its response key, `purchase_seen` for the purchase and the
    owner's contact persons; or take what `lock_cards_for_till` read for this ask."""
    ahead: dict[TillAsk, TillCard | None] = session.info.get(_LOCKED_AHEAD, {})
    if ask in ahead:
        return ahead.pop(ask)
    params = {
        "number": ask.number, "response_key": ask.response_key, "key": ask.purchase_key,
        "store_id": ask.store_id, "receipt_id": ask.receipt_id, "at": ask.at,
    }
    row = (await session.execute(_LOCK_FOR_TILL, params)).first()
    return None if row is None else await _till_card(session, row, ask.at)


async def receipt(session: AsyncSession, store_id: int, receipt_id: str, *, for_update: bool = False) -> Receipt | None:
    stmt = _RECEIPT
    if for_update:
        stmt = stmt.with_for_update()
    params = {"store_id": store_id, "receipt_id": receipt_id}
    return (await session.execute(stmt.execution_options(populate_existing=True), params)).scalar_one_or_none()


async def operation_by_key(session: AsyncSession, key: str) -> Operation | None:
    return (await session.execute(_OPERATION_BY_KEY, {"key": key})).scalar_one_or_none()


async def add(session: AsyncSession, row: Operation | Lot | Allocation | Receipt) -> None:
    session.add(row)
    await session.flush()


@dataclass(frozen=True)
class CardAmounts:
    balance: int
    pending: int
    debt: int
    expired_held: int = 0  # where the statement read it (spend_from_card)


async def change_card_amounts(
    session: AsyncSession, card_id: int, *, balance: int = 0, pending: int = 0, debt: int = 0
) -> CardAmounts | None:
    """Add the deltas to the card's cached amounts; None (nothing changed) if any would go below 0."""
    params = {"card_id": card_id, "d_balance": balance, "d_pending": pending, "d_debt": debt}
    row = (await session.execute(_CHANGE_AMOUNTS, params)).one_or_none()
    return None if row is None else CardAmounts(row[0], row[1], row[2])


# On the table, not the mapped class: the session is not to synchronise (the caller sets what the
# statement returns on the card object it holds).
_CARD_TABLE: Table = Card.__table__  # type: ignore[assignment]
_SPEND = (
    update(_CARD_TABLE)
    .where(
        _CARD_TABLE.c.id == bindparam("card_id"),
        _CARD_TABLE.c.balance - bindparam("units") >= expired_held(_CARD_TABLE.c.id, _AT),
    )
    .values(balance=_CARD_TABLE.c.balance - bindparam("units"))
    .returning(_CARD_TABLE.c.balance, expired_held(_CARD_TABLE.c.id, _AT))
)


async def spend_from_card(session: AsyncSession, card_id: int, units: int, at: datetime) -> CardAmounts | None:
    """Take `units` off the card's balance if what it holds in lots not expired at `at` covers
    them (balance - expired_held >= units); None (nothing changed) otherwise. Returns the new
    balance and `expired_held` at `at` (debt and pending unchanged, so 0 there)."""
    row = (await session.execute(_SPEND, {"card_id": card_id, "units": units, "at": at})).one_or_none()
    return None if row is None else CardAmounts(int(row[0]), 0, 0, int(row[1]))


async def take_from_lot(session: AsyncSession, lot_id: int, units: int, *, status: str, at: datetime) -> bool:
    """Decrement a lot's remaining if it still holds `units`, has `status` and has not expired by
    `at`: from its expires_at instant on, a lot cannot be spent, whoever read it a moment before."""
    stmt = (
        update(Lot)
        .where(Lot.id == lot_id, Lot.status == status, Lot.remaining >= units, live_at(at))
        .values(remaining=Lot.remaining - units)
    )
    result = await session.execute(stmt)
    return changed_rows(result) > 0


async def cancel_emptied_pending_lots(session: AsyncSession, card_id: int) -> None:
    """A pending lot whose points were all reversed will never activate: mark it cancelled."""
    await session.execute(
        update(Lot)
        .where(Lot.card_id == card_id, Lot.status == "pending", Lot.remaining == 0)
        .values(status="cancelled")
    )


async def active_lots(session: AsyncSession, card_id: int, at: datetime) -> list[Lot]:
    """Lots spendable at `at` (active, not expired by then), soonest-expiring first (no expiry
    last), oldest first among equals."""
    stmt = (
        select(Lot)
        .where(Lot.card_id == card_id, Lot.status == "active", Lot.remaining > 0, live_at(at))
        .order_by(nulls_last(Lot.expires_at.asc()), Lot.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def pending_lots(session: AsyncSession, card_id: int, at: datetime) -> list[Lot]:
    """Pending lots that will still be worth something when they activate (not expired by `at`)."""
    stmt = (
        select(Lot)
        .where(Lot.card_id == card_id, Lot.status == "pending", Lot.remaining > 0, live_at(at))
        .order_by(Lot.available_at, Lot.id)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(stmt)).scalars())


async def lots_of_operation(session: AsyncSession, operation_id: int) -> list[Lot]:
    return list((await session.execute(select(Lot).where(Lot.operation_id == operation_id))).scalars())


async def allocations_with_lots(session: AsyncSession, operation_id: int) -> list[tuple[Allocation, Lot]]:
    stmt = (
        select(Allocation, Lot)
        .join(Lot, Lot.id == Allocation.lot_id)
        .where(Allocation.operation_id == operation_id)
        .order_by(Allocation.id)
        .execution_options(populate_existing=True)
    )
    return [(a, lot) for a, lot in (await session.execute(stmt))]


async def add_restored(session: AsyncSession, allocation_id: int, units: int) -> bool:
    stmt = (
        update(Allocation)
        .where(Allocation.id == allocation_id, Allocation.restored + units <= Allocation.points)
        .values(restored=Allocation.restored + units)
    )
    return changed_rows(await session.execute(stmt)) > 0


async def add_to_receipt_refund(session: AsyncSession, receipt_pk: int, kopecks: int) -> bool:
    """Count a refund against the receipt unless it would exceed the receipt amount."""
    stmt = (
        update(Receipt)
        .where(Receipt.id == receipt_pk, Receipt.refunded_kopecks + kopecks <= Receipt.amount_kopecks)
        .values(refunded_kopecks=Receipt.refunded_kopecks + kopecks)
    )
    return changed_rows(await session.execute(stmt)) > 0


async def add_to_receipt_reversal(session: AsyncSession, receipt_pk: int, *, reversed_: int, restored: int) -> bool:
    stmt = (
        update(Receipt)
        .where(
            Receipt.id == receipt_pk,
            Receipt.reversed_points + reversed_ <= Receipt.earned_points,
            Receipt.restored_points + restored <= Receipt.redeemed_points,
        )
        .values(
            reversed_points=Receipt.reversed_points + reversed_,
            restored_points=Receipt.restored_points + restored,
        )
    )
    return changed_rows(await session.execute(stmt)) > 0


# The first key of pg_advisory_xact_lock(int, int) for adjustment sums ("adj" in ASCII); the second
# is a hash of the actor. Two-key advisory locks never collide with the one-key ones (leadership.py).
_ADJUSTMENTS_LOCK_SPACE = 0x61646A
_LOCK_ACTOR_ADJUSTMENTS = text("SELECT pg_advisory_xact_lock(:space, hashtext(:actor))")


async def lock_actor_adjustments(session: AsyncSession, actor: str) -> None:
    """Hold `actor`'s adjustments until this transaction ends, so that the daily sum read next
    cannot be read by a concurrent adjustment of the same actor on another card. SQLite's
    BEGIN IMMEDIATE already serialises all writers."""
    if is_postgres(session):
        await session.execute(_LOCK_ACTOR_ADJUSTMENTS, {"space": _ADJUSTMENTS_LOCK_SPACE, "actor": actor})


async def staff_adjusted_since(session: AsyncSession, actor: str, since: datetime) -> int:
    """Absolute points of manual adjustments made by `actor` since `since`."""
    from sqlalchemy import func

    stmt = select(func.coalesce(func.sum(func.abs(Operation.points)), 0)).where(
        and_(Operation.kind == "manual_adjustment", Operation.actor == actor, Operation.created_at >= since)
    )
    return int((await session.execute(stmt)).scalar_one())
