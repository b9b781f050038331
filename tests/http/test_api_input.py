"""Every class of bad input gets a 4xx problem document, never a 500; and the rate limit."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from db.uow import UnitOfWork
from services.clock import FrozenClock
from tests.http.conftest import CARD, Api, make_api
from tests.http.test_api_pos import problem_of, purchase

PATH = "/api/v1/purchases"


async def post_raw(api: Api, raw: bytes) -> Any:
    return await api.call("POST", PATH, raw=raw)


async def test_malformed_json(api: Api) -> None:
    for raw in [b"{", b"", b"not json", b'{"receipt_id": "R"', b"\xff\xfe", b"[1, 2]", b'"text"', b"null",
                b'{"amount_kopecks": NaN}', b'{"amount_kopecks": Infinity}']:
        await problem_of(await post_raw(api, raw), 400, "malformed_json")


async def test_huge_body_is_413(api: Api) -> None:
    body = json.dumps(purchase(receipt="R" * 10, padding="x" * (70 * 1024))).encode()
    await problem_of(await post_raw(api, body), 413, "payload_too_large")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_kopecks", -5),
        ("amount_kopecks", 0),
        ("amount_kopecks", 1e9),
        ("amount_kopecks", 12.5),
        ("amount_kopecks", "12,345"),
        ("amount_kopecks", "100"),
        ("amount_kopecks", True),
        ("amount_kopecks", None),
        ("amount_kopecks", [100]),
        ("amount_kopecks", 10**30),
        ("receipt_id", 123),
        ("receipt_id", ""),
        ("receipt_id", "x" * 65),
        ("receipt_id", "receipt with spaces"),
        ("card", 9161234567),
        ("card", "91612-34567"),
        ("redeem_points", -100),
        ("redeem_points", 1.5),
        ("code", 123456),
        ("code", "12345"),
        ("unknown_field", 1),
    ],
)
async def test_wrong_values_and_types_are_422(api: Api, field: str, value: Any) -> None:
    body = await problem_of(await api.call("POST", PATH, body=purchase(**{field: value})), 422, "validation_error")
    assert body["errors"], body


async def test_exponent_literal_is_refused(api: Api) -> None:
    raw = b'{"receipt_id": "R-1", "amount_kopecks": 1e9, "card": "9161234567"}'
    await problem_of(await post_raw(api, raw), 422, "validation_error")


async def test_card_and_phone_exactly_one(api: Api) -> None:
    await problem_of(await api.call("POST", PATH, body={"receipt_id": "R", "amount_kopecks": 1}), 422,
                     "validation_error")
    both = {"receipt_id": "R", "amount_kopecks": 1, "card": CARD, "phone": "+79161234567"}
    await problem_of(await api.call("POST", PATH, body=both), 422, "validation_error")


async def test_unknown_and_blocked_cards(api: Api) -> None:
    await problem_of(await api.call("POST", PATH, body=purchase(card="9990001122")), 404, "card_not_found")
    await problem_of(await api.call("POST", PATH, body={**purchase(), "card": None, "phone": "+79990001122"}),
                     404, "card_not_found")
    await api.call("PUT", f"/api/v1/cards/{CARD}/status", key=api.admin, body={"status": "blocked"})
    await problem_of(await api.call("POST", PATH, body=purchase()), 422, "card_blocked")


async def test_unknown_route_and_method_are_problems(api: Api) -> None:
    response = await api.client.get("/api/v1/nothing-here")
    assert response.status == 404 and response.content_type == "application/problem+json"
    response = await api.client.delete(PATH)
    assert response.status == 405 and response.content_type == "application/problem+json"
    response = await api.client.get("/api/v1/cards/abc/operations")
    assert response.status == 404


async def test_bad_query_parameters(api: Api) -> None:
    for query in ["limit=abc", "limit=0", "limit=1e3", "limit=-5", "extra=1", "limit=5&limit=6", "before=a&after=b"]:
        await problem_of(await api.call("GET", f"/api/v1/cards/{CARD}/operations?{query}"), 422, "validation_error")


@pytest.fixture
async def limited(uow: UnitOfWork, clock: FrozenClock) -> AsyncIterator[Api]:
    async for item in make_api(uow, clock, api_rate_limit_per_minute=60, api_rate_limit_burst=3):
        yield item


async def test_rate_limit_per_key(limited: Api) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"
    for _ in range(3):
        assert (await limited.call("GET", path)).status == 200
    response = await limited.call("GET", path)
    body = await problem_of(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) >= 1
    assert body["retry_after"] == int(response.headers["Retry-After"])
    # Another key has its own bucket.
    assert (await limited.call("GET", path, key=limited.admin)).status == 200
