"""Queueing messages. Called inside the producer's transaction, so a message exists exactly when
the change it reports was committed; the UNIQUE (customer, kind, occasion) key with
ON CONFLICT DO NOTHING makes a retried or concurrent producer queue it once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from db.commit_rows import add_at_commit
from db.dialects import insert_or_skip
from db.models import OutboxMessage
from db.repositories.customers import CONTACT_PERSONS
from services.notifications.kinds import COPIED_TO_CONTACTS

_OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
_KNOWN_CONTACTS = "outbox.contact_persons"


@dataclass(frozen=True)
class Message:
    customer_id: int
    kind: str
    occasion: str
    payload: dict[str, Any]
    marketing: bool = False
    broadcast_id: int | None = None


async def contact_persons(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, list[int]]:
    """customer id -> ids of live customers who are a contact person for them.

    Read once per customer and transaction (purchases share transactions, see
    services/card_turns.py; a till's purchase seeds this with what its card lock read): a link made
    meanwhile counts from the next transaction on, as it would had it been made a moment later."""
    known: dict[int, list[int]] = session.info.setdefault(_KNOWN_CONTACTS, {})
    missing = {customer_id for customer_id in customer_ids if customer_id not in known}
    if missing:
        for customer_id in missing:
            known[customer_id] = []
        for about, contact in await session.execute(CONTACT_PERSONS, {"ids": list(missing)}):
            known[int(about)].append(int(contact))
    return {customer_id: known[customer_id] for customer_id in customer_ids if known[customer_id]}


def remember_contact_persons(session: AsyncSession, customer_id: int, contacts: list[int]) -> None:
    """Seed `contact_persons` with what the caller has just read in this transaction
    (repositories/customers.py::contact_person_ids)."""
    session.info.setdefault(_KNOWN_CONTACTS, {})[customer_id] = contacts


_UNIQUE = ("customer_id", "kind", "occasion")


async def enqueue_many(session: AsyncSession, messages: Sequence[Message], *, now: datetime) -> int:
    """Queue `messages` plus a copy of each service message for the customer's contact persons;
    return how many rows were new."""
    rows = await _rows_with_copies(session, messages, now)
    if not rows:
        return 0
    # One statement compiled once (and cached) for any number of rows: SQLAlchemy sends them as
    # multi-row INSERTs of up to 1000 rows ("insertmanyvalues"). A `.values(list_of_rows)` INSERT
    # is compiled anew for every call, 10 bind parameters per row: ~0.2 ms of CPU per message,
    # which made queueing the expiry job's 5 000 notices cost more than the job itself.
    stmt = insert_or_skip(session, _OUTBOX, conflict=_UNIQUE, returning=("id",))
    return len((await session.execute(stmt, rows)).all())


async def enqueue_at_commit(session: AsyncSession, messages: Sequence[Message], *, now: datetime) -> None:
    """`enqueue_many` for a producer that needs no count: the rows go with the transaction's
    COMMIT (db/commit_rows.py), together with everything else queued so, in one statement."""
    add_at_commit(session, _OUTBOX, await _rows_with_copies(session, messages, now), skip_conflicts_on=_UNIQUE)


async def _rows_with_copies(session: AsyncSession, messages: Sequence[Message], now: datetime) -> list[dict[str, Any]]:
    if not messages:
        return []
    contacts = await contact_persons(
        session, [m.customer_id for m in messages if m.kind in COPIED_TO_CONTACTS and not m.marketing]
    )
    rows: list[dict[str, Any]] = []
    for message in messages:
        rows.append(_row(message, now))
        if message.kind not in COPIED_TO_CONTACTS or message.marketing:
            continue
        for contact in contacts.get(message.customer_id, ()):
            copy = Message(
                customer_id=contact,
                kind=message.kind,
                occasion=f"about:{message.customer_id}:{message.occasion}"[:128],
                payload={**message.payload, "about": message.customer_id},
            )
            rows.append(_row(copy, now))
    return rows


def _row(message: Message, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": message.customer_id,
        "kind": message.kind,
        "occasion": message.occasion[:128],
        "marketing": message.marketing,
        "payload": message.payload,
        "status": "pending",
        "attempts": 0,
        "not_before": now,
        "broadcast_id": message.broadcast_id,
        "created_at": now,
    }


async def enqueue(
    session: AsyncSession,
    *,
    customer_id: int,
    kind: str,
    occasion: str,
    payload: dict[str, Any],
    now: datetime,
    marketing: bool = False,
) -> bool:
    """Queue one message (and its contact-person copies); False when it had been queued before."""
    message = Message(customer_id, kind, occasion, payload, marketing)
    return await enqueue_many(session, [message], now=now) > 0
