"""Admin endpoints, the OpenAPI document, health, readiness and metrics."""

from __future__ import annotations

import json

import jsonschema
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_web_app
from bot.redis import create_redis
from services import customers, staff
from services.phones import PhonePolicy
from tests.http.conformance import document, operation_for
from tests.http.conftest import CARD, Api
from tests.http.test_api_pos import problem_of, purchase


async def test_manual_adjustment_is_idempotent_on_the_header(api: Api) -> None:
    path = f"/api/v1/cards/{CARD}/adjustments"
    body = {"points": 5_000, "reason": "apology for the queue"}
    missing = await api.call("POST", path, key=api.admin, body=body)
    await problem_of(missing, 422, "validation_error")
    first = await api.call("POST", path, key=api.admin, body=body, headers={"Idempotency-Key": "adj-1"})
    assert first.status == 201, await first.text()
    result = await first.json()
    assert result["balance"] == 115_000
    again = await api.call("POST", path, key=api.admin, body=body, headers={"Idempotency-Key": "adj-1"})
    assert await again.json() == result
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await api.call("POST", path, key=api.admin, body={**body, "points": 6_000},
                           headers={"Idempotency-Key": "adj-1"})
    await problem_of(other, 409, "idempotency_conflict")
    take = await api.call("POST", path, key=api.admin, body={"points": -1_000_000, "reason": "x"},
                          headers={"Idempotency-Key": "adj-2"})
    await problem_of(take, 403, "adjustment_limit")  # 10 000 points is above the daily limit of 1000
    zero = await api.call("POST", path, key=api.admin, body={"points": 0, "reason": "x"},
                          headers={"Idempotency-Key": "adj-3"})
    await problem_of(zero, 422, "validation_error")


async def test_card_status(api: Api) -> None:
    path = f"/api/v1/cards/{CARD}/status"
    assert (await (await api.call("PUT", path, key=api.admin, body={"status": "accrual_only"})).json())[
        "status"] == "accrual_only"
    await problem_of(await api.call("PUT", path, key=api.admin, body={"status": "lost"}), 422, "validation_error")
    await problem_of(await api.call("PUT", "/api/v1/cards/123/status", key=api.admin, body={"status": "active"}),
                     404, "card_not_found")


async def test_program_settings(api: Api) -> None:
    path = "/api/v1/program/settings"
    current = await (await api.call("GET", path, key=api.admin)).json()
    assert current["return_window_days"] == 14
    assert (current["confirm_accrual_above_rub"], current["max_receipt_rub"]) == (100_000, 10_000_000)
    await problem_of(await api.call("PATCH", path, key=api.admin, body={"max_receipt_rub": 0}), 422,
                     "invalid_setting")
    changed = await api.call("PATCH", path, key=api.admin, body={"confirm_accrual_above_rub": 0})
    assert (await changed.json())["confirm_accrual_above_rub"] == 0
    changed = await api.call("PATCH", path, key=api.admin, body={"return_window_days": 0, "mode": "bonus"})
    assert (await changed.json())["return_window_days"] == 0
    assert (await (await api.call("GET", path, key=api.admin)).json())["return_window_days"] == 0
    # The rules now give points at once.
    bought = await api.call("POST", "/api/v1/purchases", body=purchase())
    assert (await bought.json())["points_status"] == "active"
    await problem_of(await api.call("PATCH", path, key=api.admin, body={"redemption_cap_bp": 20_000}), 422,
                     "invalid_setting")
    await problem_of(await api.call("PATCH", path, key=api.admin, body={"no_such_setting": 1}), 422,
                     "validation_error")
    await problem_of(await api.call("PATCH", path, key=api.admin, body={"expiry_days": "30"}), 422,
                     "validation_error")
    await problem_of(await api.call("PATCH", path, key=api.admin, body={}), 422, "invalid_setting")


async def test_customer_search_and_staff_list(api: Api) -> None:
    found = await (await api.call("GET", "/api/v1/customers?q=Ivanova", key=api.admin)).json()
    assert [c["card_number"] for c in found["items"]] == [CARD]
    assert found["items"][0]["phone"] == "+79161234567"  # admins see the phone
    by_phone = await (await api.call("GET", "/api/v1/customers?q=89161234567", key=api.admin)).json()
    assert len(by_phone["items"]) == 1 and by_phone["total"] == 1
    for number in range(7):
        await customers.create_walk_in(
            api.context.uow, api.clock, phone=f"+7903{number:07d}", name="Olga", surname="Ivanova",
            phone_policy=PhonePolicy(), actor="test",
        )
    page = await (await api.call("GET", "/api/v1/customers?q=ivanova&limit=3&offset=6", key=api.admin)).json()
    assert page["total"] == 8 and page["offset"] == 6 and len(page["items"]) == 2
    await staff.add_staff(api.context.uow, api.clock, telegram_id=42, role="cashier", name="Kate", store_code="S1",
                          actor="test")
    members = await (await api.call("GET", "/api/v1/staff", key=api.admin)).json()
    assert [(m["telegram_id"], m["role"], m["store_code"]) for m in members["items"]] == [(42, "cashier", "S1")]


async def test_openapi_document_lists_every_route(api: Api) -> None:
    response = await api.client.get("/api/v1/openapi.json")
    assert response.status == 200
    published = await response.json()
    assert published["openapi"].startswith("3.1")
    assert published == json.loads(json.dumps(document()))
    routes = [
        (route.method, route.resource.canonical)
        for route in api.client.app.router.routes()
        if route.resource is not None and route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical != "/api/v1/openapi.json" and route.method != "HEAD"
    ]
    assert len(routes) == 13
    for method, canonical in routes:
        example = canonical.replace("{number}", CARD).replace("{customer_id}", "1")
        assert operation_for(method, example) is not None, f"{method} {canonical} missing from the document"
    # Every schema in it is a valid JSON Schema (2020-12, the dialect of OpenAPI 3.1).
    for schema in published["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    # Request bodies are the validating models: unknown fields are refused by the document too.
    assert published["components"]["schemas"]["PurchaseRequest"]["additionalProperties"] is False


async def test_health_readiness_and_metrics(api: Api) -> None:
    assert (await (await api.client.get("/healthz")).json()) == {"status": "ok"}
    ready = await api.client.get("/readyz")
    assert ready.status == 200
    assert await ready.json() == {"status": "ok", "database": "ok"}
    await api.call("GET", f"/api/v1/cards/lookup?q={CARD}")
    await api.call("GET", "/api/v1/cards/lookup?q=1")
    metrics = await (await api.client.get("/metrics")).text()
    assert 'loyalty_api_requests_total{method="GET",route="/api/v1/cards/lookup",status="200"}' in metrics
    assert 'loyalty_api_requests_total{method="GET",route="/api/v1/cards/lookup",status="404"}' in metrics
    assert 'loyalty_outbox_depth{status="pending"}' in metrics
    assert "loyalty_telegram_updates_total" in metrics
    assert "loyalty_outbox_sends_total" in metrics


async def test_readiness_fails_when_redis_is_down(api: Api) -> None:
    # Nothing listens on port 1: Redis is configured but unreachable.
    redis = create_redis("redis://127.0.0.1:1/0")
    app: web.Application = build_web_app(api.context, redis=redis)
    client: TestClient[web.Request, web.Application] = TestClient(TestServer(app))
    await client.start_server()
    try:
        response = await client.get("/readyz")
        assert response.status == 503
        body = await response.json()
        assert body["database"] == "ok" and body["redis"] != "ok"
    finally:
        await client.close()
        await redis.aclose()
