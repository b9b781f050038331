"""Importing an existing client base (issue 8): `import_customers` reads the file twice, as a
stream: a first pass counts what the rules need to know of the whole file (`rules.take_census`),
the second reads READ_CHUNK rows at a time, decides their outcomes in file order (`rules.Decider`),
writes them in batches (`writer`) and reports them (`report`) once they are written. Memory holds a
few chunks and the census's few dozen bytes a row, whatever the size of the file. Re-importing the
same file changes nothing: each customer carries `import_key`, a hash of the row's identity, and
rows whose key exists are skipped."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Container, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import String, any_, bindparam, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.importer.parsing import Record, RowError, parse_record, row_error
from services.importer.reading import DEFAULT_MAX_BYTES, BadRecord, Table, read_table
from services.importer.report import ImportReport, ReportWriter, default_report_path, tally
from services.importer.rules import CREATING, ERROR, Census, Decider, Decision, ExistingCard, take_census
from services.importer.writer import OwnerMissing, WriteContext, Written, copy_batch, merge, write_batch
from services.levels import ladder
from services.links import link_type_by_code
from services.phones import PhonePolicy
from services.program import load_settings
from services.stores import get_store

BATCH = 1000
READ_CHUNK = 10_000  # rows read, looked up in the database and decided at a time
_LOOKUP_CHUNK = 900  # stays under SQLite's bound-parameter limit
_PG_LOOKUP_CHUNK = 50_000  # PostgreSQL: one array parameter per look-up (`= ANY($1)`)

Progress = Callable[[int], None]


# PostgreSQL plans the batch look-ups (`... IN (1000 keys)`) from the tables' statistics; a bulk
# load into fresh tables outruns autovacuum, the plans stay "the table is empty: scan it", and each
# look-up turns into a full scan (measured: an import slowing from ~2000 to ~100 rows/s by 250k).
_ANALYZE_AFTER_BATCHES = {1, 4, 16}
_ANALYZE_EVERY = 64
# Batches written with COPY look nothing up (their ids are drawn up front), so only the foreign-key
# checks plan from the statistics: a sparser schedule will do. A refused batch is refreshed for
# before its rows are written one by one with look-ups.
_ANALYZE_EVERY_COPYING = 256
_ANALYZED_TABLES = ("customers", "cards", "operations", "lots", "customer_links")


async def _refresh_statistics(uow: UnitOfWork) -> None:
    if not uow.is_postgres:
        return
    async with uow.engine.connect() as conn:
        await conn.execute(text(f"ANALYZE {', '.join(_ANALYZED_TABLES)}"))
        await conn.commit()


@dataclass(frozen=True)
class _Known:
    cards: dict[str, ExistingCard]
    keys: set[str]


async def _known(uow: UnitOfWork, items: list[Record | RowError]) -> _Known:
    numbers = sorted({n for r in items if isinstance(r, Record) for n in (r.card_number, r.legacy_card) if n})
    keys = sorted({r.import_key for r in items if isinstance(r, Record)})
    chunk = _PG_LOOKUP_CHUNK if uow.is_postgres else _LOOKUP_CHUNK

    def among(column: Any, values: list[str]) -> Any:
        if uow.is_postgres:  # one array parameter, not a thousand: rendering those cost more than the query
            return column == any_(bindparam(None, values, type_=ARRAY(String())))
        return column.in_(values)

    async def work(session: AsyncSession) -> _Known:
        cards: dict[str, ExistingCard] = {}
        for start in range(0, len(numbers), chunk):
            rows = await session.execute(
                select(Card.id, Card.number, Card.customer_id, Customer.deleted_at)
                .outerjoin(Customer, Customer.id == Card.customer_id)
                .where(among(Card.number, numbers[start : start + chunk]))
            )
            for card_id, number, customer_id, deleted_at in rows:
                owner = customer_id if deleted_at is None else None
                cards[number] = ExistingCard(card_id, owner, number)
        found: set[str] = set()
        for start in range(0, len(keys), chunk):
            rows2 = await session.execute(
                select(Customer.import_key).where(among(Customer.import_key, keys[start : start + chunk]))
            )
            found.update(k for k in rows2.scalars() if k)
        return _Known(cards, found)

    return await uow.read(work)


async def _context(uow: UnitOfWork, clock: Clock, store_code: str | None, actor: str) -> WriteContext:
    async def work(session: AsyncSession) -> WriteContext:
        store_id = (await get_store(session, store_code)).id if store_code else None
        settings = await load_settings(session)
        return WriteContext(
            now=clock.now(), actor=actor, store_id=store_id,
            card_owner_type_id=(await link_type_by_code(session, "card_owner")).id,
            rungs=await ladder(session, None), quantum=settings.point_quantum, expiry_days=settings.expiry_days,
            tz=settings.tz,
        )

    return await uow.read(work)


def _fail(decision: Decision, reason: str, **args: Any) -> None:
    record = decision.record
    assert isinstance(record, Record)
    decision.record = RowError(record.line, reason, args, record.surname or "", record.name, record.phone_raw)
    decision.outcome, decision.reason, decision.reason_args = ERROR, reason, args
    decision.phone_card = decision.legacy_card = None
    decision.owner = None


async def _write(
    uow: UnitOfWork, batch: list[Decision], ctx: WriteContext, total: Written, owners: Container[str], *,
    split_on_error: bool,
) -> None:
    """One batch with INSERTs, in one transaction: SQLite's batches, and on PostgreSQL single rows
    (the rows of a refused batch), so that a refused row is named by the database as before."""

    async def work(session: AsyncSession) -> Written:
        return await write_batch(session, batch, ctx, total)

    try:
        merge(total, await uow.write(work), owners)
    except (IntegrityError, DBAPIError, OwnerMissing) as exc:
        await _refused(uow, batch, ctx, total, owners, exc, split=split_on_error and len(batch) > 1)


async def _refused(
    uow: UnitOfWork, batch: list[Decision], ctx: WriteContext, total: Written, owners: Container[str],
    exc: Exception, *, split: bool,
) -> None:
    """A batch the database refused: written again row by row, or, a single row, reported."""
    if split:
        # The rows are written with INSERTs and look-ups, which plan from the statistics.
        await _refresh_statistics(uow)
        for decision in batch:
            await _write(uow, [decision], ctx, total, owners, split_on_error=False)
        return
    if isinstance(exc, OwnerMissing):
        _fail(batch[0], "owner_row_failed")
    else:
        _fail(batch[0], "database", detail=str(getattr(exc, "orig", exc)).splitlines()[0][:120])


class _Superseded(Exception):
    """The batch before this one was refused, or drew other ids than this one was planned with."""


@dataclass(eq=False)
class _Flight:
    """A batch being written with COPY, while the next one is being written too."""

    number: int  # the batch's place in the file's batches
    batch: list[Decision]
    cards: asyncio.Future[dict[str, tuple[int, int]]]  # its cards, once their ids are drawn
    committed: asyncio.Future[bool]
    task: asyncio.Task[Written] | None = None
    used: dict[str, tuple[int, int]] | None = None  # the previous batch's cards this one was planned with
    latest: dict[str, tuple[int, int]] | None = None  # its cards as last planned (a retry draws new ids)
    final: dict[str, tuple[int, int]] | None = None  # its cards as committed
    stale: bool = False  # refused, and planned on cards the previous batch did not commit


def _take_off(
    uow: UnitOfWork, number: int, batch: list[Decision], ctx: WriteContext, total: Written, previous: _Flight | None
) -> _Flight:
    loop = asyncio.get_running_loop()
    flight = _Flight(number, batch, loop.create_future(), loop.create_future())

    def planned(cards: dict[str, tuple[int, int]]) -> None:
        flight.latest = cards
        if not flight.cards.done():
            flight.cards.set_result(cards)

    async def before_links() -> None:
        # Commits keep the file's order: this batch writes its links (which may point at the
        # previous batch's cards) and commits only after the previous one has committed, and only
        # if it was planned with the ids the previous one committed.
        if previous is not None and (not await previous.committed or previous.final is not flight.used):
            raise _Superseded

    async def work(session: AsyncSession) -> Written:
        pending = None
        if previous is not None:
            pending = flight.used = await previous.cards
        return await copy_batch(
            session, batch, ctx, total, pending=pending, planned=planned, before_links=before_links
        )

    async def fly() -> Written:
        try:
            delta = await uow.write(work)
        except BaseException:
            if not flight.cards.done():
                flight.cards.set_result({})
            flight.committed.set_result(False)
            if previous is not None and flight.used is not None:
                # Refused because of the previous batch (its rows gone, or other ids), or on its own?
                flight.stale = not await previous.committed or previous.final is not flight.used
            raise
        flight.final = flight.latest
        flight.committed.set_result(True)
        return delta

    flight.task = asyncio.create_task(fly())
    return flight


class _Writer:
    """The rows to create, written in batches of `batch_size` in file order, each batch one
    transaction as in `_write`. `landed` counts the rows dealt with (written, or refused and
    reported) so far: they land in file order."""

    analyze_every = _ANALYZE_EVERY

    def __init__(
        self, uow: UnitOfWork, ctx: WriteContext, batch_size: int, owners: Container[str], progress: Progress | None
    ) -> None:
        self.uow, self.ctx, self.batch_size, self.owners, self.progress = uow, ctx, batch_size, owners, progress
        self.total = Written()
        self.landed = 0
        self._pending: list[Decision] = []
        self._batches = 0

    async def add(self, creating: list[Decision]) -> None:
        self._pending.extend(creating)
        while len(self._pending) >= self.batch_size:
            batch = self._pending[: self.batch_size]
            del self._pending[: self.batch_size]
            await self._cut(batch)

    async def finish(self) -> None:
        if self._pending:
            batch, self._pending = self._pending, []
            await self._cut(batch)
        await self._drain()

    async def _cut(self, batch: list[Decision]) -> None:
        number = self._batches
        self._batches += 1
        await self._send(number, batch)

    async def _send(self, number: int, batch: list[Decision]) -> None:
        """SQLite (and single rows): one batch after the other."""
        await _write(self.uow, batch, self.ctx, self.total, self.owners, split_on_error=True)
        await self._done(number, batch)

    async def _drain(self) -> None:
        return None

    async def _done(self, number: int, batch: list[Decision]) -> None:
        self.landed += len(batch)
        if number in _ANALYZE_AFTER_BATCHES or number % self.analyze_every == 0:
            await _refresh_statistics(self.uow)
        if self.progress:
            self.progress(len(batch))


class _CopyingWriter(_Writer):
    """PostgreSQL: each batch written with COPY, the next one already being planned and copied (on
    a second connection) while one is in the database. Commits stay in order; when a batch is
    refused, the one after it is abandoned and written again after the refused one has been dealt
    with, exactly as if they had been written one by one."""

    analyze_every = _ANALYZE_EVERY_COPYING

    def __init__(
        self, uow: UnitOfWork, ctx: WriteContext, batch_size: int, owners: Container[str], progress: Progress | None
    ) -> None:
        super().__init__(uow, ctx, batch_size, owners, progress)
        self._flights: deque[_Flight] = deque()
        self._waiting: deque[tuple[int, list[Decision]]] = deque()  # batches to take off, in order

    async def _send(self, number: int, batch: list[Decision]) -> None:
        self._waiting.append((number, batch))
        await self._fly(until_room=True)

    async def _drain(self) -> None:
        await self._fly(until_room=False)

    async def _fly(self, *, until_room: bool) -> None:
        """Keep two batches in flight; land the oldest until there is room for the next batch
        (`until_room`) or until everything has landed."""
        while True:
            while len(self._flights) < 2 and self._waiting:
                number, batch = self._waiting.popleft()
                previous = self._flights[-1] if self._flights else None
                self._flights.append(_take_off(self.uow, number, batch, self.ctx, self.total, previous))
            if not self._flights or (until_room and len(self._flights) < 2):
                return
            await self._land()

    async def _land(self) -> None:
        head = self._flights.popleft()
        assert head.task is not None
        try:
            delta = await head.task
        except BaseException as exc:
            # What follows was planned on this batch: let it give up (then start again after it).
            others = list(self._flights)
            self._flights.clear()
            for other in others:
                assert other.task is not None
                if not isinstance(exc, Exception):  # cancelled: so is the rest
                    other.task.cancel()
                    continue
                with contextlib.suppress(Exception):
                    await other.task
            if not isinstance(exc, (IntegrityError, DBAPIError, OwnerMissing, _Superseded)):
                raise
            again = [(other.number, other.batch) for other in others]
            if isinstance(exc, _Superseded) or head.stale:
                # Planned on what the previous batch did not commit: again, afresh.
                self._waiting.extendleft(reversed([(head.number, head.batch), *again]))
                return
            if len(head.batch) > 1:
                await _refused(self.uow, head.batch, self.ctx, self.total, self.owners, exc, split=True)
            else:  # a single row: INSERT it, so that a refusal names it as before
                await _write(self.uow, head.batch, self.ctx, self.total, self.owners, split_on_error=False)
            self._waiting.extendleft(reversed(again))
        else:
            merge(self.total, delta, self.owners)
        await self._done(head.number, head.batch)


class _Shared:
    """The numbers of this file's cards that later rows may join as family: those the census saw
    more than once. Only these are remembered after their batch is written."""

    def __init__(self, census: Census) -> None:
        self._census = census

    def __contains__(self, number: object) -> bool:
        return isinstance(number, str) and self._census.is_shared(number)


def _parsed(table: Table, policy: PhonePolicy, today: date) -> Iterator[Record | RowError]:
    width = len(table.header)
    for row in table.rows():
        if isinstance(row, BadRecord):
            yield row_error(row.line, row.reason, row.args, row.cells, table.columns)
        else:
            yield parse_record(row[0], row[1], table.columns, width, policy=policy, today=today)


async def import_customers(
    uow: UnitOfWork,
    clock: Clock,
    *,
    path: Path,
    policy: PhonePolicy,
    dry_run: bool = False,
    store_code: str | None = None,
    actor: str = "cli:import",
    max_bytes: int = DEFAULT_MAX_BYTES,
    batch_size: int = BATCH,
    report_path: Path | None = None,
    progress: Progress | None = None,
    render: Callable[[str, dict[str, object]], str] | None = None,
) -> ImportReport:
    """Import a client-base CSV. Refuses unreadable files as a whole (DomainError) before writing;
    never aborts on a bad row. `progress(n)` is called with the number of rows just handled (twice
    per row: once read, once written or decided not to be). The skipped-rows CSV is written, as the
    rows are, when `render` is given."""
    started = time.monotonic()
    table = read_table(path, max_bytes=max_bytes)
    report = ImportReport(str(path), table.encoding, table.delimiter, dry_run)
    ctx = await _context(uow, clock, store_code, actor)
    today = clock.now().astimezone(ctx.tz).date()
    census = take_census(table, policy)
    decider = Decider(census)
    owners = _Shared(census)
    writer: _Writer | None = None
    if not dry_run:
        copying = uow.is_postgres and batch_size > 1
        writer = (_CopyingWriter if copying else _Writer)(uow, ctx, batch_size, owners, progress)
    target = report_path or default_report_path(path)
    csv = ReportWriter(target, render) if render is not None else None
    # Decided chunks wait here until their rows are written (a refused row's outcome changes), and
    # are then counted and listed in file order: (decisions, rows to create up to their last one,
    # rows not written).
    held: deque[tuple[list[Decision], int, int]] = deque()
    created = 0

    def release() -> None:
        while held and (writer is None or held[0][1] <= writer.landed):
            decisions, _, unwritten = held.popleft()
            tally(report, decisions, csv)
            if progress:
                progress(unwritten)

    try:
        rows = _parsed(table, policy, today)
        while items := list(islice(rows, READ_CHUNK)):
            if progress:
                progress(len(items))
            known = await _known(uow, items)
            decisions = decider.decide(items, existing_cards=known.cards, existing_keys=known.keys)
            del items, known  # before the next chunk is read: one chunk in memory, not two
            report.rows += len(decisions)
            creating = [d for d in decisions if d.outcome in CREATING]
            created += len(creating)
            held.append((decisions, created, len(decisions) - (len(creating) if writer is not None else 0)))
            del decisions
            if writer is not None:
                await writer.add(creating)
            del creating
            release()
        if writer is not None:
            await writer.finish()
        release()
    finally:
        if csv is not None:
            csv.close()
    if csv is not None:
        report.report_path = str(target)
    if writer is not None:
        total = writer.total
        report.customers, report.cards, report.legacy_cards = total.customers, total.cards, total.legacy_cards
        report.links, report.opening_units = total.links, total.opening_units
        report.rounded_off_units = total.rounded_off_units
    report.seconds = time.monotonic() - started
    if not dry_run:
        await uow.write(lambda session: _audit_summary(session, clock, report, actor))
    return report


async def _audit_summary(session: AsyncSession, clock: Clock, report: ImportReport, actor: str) -> None:
    await audit.record(
        session, at=clock.now(), actor=actor, action="customers.import", entity="import", entity_id=None,
        after={
            "file": Path(report.path).name, "rows": report.rows, "counts": dict(report.counts),
            "customers": report.customers, "cards": report.cards, "links": report.links,
            "opening_units": report.opening_units,
        },
    )


__all__ = ["DEFAULT_MAX_BYTES", "ImportReport", "import_customers"]
