"""Importing an existing client base (issue 8): `import_customers` reads the file, decides every
row's outcome for the whole file first (`rules`), then writes in batches (`writer`) and reports
(`report`). Re-importing the same file changes nothing: each customer carries `import_key`, a hash
of the row's identity, and rows whose key exists are skipped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.importer.parsing import Record, RowError, parse_record
from services.importer.reading import DEFAULT_MAX_BYTES, read_table
from services.importer.report import ImportReport, default_report_path, skipped_row
from services.importer.rules import CREATING, ERROR, Decision, ExistingCard, decide
from services.importer.writer import OwnerMissing, WriteContext, Written, merge, write_batch
from services.levels import ladder
from services.links import link_type_by_code
from services.phones import PhonePolicy
from services.program import load_settings
from services.stores import get_store

BATCH = 1000
_LOOKUP_CHUNK = 900  # stays under SQLite's bound-parameter limit

Progress = Callable[[int], None]


# PostgreSQL plans the batch look-ups (`... IN (1000 keys)`) from the tables' statistics; a bulk
# load into fresh tables outruns autovacuum, the plans stay "the table is empty: scan it", and each
# look-up turns into a full scan (measured: an import slowing from ~2000 to ~100 rows/s by 250k).
_ANALYZE_AFTER_BATCHES = {1, 4, 16}
_ANALYZE_EVERY = 64
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

    async def work(session: AsyncSession) -> _Known:
        cards: dict[str, ExistingCard] = {}
        for start in range(0, len(numbers), _LOOKUP_CHUNK):
            rows = await session.execute(
                select(Card.id, Card.number, Card.customer_id, Customer.deleted_at)
                .outerjoin(Customer, Customer.id == Card.customer_id)
                .where(Card.number.in_(numbers[start : start + _LOOKUP_CHUNK]))
            )
            for card_id, number, customer_id, deleted_at in rows:
                owner = customer_id if deleted_at is None else None
                cards[number] = ExistingCard(card_id, owner, number)
        found: set[str] = set()
        for start in range(0, len(keys), _LOOKUP_CHUNK):
            rows2 = await session.execute(
                select(Customer.import_key).where(Customer.import_key.in_(keys[start : start + _LOOKUP_CHUNK]))
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
    uow: UnitOfWork, batch: list[Decision], ctx: WriteContext, total: Written, *, split_on_error: bool
) -> None:
    async def work(session: AsyncSession) -> Written:
        return await write_batch(session, batch, ctx, total)

    try:
        merge(total, await uow.write(work))
    except (IntegrityError, DBAPIError, OwnerMissing) as exc:
        if split_on_error and len(batch) > 1:
            for decision in batch:
                await _write(uow, [decision], ctx, total, split_on_error=False)
            return
        if isinstance(exc, OwnerMissing):
            _fail(batch[0], "owner_row_failed")
        else:
            _fail(batch[0], "database", detail=str(getattr(exc, "orig", exc)).splitlines()[0][:120])


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
    per row: once read, once written). The skipped-rows CSV is written when `render` is given."""
    started = time.monotonic()
    table = read_table(path, max_bytes=max_bytes)
    report = ImportReport(str(path), table.encoding, table.delimiter, dry_run)
    ctx = await _context(uow, clock, store_code, actor)
    width = len(table.header)
    today = clock.now().astimezone(ctx.tz).date()
    items: list[Record | RowError] = []
    for line, cells in table.rows():
        items.append(parse_record(line, cells, table.columns, width, policy=policy, today=today))
        if progress and len(items) % 500 == 0:
            progress(500)
    if progress:
        progress(len(items) % 500)
    known = await _known(uow, items)
    decisions = decide(items, existing_cards=known.cards, existing_keys=known.keys)
    report.rows = len(decisions)

    total = Written()
    creating = [d for d in decisions if d.outcome in CREATING]
    if not dry_run:
        for number, start in enumerate(range(0, len(creating), batch_size)):
            batch = creating[start : start + batch_size]
            await _write(uow, batch, ctx, total, split_on_error=True)
            if number in _ANALYZE_AFTER_BATCHES or number % _ANALYZE_EVERY == 0:
                await _refresh_statistics(uow)
            if progress:
                progress(len(batch))
    if progress:
        progress(len(decisions) - len(creating))

    for decision in decisions:
        report.counts[decision.outcome] += 1
        row = skipped_row(decision)
        if row is not None:
            report.skipped.append(row)
            report.not_carried_kopecks += row.balance_kopecks
    report.customers, report.cards, report.legacy_cards = total.customers, total.cards, total.legacy_cards
    report.links, report.opening_units = total.links, total.opening_units
    report.rounded_off_units = total.rounded_off_units
    if render is not None:
        from services.importer.report import write_csv

        target = report_path or default_report_path(path)
        write_csv(report, target, render)
        report.report_path = str(target)
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
