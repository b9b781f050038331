"""Same key + same request -> the first result; same key + another request -> IdempotencyConflict.

The key is stored UNIQUE on the operation that a use case always writes (even with 0 points), with a
hash of the request next to it. A use case locks the card first, so on one card a replay simply
finds the committed row; `write_once` covers the rest (two cards racing for one receipt id): the
loser's INSERT fails on the UNIQUE key and its whole use case runs again, now as a replay.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Operation
from db.uow import UnitOfWork
from services.errors import IdempotencyConflict

T = TypeVar("T")


def request_hash(**fields: object) -> str:
    payload = json.dumps(fields, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(payload.encode()).hexdigest()


def ensure_same_request(operation: Operation, expected_hash: str) -> None:
    if operation.request_hash != expected_hash:
        raise IdempotencyConflict(key=operation.idempotency_key)


async def write_once(uow: UnitOfWork, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    try:
        return await uow.write(work)
    except IntegrityError:
        return await uow.write(work)
