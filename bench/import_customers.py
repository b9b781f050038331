"""Benchmark 5: `import-customers` on a generated client base (quick: 20 000 rows, the size of the
shared sample; full: 1 000 000 rows), against a bare multi-row INSERT of the same number of
minimal customer rows through the same engine: the floor any import has to pay for writing."""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from bench.harness import Outcome, Result, peak_rss_mib, postgres_url
from db import migrate
from db.engine import create_engine
from db.models import Customer
from db.uow import UnitOfWork
from services.clock import SystemClock
from services.importer import import_customers
from services.importer.columns import RUSSIAN
from services.phones import PhonePolicy

TARGET_ROWS_PER_S = 667  # the 20 000-row sample in 30 s ("well under a minute")
TARGET_FULL_SECONDS = 120  # a million rows (PostgreSQL) in under two minutes


def generate(path: Path, rows: int, seed: int = 8) -> None:
    rng = random.Random(seed)
    surnames = ["Иванов", "Петров", "Сидоров", "Кузнецов", "Смирнов", "Попов", "Волков", "Фёдоров"]
    names = ["Иван", "Пётр", "Анна", "Мария", "Олег", "Ольга", "Семён", "Дарья"]
    with path.open("w", encoding="cp1251", newline="") as out:
        out.write(";".join(RUSSIAN) + "\r\n")
        for i in range(rows):
            roll = rng.random()
            if roll < 0.03:
                phone = rng.choice(["", "нет", "911125", "8-800"])
            elif roll < 0.05:
                phone = f"8 (916) {rng.randrange(max(1, i)):07d}"  # an earlier client's phone: family
            elif roll < 0.06:
                phone = "+7 495 000-00-01"  # a shop's phone, many times
            else:
                phone = f"+7916{i:07d}"
            card = str(100_000 + i) if rng.random() < 0.05 else ""
            balance = f"{rng.randrange(500_000) // 100},{rng.randrange(100):02d}"
            orders = f"{rng.randrange(20_000_000) // 100},{rng.randrange(100):02d}"
            out.write(";".join([
                rng.choice(surnames), rng.choice(names), "", rng.choice(["Мужской", "Женский"]),
                f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 13):02d}.{rng.randrange(1940, 2010)}", phone, "", "",
                "Москва", card, balance, orders, "Да", "Нет", f"{rng.randrange(1, 28):02d}-05-2019",
            ]) + "\r\n")


async def _baseline(uow: UnitOfWork, rows: int) -> float:
    now = datetime.now(UTC)
    data = [{"name": "Bench", "created_at": now, "notification_optouts": []} for _ in range(rows)]
    start = time.perf_counter()
    for offset in range(0, rows, 1000):
        chunk = data[offset : offset + 1000]

        async def work(session, chunk=chunk):  # type: ignore[no-untyped-def]
            await session.execute(insert(Customer.__table__), chunk)

        await uow.write(work)
    return rows / (time.perf_counter() - start)


async def run(quick: bool) -> list[Outcome]:
    rows = 20_000 if quick else 1_000_000
    url = postgres_url()
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "clients.csv"
        generate(source, rows)
        backends = [("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")]
        if url:
            backends.append(("PostgreSQL", url))
        if not quick and url:
            backends = backends[1:]  # a million rows is PostgreSQL's job
        for backend, database_url in backends:
            engine = create_engine(database_url)
            await migrate.downgrade(engine, "base")
            await migrate.upgrade(engine)
            baseline = await _baseline(UnitOfWork(engine), rows)
            # A fresh schema for the import (DELETE of a million customers would check every FK).
            await migrate.downgrade(engine, "base")
            await migrate.upgrade(engine)
            uow = UnitOfWork(engine)
            start = time.perf_counter()
            report = await import_customers(uow, SystemClock(), path=source, policy=PhonePolicy())
            ours = rows / (time.perf_counter() - start)
            await engine.dispose()
            target = TARGET_ROWS_PER_S if quick else rows / TARGET_FULL_SECONDS
            results.append(Result(
                figure=f"6. import {rows} rows ({backend})", ours=ours, baseline=baseline, unit="rows/s",
                target=f">= {target:.0f} rows/s" + ("" if quick else f" (< {TARGET_FULL_SECONDS} s)"),
                met=ours >= target,
                note=(f"{report.customers} customers, {report.cards} cards, {report.links} links in "
                      f"{rows / ours:.1f} s; baseline = bare INSERT of minimal customers; "
                      f"peak RSS {peak_rss_mib():.0f} MiB"),
            ))
    return results
