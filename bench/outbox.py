"""Benchmark 4: outbox delivery (full: 10 000 notifications; quick: 300) through the real sender and
the real Telegram notifier to the local emulator enforcing Telegram's limits (30 messages/s
overall, 1 per second per chat). Ours is the sustained send rate; the baseline is the configured
limit (NOTIFY_RATE_PER_SECOND), so the ratio is how much of the allowed rate we actually use.
Target: at least 0.95, and not a single 429 from the emulator."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bench.harness import Outcome, Result
from bot.app import build_bot
from bot.context import AppContext
from bot.notifier import TelegramNotifier
from bot.settings import Settings
from db import migrate
from db.engine import create_engine
from db.models import Customer
from db.uow import UnitOfWork
from emulator import running_emulator
from locales import translator
from scheduler.jobs import make_sender
from services.clock import SystemClock
from services.notifications.outbox import enqueue
from services.phones import PhonePolicy

TOKEN = "4242424242:BENCH-outbox-delivery-token"
RATE = 25  # NOTIFY_RATE_PER_SECOND's default


def _size(quick: bool) -> tuple[int, int]:
    """(chats, messages per chat): 100 x 3 quick, 1 000 x 10 full; BENCH_OUTBOX_SIZE="CHATSxPER_CHAT"
    overrides both, to iterate faster (the figure of record is the full run's)."""
    override = os.environ.get("BENCH_OUTBOX_SIZE")
    if override:
        chats, per_chat = override.lower().split("x")
        return int(chats), int(per_chat)
    return (100, 3) if quick else (1000, 10)


async def run(quick: bool) -> list[Outcome]:
    chats, per_chat = _size(quick)
    with tempfile.TemporaryDirectory() as tmp:
        database_url = f"sqlite+aiosqlite:///{Path(tmp) / 'outbox.db'}"
        engine = create_engine(database_url)
        await migrate.upgrade(engine)
        uow, clock = UnitOfWork(engine), SystemClock()
        user_ids = [700_000 + i for i in range(chats)]

        async def fill(session: AsyncSession) -> None:
            for user_id in user_ids:
                customer = Customer(
                    name="Bench", telegram_id=user_id, language="ru", notification_optouts=[],
                    created_at=clock.now(), pd_consent_at=clock.now(),
                )
                session.add(customer)
                await session.flush()
                for n in range(per_chat):
                    payload = {"points": 5000, "balance": 5000 * (n + 1), "pending": False, "available_on": None}
                    await enqueue(session, customer_id=customer.id, kind="accrual", occasion=f"bench:{n}",
                                  payload=payload, now=clock.now())

        await uow.write(fill)
        async with running_emulator(global_rate=30, per_chat_rate=1.0) as emulator:
            await emulator.client.register_bot(TOKEN)
            for user_id in user_ids:  # Telegram refuses to write first to someone who never wrote
                await emulator.client.create_user(user_id, first_name="Bench")
                await emulator.client.send_text(user_id, "/start")
            settings = Settings(database_url=database_url, notify_rate_per_second=RATE)
            context = AppContext(
                settings=settings, uow=uow, clock=clock, translator=translator(), phone_policy=PhonePolicy()
            )
            bot = build_bot(settings.model_copy(update={"bot_token": None}), api_base=emulator.url)
            bot_with_token = type(bot)(TOKEN, session=bot.session, default=bot.default)
            sender = make_sender(context, TelegramNotifier(bot_with_token))
            started = time.perf_counter()
            report = await sender.drain()
            elapsed = time.perf_counter() - started
            stats = await emulator.client.stats()
            await bot.session.close()
        await engine.dispose()
    assert report is not None
    rate = report.sent / elapsed
    return [
        Result(
            "4. Outbox delivery", rate, float(RATE), "msg/s", ">= 0.95 of the limit, zero 429",
            rate / RATE >= 0.95 and stats.rate_limited_total == 0 and report.sent == chats * per_chat,
            note=f"{report.sent} of {chats * per_chat} sent to {chats} chats in {elapsed:.1f} s; "
            f"429s from the emulator: {stats.rate_limited_total}; failed {report.failed}, unknown {report.unknown}",
        )
    ]
