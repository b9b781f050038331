"""An aiohttp test client over the real web app and a real database (SQLite and PostgreSQL), with
two stores, API keys of each kind and one customer card."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.app import build_web_app
from bot.context import AppContext
from bot.redis import create_redis
from bot.settings import Settings
from db.models import Card
from db.uow import UnitOfWork
from locales import translator
from services import api_keys, customers, ledger, stores
from services.api_keys import CreatedApiKey
from services.clock import FrozenClock
from services.ledger import otp
from services.phones import PhonePolicy
from tests.http.conformance import check_response

PHONE = "+79161234567"
CARD = "9161234567"


def settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "redis_url": None, "api_rate_limit_per_minute": 100_000, "api_rate_limit_burst": 10_000,
        "api_auth_failures_per_minute": 100_000, "api_auth_failures_burst": 10_000,
    }
    return Settings(**{**base, **overrides})


@dataclass
class Api:
    client: TestClient[Any, Any]
    context: AppContext
    clock: FrozenClock
    pos: CreatedApiKey  # store S1, scope pos
    admin: CreatedApiKey  # store S1, scopes pos and admin
    other_pos: CreatedApiKey  # store S2, scope pos
    card_id: int

    async def call(
        self, method: str, path: str, *, key: CreatedApiKey | None = None, body: Any = None,
        raw: bytes | None = None, headers: dict[str, str] | None = None, sign: bool = False,
    ) -> ClientResponse:
        key = key or self.pos
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        all_headers = {"Authorization": f"Bearer {key.key}", "Content-Type": "application/json"}
        all_headers.update(headers or {})
        if sign:
            all_headers["X-Signature"] = self.signature(method, path, data or b"", all_headers, key=key)
        response = await self.client.request(method, path, data=data, headers=all_headers)
        if path.startswith("/api/v1/"):
            # Every response of every test is checked against the published document.
            body = await response.json(content_type=None)
            check_response(method, path.split("?")[0], response.status, response.content_type, body)
        return response

    def signature(
        self, method: str, path: str, body: bytes, headers: dict[str, str], *, key: CreatedApiKey | None = None,
        offset: int = 0,
    ) -> str:
        """The X-Signature a client signing this request `offset` seconds from now would send."""
        key = key or self.pos
        idempotency_key = next((v for k, v in headers.items() if k.lower() == "idempotency-key"), "")
        request = api_keys.SignedRequest(method, path, idempotency_key, body)
        return api_keys.sign(key.signing_secret, int(self.clock.now().timestamp()) + offset, request)

    async def code(self, card_id: int | None = None) -> str:
        async def work(session: AsyncSession) -> str:
            card = (await session.execute(select(Card).where(Card.id == (card_id or self.card_id)))).scalar_one()
            return otp.current_code(card, self.clock.now())[0]

        return await self.context.uow.read(work)


async def make_api(uow: UnitOfWork, clock: FrozenClock, **overrides: Any) -> AsyncIterator[Api]:
    context = AppContext(
        settings=settings(**overrides), uow=uow, clock=clock, translator=translator(), phone_policy=PhonePolicy()
    )
    await stores.add_store(uow, clock, code="S1", name="Main street", actor="test")
    await stores.add_store(uow, clock, code="S2", name="Station", actor="test")
    pos = await api_keys.create_api_key(uow, clock, store_code="S1", scopes=("pos",), name="till", actor="test")
    admin = await api_keys.create_api_key(
        uow, clock, store_code="S1", scopes=("pos", "admin"), name="office", actor="test"
    )
    other = await api_keys.create_api_key(uow, clock, store_code="S2", scopes=("pos",), name="till", actor="test")
    customer = await customers.create_walk_in(
        uow, clock, phone=PHONE, name="Anna", surname="Ivanova", phone_policy=PhonePolicy(), actor="test"
    )
    assert customer.card_id is not None
    await ledger.adjust_points(
        uow, clock, card_id=customer.card_id, points=100_000, reason="seed", idempotency_key="seed", actor="test"
    )
    redis = create_redis(context.settings.redis_url) if context.settings.redis_url else None
    client: TestClient[Any, Any] = TestClient(TestServer(build_web_app(context, redis=redis)))
    await client.start_server()
    try:
        yield Api(client, context, clock, pos, admin, other, customer.card_id)
    finally:
        await client.close()
        if redis is not None:
            await redis.aclose()


@pytest.fixture
async def api(uow: UnitOfWork, clock: FrozenClock) -> AsyncIterator[Api]:
    async for item in make_api(uow, clock):
        yield item
