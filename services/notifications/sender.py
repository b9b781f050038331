"""The outbox sender: claims due rows, checks at send time that the recipient still wants and can
get the message, renders it in their language, sends it within Telegram's limits and records
the outcome. Exactly once: a row is claimed (`sending`) before the request and resolved after it;
a request whose fate is unknown (timeout, crash) ends as `unknown` and is never repeated blindly.

After a crash, rows left `sending` by the dead sender become `unknown` when the next sender starts
(at most one batch, i.e. about one second of messages): the price of never sending twice."""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Broadcast, Customer, OutboxMessage
from db.uow import UnitOfWork
from services import broadcasts
from services.clock import Clock
from services.notifications.kinds import BROADCAST, MARKETING, OPTOUT_SWITCH
from services.notifications.leadership import sender_lock
from services.notifications.limits import Limiter
from services.notifications.ports import (
    Blocked,
    DeliveryUnknown,
    Notifier,
    PermanentFailure,
    RetryAfter,
    TemporaryFailure,
    Texts,
)
from services.notifications.render import render
from services.program import load_settings

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0
    recovered: int = 0  # rows a dead sender left in flight, now `unknown`

    def summary(self) -> str:
        return (
            f"sent {self.sent}, skipped {self.skipped}, blocked {self.blocked}, failed {self.failed}, "
            f"unknown {self.unknown}, retried {self.retried}, recovered as unknown {self.recovered}"
        )


@dataclass(frozen=True)
class Claimed:
    id: int
    customer_id: int
    chat_id: int
    text: str
    attempts: int


@dataclass
class _Decision:
    skip: str | None = None
    chat_id: int | None = None
    locale: str = "ru"
    about_name: str | None = None


def _name(customer: Customer) -> str:
    return " ".join(part for part in (customer.name, customer.surname) if part) or "—"


# A batch is one second's worth of messages, and a chat takes one message a second: a batch of the
# oldest rows alone could be one customer's burst, leaving the global rate unused for seconds.
CLAIM_LOOKAHEAD = 4


def _one_per_chat(rows: list[OutboxMessage], limit: int) -> list[OutboxMessage]:
    """The oldest row of each customer, up to `limit`; the others wait for a later batch."""
    chosen: dict[int, OutboxMessage] = {}
    for row in rows:
        if row.customer_id not in chosen:
            chosen[row.customer_id] = row
            if len(chosen) == limit:
                break
    return list(chosen.values())


@dataclass
class OutboxSender:
    uow: UnitOfWork
    clock: Clock
    notifier: Notifier
    texts: Texts
    limiter: Limiter
    batch_size: int = 0  # 0 = one second's worth at the limiter's rate
    _blocked: set[int] = field(default_factory=set)
    _stopping: bool = False
    progress_every: float = 60.0  # seconds between progress reports of a running broadcast
    _progress_at: dict[int, float] = field(default_factory=dict)
    _busy: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def stop(self) -> None:
        """Finish the message in flight, put the rest of the batch back, and wait for that."""
        self._stopping = True
        async with self._busy:
            pass

    # -- the loop ---------------------------------------------------------------------------
    async def drain(self, *, wait: float = 0.0) -> DeliveryReport | None:
        """Send everything due now; None when another sender still holds the lock after `wait`
        seconds (or we are stopping)."""
        if self._stopping:
            return None
        async with self._busy, sender_lock(self.uow, wait=wait) as leader:
            if not leader:
                return None
            report = DeliveryReport(recovered=await self._recover())
            self._blocked = set()
            while not self._stopping:
                batch, found = await self._claim(report)
                if not found:
                    break
                await self._send_batch(batch, report)
                await self._finish_broadcasts()
            await self._finish_broadcasts()
            return report

    async def _send_batch(self, batch: list[Claimed], report: DeliveryReport) -> None:
        queue = list(batch)
        try:
            while queue and not self._stopping:
                # The first row whose chat may be written to now; otherwise wait for the soonest.
                now = self.limiter.monotonic()
                row = next((r for r in queue if self.limiter.chat_ready_at(r.chat_id) <= now), None)
                if row is None:
                    soonest = min(self.limiter.chat_ready_at(r.chat_id) for r in queue)
                    await self.limiter.sleep(max(soonest - now, 0.0))
                    continue
                queue.remove(row)
                if row.customer_id in self._blocked:
                    await self._resolve(row, "skipped", "unreachable")
                    report.skipped += 1
                    continue
                await self.limiter.acquire(row.chat_id)
                await self._send_one(row, report)
        finally:
            if queue:
                await self._release([r.id for r in queue])

    async def _send_one(self, row: Claimed, report: DeliveryReport) -> None:
        try:
            await self.notifier.send(row.chat_id, row.text)
        except RetryAfter as exc:
            self.limiter.pause(exc.seconds)
            await self._release([row.id])
            report.retried += 1
        except Blocked:
            self._blocked.add(row.customer_id)
            report.skipped += await self._blocked_by(row)
            report.blocked += 1
        except DeliveryUnknown as exc:
            await self._resolve(row, "unknown", str(exc) or "timeout")
            report.unknown += 1
        except TemporaryFailure as exc:
            if row.attempts >= MAX_ATTEMPTS:
                await self._resolve(row, "failed", str(exc) or "server error")
                report.failed += 1
            else:
                await self._release([row.id], delay=timedelta(seconds=2**row.attempts))
                report.retried += 1
        except PermanentFailure as exc:
            await self._resolve(row, "failed", str(exc) or "refused")
            report.failed += 1
        except BaseException:
            # Cancelled or crashed mid-request: whether it arrived is unknown, so never resend.
            await self._resolve(row, "unknown", "interrupted")
            report.unknown += 1
            raise
        else:
            await self._resolve(row, "sent", None)
            report.sent += 1

    # -- the database side ------------------------------------------------------------------
    async def _recover(self) -> int:
        async def work(session: AsyncSession) -> int:
            result = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(status="unknown", last_error="interrupted: the sender stopped during the request")
            )
            return max(int(getattr(result, "rowcount", 0) or 0), 0)

        recovered = await self.uow.write(work)
        if recovered:
            log.warning("outbox: %s messages left in flight by a stopped sender are now 'unknown'", recovered)
        return recovered

    async def _claim(self, report: DeliveryReport) -> tuple[list[Claimed], bool]:
        """Claim up to a batch of due rows; the flag says whether any row was due at all."""
        limit = self.batch_size or self.limiter.rate
        now = self.clock.now()

        async def work(session: AsyncSession) -> tuple[list[Claimed], int, bool]:
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now)
                .order_by(OutboxMessage.id)
                .limit(limit * CLAIM_LOOKAHEAD)
            )
            if self.uow.is_postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = _one_per_chat(list((await session.execute(stmt)).scalars()), limit)
            if not rows:
                return [], 0, False
            settings = await load_settings(session)
            people = {
                c.id: c
                for c in (
                    await session.execute(select(Customer).where(Customer.id.in_(_people_ids(rows))))
                ).scalars()
            }
            texts = await _broadcast_texts(session, rows)
            claimed: list[Claimed] = []
            skipped = 0
            for row in rows:
                decision = self._decide(row, people, settings.notifications)
                if decision.skip is not None or decision.chat_id is None:
                    row.status, row.last_error = "skipped", decision.skip
                    skipped += 1
                    continue
                row.status = "sending"
                row.attempts += 1
                row.chat_id = decision.chat_id
                if row.kind == BROADCAST:
                    text = texts.get(row.broadcast_id or 0, "")
                else:
                    text = render(self.texts, decision.locale, row.kind, row.payload, about_name=decision.about_name)
                claimed.append(Claimed(row.id, row.customer_id, decision.chat_id, text, row.attempts))
            await session.flush()
            return claimed, skipped, True

        claimed, skipped, found = await self.uow.write(work)
        report.skipped += skipped
        return claimed, found

    def _decide(self, row: OutboxMessage, people: dict[int, Customer], enabled: tuple[str, ...]) -> _Decision:
        customer = people.get(row.customer_id)
        if customer is None or customer.deleted_at is not None:
            return _Decision(skip="deleted")
        if customer.telegram_id is None:
            return _Decision(skip="no telegram")
        if customer.unreachable or customer.id in self._blocked:
            return _Decision(skip="unreachable")
        if (row.marketing or row.kind in MARKETING) and not customer.marketing_consent:
            return _Decision(skip="no marketing consent")
        switch = OPTOUT_SWITCH.get(row.kind)
        if switch is not None and (switch in (customer.notification_optouts or ()) or switch not in enabled):
            return _Decision(skip="opted out")
        about_name = None
        about = row.payload.get("about")
        if about is not None:
            subject = people.get(int(about))
            if subject is None or subject.deleted_at is not None:
                return _Decision(skip="subject deleted")
            about_name = html.escape(_name(subject))
        return _Decision(chat_id=customer.telegram_id, locale=customer.language or "ru", about_name=about_name)

    async def _resolve(self, row: Claimed, status: str, error: str | None) -> None:
        now = self.clock.now()

        async def work(session: AsyncSession) -> None:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status=status, last_error=error, sent_at=now if status == "sent" else None)
            )

        # Shielded: once Telegram has answered, a cancellation must not lose the record of it.
        await asyncio.shield(self.uow.write(work))

    async def _blocked_by(self, row: Claimed) -> int:
        """403: this message failed, the customer is unreachable until they write again, and
        everything else queued for them is skipped, in one transaction. Returns how many skipped."""
        now = self.clock.now()

        async def work(session: AsyncSession) -> int:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id)
                .values(status="failed", last_error="blocked", sent_at=None)
            )
            await session.execute(update(Customer).where(Customer.id == row.customer_id).values(unreachable=True))
            skipped = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.customer_id == row.customer_id,
                    OutboxMessage.status == "pending",
                    OutboxMessage.not_before <= now,
                )
                .values(status="skipped", last_error="unreachable")
            )
            return int(skipped.rowcount)  # type: ignore[attr-defined]

        return await self.uow.write(work)

    async def _release(self, ids: list[int], *, delay: timedelta | None = None) -> None:
        """Put claimed rows back; they were not sent (or Telegram said they were not)."""
        values: dict[str, Any] = {"status": "pending"}
        if delay is not None:
            values["not_before"] = self.clock.now() + delay

        async def work(session: AsyncSession) -> None:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending")
                .values(**values)
            )

        await asyncio.shield(self.uow.write(work))

    async def _finish_broadcasts(self) -> None:
        """Tell admins how their broadcasts go: the final counts once, progress now and then."""
        for done in await broadcasts.finish_completed(self.uow, self.clock):
            self._progress_at.pop(done.broadcast_id, None)
            await self._report(done.admin_chat_id, broadcasts.report_text(self.texts, done), done.broadcast_id)
        now = self.limiter.monotonic()
        for running in await broadcasts.running_progress(self.uow):
            last = self._progress_at.setdefault(running.broadcast_id, now)
            if now - last >= self.progress_every:
                self._progress_at[running.broadcast_id] = now
                text = broadcasts.progress_text(self.texts, running)
                await self._report(running.admin_chat_id, text, running.broadcast_id)

    async def _report(self, chat_id: int | None, text: str, broadcast_id: int) -> None:
        if chat_id is None:
            return
        await self.limiter.acquire(chat_id)
        try:
            await self.notifier.send(chat_id, text)
        except Exception:  # a courtesy: /outbox shows the same counts
            log.warning("could not report broadcast %s to its admin", broadcast_id, exc_info=True)


def _people_ids(rows: list[OutboxMessage]) -> list[int]:
    ids = {row.customer_id for row in rows}
    ids.update(int(row.payload["about"]) for row in rows if row.payload.get("about") is not None)
    return sorted(ids)


async def _broadcast_texts(session: AsyncSession, rows: list[OutboxMessage]) -> dict[int, str]:
    ids = {row.broadcast_id for row in rows if row.broadcast_id is not None}
    if not ids:
        return {}
    found = await session.execute(select(Broadcast.id, Broadcast.text).where(Broadcast.id.in_(ids)))
    return {int(i): str(t) for i, t in found}
