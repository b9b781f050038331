"""Chaos: two instances of `python -m bot run` (webhook mode, one PostgreSQL, one Redis) behind a
round-robin proxy take purchases from tills and updates from Telegram (the emulator) at once; the
instance sending the outbox is killed with SIGKILL mid-load and started again; every request is
replayed; every scheduled job runs in both instances at once. Then:

- each receipt is posted exactly once (one accrual operation per receipt id), and every replay of a
  purchase gets the first answer back;
- each Telegram update is answered exactly once, except those the killed instance was handling at
  the moment it died: a reply may have left before the instance could record that it had handled
  the update, so these are answered at least once and at most twice (a reply is a Bot API call, it
  cannot commit with the claim);
- each notification (outbox row) `sent` arrived exactly once and nothing is left to send; `unknown`
  ones (the fate of a request in flight when its sender died) arrived at most once, and there are
  at most as many of them as the sender has requests in flight at once;
- the ledger's invariants hold (services/ledger/invariants.py);
- no client saw a 5xx except a 502 for a request the killed instance had in hand when it died, or a
  503 from the webhook for an update another instance was still handling (Telegram retries it).
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import json
import os
import random
import re
import signal
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.redis import create_redis
from bot.runners import WEBHOOK_PATH
from db.uow import UnitOfWork
from emulator import EmulatorClient, User, running_emulator
from handlers.http.webhook import SECRET_HEADER
from locales import translator
from services.ledger.invariants import InvariantViolation, check_invariants
from services.notifications.render import render
from tests.e2e.chaos import Exchange, RoundRobinProxy, owns_local_port, sender_lock_port
from tests.e2e.conftest import (
    LOGS,
    PG_URL,
    WEBHOOK_SECRET,
    AppProcess,
    Stack,
    base_env,
    free_port,
    logged_errors,
    reset_postgres,
)
from tests.e2e.steps import register
from tests.http.instances import REDIS_URL

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.postgres,
    pytest.mark.skipif(
        PG_URL is None or REDIS_URL is None,
        reason="the chaos test needs PostgreSQL and Redis shared by two instances: set TEST_DATABASE_URL "
        "(postgresql+asyncpg://...) and TEST_REDIS_URL or REDIS_URL (redis://...)",
    ),
]

CUSTOMERS = 40
PURCHASES_EACH = 5  # 200 purchases
TILLS = 12  # purchases posted at once at most
# The load is spread over about 8 s (a pace, not a synchronisation), so that the kill below lands
# while purchases, updates and the outbox sender are all under way, and so that the bot stays within
# Telegram's 30 messages/s (which the emulator enforces): replies at about 10-20 a second, the
# outbox at NOTIFY_RATE below. Beyond it replies wait out 429s until they give up (bot/retry.py):
# a capacity test, not this one.
PURCHASE_EVERY = 0.04
REGISTRATION_EVERY = 0.1  # two replies each
CHAT_EVERY = 0.2  # two updates each, one after the other
NOTIFY_RATE = 12
REPLAYED_AT_ONCE = 4  # every 4th purchase is sent twice at once, as a till retrying too early does
# How long an update being handled stays claimed for an instance that may have died (the product's
# default is two minutes): after it the update killed with its instance is handled by the other one.
UPDATE_LEASE_SECONDS = 20
# The outbox sender has one request to Telegram in flight at a time (services/notifications/sender.py
# sends row after row): a sender killed mid-send leaves at most that many messages' fate unknown.
SENDER_CONCURRENCY = 1
KILL_AFTER_PURCHASES = 80  # the sender is killed once this many purchases are answered
# Bounds of the polls below: never reached when all goes well, so generous for a busy CI machine.
REPLY_TIMEOUT = UPDATE_LEASE_SECONDS + 45.0
DEADLINE = 90.0
# The days the jobs pretend it is: the purchases' points have become available (14-day return
# window), the welcome bonus has expired (30 days), so `activate-pending` and `expire` have work.
JOBS_DAYS_AHEAD = 31
BUSINESS_TZ = ZoneInfo("Europe/Moscow")  # the app's default TIMEZONE

# The reply that answers each kind of update (English texts: the users write with language "en").
REPLY_MARKERS = {
    "/start": "To get your card",
    "contact": "Done! Your card",
    "/balance": "Balance of card",
    "/history": "Operations, page 1",
}

T = TypeVar("T")


async def poll(what: str, check: Callable[[], Awaitable[T]], timeout: float = DEADLINE, every: float = 0.1) -> T:
    """`check()` until it returns something truthy, or fail saying what did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f}s (last: {result!r})")
        await asyncio.sleep(every)


@dataclass
class Till:
    """A cash register posting purchases through the proxy, retrying on 502/503/429 and on a
    connection that broke, with the same body: every status it got is kept."""

    url: str
    key: str
    http: aiohttp.ClientSession
    seen: list[int] = field(default_factory=list)
    answers: dict[str, list[tuple[int, dict[str, Any], bool]]] = field(default_factory=lambda: defaultdict(list))

    async def post(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], bool]:
        headers = {"Authorization": f"Bearer {self.key}"}
        deadline = time.monotonic() + DEADLINE
        delay = 0.05
        while True:
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with self.http.post(f"{self.url}/api/v1/purchases", json=body, headers=headers) as response:
                    self.seen.append(response.status)
                    if response.status not in (429, 502, 503):
                        answer = (
                            response.status,
                            await response.json(content_type=None),
                            response.headers.get("Idempotent-Replayed") == "true",
                        )
                        self.answers[body["receipt_id"]].append(answer)
                        return answer
            if time.monotonic() >= deadline:
                raise AssertionError(f"purchase {body['receipt_id']} got no answer within {DEADLINE:.0f}s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)


@dataclass
class Chaos:
    """What happened, in order, for the report of a failing run."""

    log: Path
    started: float = field(default_factory=time.monotonic)

    def note(self, line: str) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"[{time.monotonic() - self.started:7.2f}s] {line}\n")


@contextlib.asynccontextmanager
async def instances(workdir: Path, chaos: Chaos) -> AsyncIterator[tuple[Stack, list[AppProcess], RoundRobinProxy]]:
    """The emulator, the proxy and two instances against a fresh PostgreSQL database and Redis."""
    assert PG_URL is not None and REDIS_URL is not None
    LOGS.clear()
    LOGS.append(("chaos", chaos.log))
    # A bot id of its own per run: the update ids of a fresh emulator start at 1 again, and Redis
    # keeps the claims of handled ones for a day (keys per bot id).
    bot_id = random.randint(2_000_000_000, 8_000_000_000)
    token = f"{bot_id}:E2E-chaos-token-only-the-emulator-knows"
    async with running_emulator(port=0) as emulator:
        await emulator.client.register_bot(token)
        ports = [free_port(), free_port()]
        proxy = RoundRobinProxy([f"http://127.0.0.1:{port}" for port in ports])
        await proxy.start()
        apps: list[AppProcess] = []
        for name, port in zip("ab", ports, strict=True):
            env = base_env(
                BOT_TOKEN=token,
                BOT_API_BASE_URL=emulator.url,
                DATABASE_URL=PG_URL,
                REDIS_URL=REDIS_URL,
                HTTP_HOST="127.0.0.1",
                HTTP_PORT=str(port),
                WEBHOOK_BASE_URL=proxy.url,
                WEBHOOK_SECRET=WEBHOOK_SECRET,
                UPDATE_LEASE_SECONDS=str(UPDATE_LEASE_SECONDS),
                NOTIFY_RATE_PER_SECOND=str(NOTIFY_RATE),
                # The tills are the load here, not a limit to be tested (tests/http covers it).
                API_RATE_LIMIT_PER_MINUTE="1000000",
                API_RATE_LIMIT_BURST="100000",
                LOG_LEVEL="INFO",
            )
            home = workdir / name
            home.mkdir()
            apps.append(AppProcess(f"instance {name}", env, home, f"http://127.0.0.1:{port}", home / "app.log"))
        cli_log = workdir / "cli.log"
        LOGS.append(("command line", cli_log))
        stack = Stack(emulator, apps[0], cli_log)
        try:
            await reset_postgres(PG_URL)
            await stack.cli("migrate")
            for app in apps:
                await app.start("run")
            chaos.note("instances started")
            yield stack, apps, proxy
        finally:
            for app in apps:
                code = await app.stop()
                with app.log.open("a", encoding="utf-8") as out:
                    out.write(f"\n[e2e] exit code after SIGTERM: {code}\n")
            await proxy.close()
            await _forget_bot(REDIS_URL, bot_id)


async def _forget_bot(redis_url: str, bot_id: int) -> None:
    """Leave the shared Redis as found: this run's claims and conversations carry its bot id."""
    redis = create_redis(redis_url)
    try:
        keys = [key async for key in redis.scan_iter(match=f"*:{bot_id}:*", count=1000)]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


async def api_key(stack: Stack) -> str:
    await stack.cli("store", "add", "S1", "Main", "store")
    output = await stack.cli("api-key", "create", "--store", "S1", "--scopes", "pos", "--name", "chaos till")
    match = re.search(r"key:\s+(\S+)", output)
    assert match, output
    return match.group(1)


def purchases_of(run: str, phones: list[str]) -> list[dict[str, Any]]:
    """Five purchases per customer with amounts distinct per customer (so their accrual messages
    differ); every fourth customer's first one crosses the Silver threshold (a level-up message)."""
    bodies = []
    for j in range(PURCHASES_EACH):
        for i, phone in enumerate(phones):
            rubles = 31_000 + i if j == 0 and i % 4 == 0 else 1_000 + 150 * j + i
            bodies.append({"receipt_id": f"{run}-{i}-{j}", "amount_kopecks": rubles * 100, "phone": phone})
    return bodies


async def kill_the_sender(apps: list[AppProcess], engine: AsyncEngine, answered: Callable[[], int]) -> Kill:
    """Once enough purchases are in, SIGKILL the instance that holds the outbox sender's lock while
    it has messages claimed, and wait for it to be gone."""

    async def sender_mid_send() -> int:
        """1 + the index of the instance sending now with rows claimed, else 0."""
        if answered() < KILL_AFTER_PURCHASES:
            return 0
        async with engine.connect() as conn:
            sending = (await conn.execute(text("SELECT count(*) FROM outbox WHERE status = 'sending'"))).scalar_one()
        port = await sender_lock_port(engine)
        if not sending or port is None:
            return 0
        for index, app in enumerate(apps):
            if app.process is not None and owns_local_port(app.process.pid, port):
                return index + 1
        return 0

    index = await poll("an instance sending the outbox mid-load", sender_mid_send, every=0.02) - 1
    process = apps[index].process
    assert process is not None
    sent = time.monotonic()
    os.kill(process.pid, signal.SIGKILL)
    code = await process.wait()
    assert code == -signal.SIGKILL, code
    return Kill(index, sent, time.monotonic())


@dataclass(frozen=True)
class Kill:
    instance: int
    sent: float  # when the signal went
    gone: float  # when the process was seen dead (its sockets closed)

    def in_hand(self, exchange: Exchange) -> bool:
        """Whether the killed instance had this request when it died (or took it while dying)."""
        return (
            exchange.upstream == self.instance
            and exchange.started <= self.gone
            and (exchange.finished is None or exchange.finished >= self.sent)
        )


def update_kind(update: dict[str, Any]) -> tuple[int, str]:
    """(user id, the REPLY_MARKERS key) of an update the test's users sent."""
    message = update["message"]
    kind = "contact" if "contact" in message else message["text"]
    return int(message["from"]["id"]), kind


def plain(rendered: str) -> str:
    """A message as the emulator shows its text: HTML tags parsed into entities."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered))


async def test_two_instances_survive_a_killed_sender(tmp_path: Path) -> None:
    chaos = Chaos(tmp_path / "chaos.log")
    run = f"chaos{random.randint(0, 10**6)}"
    assert PG_URL is not None
    engine = create_async_engine(PG_URL)
    try:
        async with instances(tmp_path, chaos) as (stack, apps, proxy), aiohttp.ClientSession() as http:
            await _chaos(stack, apps, proxy, engine, http, chaos, run)
    finally:
        await engine.dispose()


async def _chaos(
    stack: Stack, apps: list[AppProcess], proxy: RoundRobinProxy, engine: AsyncEngine,
    http: aiohttp.ClientSession, chaos: Chaos, run: str,
) -> None:
    client: EmulatorClient = stack.client
    job_names = asyncio.ensure_future(_job_names(stack))
    key, *_ = await asyncio.gather(api_key(stack), *(app.wait_healthy() for app in apps))
    assert isinstance(key, str)
    chaos.note("both instances healthy, API key made")

    # Customers register through the webhook (the contact button), both instances taking turns.
    users = [
        await client.create_user(800_000 + i, f"Chaos{i}", last_name="Test", language_code="en",
                                 phone=f"7916{5_550_000 + i:07d}")
        for i in range(CUSTOMERS)
    ]
    async def join(i: int, user: User) -> str:
        await asyncio.sleep(i * REGISTRATION_EVERY)
        return await register(client, user)

    numbers = await asyncio.gather(*(join(i, user) for i, user in enumerate(users)))
    phones = [f"+{user.phone}" for user in users]
    assert numbers == [phone[2:] for phone in phones]
    chaos.note(f"{CUSTOMERS} customers registered")

    # The load: tills post purchases while the customers ask for their balance and history.
    till = Till(proxy.url, key, http)
    bodies = purchases_of(run, phones)
    answered = 0
    tills = asyncio.Semaphore(TILLS)

    async def purchase(n: int, body: dict[str, Any], *, paced: bool = True) -> None:
        nonlocal answered
        if paced:
            await asyncio.sleep(n * PURCHASE_EVERY)
        async with tills:
            copies = 2 if n % REPLAYED_AT_ONCE == 0 else 1
            await asyncio.gather(*(till.post(body) for _ in range(copies)))
            answered += 1

    async def chat(i: int, user: User) -> None:
        await asyncio.sleep(i * CHAT_EVERY)
        for command in ("/balance", "/history"):
            sent = await client.send_text(user, command)
            await client.wait_for(user, REPLY_MARKERS[command], REPLY_TIMEOUT, after=sent)

    load = asyncio.gather(
        *(purchase(n, body) for n, body in enumerate(bodies)), *(chat(i, user) for i, user in enumerate(users))
    )
    try:
        killed = await kill_the_sender(apps, engine, lambda: answered)
    except BaseException:
        load.cancel()
        with contextlib.suppress(BaseException):
            await load
        raise
    victim = apps[killed.instance]
    chaos.note(f"SIGKILL to {victim.name} (the outbox sender) after {answered} purchases")
    await victim.start("run")
    await asyncio.gather(load, victim.wait_healthy())
    chaos.note(f"load done; {victim.name} is back")

    # Everything again: purchases with the same receipt ids and bodies, updates with the same ids.
    first = {receipt: answers[0] for receipt, answers in till.answers.items()}
    await asyncio.gather(*(purchase(1, body, paced=False) for body in bodies))
    await poll("the emulator delivering every update", _no_pending_updates(client), timeout=REPLY_TIMEOUT)
    replays = await _replay_updates(http, proxy)
    chaos.note(f"replayed {len(bodies)} purchases and {len(replays)} updates")

    # Every scheduled job twice at once (as two instances' schedulers would), on a day all of them
    # have work; the continuous one (deliver) after the others, as its next tick, so that it sends
    # what they queued.
    today = (datetime.now(BUSINESS_TZ) + timedelta(days=JOBS_DAYS_AHEAD)).date().isoformat()
    names = await job_names
    assert {"birthdays", "expiry-warnings", "expire", "activate-pending", "deliver"} <= set(names), names
    for wave in ([n for n in names if n != "deliver"], ["deliver"]):
        runs = (stack.cli("jobs", "run", name, "--today", today, "--yes") for name in wave for _ in range(2))
        await asyncio.gather(*runs)
        chaos.note(f"jobs {', '.join(wave)} ran twice at once")
    await poll("the outbox drained", _outbox_drained(engine))
    chaos.note(f"jobs {', '.join(names)} ran twice at once for {today}; the outbox drained")

    # A run is long: every broken guarantee is listed, not only the first.
    problems: list[str] = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    # -- each receipt posted exactly once, and every replay answered with the first answer ---------
    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT receipt_id, count(*) FROM operations WHERE kind = 'purchase_accrual' "
                 "AND receipt_id LIKE :run GROUP BY receipt_id"),
            {"run": f"{run}-%"},
        )
        posted: dict[str, int] = {str(receipt): int(n) for receipt, n in found}
    receipts = [body["receipt_id"] for body in bodies]
    wrong_posts = {r: posted.get(r, 0) for r in receipts if posted.get(r) != 1}
    expect(wrong_posts == {} and set(posted) == set(receipts), f"receipts not posted exactly once: {wrong_posts}")
    for receipt in receipts:
        status, body, _ = first[receipt]
        # Every answer is the first one, verbatim; at most one of them posted it (none, when the
        # instance that did died before answering) and the replay after the storm is a replay.
        answers_to = till.answers[receipt]
        expect(
            status == 201
            and all((s, b) == (201, body) for s, b, _ in answers_to)
            and sum(1 for *_, replayed in answers_to if not replayed) <= 1
            and answers_to[-1][2],
            f"purchase {receipt} answered {answers_to}",
        )

    # -- each update answered exactly once (the one the killed instance had in hand: at most twice)
    kill_window = [e for e in proxy.exchanges if killed.in_hand(e)]
    in_hand = {e.update_id for e in kill_window if e.update_id is not None}
    hit: set[tuple[int, str]] = set()
    sent_updates: Counter[tuple[int, str]] = Counter()
    for update_id, raw in proxy.updates.items():
        user_id, kind = update_kind(json.loads(raw))
        sent_updates[(user_id, kind)] += 1
        if update_id in in_hand:
            hit.add((user_id, kind))
    expect(
        set(sent_updates.values()) == {1} and len(sent_updates) == CUSTOMERS * len(REPLY_MARKERS),
        f"the webhook carried other updates than the users sent: {sent_updates}",
    )
    transcripts = {user.id: await client.messages(user) for user in users}
    answers = {
        (user_id, kind): sum(1 for m in messages if marker in m.text)
        for user_id, messages in transcripts.items()
        for kind, marker in REPLY_MARKERS.items()
    }
    wrong = {k: n for k, n in answers.items() if not (n == 1 or (k in hit and n == 2))}
    chaos.note(f"updates in hand of the killed instance: {sorted(in_hand)}; answered twice: "
               f"{sorted(k for k in hit if answers[k] == 2)}")
    expect(wrong == {}, f"updates answered other than once ((user, update): answers): {wrong}")

    # -- each notification sent once; unknown ones at most once, and only as many as were in flight
    rows = await _outbox(engine)
    texts = translator()
    statuses = Counter(row["status"] for row in rows)
    delivered: dict[int, int] = {}
    accounted: set[tuple[int, int]] = set()
    for row in rows:
        wanted = plain(render(texts, row["language"] or "ru", row["kind"], row["payload"]))
        matches = [m for m in transcripts.get(row["telegram_id"], []) if m.text == wanted]
        delivered[row["id"]] = len(matches)
        accounted.update((row["telegram_id"], m.message_id) for m in matches)
    unknown = [row["id"] for row in rows if row["status"] == "unknown"]
    unknown_delivered = sum(delivered[i] for i in unknown)
    chaos.note(f"outbox: {dict(statuses)}; of the {len(unknown)} unknown, {unknown_delivered} delivered")
    expect(statuses.keys() <= {"sent", "unknown"}, f"outbox rows by status: {dict(statuses)}")
    expect(
        {i: n for i, n in delivered.items() if n > 1} == {},
        f"notifications delivered twice (outbox id: times): { {i: n for i, n in delivered.items() if n > 1} }",
    )
    not_once = [row["id"] for row in rows if row["status"] == "sent" and delivered[row["id"]] != 1]
    expect(not_once == [], f"`sent` notifications not delivered exactly once (outbox ids): {not_once}")
    expect(
        len(unknown) <= SENDER_CONCURRENCY,
        f"{len(unknown)} notifications are `unknown` ({unknown_delivered} of them delivered) after one sender "
        f"with {SENDER_CONCURRENCY} request in flight at a time was killed (outbox ids {unknown})",
    )
    # One accrual message per receipt, one level-up per crossing, the jobs' messages once per card.
    kinds = Counter(row["kind"] for row in rows)
    expect(
        kinds == {"accrual": len(receipts), "level_up": len(range(0, CUSTOMERS, 4)), "activation": CUSTOMERS,
                  "expired": CUSTOMERS},
        f"notifications queued by kind: {dict(kinds)}",
    )
    # Nothing else reached the chats: every bot message is a reply or one of these notifications.
    markers = tuple(REPLY_MARKERS.values())
    stray = [
        (user_id, m.text[:60]) for user_id, messages in transcripts.items() for m in messages
        if (user_id, m.message_id) not in accounted and not any(marker in m.text for marker in markers)
    ]
    expect(stray == [], f"bot messages that answer nothing and are no notification: {stray}")

    # -- the ledger's invariants ------------------------------------------------------------------
    try:
        await check_invariants(UnitOfWork(engine))
    except InvariantViolation as violation:
        problems.append(f"ledger invariants: {violation}")

    # -- no 5xx but the 502s of the kill and the webhook's 503s ("being handled") ----------------
    bad = [e for e in proxy.exchanges if e.status is not None and e.status >= 500 and not _excused(e, killed)]
    expect(bad == [], f"5xx answers not excused by the kill: {bad}")
    expect(
        [s for s in till.seen if s >= 500 and s != 502] == [] and till.seen.count(502) <= len(kill_window),
        f"the tills saw {Counter(till.seen)} ({len(kill_window)} requests in hand of the killed instance)",
    )
    expect(set(replays.values()) <= {200}, f"replayed updates answered: {Counter(replays.values())}")
    for app in apps:
        errors = logged_errors(app)
        expect(errors == [], f"{app.name} logged errors: {errors[:5]}")
    assert not problems, "\n".join(problems)


def _excused(exchange: Exchange, killed: Kill) -> bool:
    if exchange.by_proxy:
        return killed.in_hand(exchange)
    # 503 from the webhook: the update is being handled elsewhere, or the instance is shutting down.
    return exchange.status == 503 and exchange.path == WEBHOOK_PATH


async def _job_names(stack: Stack) -> list[str]:
    listing = await stack.cli("jobs", "list")
    return [line.split()[0] for line in listing.splitlines() if re.match(r"^[a-z][a-z-]+\s{2,}\S", line)]


def _no_pending_updates(client: EmulatorClient) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await client.stats()).pending_updates == 0

    return check


async def _replay_updates(http: aiohttp.ClientSession, proxy: RoundRobinProxy) -> dict[int, int]:
    """Deliver every update again through the proxy, with the secret, as Telegram redelivers: the
    final status of each (503 "being handled" is retried)."""
    gate = asyncio.Semaphore(10)

    async def again(update_id: int, body: bytes) -> tuple[int, int]:
        async with gate:
            headers = {SECRET_HEADER: WEBHOOK_SECRET, "Content-Type": "application/json"}
            deadline = time.monotonic() + REPLY_TIMEOUT
            while True:
                async with http.post(f"{proxy.url}{WEBHOOK_PATH}", data=body, headers=headers) as response:
                    if response.status not in (502, 503) or time.monotonic() >= deadline:
                        return update_id, response.status
                await asyncio.sleep(0.2)

    return dict(await asyncio.gather(*(again(i, b) for i, b in list(proxy.updates.items()))))


def _outbox_drained(engine: AsyncEngine) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        async with engine.connect() as conn:
            left = await conn.execute(text("SELECT count(*) FROM outbox WHERE status IN ('pending', 'sending')"))
            return int(left.scalar_one()) == 0

    return check


async def _outbox(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        found = await conn.execute(
            text(
                "SELECT o.id, o.kind, o.status, o.payload, c.telegram_id, c.language FROM outbox o "
                "JOIN customers c ON c.id = o.customer_id ORDER BY o.id"
            )
        )
        rows = [dict(row._mapping) for row in found]
    for row in rows:  # a JSON column read through text() comes back as its text
        if isinstance(row["payload"], str):
            row["payload"] = json.loads(row["payload"])
    return rows

