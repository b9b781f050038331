"""Benchmarks 2 and 3: purchases per second through the HTTP API with 32 concurrent clients, on
distinct cards and then all on one (hot family) card, against a raw asyncpg baseline doing the same
INSERT of an operation + conditional UPDATE of the card in one transaction.

The API server runs in a process of its own (bench/pos_server.py, aiohttp on a loopback port); the
load generator and the raw baseline run here. The peak RSS printed is the server's. Each load runs
for a second before its measured window, which alone counts towards the rate and the p99."""

from __future__ import annotations

import asyncio
import itertools
import sys
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp
import asyncpg
from sqlalchemy import text

from bench.harness import PG_SKIP, Outcome, Result, Skipped, postgres_url
from bot.app import build_context
from bot.settings import Settings
from db import migrate
from db.engine import create_engine
from services import api_keys, customers, stores
from services.ledger import check_invariants

CLIENTS = 32
# Load before the measured window, for ours and the baseline alike: the first requests open pooled
# connections, prepare statements and fill caches, once per process (they put 4-second quick runs'
# p99 at 70-80 ms).
WARMUP_SECONDS = 1.0
AMOUNT_KOPECKS = 100_000  # 1 000 RUB: 50 points at the base level


@dataclass(frozen=True)
class Load:
    done: int  # in the measured window
    errors: int
    seconds: float
    latencies: list[float]
    statuses: Counter[int] | None = None
    accepted: int = 0  # with the warm-up's: what the server did in all

    @property
    def rate(self) -> float:
        return self.done / self.seconds

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.99) - 1] * 1000 if ordered else 0.0


async def _reset(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await migrate.upgrade(engine)
    await engine.dispose()


async def _api_load(base: str, key: str, cards: list[str], seconds: float, label: str) -> Load:
    receipts = itertools.count(1)
    latencies: list[float] = []
    errors = accepted = 0
    statuses: Counter[int] = Counter()
    measured_from = time.perf_counter() + WARMUP_SECONDS
    deadline = measured_from + seconds

    async def client(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors, accepted
        card = cards[index % len(cards)]
        while time.perf_counter() < deadline:
            body = {"card": card, "receipt_id": f"{label}-{next(receipts)}", "amount_kopecks": AMOUNT_KOPECKS}
            start = time.perf_counter()
            async with session.post(f"{base}/api/v1/purchases", json=body) as response:
                await response.read()
                measured = start >= measured_from
                if response.status != 201 and response.status != 200:
                    errors += 1  # warm-up's too: an error is an error
                    statuses[response.status] += 1
                    continue
            accepted += 1
            if measured:
                latencies.append(time.perf_counter() - start)

    headers = {"Authorization": f"Bearer {key}"}
    connector = aiohttp.TCPConnector(limit=CLIENTS)
    async with aiohttp.ClientSession(headers=headers, connector=connector) as session:
        await asyncio.gather(*(client(i, session) for i in range(CLIENTS)))
        elapsed = time.perf_counter() - measured_from
    return Load(len(latencies), errors, elapsed, latencies, statuses, accepted)


async def _raw_load(dsn: str, card_ids: list[int], seconds: float, label: str) -> Load:
    """The floor of what the database allows: the same two writes per purchase, no ORM, no HTTP."""
    pool = await asyncpg.create_pool(dsn, min_size=CLIENTS, max_size=CLIENTS)
    keys = itertools.count(1)
    latencies: list[float] = []
    measured_from = time.perf_counter() + WARMUP_SECONDS
    deadline = measured_from + seconds

    async def client(index: int) -> None:
        card_id = card_ids[index % len(card_ids)]
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "INSERT INTO operations (card_id, kind, points, actor, receipt_id, receipt_kopecks, "
                    "idempotency_key, created_at) "
                    "VALUES ($1, 'purchase_accrual', 5000, 'raw-baseline', $2, $3, $2, now())",
                    card_id, f"raw:{label}:{next(keys)}", AMOUNT_KOPECKS,
                )
                await conn.execute(
                    "UPDATE cards SET pending = pending + 5000 WHERE id = $1 AND pending >= 0", card_id
                )
            if start >= measured_from:
                latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(client(i) for i in range(CLIENTS)))
    elapsed = time.perf_counter() - measured_from
    await pool.close()
    return Load(len(latencies), 0, elapsed, latencies)


async def run(quick: bool) -> list[Outcome]:
    url = postgres_url()
    if not url:
        return [Skipped("2-3. POS purchases", PG_SKIP)]
    seconds = 4.0 if quick else 20.0
    await _reset(url)
    settings = Settings(
        database_url=url, api_rate_limit_per_minute=1_000_000, api_rate_limit_burst=100_000
    )
    engine, context = build_context(settings)
    store = await stores.add_store(context.uow, context.clock, code="BENCH", name="Bench", actor="bench")
    created = await api_keys.create_api_key(
        context.uow, context.clock, store_code=store.code, scopes=("pos",), name="bench", actor="bench"
    )
    cards: list[str] = []
    for i in range(CLIENTS):
        walk_in = await customers.create_walk_in(
            context.uow, context.clock, phone=f"+7916{i:07d}", name="Bench", phone_policy=context.phone_policy,
            actor="bench",
        )
        assert walk_in.card_number is not None
        cards.append(walk_in.card_number)
    server = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.pos_server", url,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    port = int((await asyncio.wait_for(server.stdout.readline(), 60)).decode().strip())
    base = f"http://127.0.0.1:{port}"
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT id, number FROM cards ORDER BY id"))
        ids_by_number = {number: card_id for card_id, number in rows}
    card_ids = [ids_by_number[number] for number in cards]
    try:
        distinct = await _api_load(base, created.key, cards, seconds, "distinct")
        raw_distinct = await _raw_load(dsn, card_ids, seconds, "distinct")
        hot = await _api_load(base, created.key, cards[:1], seconds, "hot")
        raw_hot = await _raw_load(dsn, card_ids[:1], seconds, "hot")
    finally:
        server.stdin.close()
        server_rss, server_cpu = (await asyncio.wait_for(server.stdout.read(), 60)).decode().split()
        await server.wait()
    try:
        # The raw baseline wrote operations without lots; drop them before checking the hot card.
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM operations WHERE actor = 'raw-baseline'"))
            await conn.execute(text("UPDATE cards SET pending = (SELECT coalesce(sum(remaining), 0) FROM lots "
                                    "WHERE lots.card_id = cards.id AND lots.status = 'pending')"))
        # The hot card must be exact: every accepted purchase is one pending lot of 50 points.
        await check_invariants(context.uow, card_ids[0])
    finally:
        await engine.dispose()
    cpu_ms = float(server_cpu) * 1000 / (distinct.accepted + hot.accepted)  # its start-up's CPU included
    return [
        Result(
            "2. POS purchases, 32 clients", distinct.rate, raw_distinct.rate, "purch/s",
            ">= 1000/s, >= 0.30 of raw, p99 < 50 ms",
            distinct.rate >= 1000 and distinct.rate / raw_distinct.rate >= 0.30 and distinct.p99_ms < 50,
            note=f"p99 {distinct.p99_ms:.1f} ms, errors {distinct.errors}; API server process: peak RSS "
            f"{server_rss} MiB, {cpu_ms:.1f} ms CPU per purchase",
        ),
        Result(
            "3. Hot family card, 32 clients", hot.rate, raw_hot.rate, "purch/s", ">= 300/s, no errors, exact",
            hot.rate >= 300 and hot.errors == 0,
            note=f"p99 {hot.p99_ms:.1f} ms, errors {hot.errors} {dict(hot.statuses or {})}, invariants hold",
        ),
    ]
