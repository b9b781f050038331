"""Writes to cards from this process take turns in a few lanes, and the writes waiting in a lane
share one transaction (group commit).

The card's row lock already serialises writes in the database, but there every waiter holds a
pooled connection and an open transaction, PostgreSQL wakes its row-lock waiters one at a time, and
each write pays its own BEGIN, lock and COMMIT. Here the waiters queue in memory: a card always goes
down the same lane, and whoever finds its lane idle starts a turn that writes everything queued in
the lane in one transaction, a batch at a time. The till's 32 concurrent purchases on one family
card (benchmark 3) share transactions this way, and so do purchases on different cards (benchmark
2: a transaction's own work costs as much as a purchase's statements).

Each write keeps its meaning: it runs as it would alone, after the writes queued before it, in the
same transaction. A write that refuses before it has written anything raises `Refused`: its caller
hears the refusal and the batch goes on. If any write of a batch fails otherwise, the batch is
rolled back and every write of it runs again alone, in its own transaction, so one failed purchase
never takes others with it; that also covers the rare deadlock of two batches that each hold a card
the other names (two spellings of one card in two lanes, or another process). A caller hears back
only after its write is committed. Correctness still rests on the row lock (other processes do not
share these turns).
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

# A batch holds its cards' locks for its whole transaction; this bounds how long.
MAX_BATCH = 32
# Lanes write concurrently, each on a pooled connection of its own. With 32 tills on 32 cards, 4
# lanes measured best (2 and 8 within noise); 1 lane serialises every write of the process.
LANES = 4


class Refused(Exception):
    """Raised by a write that refuses before it has written anything (an unknown or blocked card):
    its caller hears `error`, and the writes sharing its transaction go on."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class Ahead:
    """What a write reads first, read for all the writes of its batch at once: `read(session, asks)`
    runs in the batch's transaction before any of its writes, with the asks of the writes that
    share it, and leaves its answers where the writes' own reads find them (see
    repositories/ledger.py::lock_cards_for_till). A write running alone reads for itself."""

    read: Callable[[AsyncSession, list[Any]], Awaitable[None]]
    ask: Any


@dataclass
class _Write(Generic[T]):
    work: Callable[[AsyncSession], Awaitable[T]]
    ahead: Ahead | None = None
    done: asyncio.Future[T] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class CardTurns:
    def __init__(self, lanes: int = LANES) -> None:
        self._lanes = lanes
        self._queues: dict[int, list[_Write[Any]]] = {}
        self._running: set[asyncio.Task[None]] = set()

    async def write(
        self, uow: UnitOfWork, card: str, work: Callable[[AsyncSession], Awaitable[T]], *, ahead: Ahead | None = None
    ) -> T:
        """Run `work` in a writing transaction on `card`'s turn (`card`: a number, or however the
        caller names it; writes naming one card in two ways may go down two lanes)."""
        queued: _Write[T] = _Write(work, ahead)
        lane = self.lane_of(card)
        queue = self._queues.get(lane)
        if queue is None:
            # The turn is a task of its own: a caller that goes away (a till hanging up) must not
            # take the writes queued behind it down with it.
            self._queues[lane] = queue = []
            task = asyncio.create_task(self._take_turns(uow, lane, queue))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        queue.append(queued)
        # A caller that goes away stops waiting; its write still happens (as a committed
        # transaction would whose answer was lost), and its error is not logged as unretrieved.
        queued.done.add_done_callback(_retrieve)
        return await asyncio.shield(queued.done)

    def lane_of(self, card: str) -> int:
        return hash(card) % self._lanes

    async def _take_turns(self, uow: UnitOfWork, lane: int, queue: list[_Write[Any]]) -> None:
        batch: list[_Write[Any]] = []
        try:
            while queue:
                batch, queue[:] = queue[:MAX_BATCH], queue[MAX_BATCH:]
                await _write_batch(uow, batch)
        finally:
            del self._queues[lane]
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
            asks: dict[Callable[[AsyncSession, list[Any]], Awaitable[None]], list[Any]] = {}
            for queued in batch:
                if queued.ahead is not None:
                    asks.setdefault(queued.ahead.read, []).append(queued.ahead.ask)
            for read, asked in asks.items():
                await read(session, asked)
            results: list[Any] = []
            for queued in batch:
                try:
                    results.append(await queued.work(session))
                except Refused as refused:
                    results.append(refused)
            return results

        try:
            results = await uow.write(together)
        except Exception:
            pass  # each write runs again alone and meets its own error, if any
        else:
            for queued, result in zip(batch, results, strict=True):
                _answer(queued, result)
            return
    for queued in batch:
        try:
            result = await write_once(uow, queued.work)
        except Refused as refused:
            result = refused
        except Exception as exc:
            queued.done.set_exception(exc)
            continue
        _answer(queued, result)


def _answer(queued: _Write[Any], result: Any) -> None:
    if isinstance(result, Refused):
        queued.done.set_exception(result.error)
    else:
        queued.done.set_result(result)


# Per process, as the row lock is per database.
card_turns = CardTurns()
