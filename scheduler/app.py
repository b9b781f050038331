"""The scheduler of a running process: the cron jobs of scheduler/jobs.py plus the continuous
outbox sender. Every instance runs it; the jobs are idempotent and the sender elects itself
(advisory lock), so running several instances sends nothing twice."""

from __future__ import annotations

import logging

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.context import AppContext
from scheduler.jobs import JOBS, make_sender, run_job
from services.notifications.ports import Notifier
from services.notifications.sender import OutboxSender

log = logging.getLogger(__name__)

DELIVER_EVERY_SECONDS = 2


def build_scheduler(context: AppContext, notifier: Notifier) -> AsyncIOScheduler:
    tz = context.settings.tz
    scheduler = AsyncIOScheduler(timezone=tz)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 3600}
    for name, job in JOBS.items():
        if not job.cron:
            continue

        async def run(name: str = name) -> None:
            log.info("job %s: %s", name, await run_job(context, name))

        scheduler.add_job(run, CronTrigger(timezone=tz, **job.cron), id=name, name=name, **common)

    # One sender object per process, so the rate limiter's memory (429 pause, chats' last send)
    # outlives each tick. A tick drains everything due and returns.
    sender = make_sender(context, notifier)

    async def deliver(sender: OutboxSender) -> None:
        report = await sender.drain()
        if report is not None and (
            report.sent or report.failed or report.unknown or report.recovered or report.returned
        ):
            log.info("deliver: %s", report.summary())

    scheduler.add_job(
        deliver, "interval", kwargs={"sender": sender}, seconds=DELIVER_EVERY_SECONDS, id="deliver", name="deliver",
        max_instances=1, coalesce=True, misfire_grace_time=DELIVER_EVERY_SECONDS * 5,
    )
    return scheduler


async def shutdown_scheduler(scheduler: AsyncIOScheduler) -> None:
    """Stop starting jobs, let the sender finish the message in flight and put back the rest, then
    shut down. In that order: APScheduler's shutdown cancels running jobs, and a sender cancelled
    between Telegram's answer and its own record would leave a sent message looking unknown."""
    job = scheduler.get_job("deliver")
    scheduler.pause()
    if job is not None:
        await job.kwargs["sender"].stop()
    scheduler.shutdown(wait=False)
