"""Request signatures bind the whole request (method, path and query, Idempotency-Key, timestamp,
body) and are accepted once, on every instance; failed authentications are rate-limited per client
address before any key look-up; a body must be JSON. On SQLite and PostgreSQL, the replay store in
the database or in Redis."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.app import build_web_app
from bot.context import AppContext
from bot.redis import RedisReplayGuard, RedisTokenBucket, create_redis
from db.engine import create_engine
from db.models import ApiKey, Operation, SignatureReplay
from db.uow import UnitOfWork
from handlers.http.api.ratelimit import MemoryTokenBucket
from handlers.http.api.replays import DatabaseReplayGuard
from locales import translator
from services import api_keys, customers
from services.api_keys import CreatedApiKey
from services.clock import FrozenClock
from services.phones import PhonePolicy
from tests.http.conftest import CARD, Api, make_api, settings
from tests.http.instances import REDIS_SKIP_REASON, REDIS_URL
from tests.http.test_api_pos import problem_of
from tests.support.statements import statements

ADJUSTMENTS = f"/api/v1/cards/{CARD}/adjustments"
OTHER_PHONE = "+79161234568"
OTHER_CARD = "9161234568"


def capture(
    api: Api, method: str, path: str, *, key: CreatedApiKey | None = None, body: Any = None,
    headers: dict[str, str] | None = None, offset: int = 0,
) -> tuple[dict[str, str], bytes]:
    """The headers and body of a signed request as a till sends it (and as an eavesdropper keeps it)."""
    key = key or api.pos
    data = b"" if body is None else json.dumps(body).encode()
    sent = {"Authorization": f"Bearer {key.key}", "Content-Type": "application/json", **(headers or {})}
    sent["X-Signature"] = api.signature(method, path, data, sent, key=key, offset=offset)
    return sent, data


async def send(api: Api, method: str, path: str, captured: tuple[dict[str, str], bytes]) -> ClientResponse:
    headers, data = captured
    return await api.call(method, path, raw=data, headers=headers)


async def adjustments(api: Api) -> int:
    async def work(session: AsyncSession) -> int:
        stmt = select(func.count()).select_from(Operation).where(Operation.kind == "manual_adjustment")
        return int((await session.execute(stmt)).scalar_one())

    return await api.context.uow.read(work)


async def test_a_captured_request_is_accepted_once(api: Api) -> None:
    before = await adjustments(api)
    captured = capture(api, "POST", ADJUSTMENTS, key=api.admin, body={"points": 5000, "reason": "goodwill"},
                       headers={"Idempotency-Key": "adj-1"})
    assert (await send(api, "POST", ADJUSTMENTS, captured)).status == 201
    # Sent again as it was: refused, though the idempotent replay would have answered 201 again.
    await problem_of(await send(api, "POST", ADJUSTMENTS, captured), 401, "signature_replayed")
    # Sent again with a new Idempotency-Key (points credited a second time, before): refused.
    headers, data = captured
    await problem_of(
        await send(api, "POST", ADJUSTMENTS, ({**headers, "Idempotency-Key": "adj-2"}, data)), 401, "bad_signature"
    )
    assert await adjustments(api) == before + 1


async def test_a_signature_does_not_open_another_card(api: Api) -> None:
    other = await customers.create_walk_in(
        api.context.uow, api.clock, phone=OTHER_PHONE, name="Oleg", phone_policy=PhonePolicy(), actor="test"
    )
    assert other.card_id is not None
    captured = capture(api, "PUT", f"/api/v1/cards/{CARD}/status", key=api.admin, body={"status": "blocked"})
    await problem_of(await send(api, "PUT", f"/api/v1/cards/{OTHER_CARD}/status", captured), 401, "bad_signature")
    lookup = await api.call("GET", f"/api/v1/cards/lookup?q={OTHER_CARD}")
    assert (await lookup.json())["status"] == "active"
    # Nor the same request with another body.
    headers, _ = captured
    await problem_of(
        await send(api, "PUT", f"/api/v1/cards/{CARD}/status", (headers, b'{"status": "active"}')), 401,
        "bad_signature",
    )


async def test_a_signed_get_does_not_open_another_get(api: Api) -> None:
    lookup = f"/api/v1/cards/lookup?q={CARD}"
    captured = capture(api, "GET", lookup, key=api.admin)
    # Another query on the same path, another path: each would have answered with the empty body's signature.
    await problem_of(await send(api, "GET", "/api/v1/cards/lookup?q=9160000000", captured), 401, "bad_signature")
    await problem_of(await send(api, "GET", "/api/v1/customers?q=Ivanova", captured), 401, "bad_signature")
    await problem_of(await send(api, "GET", "/api/v1/staff", captured), 401, "bad_signature")
    assert (await send(api, "GET", lookup, captured)).status == 200


@pytest.mark.parametrize(("offset", "accepted"), [(-301, False), (-300, True), (0, True), (29, True), (30, True),
                                                   (31, False), (300, False)])
async def test_the_accepted_clock_skew(api: Api, offset: int, accepted: bool) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"
    response = await send(api, "GET", path, capture(api, "GET", path, offset=offset))
    if accepted:
        assert response.status == 200, await response.text()
    else:
        body = await problem_of(response, 401, "bad_signature")
        assert body["params"]["reason"] == "expired"


@pytest.fixture
async def narrow(uow: UnitOfWork, clock: FrozenClock) -> AsyncIterator[Api]:
    async for item in make_api(uow, clock, api_signature_max_age_seconds=10, api_signature_max_future_seconds=0):
        yield item


async def test_the_skew_is_a_setting(narrow: Api) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"
    assert (await send(narrow, "GET", path, capture(narrow, "GET", path, offset=-10))).status == 200
    await problem_of(await send(narrow, "GET", path, capture(narrow, "GET", path, offset=-11)), 401, "bad_signature")
    await problem_of(await send(narrow, "GET", path, capture(narrow, "GET", path, offset=1)), 401, "bad_signature")


@pytest.fixture(params=["database", "redis"])
async def two_instances(request: pytest.FixtureRequest, db_url: str, engine: AsyncEngine, uow: UnitOfWork,
                        clock: FrozenClock) -> AsyncIterator[tuple[Api, TestClient[Any, Any]]]:
    """Two web apps on one database, each with its own engine (so its own key cache) and, for
    `redis`, its own Redis client on one server."""
    if request.param == "redis" and REDIS_URL is None:
        pytest.skip(REDIS_SKIP_REASON)
    redis_url = REDIS_URL if request.param == "redis" else None
    async for first in make_api(uow, clock, redis_url=redis_url):
        second_engine = create_engine(db_url)
        redis = create_redis(redis_url) if redis_url else None
        context = AppContext(settings=settings(redis_url=redis_url), uow=UnitOfWork(second_engine), clock=clock,
                             translator=translator(), phone_policy=PhonePolicy())
        client: TestClient[Any, Any] = TestClient(TestServer(build_web_app(context, redis=redis)))
        await client.start_server()
        try:
            yield first, client
        finally:
            await client.close()
            if redis is not None:
                await redis.aclose()
            await second_engine.dispose()


async def test_a_replay_is_refused_by_every_instance(two_instances: tuple[Api, TestClient[Any, Any]]) -> None:
    first, second = two_instances
    receipt = {"receipt_id": f"R-{first.clock.token(6)}", "amount_kopecks": 100_000, "card": CARD}
    headers, data = capture(first, "POST", "/api/v1/purchases", body=receipt)
    assert (await second.post("/api/v1/purchases", data=data, headers=headers)).status == 201
    await problem_of(await send(first, "POST", "/api/v1/purchases", (headers, data)), 401, "signature_replayed")
    await problem_of(await second.post("/api/v1/purchases", data=data, headers=headers), 401, "signature_replayed")


def bad_key(n: int) -> str:
    return f"lk_ZZZZZZZZZ{n:03d}_" + "x" * 43


@pytest.fixture
async def guarded(uow: UnitOfWork, clock: FrozenClock) -> AsyncIterator[Api]:
    async for item in make_api(uow, clock, api_auth_failures_per_minute=1, api_auth_failures_burst=3):
        yield item


async def test_a_flood_of_bad_keys_is_stopped_before_the_database(guarded: Api) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"
    assert (await guarded.call("GET", path)).status == 200  # the till, before the flood
    for n in range(3):
        await problem_of(await guarded.client.get(path, headers={"Authorization": f"Bearer {bad_key(n)}"}), 401,
                         "unauthorized")
    with statements(guarded.context.uow.engine) as seen:
        for n in range(3, 20):
            response = await guarded.client.get(path, headers={"Authorization": f"Bearer {bad_key(n)}"})
            body = await problem_of(response, 429, "rate_limited")
            assert int(response.headers["Retry-After"]) >= 1 and body["retry_after"] >= 1
        await problem_of(await guarded.client.get(path), 429, "rate_limited")  # no key at all
        # X-Forwarded-For is not trusted by default: a new address in it changes nothing.
        await problem_of(await guarded.client.get(
            path, headers={"Authorization": f"Bearer {bad_key(99)}", "X-Forwarded-For": "203.0.113.9"}), 429,
            "rate_limited")
    assert seen == []
    # A valid key keeps its own limit: the till goes on.
    assert (await guarded.call("GET", path)).status == 200


async def test_bad_signatures_count_as_failures(guarded: Api) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"
    for _ in range(3):
        await problem_of(await guarded.call("GET", path, headers={"X-Signature": "t=1,v2=00"}), 401, "bad_signature")
    await problem_of(await guarded.client.get(path, headers={"Authorization": f"Bearer {bad_key(1)}"}), 429,
                     "rate_limited")


@pytest.fixture
async def behind_proxy(uow: UnitOfWork, clock: FrozenClock) -> AsyncIterator[Api]:
    async for item in make_api(uow, clock, api_auth_failures_per_minute=1, api_auth_failures_burst=2,
                               api_trust_x_forwarded_for=True):
        yield item


async def test_behind_a_trusted_proxy_the_forwarded_address_is_limited(behind_proxy: Api) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"

    def from_(address: str) -> dict[str, str]:
        # The proxy appends the address it saw; what the client wrote before it is not believed.
        return {"Authorization": f"Bearer {bad_key(0)}", "X-Forwarded-For": f"198.51.100.1, {address}"}

    for _ in range(2):
        await problem_of(await behind_proxy.client.get(path, headers=from_("203.0.113.5")), 401, "unauthorized")
    await problem_of(await behind_proxy.client.get(path, headers=from_("203.0.113.5")), 429, "rate_limited")
    await problem_of(await behind_proxy.client.get(path, headers=from_("203.0.113.6")), 401, "unauthorized")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None,
                                          "application/json; charset=latin-1"])
async def test_a_body_must_be_json(api: Api, content_type: str | None) -> None:
    data = json.dumps({"receipt_id": "R-415", "amount_kopecks": 100_000, "card": CARD}).encode()
    headers = {"Authorization": f"Bearer {api.pos.key}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = await api.client.post("/api/v1/purchases", data=data, headers={**headers, "Accept-Language": "ru"})
    body = await problem_of(response, 415, "unsupported_media_type")
    assert "application/json" in body["detail"] and "Тело" in body["detail"], body
    response = await api.client.post("/api/v1/purchases", data=data, headers=headers)
    body = await problem_of(response, 415, "unsupported_media_type")
    assert "application/json" in body["detail"] and "body" in body["detail"], body
    charset = await api.call("POST", "/api/v1/purchases", raw=data,
                             headers={"Content-Type": "application/json; charset=utf-8"})
    assert charset.status == 201, await charset.text()


README = Path(__file__).resolve().parents[2] / "README.md"


@dataclass(frozen=True)
class Example:
    """The worked example as a document states it."""

    secret: str
    method: str
    target: str
    headers: dict[str, str]
    body: bytes
    string_to_sign: str
    shell_body: str
    shell_string: str
    shell_secret: str


def _block(text: str, lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)\n```", text, re.S)
    assert match is not None, f"no {lang} block in the worked example"
    return match.group(1)


def parse_example(document: str) -> Example:
    assert document.count("**Worked example.**") == 1
    text = document[document.index("**Worked example.**"):]
    secret = re.search(r"Signing secret `([0-9a-f]{64})`", text)
    assert secret is not None
    head, _, body = _block(text, "http").partition("\n\n")
    request_line, *header_lines = head.split("\n")
    method, target, version = request_line.split(" ")
    assert version == "HTTP/1.1"
    shell = _block(text, "sh")
    shell_body = re.search(r"printf '%s' '(.*?)' \| sha256sum", shell)
    shell_string = re.search(r"printf '(loyalty-[^']*)'", shell)
    shell_secret = re.search(r"-hmac '([0-9a-f]{64})'", shell)
    assert shell_body is not None and shell_string is not None and shell_secret is not None
    return Example(
        secret.group(1), method, target, dict(line.split(": ", 1) for line in header_lines), body.encode(),
        _block(text, "text"), shell_body.group(1), shell_string.group(1).replace("\\n", "\n"), shell_secret.group(1),
    )


async def test_the_documented_example_is_what_the_server_accepts(api: Api) -> None:
    document = await (await api.client.get("/api/v1/openapi.json")).json()
    examples = [parse_example(README.read_text(encoding="utf-8")), parse_example(document["info"]["description"])]
    assert examples[0] == examples[1], "the README and the OpenAPI document show different examples"
    example = examples[0]
    # The example is consistent in itself, and is what the server's own code computes.
    fields = dict(part.split("=", 1) for part in example.headers["X-Signature"].split(","))
    lines = example.string_to_sign.split("\n")
    assert len(lines) == 7 and lines[1] == fields["t"] and lines[2] == fields.get("n", "")
    assert lines[6] == hashlib.sha256(example.body).hexdigest()
    assert (example.shell_body.encode(), example.shell_string, example.shell_secret) == (
        example.body, example.string_to_sign, example.secret)
    mac = hmac.new(example.secret.encode(), example.string_to_sign.encode(), hashlib.sha256)
    assert mac.hexdigest() == fields["v2"]
    request = api_keys.SignedRequest(example.method, example.target, example.headers["Idempotency-Key"], example.body)
    assert api_keys.canonical_string(int(fields["t"]), fields.get("n", ""), request) == example.string_to_sign
    # The server accepts exactly that request at that time from a key with that secret, once.
    api.clock.set(datetime.fromtimestamp(int(fields["t"]), UTC))

    async def use_documented_secret(session: AsyncSession) -> None:
        await session.execute(
            update(ApiKey).where(ApiKey.id == api.admin.id).values(signing_secret=example.secret)
        )

    await api.context.uow.write(use_documented_secret)
    headers = {**example.headers, "Authorization": f"Bearer {api.admin.key}"}
    response = await api.call(example.method, example.target, raw=example.body, headers=headers)
    assert response.status == 201, await response.text()
    assert (await response.json())["points"] == json.loads(example.body)["points"]
    again = await api.call(example.method, example.target, raw=example.body, headers=headers)
    await problem_of(again, 401, "signature_replayed")


async def test_the_database_store_claims_once_and_prunes_closed_windows(uow: UnitOfWork, clock: FrozenClock) -> None:
    guard = DatabaseReplayGuard(uow, clock, ttl_seconds=330, prune_every_seconds=0.0, grace=timedelta(0))
    assert await guard.first_use("k:1") is True
    assert await guard.first_use("k:1") is False
    clock.advance(timedelta(seconds=200))
    assert await guard.first_use("k:2") is True
    clock.advance(timedelta(seconds=131))  # k:1's window closed, k:2's is open

    async def kept(session: AsyncSession) -> list[str]:
        return list((await session.execute(select(SignatureReplay.key).order_by(SignatureReplay.key))).scalars())

    assert await guard.first_use("k:3") is True  # prunes on the way
    assert await uow.read(kept) == ["k:2", "k:3"]
    assert await guard.first_use("k:2") is False


async def test_a_signed_purchase_costs_one_insert_for_its_signature(api: Api) -> None:
    path = "/api/v1/purchases"
    receipt = {"receipt_id": "R-hot", "amount_kopecks": 100_000, "card": CARD}
    assert (await api.call("POST", path, body={**receipt, "receipt_id": "R-warm"}, sign=True)).status == 201
    with statements(api.context.uow.engine, lambda sql: "signature_replays" in sql) as seen:
        assert (await api.call("POST", path, body=receipt, sign=True)).status == 201
    assert len(seen) == 1 and seen[0].startswith("INSERT INTO signature_replays"), seen
    assert "ON CONFLICT" in seen[0]


@pytest.mark.skipif(REDIS_URL is None, reason=REDIS_SKIP_REASON)
async def test_redis_peek_takes_no_token_and_the_guard_claims_once() -> None:
    assert REDIS_URL is not None
    redis = create_redis(REDIS_URL)
    try:
        bucket = RedisTokenBucket(redis, per_minute=1, burst=1)
        key = f"test-peek-{secrets.token_hex(8)}"
        assert await bucket.peek(key) is None
        assert await bucket.peek(key) is None
        assert await bucket.hit(key) is None
        wait = await bucket.peek(key)
        assert wait is not None and 0 < wait <= 60
        assert await bucket.hit(key) is not None
        guard = RedisReplayGuard(redis, ttl_seconds=5)
        assert await guard.first_use(key) is True
        assert await guard.first_use(key) is False
        assert 0 < await redis.ttl(f"apisig:{key}") <= 5
    finally:
        await redis.aclose()


async def test_memory_buckets_of_many_addresses_are_forgotten_once_refilled() -> None:
    now = [0.0]
    bucket = MemoryTokenBucket(per_minute=60, burst=2, now=lambda: now[0])
    bucket.MAX_BUCKETS = 3
    for address in ("a", "a", "b", "c"):
        assert await bucket.hit(address) is None
    assert await bucket.hit("a") is not None  # a is empty, b and c have one token left
    now[0] = 1.0  # b and c refilled (1 token/s), a has one token
    assert await bucket.hit("d") is None
    assert set(bucket._buckets) == {"a", "d"}
    assert await bucket.hit("a") is None and await bucket.hit("a") is not None  # a's state was kept
