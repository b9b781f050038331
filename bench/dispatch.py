"""Benchmark 1: `/balance` through the project's dispatcher with the database, against a bare aiogram
dispatcher answering the same updates with a constant text. Both use the same in-process recording
Bot API session, so the network is out of the picture and only our per-update work is measured.

Each round's updates are fed at once, each in its own task, as aiogram's polling and our webhook
handle them: the figure is throughput, with database round trips overlapping as in production.
Every update must be answered (with the balance, for ours) or the round does not count."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from aiogram import Dispatcher
from aiogram.filters import Command
from aiogram.types import Message, Update

from bench.harness import Outcome, Result, postgres_url
from bot import gc_tuning
from bot.app import build_dispatcher
from bot.context import AppContext
from bot.settings import Settings
from db import migrate
from db.engine import create_engine
from db.uow import UnitOfWork
from locales import translator
from services import customers
from services.clock import SystemClock
from services.phones import PhonePolicy
from tests.support import updates
from tests.support.recording_bot import recording_bot

TARGET_RATIO = 0.35


async def _feed_all(dispatcher: Dispatcher, batch: list[Update], expect: str) -> float:
    bot = recording_bot()
    start = time.perf_counter()
    await asyncio.gather(*(dispatcher.feed_update(bot, update) for update in batch))
    elapsed = time.perf_counter() - start
    answers = [getattr(request, "text", "") for request in bot.session.requests]  # type: ignore[attr-defined]
    if len(answers) != len(batch) or not all(expect in answer for answer in answers):
        raise AssertionError(f"{len(answers)} answers to {len(batch)} updates, e.g. {answers[:1]}")
    return len(batch) / elapsed


def _bare_dispatcher() -> Dispatcher:
    dispatcher = Dispatcher()

    @dispatcher.message(Command("balance"))
    async def balance(message: Message) -> None:
        await message.answer("Баланс: 100 баллов")

    return dispatcher


async def run(quick: bool) -> list[Outcome]:
    # Rounds stay under the flood limit (5 updates per user per second) even at the bare rate.
    customers_count, rounds = (50, 4) if quick else (500, 6)
    url = postgres_url()
    with tempfile.TemporaryDirectory() as tmp:
        database_url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(database_url)
        if url:
            await migrate.downgrade(engine, "base")
        await migrate.upgrade(engine)
        uow, clock, policy = UnitOfWork(engine), SystemClock(), PhonePolicy()
        users = [updates.user(900_000 + i) for i in range(customers_count)]
        for i, user in enumerate(users):
            await customers.register_by_telegram(
                uow, clock, telegram_id=user.id, phone=f"+7916{i:07d}", first_name="Bench", last_name=None,
                language="ru", policy_version="bench", phone_policy=policy,
            )
        context = AppContext(
            settings=Settings(database_url=database_url), uow=uow, clock=clock, translator=translator(),
            phone_policy=policy,
        )
        ours_dispatcher, bare = build_dispatcher(context), _bare_dispatcher()
        # As `bot.runners.run` does once it serves; one process, so the bare dispatcher gains as well.
        gc_tuning.tune_for_serving()
        ours_rates, bare_rates = [], []
        # Interleave rounds so both see the same machine load.
        for _ in range(rounds):
            batch = [updates.text(user, "/balance") for user in users]
            ours_rates.append(await _feed_all(ours_dispatcher, batch, "Баланс карты"))
            batch = [updates.text(user, "/balance") for user in users]
            bare_rates.append(await _feed_all(bare, batch, "Баланс"))
        await engine.dispose()
    ours, baseline = max(ours_rates), max(bare_rates)
    backend = "PostgreSQL" if url else "SQLite"
    return [
        Result(
            figure="1. /balance dispatch",
            ours=ours,
            baseline=baseline,
            unit="upd/s",
            target=f">= {TARGET_RATIO} of bare",
            met=ours / baseline >= TARGET_RATIO,
            note=f"{customers_count} customers x {rounds} rounds on {backend}; best round of each",
        )
    ]
