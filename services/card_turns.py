"""Writes to one card from this process take turns, and the writes waiting for their turn share
one transaction (group commit).

The card's row lock already serialises them in the database, but there every waiter holds a pooled
connection and an open transaction, PostgreSQL wakes its row-lock waiters one at a time, and each
write pays its own BEGIN, lock and COMMIT. Here the waiters queue in memory; whoever finds no turn
running starts one and writes everything queued for the card in one transaction, a batch at a time
(the till's 32 concurrent purchases on one family card, benchmark 3).

Each write keeps its meaning: it runs as it would alone, after the writes queued before it, in the
same transaction. If any write of a batch fails, the batch is rolled back and every write of it
runs again alone, in its own transaction, so one refused purchase never takes others with it. A
caller hears back only after its write is committed. Correctness still rests on the row lock (other
processes do not share these turns).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from db.uow import UnitOfWork
from services.ledger.idempotency import write_once

T = TypeVar("T")

# A batch holds the card's lock for its whole transaction; this bounds how long.
MAX_BATCH = 32


@dataclass
class _Write(Generic[T]):
    work: Callable[[AsyncSession], Awaitable[T]]
    done: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class CardTurns:
    def __init__(self) -> None:
        self._queues: dict[str, list[_Write[Any]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def write(self, uow: UnitOfWork, card: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run `work` in a writing transaction on `card`'s turn (`card`: a number, or however the
        caller names it; writes naming one card in two ways simply do not share turns)."""
        queued: _Write[T] = _Write(work)
        queue = self._queues.get(card)
        if queue is None:
            # The turn is a task of its own: a caller that goes away (a till hanging up) must not
            # take the writes queued behind it down with it.
            self._queues[card] = queue = []
            task = asyncio.create_task(self._take_turns(uow, card, queue))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        queue.append(queued)
        # A caller that goes away stops waiting; its write still happens (as a committed
        # transaction would whose answer was lost), and its error is not logged as unretrieved.
        queued.done.add_done_callback(_retrieve)
        return await asyncio.shield(queued.done)

    async def _take_turns(self, uow: UnitOfWork, card: str, queue: list[_Write[Any]]) -> None:
        batch: list[_Write[Any]] = []
        try:
            while queue:
                batch, queue[:] = queue[:MAX_BATCH], queue[MAX_BATCH:]
                await _write_batch(uow, batch)
        finally:
            del self._queues[card]
            for orphan in [*batch, *queue]:  # unanswered only if this task was cancelled (shutdown)
                if not orphan.done.done():
                    orphan.done.cancel()

    def __len__(self) -> int:
        return len(self._queues)


def _retrieve(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()


async def _write_batch(uow: UnitOfWork, batch: list[_Write[Any]]) -> None:
    if len(batch) > 1:

        async def together(session: AsyncSession) -> list[Any]:
            return [await queued.work(session) for queued in batch]

        try:
            results = await uow.write(together)
        except Exception:
            pass  # each write runs again alone and meets its own error, if any
        else:
            for queued, result in zip(batch, results, strict=True):
                queued.done.set_result(result)
            return
    for queued in batch:
        try:
            result = await write_once(uow, queued.work)
        except Exception as exc:
            queued.done.set_exception(exc)
        else:
            queued.done.set_result(result)


# Per process, as the row lock is per database.
card_turns = CardTurns()
