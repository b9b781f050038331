"""The outbox sender: claims due rows, checks at send time that the recipient still wants and can
get the message, renders it in their language, sends it within Telegram's limits and records
the outcome. Exactly once: a row is claimed (`claimed`, with this drain's owner token and a lease)
some time before its request, marked `sending` right before the request, and resolved after it (a
`sent` together with the next row's mark, when that one goes at once); a request whose fate is
unknown (timeout, crash) ends as `unknown` and is never repeated blindly. At any moment at most one
row is `sending`: the one whose request is being made, or whose answer is not yet recorded.

Every change to a claimed row is conditional on the owner token, so a row is only ever sent by the
holder of its claim: a sender that was slow past its lease and lost the row to another one finds
its UPDATE to `sending` matching nothing, and does not send. The lease is renewed every third of
it while the drain runs.

After a crash, what the dead sender had claimed but not begun to send goes back to the queue when
its lease lapses; only the row whose request had started (the sender makes one request at a time)
becomes `unknown`, the price of never sending twice."""

from __future__ import annotations

import asyncio
import html
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialects import changed_rows
from db.models import Broadcast, Customer, OutboxMessage
from db.uow import UnitOfWork
from services import broadcasts
from services.clock import Clock, SystemClock
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
from services.program import settings_in

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5

# Requests the sender has in flight at once: it awaits each before the next. This is what bounds
# the rows a crash can leave `unknown`.
CONCURRENCY = 1

# Rows a drain holds under its owner token. `unknown` is among them because another sender may
# declare a row of ours `unknown` once its lease lapsed mid-request; Telegram's later answer (sent,
# or not delivered) is still ours to record.
_HELD = ("claimed", "sending", "unknown")
_INTERRUPTED = "interrupted: the sender stopped during the request"


@dataclass
class DeliveryReport:
    sent: int = 0
    skipped: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0
    retried: int = 0
    recovered: int = 0  # rows a dead sender left in flight, now `unknown`
    returned: int = 0  # rows a dead sender had claimed but not begun to send, back in the queue

    def summary(self) -> str:
        return (
            f"sent {self.sent}, skipped {self.skipped}, blocked {self.blocked}, failed {self.failed}, "
            f"unknown {self.unknown}, retried {self.retried}, recovered as unknown {self.recovered}, "
            f"claims returned {self.returned}"
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


# The sender keeps at most one second's worth of messages claimed (`claimed`) at a time and tops
# that up as it sends, rather than claiming a batch and waiting for its slowest chat. A claim takes
# the oldest due message of each chat that has nothing claimed and was not written to within the
# per-chat interval (nor a message claimed by another sender, so that a chat's messages keep their
# order after a crash), so the chats of one second are ready to take a message at once and the global
# rate is the only wait. It reads the due rows oldest first in pages of CLAIM_PAGE_FACTOR x wanted
# rows, each page leaving out the customers seen so far (a customer with a thousand queued messages
# costs one row, not a page), for at most CLAIM_PAGES pages.
CLAIM_PAGE_FACTOR = 4
CLAIM_PAGES = 8
# After a claim found fewer due messages than it wanted, the next one waits this long at most (or
# until a chat's interval ends, if sooner): nothing new is due before then except by chance.
CLAIM_RETRY_SECONDS = 0.25
# How long before the limiter lets a message go its row is marked `sending`: about the wait between
# two messages at the full rate, which the UPDATE then overlaps. A crash within it leaves `unknown`
# a message whose request was about to be made (still one row at most).
MARK_AHEAD_SECONDS = 0.05
# How often a running drain looks at the broadcasts it delivers (progress, final counts).
BROADCASTS_EVERY_SECONDS = 1.0


@dataclass(frozen=True)
class _ClaimResult:
    claimed: list[Claimed]
    taken: int  # due rows taken: claimed plus skipped at claim time
    others_due: bool  # whether the customers left out have due rows (asked only when taken < wanted)


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
    # customer id -> when their chat may be written to again (monotonic), for chats sent to lately
    _cooling: dict[int, float] = field(default_factory=dict)
    # How long a claim lasts unless renewed (renewed every third of it while the drain runs).
    lease: timedelta = timedelta(seconds=10)
    # Leases are told by the wall clock, never by `clock`: `jobs run deliver --today D` sends with a
    # clock standing on day D, by which a lease would lapse at once or last for days.
    lease_clock: Clock = field(default_factory=SystemClock)
    _owner: str = ""  # this drain's claim token
    _renew_at: datetime | None = None
    # The row Telegram has just accepted, and when, not yet recorded as `sent`: recorded in the
    # transaction that marks the next row `sending` when that one goes at once (one transaction per
    # message instead of two), else before anything else the sender does. Until then it is the one
    # row `sending`, as it was while its request was made.
    _answered: tuple[Claimed, datetime] | None = None

    async def stop(self) -> None:
        """Finish the message in flight, put the other claimed rows back, and wait for that."""
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
            # A token per drain, not per sender: rows a failed release left behind under an old
            # token lapse and are taken over like a dead sender's.
            self._owner = self.lease_clock.token(12)
            report = DeliveryReport()
            await self._maintain(report)
            self._blocked = set()
            await self._deliver(report)
            await self._finish_broadcasts()
            return report

    async def _deliver(self, report: DeliveryReport) -> None:
        """Send until nothing is due: keep up to `limit` rows claimed, one per chat, topped up when
        half of them are gone; send whichever claimed row's chat may be written to first."""
        limit = self.batch_size or self.limiter.rate
        queue: list[Claimed] = []
        claim_after = float("-inf")  # monotonic time before which a claim would find nothing new
        taken = 0  # rows the last claim took
        broadcasts_at = float("-inf")
        try:
            while not self._stopping:
                await self._maintain(report, only_when_due=True)
                now = self.limiter.monotonic()
                self._forget_cooled(now)
                # An emptied queue after a claim that found rows looks again at once, so that a
                # drain whose last chats have nothing more due ends without waiting.
                if len(queue) <= limit // 2 and (now >= claim_after or (not queue and taken)):
                    wanted = limit - len(queue)
                    await self._record_answer()
                    result = await self._claim(report, wanted, exclude={r.customer_id for r in queue})
                    queue.extend(result.claimed)
                    taken = result.taken
                    if result.taken == wanted or result.taken > len(result.claimed):
                        # More may be due at once (the later rows of the customers just skipped, too).
                        claim_after = float("-inf")
                    elif result.taken == 0 and not queue and not result.others_due:
                        break  # nothing due at all
                    else:
                        # Whatever else is due belongs to chats that have a message claimed or were
                        # just written to: look again when the first of those may be written to.
                        soonest = min(self._cooling.values(), default=now + CLAIM_RETRY_SECONDS)
                        claim_after = min(max(soonest, now), now + CLAIM_RETRY_SECONDS)
                if now - broadcasts_at >= BROADCASTS_EVERY_SECONDS:
                    broadcasts_at = now
                    await self._record_answer()
                    await self._finish_broadcasts()
                if not queue:
                    await self._record_answer()
                    await self.limiter.sleep(max(claim_after - now, 0.0))
                    continue
                # The first row whose chat may be written to now; otherwise wait for the soonest.
                row = next((r for r in queue if self.limiter.chat_ready_at(r.chat_id) <= now), None)
                if row is None:
                    wake = min(self.limiter.chat_ready_at(r.chat_id) for r in queue)
                    if len(queue) <= limit // 2:
                        wake = min(wake, claim_after)
                    await self._record_answer()
                    await self.limiter.sleep(max(wake - now, 0.0))
                    continue
                queue.remove(row)
                if row.customer_id in self._blocked:
                    await self._resolve(row, "skipped", "unreachable")
                    report.skipped += 1
                    continue
                started = await self._acquire_and_start(row, report)
                self._cooling[row.customer_id] = self.limiter.chat_ready_at(row.chat_id)
                if not started:
                    log.warning("outbox: message %s was taken over by another sender; not sending it", row.id)
                    continue
                await self._send_one(row, report)
        finally:
            await self._record_answer()
            if queue:
                await self._release([r.id for r in queue])

    async def _acquire_and_start(self, row: Claimed, report: DeliveryReport) -> bool:
        """Wait for the limiter, and mark `row` as being sent (`_start`) during the last
        MARK_AHEAD_SECONDS of that wait, so that the mark's UPDATE adds nothing to the time
        between two messages (made after the wait, it did, on a busy machine). Longer waits (a
        429's pause may outlast a lease) go in steps that renew the claims between them."""
        step = self.lease.total_seconds() / 3
        marking: asyncio.Future[bool] | None = None
        try:
            while (wait := self.limiter.ready_at(row.chat_id) - self.limiter.monotonic()) > MARK_AHEAD_SECONDS:
                await self._record_answer()
                await self.limiter.sleep(min(wait - MARK_AHEAD_SECONDS, step))
                await self._maintain(report, only_when_due=True)
            marking = asyncio.ensure_future(self._start(row))
            await self.limiter.acquire(row.chat_id)
        except BaseException:
            # Stopped before the request: the row, marked meanwhile or not, was never sent.
            if marking is None or await asyncio.shield(marking):
                await self._release([row.id])
            raise
        return await marking

    def _forget_cooled(self, now: float) -> None:
        if any(ready <= now for ready in self._cooling.values()):
            self._cooling = {c: ready for c, ready in self._cooling.items() if ready > now}

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
            self._answered = (row, self.clock.now())
            report.sent += 1

    # -- the database side ------------------------------------------------------------------
    def _mine(self, ids: list[int]) -> ColumnElement[bool]:
        return and_(
            OutboxMessage.id.in_(ids), OutboxMessage.claim_owner == self._owner, OutboxMessage.status.in_(_HELD)
        )

    async def _maintain(self, report: DeliveryReport, *, only_when_due: bool = False) -> None:
        """Every third of a lease: renew this drain's claims, and take over the lapsed claims of
        others. `claimed` ones go back to the queue (no request was made for them); `sending` ones
        become `unknown` (the request may have reached Telegram: never sent again)."""
        now = self.lease_clock.now()
        if only_when_due and self._renew_at is not None and now < self._renew_at:
            return
        await self._record_answer()
        self._renew_at = now + self.lease / 3
        lapsed = and_(
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
            or_(OutboxMessage.claim_owner.is_(None), OutboxMessage.claim_owner != self._owner),
        )

        async def work(session: AsyncSession) -> tuple[int, int]:
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "claimed", OutboxMessage.claim_owner == self._owner)
                .values(claimed_until=now + self.lease)
            )
            back = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "claimed", lapsed)
                .values(status="pending", claim_owner=None, claimed_until=None)
            )
            lost = await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending", lapsed)
                .values(status="unknown", last_error=_INTERRUPTED)
            )
            return changed_rows(back), changed_rows(lost)

        returned, recovered = await self.uow.write(work)
        if returned:
            log.warning("outbox: %s messages claimed by a stopped sender are back in the queue", returned)
        if recovered:
            log.warning("outbox: %s messages left in flight by a stopped sender are now 'unknown'", recovered)
        report.returned += returned
        report.recovered += recovered

    async def _record_answer(self) -> None:
        if self._answered is not None:
            row, at = self._answered
            await self._resolve(row, "sent", None, at=at)
            self._answered = None

    async def _start(self, row: Claimed) -> bool:
        """Mark `row` as being sent, right before its request, and record the answer to the one
        before; False when the claim is no longer ours (it lapsed and another sender took it)."""
        until = self.lease_clock.now() + self.lease
        answered = self._answered

        async def work(session: AsyncSession) -> bool:
            if answered is not None:
                await session.execute(self._resolution(answered[0], "sent", None, answered[1]))
            result = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == row.id,
                    OutboxMessage.claim_owner == self._owner,
                    OutboxMessage.status == "claimed",
                )
                .values(status="sending", attempts=OutboxMessage.attempts + 1, claimed_until=until)
            )
            return changed_rows(result) == 1

        try:
            started = await asyncio.shield(self.uow.write(work))
        except BaseException:
            # Whether or not it was marked, its request was never made: back to the queue.
            await self._release([row.id])
            await self._record_answer()
            raise
        if self._answered is answered:
            self._answered = None
        return started

    async def _claim(self, report: DeliveryReport, wanted: int, *, exclude: set[int]) -> _ClaimResult:
        """Claim up to `wanted` due rows, the oldest of each customer not in `exclude` and not
        cooling (written to within the per-chat interval)."""
        now = self.clock.now()
        until = self.lease_clock.now() + self.lease

        async def work(session: AsyncSession) -> _ClaimResult:
            held = await session.execute(
                select(OutboxMessage.customer_id, OutboxMessage.claim_owner).where(
                    OutboxMessage.status.in_(("claimed", "sending"))
                )
            )
            foreign = False
            left_out = exclude | set(self._cooling)
            for customer_id, owner in held:
                left_out.add(int(customer_id))
                foreign = foreign or owner != self._owner
            rows = await self._oldest_per_customer(session, now, wanted, left_out)
            # Another sender's claims come back to the queue when their lease lapses (or that
            # sender sends them): worth waiting for, as for the chats left out.
            others_due = foreign
            if len(rows) < wanted and left_out and not others_due:
                others_due = await _any_due(session, now, left_out)
            if not rows:
                return _ClaimResult([], 0, others_due)
            settings = await settings_in(session)
            people = {
                c.id: c
                for c in (
                    await session.execute(select(Customer).where(Customer.id.in_(_people_ids(rows))))
                ).scalars()
            }
            texts = await _broadcast_texts(session, rows)
            claimed: list[Claimed] = []
            for row in rows:
                decision = self._decide(row, people, settings.notifications)
                if decision.skip is not None or decision.chat_id is None:
                    row.status, row.last_error = "skipped", decision.skip
                    continue
                row.status, row.claim_owner, row.claimed_until = "claimed", self._owner, until
                # The chat stays in memory (Claimed): a stored Telegram id would outlive an erasure.
                if row.kind == BROADCAST:
                    text = texts.get(row.broadcast_id or 0, "")
                else:
                    text = render(self.texts, decision.locale, row.kind, row.payload, about_name=decision.about_name)
                # attempts counts requests: _start adds this one to the row.
                claimed.append(Claimed(row.id, row.customer_id, decision.chat_id, text, row.attempts + 1))
            await session.flush()
            return _ClaimResult(claimed, len(rows), others_due)

        result = await self.uow.write(work)
        report.skipped += result.taken - len(result.claimed)
        return result

    async def _oldest_per_customer(
        self, session: AsyncSession, now: datetime, wanted: int, left_out: set[int]
    ) -> list[OutboxMessage]:
        """The oldest due row of up to `wanted` customers not in `left_out`, oldest first (locked
        on PostgreSQL). Each page leaves out the customers already seen, so later rows of a
        customer with many queued messages are skipped by the query rather than read."""
        chosen: list[OutboxMessage] = []
        seen = set(left_out)
        after = 0
        page = wanted * CLAIM_PAGE_FACTOR
        for _ in range(CLAIM_PAGES):
            stmt = (
                select(OutboxMessage)
                .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now, OutboxMessage.id > after)
                .order_by(OutboxMessage.id)
                .limit(page)
            )
            if seen:
                stmt = stmt.where(OutboxMessage.customer_id.not_in(sorted(seen)))
            if self.uow.is_postgres:
                stmt = stmt.with_for_update(skip_locked=True)
            rows = list((await session.execute(stmt)).scalars())
            for row in rows:
                if row.customer_id not in seen:
                    seen.add(row.customer_id)
                    chosen.append(row)
                    if len(chosen) == wanted:
                        return chosen
            if len(rows) < page:
                break
            after = rows[-1].id
        return chosen

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

    def _resolution(self, row: Claimed, status: str, error: str | None, at: datetime) -> Any:
        return (
            update(OutboxMessage)
            .where(self._mine([row.id]))
            .values(status=status, last_error=error, sent_at=at if status == "sent" else None)
        )

    async def _resolve(self, row: Claimed, status: str, error: str | None, *, at: datetime | None = None) -> None:
        statement = self._resolution(row, status, error, at or self.clock.now())

        async def work(session: AsyncSession) -> None:
            await session.execute(statement)

        # Shielded: once Telegram has answered, a cancellation must not lose the record of it.
        await asyncio.shield(self.uow.write(work))

    async def _blocked_by(self, row: Claimed) -> int:
        """403: this message failed, the customer is unreachable until they write again, and
        everything else queued for them is skipped, in one transaction. Returns how many skipped."""
        now = self.clock.now()

        async def work(session: AsyncSession) -> int:
            await session.execute(
                update(OutboxMessage)
                .where(self._mine([row.id]))
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
            return changed_rows(skipped)

        return await self.uow.write(work)

    async def _release(self, ids: list[int], *, delay: timedelta | None = None) -> None:
        """Put claimed rows back; they were not sent (or Telegram said they were not)."""
        values: dict[str, Any] = {"status": "pending", "claim_owner": None, "claimed_until": None}
        if delay is not None:
            values["not_before"] = self.clock.now() + delay

        async def work(session: AsyncSession) -> None:
            await session.execute(update(OutboxMessage).where(self._mine(ids)).values(**values))

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


async def _any_due(session: AsyncSession, now: datetime, customer_ids: set[int]) -> bool:
    found = await session.execute(
        select(OutboxMessage.id)
        .where(
            OutboxMessage.status == "pending",
            OutboxMessage.not_before <= now,
            OutboxMessage.customer_id.in_(sorted(customer_ids)),
        )
        .limit(1)
    )
    return found.first() is not None


async def _broadcast_texts(session: AsyncSession, rows: list[OutboxMessage]) -> dict[int, str]:
    ids = {row.broadcast_id for row in rows if row.broadcast_id is not None}
    if not ids:
        return {}
    found = await session.execute(select(Broadcast.id, Broadcast.text).where(Broadcast.id.in_(ids)))
    return {int(i): str(t) for i, t in found}
