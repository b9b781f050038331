"""First responses of idempotent API requests, replayed verbatim to retries.

A request is identified by a key (e.g. store + receipt id) and a hash of its body. The first
successful response is stored with INSERT ... ON CONFLICT DO NOTHING, so of concurrent identical
requests all return the one stored response; the same key with another body is a conflict.
Failures are not stored: a refused request may succeed when retried after the cause is gone.
A use case that can run in one transaction stores its response in that same transaction
(`find_in`/`save_in`, or `save_at_commit` after a look-up under a lock: services/pos.py::accrue_once);
the others call the uow wrappers.

A response about a card names the card (`card_id`): its body carries the card number, which is the
customer's phone, so it is stored with the card and the card's owner at that moment, and erasing
that customer drops it (services/customers.py::delete_personal_data).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.commit_rows import add_at_commit, pending_rows
from db.dialects import changed_rows, insert_or_skip
from db.models import Card, IdempotentRequest
from db.uow import UnitOfWork
from services.clock import Clock
from services.errors import IdempotencyConflict


@dataclass(frozen=True)
class StoredResponse:
    status_code: int
    body: dict[str, Any]
    replayed: bool  # True: stored by an earlier request


def request_hash(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _check(stored: Mapping[str, Any], key: str, expected_hash: str) -> StoredResponse:
    """The response in a stored row's values, or IdempotencyConflict when it was for another body."""
    if stored["request_hash"] != expected_hash:
        raise IdempotencyConflict(key=key)
    return StoredResponse(stored["status_code"], dict(stored["response"]), replayed=True)


@dataclass(frozen=True)
class About:
    """The card a stored response is about, and its owner when it was stored."""

    card_id: int
    customer_id: int | None


def _values(
    now: datetime, key: str, expected_hash: str, status_code: int, body: dict[str, Any], about: About | None
) -> dict[str, Any]:
    return {
        "key": key, "request_hash": expected_hash, "status_code": status_code, "response": body, "created_at": now,
        "card_id": about.card_id if about else None, "customer_id": about.customer_id if about else None,
    }


_OWNER = select(Card.customer_id).where(Card.id == bindparam("card_id"))


async def about_card(session: AsyncSession, card_id: int | None) -> About | None:
    """What a response about `card_id` is stored with: the card and its owner now."""
    if card_id is None:
        return None
    owner = (await session.execute(_OWNER, {"card_id": card_id})).scalar_one_or_none()
    return About(card_id, None if owner is None else int(owner))


async def forget_customer(session: AsyncSession, customer_id: int, card_ids: list[int]) -> None:
    """Drop the stored responses about this customer's cards (owned now or when stored): an
    erasure. A retry of one of those requests is then answered afresh, and its card number is gone."""
    condition = IdempotentRequest.customer_id == customer_id
    if card_ids:
        condition = or_(condition, IdempotentRequest.card_id.in_(card_ids))
    await session.execute(delete(IdempotentRequest).where(condition))


def _of(row: IdempotentRequest) -> dict[str, Any]:
    return {"request_hash": row.request_hash, "status_code": row.status_code, "response": row.response}


_TABLE: Table = IdempotentRequest.__table__  # type: ignore[assignment]
_BY_KEY = select(IdempotentRequest).where(IdempotentRequest.key == bindparam("key"))


async def _row(session: AsyncSession, key: str) -> IdempotentRequest | None:
    return (await session.execute(_BY_KEY, {"key": key})).scalar_one_or_none()


async def find_in(session: AsyncSession, key: str, expected_hash: str) -> StoredResponse | None:
    """The stored response for `key`, None when there is none, IdempotencyConflict when it was
    stored for another body."""
    return known_in(session, await _row(session, key), key, expected_hash)


def known_in(
    session: AsyncSession, row: IdempotentRequest | None, key: str, expected_hash: str
) -> StoredResponse | None:
    """`find_in` for a caller that has read the `row` for `key` itself; a response this
    transaction stores at its COMMIT (`save_at_commit`: a till's retry in the same batch of
    services/card_turns.py) counts as stored."""
    if row is not None:
        return _check(_of(row), key, expected_hash)
    for values in pending_rows(session, _TABLE):
        if values["key"] == key:
            return _check(values, key, expected_hash)
    return None


async def save_in(
    session: AsyncSession, now: datetime, *, key: str, expected_hash: str, status_code: int, body: dict[str, Any],
    card_id: int | None = None,
) -> StoredResponse:
    """Store the response unless another request stored one first; return the one that is stored.
    `card_id`: the card the response is about (see the module's docstring)."""
    values = _values(now, key, expected_hash, status_code, body, await about_card(session, card_id))
    result = await session.execute(insert_or_skip(session, _TABLE, conflict=("key",)), values)
    if changed_rows(result) == 1:
        return StoredResponse(status_code, body, replayed=False)
    row = await _row(session, key)
    assert row is not None
    return _check(_of(row), key, expected_hash)


def save_at_commit(
    session: AsyncSession, now: datetime, *, key: str, expected_hash: str, status_code: int, body: dict[str, Any],
    about: About | None = None,
) -> StoredResponse:
    """`save_in` for a caller that has looked for a stored response after locking what the
    request changes (services/pos.py::accrue_once): the row goes with the COMMIT
    (db/commit_rows.py); until then `known_in` finds it in this transaction, and one stored
    meanwhile by another fails the COMMIT with IntegrityError, after which the caller's retry
    finds and returns it."""
    add_at_commit(session, _TABLE, [_values(now, key, expected_hash, status_code, body, about)])
    return StoredResponse(status_code, body, replayed=False)


async def find_response(uow: UnitOfWork, key: str, expected_hash: str) -> StoredResponse | None:
    async def work(session: AsyncSession) -> StoredResponse | None:
        return await find_in(session, key, expected_hash)

    return await uow.read(work)


async def save_response(
    uow: UnitOfWork, clock: Clock, *, key: str, expected_hash: str, status_code: int, body: dict[str, Any],
    card_id: int | None = None,
) -> StoredResponse:
    async def work(session: AsyncSession) -> StoredResponse:
        return await save_in(
            session, clock.now(), key=key, expected_hash=expected_hash, status_code=status_code, body=body,
            card_id=card_id,
        )

    return await uow.write(work)
