"""Erasure erases (152-FZ): after a customer is erased, by themselves (/deleteme), by a manager in
the bot, or through the admin API, none of their phone (in any spelling), card number, Telegram id
or name is stored anywhere: not in any table of the database (read through the catalog, so a table
the models forget counts too; on PostgreSQL also as row_to_json of every row), not in Redis (every
key and value of the database), not in the logs written meanwhile.

The customer has what makes data spread: purchases through the POS API (stored responses, one by
card number and one by a phone spelling), a redemption and a refund, a hand adjustment, notifications
queued and sent (with a contact person who gets copies), a family they joined (their own card was
closed and its points moved), links, and a dialog open in Redis."""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from redis.asyncio import Redis
from sqlalchemy import inspect, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_dispatcher, build_web_app
from bot.logging import setup_logging
from bot.redis import build_fsm
from db.models import Card, Customer
from db.uow import UnitOfWork
from handlers.telegram.profile import ProfileAction
from services import api_keys, customers, family, links, staff, stores
from services.clock import FrozenClock
from services.ledger import otp
from services.ledger.invariants import check_invariants
from tests.notifications.helpers import make_sender
from tests.support import updates
from tests.support.fixtures import BotHarness, make_harness
from tests.telegram.customer.helpers import register

REDIS_URL = os.environ.get("TEST_REDIS_URL") or os.environ.get("REDIS_URL")
pytestmark = pytest.mark.skipif(REDIS_URL is None, reason="needs Redis: set TEST_REDIS_URL or REDIS_URL")

# The customer to erase. Digits chosen so that no base32 secret or hex hash can contain them by chance.
PHONE = "+79031804259"
TELEGRAM_ID = 5820917346
NAME, SURNAME = "Евпраксия", "Стирательская"
NEEDLES = (
    PHONE,  # E.164
    "79031804259",  # without "+", as Telegram sends contacts
    "9031804259",  # the card number: the national number
    "89031804259",
    "+7 903 180-42-59",
    "8 (903) 180-42-59",
    "+7 (903) 180-42-59",
    "903 180-42-59",
    "903 180 42 59",
    str(TELEGRAM_ID),
    NAME,
    SURNAME,
)
# Her contact person (whose family she joins) and a manager: they are not erased.
OTHER_PHONE, OTHER_ID = "79265550173", 6170293845
MANAGER_ID = 7160482953


async def _dump_database(uow: UnitOfWork) -> list[str]:
    """Every row of every table the database has, as text."""

    async def work(session: AsyncSession) -> list[str]:
        connection = await session.connection()
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        lines: list[str] = []
        for name in names:
            for row in await session.execute(text(f'SELECT * FROM "{name}"')):
                lines.append(f"{name}: {tuple(row)!r} {tuple(str(v) for v in row)}")
            if uow.is_postgres:
                for (as_json,) in await session.execute(text(f'SELECT row_to_json(t)::text FROM "{name}" t')):
                    lines.append(f"{name} (json): {as_json}")
        return lines

    return await uow.read(work)


async def _dump_redis(redis: Redis) -> list[str]:
    lines: list[str] = []
    async for raw_key in redis.scan_iter("*"):
        key = raw_key.decode(errors="replace")
        kind = (await redis.type(raw_key)).decode()
        value: Any
        if kind == "string":
            value = await redis.get(raw_key)
        elif kind == "hash":
            value = await redis.hgetall(raw_key)
        elif kind == "list":
            value = await redis.lrange(raw_key, 0, -1)
        elif kind == "set":
            value = await redis.smembers(raw_key)
        elif kind == "zset":
            value = await redis.zrange(raw_key, 0, -1, withscores=True)
        else:
            value = kind
        lines.append(f"redis {key}: {value!r} {_decoded(value)}")
    return lines


def _decoded(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    if isinstance(value, dict):
        return " ".join(f"{_decoded(k)}={_decoded(v)}" for k, v in value.items())
    if isinstance(value, list | set | tuple):
        return " ".join(_decoded(v) for v in value)
    return str(value)


def _leaks(lines: list[str]) -> list[str]:
    found = []
    for line in lines:
        # JSON may escape Cyrillic; compare the unescaped text as well.
        unescaped = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), line)
        for needle in NEEDLES:
            if needle in line or needle in unescaped:
                found.append(f"{needle!r} in {line[:300]}")
    return found


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    assert REDIS_URL is not None
    client = Redis.from_url(REDIS_URL)
    yield client
    # Only the keys this test's bot wrote (its FSM prefix and bot id): the database may be shared.
    keys = [key async for key in client.scan_iter("fsm:1000000001:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
def product_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """The product's own logging (bot/logging.py) at its most verbose level, written to the
    captured stderr: what an operator running with LOG_LEVEL=DEBUG would keep."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    setup_logging("DEBUG")
    try:
        yield capsys
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


class Till:
    def __init__(self, client: TestClient[Any, Any], clock: FrozenClock, pos: str, admin: str) -> None:
        self.client, self.clock, self.pos, self.admin = client, clock, pos, admin

    async def call(self, method: str, path: str, body: Any = None, *, admin: bool = False,
                   headers: dict[str, str] | None = None) -> dict[str, Any]:
        key = self.admin if admin else self.pos
        response = await self.client.request(
            method, path, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json", **(headers or {})},
        )
        payload = await response.json(content_type=None)
        assert response.status < 300, (response.status, payload)
        return dict(payload)


async def _code(uow: UnitOfWork, clock: FrozenClock, card_id: int) -> str:
    async def work(session: AsyncSession) -> str:
        card = (await session.execute(select(Card).where(Card.id == card_id))).scalar_one()
        return otp.current_code(card, clock.now())[0]

    return await uow.read(work)


async def _customer_row(uow: UnitOfWork, customer_id: int) -> Customer:
    async def work(session: AsyncSession) -> Customer:
        row = await session.get(Customer, customer_id)
        assert row is not None
        return row

    return await uow.read(work)


@pytest.mark.parametrize("path", ["self", "staff", "api"])
async def test_an_erased_customer_is_stored_nowhere(
    uow: UnitOfWork, clock: FrozenClock, redis: Redis, product_logs: pytest.CaptureFixture[str], path: str
) -> None:
    base = make_harness(uow, clock)
    storage, isolation = build_fsm(redis, update_lease_seconds=120)
    harness = BotHarness(base.context, build_dispatcher(base.context, storage=storage, events_isolation=isolation),
                         base.bot)
    store = await stores.add_store(uow, clock, code="S1", name="Тверская", actor="test")
    await staff.add_staff(uow, clock, telegram_id=MANAGER_ID, role="manager", name="Менеджер", store_code="S1",
                          actor="test")
    pos = await api_keys.create_api_key(uow, clock, store_code="S1", scopes=("pos",), name="till", actor="test")
    admin = await api_keys.create_api_key(uow, clock, store_code="S1", scopes=("pos", "admin"), name="office",
                                          actor="test")
    her_user = updates.user(TELEGRAM_ID, first_name=NAME, last_name=SURNAME)
    her = await register(harness, her_user, PHONE.lstrip("+"))
    other = await register(harness, updates.user(OTHER_ID, first_name="Фрол", last_name="Другов"), OTHER_PHONE)
    assert her.card_id is not None and her.card_number == "9031804259" and store.id
    contact = next(t for t in await links.list_link_types(uow) if t.code == "contact_person")
    await links.save_links(uow, clock, customer_id=other.id, other_customer_id=her.id,
                           forward_type_ids=[contact.id], actor="test")

    context = harness.context
    if path == "api":
        # What bot/app.py::build_application gives the web app: the bot's conversations, to forget hers.
        from bot.conversations import FsmConversations

        context = replace(context, conversations=FsmConversations(storage, harness.bot.id))
    # No access log, as bot/runners.py runs the web app (its paths carry card numbers).
    server = TestServer(build_web_app(context))
    await server.start_server(access_log=None)
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    try:
        till = Till(client, clock, pos.key, admin.key)
        await till.call("POST", "/api/v1/purchases", {"card": "9031804259", "receipt_id": "R-1",
                                                      "amount_kopecks": 100_000})
        await till.call("POST", "/api/v1/purchases", {"phone": "8 (903) 180-42-59", "receipt_id": "R-2",
                                                      "amount_kopecks": 50_000})
        await till.call("POST", "/api/v1/purchases", {
            "card": "9031804259", "receipt_id": "R-3", "amount_kopecks": 100_000, "redeem_points": 5_000,
            "code": await _code(uow, clock, her.card_id),
        })
        await till.call("POST", "/api/v1/refunds", {"receipt_id": "R-1", "refund_id": "F-1",
                                                    "amount_kopecks": 40_000})
        await till.call("POST", "/api/v1/cards/9031804259/adjustments", {"points": 1_000, "reason": "goodwill"},
                        admin=True, headers={"Idempotency-Key": "adj-1"})
        # Notifications sent (to her and copies to her contact person), then one more left queued.
        report = await make_sender(uow, clock, harness.bot).drain()
        assert report is not None and report.sent >= 4, report
        await till.call("POST", "/api/v1/purchases", {"card": "9031804259", "receipt_id": "R-4",
                                                      "amount_kopecks": 30_000})
        # She joins her contact person's family: her own card is closed and its points move.
        invite = await family.create_invite(uow, clock, customer_id=other.id)
        joined = await family.join_family(uow, clock, code=invite.code, customer_id=her.id, keep_own_card=False)
        assert joined.outcome == "joined"
        # A dialog left open: she started changing her e-mail.
        await harness.feed(updates.callback(her_user, ProfileAction(action="edit", value="email").pack()))
        # Before the erasure the dumps find her everywhere (so they can find her afterwards).
        assert _leaks(await _dump_redis(redis)), "no dialog in Redis"
        assert _leaks(await _dump_database(uow))

        if path == "self":
            await harness.feed(updates.text(her_user, "/deleteme"))
            await harness.feed(updates.callback(her_user, f"del:confirm:{her.id}"))
        elif path == "staff":
            await harness.feed(updates.text(updates.user(MANAGER_ID), f"/find {PHONE}"))
            await harness.feed(updates.callback(updates.user(MANAGER_ID), f"ster:ask:{her.id}"))
            await harness.feed(updates.callback(updates.user(MANAGER_ID), f"ster:confirm:{her.id}"))
        else:
            response = await client.request("DELETE", f"/api/v1/customers/{her.id}",
                                            headers={"Authorization": f"Bearer {admin.key}"})
            assert response.status == 200, await response.text()
    finally:
        await client.close()

    row = await _customer_row(uow, her.id)
    assert row.deleted_at is not None and row.telegram_id is None
    await check_invariants(uow)
    database = await _dump_database(uow)
    # The dump does see data: the people who were not erased are there.
    assert any("9265550173" in line for line in database) and any(str(MANAGER_ID) in line for line in database)
    leaks = _leaks(database)
    leaks += _leaks(await _dump_redis(redis))
    leaks += [f"log: {leak}" for leak in _leaks(product_logs.readouterr().err.splitlines())]
    assert not leaks, "\n".join(leaks)
    # The other people keep what is theirs.
    assert (await customers.get_by_telegram(uow, OTHER_ID)) is not None
