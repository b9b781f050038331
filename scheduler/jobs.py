"""The job registry. Each job is also runnable once: `python -m bot jobs run NAME [--today DATE]`.

`--today D` runs the job as that day's scheduled run did: with a clock pinned to D at the job's
hour in the business time zone (for the hourly and continuous jobs, the day's last run), so
`jobs run expire --today 2027-01-29` burns what had expired by that night."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.context import AppContext
from services import ledger
from services.clock import Clock, FrozenClock
from services.ledger import due as ledger_due
from services.ledger.amounts import format_points
from services.notifications import daily
from services.notifications.limits import Limiter
from services.notifications.ports import Notifier
from services.notifications.sender import OutboxSender
from services.program import get_settings

JobFn = Callable[[AppContext, date | None], Awaitable[str]]
PreviewFn = Callable[[AppContext, date], Awaitable[str]]


@dataclass(frozen=True)
class Job:
    description: str
    run: JobFn
    # APScheduler cron fields in the business time zone; empty = not a cron job (see scheduler/app.py).
    cron: dict[str, Any] = field(default_factory=dict)
    # What a run for another day would change, said before the operator confirms it (bot/cli.py).
    preview: PreviewFn | None = None


def job_clock(context: AppContext, today: date | None, at: time) -> Clock:
    """The context's clock, or one standing at `at` on `today` in the business time zone."""
    if today is None:
        return context.clock
    local = datetime.combine(today, at, tzinfo=context.settings.tz)
    return FrozenClock(local.astimezone(UTC))


def make_sender(context: AppContext, notifier: Notifier, clock: Clock | None = None) -> OutboxSender:
    return OutboxSender(
        uow=context.uow,
        clock=clock or context.clock,
        notifier=notifier,
        texts=context.translator,
        limiter=Limiter(context.settings.notify_rate_per_second),
        lease=timedelta(seconds=context.settings.outbox_claim_lease_seconds),
    )


async def _birthdays(context: AppContext, today: date | None) -> str:
    settings = await get_settings(context.uow)
    clock = job_clock(context, today, time(settings.birthday_greeting_hour))
    # Scheduled hourly so that a changed greeting hour applies the same day; greets from that hour on.
    if clock.now().astimezone(context.settings.tz).hour < settings.birthday_greeting_hour:
        return "before the greeting hour: nothing to do"
    run = await daily.greet_birthdays(context.uow, clock, tz=context.settings.tz)
    return f"{run.greeted} greetings queued, {run.bonuses} birthday bonuses granted"


async def _expiry_warnings(context: AppContext, today: date | None) -> str:
    clock = job_clock(context, today, time(11, 0))
    queued = await daily.warn_expiring(context.uow, clock, tz=context.settings.tz)
    return f"{queued} expiry warnings queued"


async def _expire(context: AppContext, today: date | None) -> str:
    clock = job_clock(context, today, time(23, 55))
    burnt = await ledger.expire_due_lots(context.uow, clock)
    return f"{_points(sum(c.points for c in burnt))} points expired on {len(burnt)} cards"


async def _activate_pending(context: AppContext, today: date | None) -> str:
    clock = job_clock(context, today, time(23, 5))
    activated = await ledger.activate_due_lots(context.uow, clock)
    return f"{_points(sum(c.points for c in activated))} points became available on {len(activated)} cards"


def _points(units: int) -> str:
    # The command line speaks English; ":g" wrote 1 234 567 points as "1.23457e+06".
    return format_points(units, locale="en")


async def _expire_preview(context: AppContext, today: date) -> str:
    due = await ledger_due.expiring_by(context.uow, job_clock(context, today, time(23, 55)).now())
    return f"{_points(due.points)} points would expire on {due.cards} cards"


async def _activate_preview(context: AppContext, today: date) -> str:
    due = await ledger_due.activating_by(context.uow, job_clock(context, today, time(23, 5)).now())
    return f"{_points(due.points)} points would become available on {due.cards} cards"


# A running app's sender holds the lock while it drains (a tick, or a broadcast's worth of
# seconds); an operator's `jobs run deliver` waits that long rather than giving up at once.
CLI_DELIVER_WAIT_SECONDS = 120.0


async def _deliver(context: AppContext, today: date | None) -> str:
    from bot.app import build_bot
    from bot.notifier import TelegramNotifier

    bot = build_bot(context.settings)
    try:
        sender = make_sender(context, TelegramNotifier(bot), job_clock(context, today, time(23, 59, 59)))
        report = await sender.drain(wait=CLI_DELIVER_WAIT_SECONDS)
    finally:
        await bot.session.close()
    if report is None:
        return f"another instance is still sending after {CLI_DELIVER_WAIT_SECONDS:g} s; try again later"
    return report.summary()


JOBS: dict[str, Job] = {
    "birthdays": Job(
        "greet today's birthdays (from the greeting hour, 10:00) and grant the birthday bonus",
        _birthdays,
        {"minute": 0},
    ),
    "expiry-warnings": Job("warn about points expiring in 7 days (daily 11:00)", _expiry_warnings, {"hour": 11}),
    "expire": Job(
        "burn expired points and tell the customers (nightly 23:55)", _expire, {"hour": 23, "minute": 55},
        _expire_preview,
    ),
    "activate-pending": Job(
        "make points whose return window ended available (hourly)", _activate_pending, {"minute": 5},
        _activate_preview,
    ),
    "deliver": Job("send the queued messages within Telegram's limits (continuous)", _deliver),
}


async def run_job(context: AppContext, name: str, *, today: date | None = None) -> str:
    return await JOBS[name].run(context, today)


async def preview_job(context: AppContext, name: str, today: date) -> str | None:
    preview = JOBS[name].preview
    return None if preview is None else await preview(context, today)
