"""A sending process killed under load loses nothing it had not handed to Telegram.

`python -m bot run` sends a few hundred queued messages to the emulator; one chat's first request
stalls (the emulator holds it, then delivers it, as a slow Telegram does), and the process is
SIGKILLed while that request is in flight, with the next second's worth of messages claimed. A
second process then drains the queue. Counted on the emulator's record of every message it
received: each message arrived exactly once, except the one in flight at the kill, which may have
arrived and is `unknown` (never sent again) and shown to admins by /outbox."""

from __future__ import annotations

import asyncio
import re
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db import migrate
from db.engine import create_engine
from db.models import Customer, OutboxMessage
from db.uow import UnitOfWork
from emulator import RunningEmulator, running_emulator
from locales import translator
from services.clock import SystemClock
from services.notifications.outbox import enqueue
from services.notifications.render import render
from services.notifications.sender import CONCURRENCY
from services.notifications.stats import outbox_counts
from tests.conftest import PG_SKIP_REASON
from tests.e2e.conftest import LOGS, PG_URL, TOKEN, AppProcess, base_env, free_port, reset_postgres
from tests.e2e.steps import REPLY_TIMEOUT

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

CHATS = 80
PER_CHAT = 3
FIRST_USER = 610_000
STALLED = 30  # the chat whose first request is in flight at the kill: about the 31st message sent
STALL_SECONDS = 6.0  # under the notifier's 20 s request timeout: the sender waits it out
OWNER = 300_003
LEASE_SECONDS = 3  # short, so the test need not wait 10 s for the dead sender's claims
DRAIN_TIMEOUT = 90.0  # liveness only: 240 messages at 25/s take about 10 s
UNKNOWN = re.compile(r"(?:Delivery unknown \(not retried\)|Доставка неизвестна \(не повторяется\)): (\d+)")


@dataclass(frozen=True)
class Queued:
    id: int
    chat_id: int
    text: str


async def _fill(uow: UnitOfWork) -> list[Queued]:
    """CHATS customers writing in English, PER_CHAT messages each with texts distinct per chat."""
    clock, texts = SystemClock(), translator()

    async def work(session: AsyncSession) -> None:
        for i in range(CHATS):
            customer = Customer(
                name="Crash", surname="Test", telegram_id=FIRST_USER + i, language="en",
                notification_optouts=[], created_at=clock.now(), pd_consent_at=clock.now(),
            )
            session.add(customer)
            await session.flush()
            for n in range(PER_CHAT):
                payload = {"points": 100 * (n + 1), "balance": 100 * (n + 1), "pending": False, "available_on": None}
                await enqueue(session, customer_id=customer.id, kind="accrual", occasion=f"crash:{n}",
                              payload=payload, now=clock.now())

    await uow.write(work)

    async def rows(session: AsyncSession) -> list[Queued]:
        found = await session.execute(
            select(OutboxMessage.id, Customer.telegram_id, OutboxMessage.kind, OutboxMessage.payload)
            .join(Customer, Customer.id == OutboxMessage.customer_id)
            .order_by(OutboxMessage.id)
        )
        return [Queued(int(i), int(chat), render(texts, "en", kind, payload)) for i, chat, kind, payload in found]

    return await uow.read(rows)


async def _statuses(uow: UnitOfWork) -> dict[int, str]:
    async def work(session: AsyncSession) -> dict[int, str]:
        return {int(i): str(s) for i, s in await session.execute(select(OutboxMessage.id, OutboxMessage.status))}

    return await uow.read(work)


async def _open(uow: UnitOfWork) -> int:
    async def work(session: AsyncSession) -> int:
        waiting = OutboxMessage.status.in_(("pending", "claimed", "sending"))
        return int((await session.execute(select(func.count()).where(waiting))).scalar_one())

    return await uow.read(work)


async def _confirm_updates(emulator: RunningEmulator) -> None:
    """Take the users' first messages off the bot's queue, as a bot that had answered them would:
    the app is then busy with the outbox alone."""
    base = f"{emulator.url}/bot{TOKEN}/getUpdates"
    offset = 0
    async with aiohttp.ClientSession() as http:
        while True:  # at most 100 updates an answer
            async with http.get(base, params={"timeout": "0", "offset": str(offset)}) as response:
                updates = (await response.json())["result"]
            if not updates:
                return
            offset = max(int(u["update_id"]) for u in updates) + 1


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "postgresql":
        if not PG_URL:
            pytest.skip(PG_SKIP_REASON)
        await reset_postgres(PG_URL)
        yield PG_URL
    else:
        yield f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}"


async def test_a_killed_sender_leaves_unknown_only_the_message_in_flight(database_url: str, tmp_path: Path) -> None:
    LOGS.clear()
    engine = create_engine(database_url)
    await migrate.upgrade(engine)
    uow = UnitOfWork(engine)
    apps: list[AppProcess] = []
    try:
        queued = await _fill(uow)
        assert len(queued) == CHATS * PER_CHAT
        async with running_emulator(port=0) as emulator:
            client = emulator.client
            await client.register_bot(TOKEN)
            users = [await client.create_user(FIRST_USER + i, "Crash", language_code="en") for i in range(CHATS)]
            for user in users:  # Telegram lets a bot write only to those who wrote to it
                await client.send_text(user, "hi")
            await _confirm_updates(emulator)
            stalled = users[STALLED]
            await client.inject_fault(stalled, "timeout", delay=STALL_SECONDS, deliver=True)

            def app(name: str) -> AppProcess:
                port = free_port()
                env = base_env(
                    BOT_TOKEN=TOKEN, BOT_API_BASE_URL=emulator.url, DATABASE_URL=database_url,
                    HTTP_HOST="127.0.0.1", HTTP_PORT=str(port), OWNER_TELEGRAM_IDS=str(OWNER),
                    LOG_LEVEL="INFO", OUTBOX_CLAIM_LEASE_SECONDS=str(LEASE_SECONDS),
                )
                process = AppProcess(name, env, tmp_path, f"http://127.0.0.1:{port}", tmp_path / f"{name}.log")
                apps.append(process)
                return process

            first = app("first sender")
            await first.start("run")
            # Kill it while the stalled chat's request is in flight (the emulator has begun to serve
            # the stall): the emulator has received some messages, not all.
            deadline = time.monotonic() + DRAIN_TIMEOUT
            while (await client.stats()).faults_served == 0:
                assert first.process is not None
                if first.process.returncode is not None:
                    raise first.failure(f"exited with code {first.process.returncode} before the stall")
                if time.monotonic() > deadline:
                    raise first.failure("never reached the stalled chat")
                await asyncio.sleep(0.02)
            assert first.process is not None
            first.process.kill()
            await first.process.wait()
            at_kill = await client.stats()
            received = sum(len(at_kill.sends.get(user.id, [])) for user in users)
            assert 0 < received < len(queued), f"the kill came mid-load: {received} of {len(queued)} received"

            second = app("second sender")
            await second.start("run")
            while await _open(uow):
                assert second.process is not None
                if second.process.returncode is not None:
                    raise second.failure(f"exited with code {second.process.returncode}")
                if time.monotonic() > deadline:
                    left = Counter((await _statuses(uow)).values())
                    raise second.failure(f"the queue did not drain; statuses {left}")
                await asyncio.sleep(0.2)
            # The stalled request: the emulator completes it after the stall, though nobody waits.
            in_flight = next(q for q in queued if q.chat_id == stalled.id)
            await client.wait_for(stalled, lambda m: m.text == in_flight.text, STALL_SECONDS + REPLY_TIMEOUT)

            statuses = await _statuses(uow)
            delivered: Counter[tuple[int, str]] = Counter()
            for user in users:
                for message in await client.messages(user):
                    delivered[(user.id, message.text)] += 1

            # Nothing lost: every queued message ended sent or unknown.
            assert set(Counter(statuses.values())) <= {"sent", "unknown"}, Counter(statuses.values())
            unknown = sorted(i for i, status in statuses.items() if status == "unknown")
            # Only a message whose request may have reached Telegram is unknown: at most the
            # sender's concurrency (one request at a time), here exactly the stalled one.
            assert len(unknown) <= CONCURRENCY, f"{len(unknown)} unknown, at most {CONCURRENCY} were in flight"
            assert unknown == [in_flight.id]
            # Sent means delivered exactly once; unknown at most once; nothing else arrived.
            for message in queued:
                times = delivered[(message.chat_id, message.text)]
                if statuses[message.id] == "sent":
                    assert times == 1, (message, times)
                else:
                    assert times <= 1, (message, times)
            expected = {(q.chat_id, q.text) for q in queued}
            assert set(delivered) <= expected, set(delivered) - expected
            assert max(delivered.values()) == 1, [k for k, n in delivered.items() if n > 1]

            # Visible to admins: the service behind /outbox, and /outbox itself.
            assert (await outbox_counts(uow))["unknown"] == 1
            owner = await client.create_user(OWNER, "Olga", language_code="en")
            asked = await client.send_text(owner, "/outbox")
            answer = await client.wait_for(owner, UNKNOWN, REPLY_TIMEOUT, after=asked)
            match = UNKNOWN.search(answer.text)
            assert match is not None and int(match.group(1)) == 1, answer.text
    finally:
        for process in apps:
            await process.stop()
        await engine.dispose()
