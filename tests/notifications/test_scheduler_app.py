"""The process's scheduler: every job is scheduled in the business time zone, the sender delivers
while it runs, and shutting down lets the message in flight finish."""

from __future__ import annotations

import asyncio

from aiogram.methods import SendMessage
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.ext.asyncio import AsyncSession

from bot.notifier import TelegramNotifier
from db.uow import UnitOfWork
from scheduler.app import build_scheduler, shutdown_scheduler
from services.clock import SystemClock
from services.notifications.outbox import enqueue
from tests.notifications.helpers import context_for, make_person, outbox
from tests.support.recording_bot import recording_bot


async def test_the_scheduler_runs_the_jobs_and_delivers(uow: UnitOfWork) -> None:
    clock = SystemClock()
    person = await make_person(uow, clock)

    async def work(session: AsyncSession) -> None:
        await enqueue(session, customer_id=person.customer_id, kind="expired", occasion="card:1:x",
                      payload={"points": 100, "balance": 0}, now=clock.now())

    await uow.write(work)
    context = context_for(uow, clock)
    bot = recording_bot()
    scheduler = build_scheduler(context, TelegramNotifier(bot))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"birthdays", "expiry-warnings", "expire", "activate-pending", "deliver"}
    expire = jobs["expire"].trigger
    assert isinstance(expire, CronTrigger) and str(expire.timezone) == "Europe/Moscow"
    scheduler.start()
    try:
        for _ in range(100):
            if bot.session.sent(SendMessage):  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.05)
    finally:
        await shutdown_scheduler(scheduler)
    assert [m.text for m in bot.session.sent(SendMessage)] == ["Баллы сгорели: 1 балл. Баланс: 0 баллов."]  # type: ignore[attr-defined]
    assert [row.status for row in await outbox(uow)] == ["sent"]
