"""The till's endpoints (scope pos) through the aiohttp test client, on SQLite and PostgreSQL.
Every response is also checked against the OpenAPI document (see conftest.Api.call)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Operation
from services import api_keys
from services.ledger import check_invariants
from tests.http.conftest import CARD, Api

PROBLEM = "application/problem+json"


async def problem_of(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, await response.text()
    assert response.content_type == PROBLEM
    body: dict[str, Any] = await response.json(content_type=None)
    assert body["type"] == f"urn:loyalty:problem:{code}", body
    assert body["code"] == code
    assert body["status"] == status
    return body


def purchase(receipt: str = "R-1", amount: int = 100_000, **extra: Any) -> dict[str, Any]:
    return {"receipt_id": receipt, "amount_kopecks": amount, "card": CARD, **extra}


async def operations_of(api: Api, kind: str) -> int:
    async def work(session: AsyncSession) -> int:
        stmt = select(func.count()).select_from(Operation).where(Operation.kind == kind)
        return int((await session.execute(stmt)).scalar_one())

    return await api.context.uow.read(work)


async def test_lookup_by_number_and_by_phone(api: Api) -> None:
    by_number = await api.call("GET", f"/api/v1/cards/lookup?q={CARD}")
    assert by_number.status == 200
    card = await by_number.json()
    assert card["number"] == CARD
    assert card["balance"] == 110_000  # welcome 100 points + 1000 seeded, in hundredths
    assert card["status"] == "active"
    assert card["masked_phone"] == "+7 *** ***-45-67"
    assert card["level"] == {"code": "base", "name": "Base", "name_ru": "Базовый", "name_en": "Base", "percent_bp": 500}
    by_phone = await api.call("GET", "/api/v1/cards/lookup", headers={}, body=None)
    await problem_of(by_phone, 422, "validation_error")  # q is required
    by_phone = await api.client.get(
        "/api/v1/cards/lookup", params={"q": "8 (916) 123-45-67"}, headers={"Authorization": f"Bearer {api.pos.key}"}
    )
    assert (await by_phone.json())["number"] == CARD


async def test_lookup_of_an_unknown_card_is_404(api: Api) -> None:
    english = await problem_of(await api.call("GET", "/api/v1/cards/lookup?q=9990000000"), 404, "card_not_found")
    russian = await problem_of(
        await api.call("GET", "/api/v1/cards/lookup?q=9990000000", headers={"Accept-Language": "ru-RU,ru;q=0.9"}),
        404, "card_not_found",
    )
    assert english["title"] == russian["title"] == "Card not found"
    assert english["detail"] == "Card not found."
    assert russian["detail"] != english["detail"]


async def test_quote(api: Api) -> None:
    response = await api.call("POST", "/api/v1/purchases/quote", body={"card": CARD, "amount_kopecks": 100_000})
    assert response.status == 200
    quote = await response.json()
    assert quote["points_to_accrue"] == 5_000  # 5 % of 1000 RUB = 50 points
    assert quote["max_redeemable"] == 30_000  # 30 % of the receipt, the balance allows it
    assert quote["accrual_allowed"] and quote["payment_allowed"]
    with_points = await api.call(
        "POST", "/api/v1/purchases/quote", body={"phone": "+7 916 123 45 67", "amount_kopecks": 100_000,
                                                 "redeem_points": 10_000}
    )
    assert (await with_points.json())["points_to_accrue"] == 4_500  # earned on the 900 RUB paid in money
    too_much = await api.call(
        "POST", "/api/v1/purchases/quote", body={"card": CARD, "amount_kopecks": 100_000, "redeem_points": 40_000}
    )
    await problem_of(too_much, 422, "cap_exceeded")


async def test_purchase_accrues_and_replays_the_first_response(api: Api) -> None:
    first = await api.call("POST", "/api/v1/purchases", body=purchase())
    assert first.status == 201
    body = await first.json()
    assert body["accrued_points"] == 5_000
    assert body["points_status"] == "pending"
    assert body["store"] == "S1"
    assert "Idempotent-Replayed" not in first.headers
    again = await api.call("POST", "/api/v1/purchases", body=purchase())
    assert again.status == 201
    assert await again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    other = await api.call("POST", "/api/v1/purchases", body=purchase(amount=100_001))
    await problem_of(other, 409, "idempotency_conflict")
    assert await operations_of(api, "purchase_accrual") == 1


async def test_same_receipt_id_in_another_store_is_another_purchase(api: Api) -> None:
    assert (await api.call("POST", "/api/v1/purchases", body=purchase())).status == 201
    assert (await api.call("POST", "/api/v1/purchases", key=api.other_pos, body=purchase())).status == 201
    assert await operations_of(api, "purchase_accrual") == 2


async def test_purchase_by_phone(api: Api) -> None:
    response = await api.call(
        "POST", "/api/v1/purchases", body={"receipt_id": "P-1", "amount_kopecks": 50_000, "phone": "89161234567"}
    )
    assert response.status == 201
    assert (await response.json())["card_number"] == CARD


async def test_purchase_with_points_needs_the_customers_code(api: Api) -> None:
    no_code = await api.call("POST", "/api/v1/purchases", body=purchase(redeem_points=10_000))
    await problem_of(no_code, 422, "validation_error")
    bad = await api.call("POST", "/api/v1/purchases", body=purchase(redeem_points=10_000, code="000000"))
    if (await api.code()) != "000000":
        await problem_of(bad, 422, "bad_code")
    over_cap = await api.call("POST", "/api/v1/purchases", body=purchase(redeem_points=40_000, code=await api.code()))
    await problem_of(over_cap, 422, "cap_exceeded")
    ok = await api.call("POST", "/api/v1/purchases", body=purchase(redeem_points=10_000, code=await api.code()))
    assert ok.status == 201, await ok.text()
    body = await ok.json()
    assert body["redeemed_points"] == 10_000
    assert body["accrued_points"] == 4_500
    assert body["balance"] == 100_000
    # A retry with a fresh code is the same purchase: the first response, nothing spent twice.
    api.clock.advance(timedelta(seconds=90))
    retry = await api.call("POST", "/api/v1/purchases", body=purchase(redeem_points=10_000, code=await api.code()))
    assert retry.status == 201
    assert await retry.json() == body


async def _wrong_code(api: Api) -> str:
    right = await api.code()
    return "000000" if right != "000000" else "111111"


async def test_wrong_codes_lock_the_key_that_sent_them_not_the_customers_card(api: Api) -> None:
    """Any POS key could otherwise lock any customer (whose card number is their phone) out of
    paying at every till: five wrong codes from key A lock key A for this card, key B goes on."""
    wrong = await _wrong_code(api)
    for n in range(5):
        bad = await api.call("POST", "/api/v1/purchases", body=purchase(f"A-{n}", redeem_points=1_000, code=wrong))
        await problem_of(bad, 422, "bad_code")  # refused, and counted
    locked = await api.call(
        "POST", "/api/v1/purchases", body=purchase("A-5", redeem_points=1_000, code=await api.code()),
        headers={"Accept-Language": "ru"},
    )
    body = await problem_of(locked, 429, "too_many_code_attempts")
    assert locked.headers["Retry-After"] == "600"
    assert body["params"]["retry_after_seconds"] == 600 and body["params"]["scope"] == "card"
    assert "10 минут" in body["detail"]

    other_key = await api.call(
        "POST", "/api/v1/purchases", key=api.admin, body=purchase("B-1", redeem_points=1_000, code=await api.code())
    )
    assert other_key.status == 201, await other_key.text()
    assert (await other_key.json())["redeemed_points"] == 1_000


async def test_the_right_code_twice_is_already_used_and_no_wrong_try(api: Api) -> None:
    code = await api.code()
    first = await api.call("POST", "/api/v1/purchases", body=purchase("U-1", redeem_points=1_000, code=code))
    assert first.status == 201
    for n in range(6):  # more than the wrong tries that would lock this key
        again = await api.call("POST", "/api/v1/purchases", body=purchase(f"U-{n + 2}", redeem_points=1_000, code=code))
        body = await problem_of(again, 409, "code_already_used")
        assert "new code" in body["detail"]
    api.clock.advance(timedelta(seconds=60))
    fresh = await api.call(
        "POST", "/api/v1/purchases", body=purchase("U-9", redeem_points=1_000, code=await api.code())
    )
    assert fresh.status == 201, await fresh.text()


async def test_insufficient_points(api: Api) -> None:
    # 30 % of 5000 RUB = 1500 points > the 1100 on the card.
    response = await api.call(
        "POST", "/api/v1/purchases", body=purchase(amount=500_000, redeem_points=150_000, code=await api.code())
    )
    await problem_of(response, 422, "insufficient_points")


async def test_twenty_concurrent_identical_purchases_accrue_once(api: Api) -> None:
    responses = await asyncio.gather(
        *(api.call("POST", "/api/v1/purchases", body=purchase("RACE-1")) for _ in range(20))
    )
    assert [r.status for r in responses] == [201] * 20
    bodies = [await r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert await operations_of(api, "purchase_accrual") == 1
    card = await (await api.call("GET", f"/api/v1/cards/lookup?q={CARD}")).json()
    assert card["pending"] == 5_000


async def test_refund_is_idempotent_and_bounded_by_the_store(api: Api) -> None:
    assert (await api.call("POST", "/api/v1/purchases", body=purchase())).status == 201
    refund = {"refund_id": "RF-1", "receipt_id": "R-1", "amount_kopecks": 50_000}
    other_store = await api.call("POST", "/api/v1/refunds", key=api.other_pos, body=refund)
    await problem_of(other_store, 404, "receipt_not_found")
    first = await api.call("POST", "/api/v1/refunds", body=refund)
    assert first.status == 201, await first.text()
    body = await first.json()
    assert body["reversed_points"] == 2_500
    assert body["receipt_refunded_kopecks"] == 50_000
    again = await api.call("POST", "/api/v1/refunds", body=refund)
    assert await again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = await api.call("POST", "/api/v1/refunds", body={**refund, "amount_kopecks": 40_000})
    await problem_of(changed, 409, "idempotency_conflict")
    rest = await api.call("POST", "/api/v1/refunds", body={"refund_id": "RF-2", "receipt_id": "R-1"})
    assert (await rest.json())["receipt_refunded_kopecks"] == 100_000
    beyond = await api.call("POST", "/api/v1/refunds", body={"refund_id": "RF-3", "receipt_id": "R-1",
                                                             "amount_kopecks": 1})
    await problem_of(beyond, 422, "refund_exceeds_receipt")


async def test_operations_pagination(api: Api) -> None:
    for i in range(5):
        api.clock.advance(timedelta(minutes=1))
        assert (await api.call("POST", "/api/v1/purchases", body=purchase(f"R-{i}"))).status == 201
    seen: list[int] = []
    path = f"/api/v1/cards/{CARD}/operations?limit=3"
    while True:
        page = await (await api.call("GET", path)).json()
        seen += [item["id"] for item in page["items"]]
        if page["older_cursor"] is None:
            break
        path = f"/api/v1/cards/{CARD}/operations?limit=3&before={page['older_cursor']}"
    # 5 purchases + the seed adjustment + the welcome bonus, newest first, each once.
    assert len(seen) == len(set(seen)) == 7
    assert seen == sorted(seen, reverse=True)
    bad = await api.call("GET", f"/api/v1/cards/{CARD}/operations?before=nonsense")
    await problem_of(bad, 422, "bad_cursor")
    limit = await api.call("GET", f"/api/v1/cards/{CARD}/operations?limit=1000")
    await problem_of(limit, 422, "validation_error")
    unknown = await api.call("GET", "/api/v1/cards/1234/operations")
    await problem_of(unknown, 404, "card_not_found")


async def test_walk_in_customer(api: Api) -> None:
    created = await api.call("POST", "/api/v1/customers", body={"phone": "+7 903 111-22-33", "name": "Oleg"})
    assert created.status == 201
    body = await created.json()
    assert body["card_number"] == "9031112233"
    assert body["phone"] == "+7 *** ***-22-33" and body["masked"]  # a till sees masked phones
    by_admin = await api.call("POST", "/api/v1/customers", key=api.admin, body={"phone": "+79031112244", "name": "Ira"})
    assert (await by_admin.json())["phone"] == "+79031112244"
    again = await api.call("POST", "/api/v1/customers", body={"phone": "89031112233", "name": "Oleg"})
    await problem_of(again, 409, "card_exists")
    invalid = await api.call("POST", "/api/v1/customers", body={"phone": "12345", "name": "Oleg"})
    await problem_of(invalid, 422, "invalid_phone")


async def test_blocked_card_refuses_purchases_but_can_be_looked_up(api: Api) -> None:
    blocked = await api.call("PUT", f"/api/v1/cards/{CARD}/status", key=api.admin, body={"status": "blocked"})
    assert (await blocked.json())["status"] == "blocked"
    await problem_of(await api.call("POST", "/api/v1/purchases", body=purchase()), 422, "card_blocked")
    await problem_of(
        await api.call("POST", "/api/v1/purchases/quote", body={"card": CARD, "amount_kopecks": 100}), 422,
        "card_blocked",
    )
    assert (await (await api.call("GET", f"/api/v1/cards/lookup?q={CARD}")).json())["status"] == "blocked"


async def test_signed_requests(api: Api) -> None:
    assert (await api.call("POST", "/api/v1/purchases", body=purchase(), sign=True)).status == 201
    raw = b'{"receipt_id": "S-2", "amount_kopecks": 100, "card": "9161234567"}'
    request = api_keys.SignedRequest("POST", "/api/v1/purchases", "", raw)
    now = int(api.clock.now().timestamp())
    secret = api.pos.signing_secret

    async def send(header: str, body: bytes = raw) -> Any:
        return await api.call("POST", "/api/v1/purchases", raw=body, headers={"X-Signature": header})

    async def refused(header: str, reason: str, body: bytes = raw) -> None:
        problem = await problem_of(await send(header, body), 401, "bad_signature")
        assert problem["params"]["reason"] == reason, problem

    await refused(api_keys.sign(secret, now - 301, request), "expired")
    await refused(api_keys.sign(secret, now + 31, request), "expired")
    await refused(api_keys.sign("another secret", now, request), "mismatch")
    await refused(api_keys.sign(secret, now, request), "mismatch", raw.replace(b"100", b"900"))
    await refused("v2=abc", "malformed")
    await refused("t=abc,v2=abc", "malformed")
    await refused("garbage", "malformed")
    await refused(f"t={now},t={now},v2=00", "malformed")
    await refused(f"t={now},v2=\u00e9", "malformed")
    # The first scheme (timestamp and body only) is refused by name, so an integrator knows why.
    await refused(f"t={now},v1=" + "0" * 64, "scheme_v1_retired")
    assert (await send(api_keys.sign(secret, now - 299, request))).status == 201


async def test_auth_failures(api: Api) -> None:
    path = f"/api/v1/cards/lookup?q={CARD}"
    await problem_of(await api.client.get(path), 401, "unauthorized")
    await problem_of(await api.client.get(path, headers={"Authorization": f"Basic {api.pos.key}"}), 401,
                     "unauthorized")
    await problem_of(await api.client.get(path, headers={"Authorization": "Bearer nonsense"}), 401, "unauthorized")
    forged = api.pos.key[:-4] + ("AAAA" if not api.pos.key.endswith("AAAA") else "BBBB")
    await problem_of(await api.client.get(path, headers={"Authorization": f"Bearer {forged}"}), 401, "unauthorized")
    unknown = "lk_ZZZZZZZZZZZZ_" + "x" * 43
    await problem_of(await api.client.get(path, headers={"Authorization": f"Bearer {unknown}"}), 401, "unauthorized")
    assert (await api.call("GET", path)).status == 200  # the key is now remembered by this instance
    await api_keys.revoke_api_key(api.context.uow, api.clock, prefix=api.pos.prefix, actor="test")
    await problem_of(await api.call("GET", path), 401, "unauthorized")


async def test_a_key_revoked_by_another_instance_stops_working_within_the_cache_time(
    api: Api, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db.engine import create_engine
    from db.uow import UnitOfWork

    monkeypatch.setattr(api_keys._principals, "ttl", 0.3)
    path = f"/api/v1/cards/lookup?q={CARD}"
    assert (await api.call("GET", path)).status == 200
    other = create_engine(db_url)
    try:
        await api_keys.revoke_api_key(UnitOfWork(other), api.clock, prefix=api.pos.prefix, actor="test")
    finally:
        await other.dispose()
    await asyncio.sleep(0.35)
    await problem_of(await api.call("GET", path), 401, "unauthorized")


async def test_pos_key_cannot_use_admin_endpoints(api: Api) -> None:
    for method, path, body in [
        ("GET", "/api/v1/staff", None),
        ("GET", "/api/v1/customers?q=Ivanova", None),
        ("GET", "/api/v1/program/settings", None),
        ("PATCH", "/api/v1/program/settings", {"return_window_days": 0}),
        ("PUT", f"/api/v1/cards/{CARD}/status", {"status": "blocked"}),
        ("POST", f"/api/v1/cards/{CARD}/adjustments", {"points": 100, "reason": "x"}),
    ]:
        body_of = await problem_of(await api.call(method, path, body=body), 403, "insufficient_scope")
        assert body_of["params"] == {"scope": "admin"}


async def test_concurrent_purchases_on_one_card_are_each_accrued_exactly_once(api: Api) -> None:
    """They share transactions (services/card_turns.py); a conflicting one is refused alone."""
    assert (await api.call("POST", "/api/v1/purchases", body=purchase("HOT-0"))).status == 201
    bodies = [purchase(f"HOT-{i}") for i in range(1, 16)] + [purchase("HOT-0", amount=200_000)]
    responses = await asyncio.gather(*(api.call("POST", "/api/v1/purchases", body=body) for body in bodies))
    assert [r.status for r in responses] == [201] * 15 + [409]
    assert await operations_of(api, "purchase_accrual") == 16
    card = await (await api.call("GET", f"/api/v1/cards/lookup?q={CARD}")).json()
    assert card["pending"] == 16 * 5_000
    await check_invariants(api.context.uow)


async def test_an_unknown_card_among_concurrent_purchases_is_refused_alone(api: Api) -> None:
    """It is refused before anything is written, inside the transaction the others share
    (services/card_turns.py::Refused)."""
    unknown = {"receipt_id": "U-1", "amount_kopecks": 100_000, "card": "4000000000000"}
    bodies = [purchase(f"U-{i}") for i in range(2, 10)] + [unknown]
    responses = await asyncio.gather(*(api.call("POST", "/api/v1/purchases", body=body) for body in bodies))
    assert [r.status for r in responses[:-1]] == [201] * 8
    await problem_of(responses[-1], 404, "card_not_found")
    assert await operations_of(api, "purchase_accrual") == 8


async def test_a_receipt_above_the_programs_limit_is_refused_naming_it(api: Api) -> None:
    too_large = purchase("BIG-1", amount=20_000_000_00)
    body = await problem_of(await api.call("POST", "/api/v1/purchases", body=too_large,
                                           headers={"Accept-Language": "ru"}), 422, "receipt_too_large")
    assert body["params"] == {"amount_kopecks": 20_000_000_00, "max_kopecks": 10_000_000_00}, body
    assert "10\u00a0000\u00a0000\u00a0₽" in body["detail"], body
    quote = {"card": CARD, "amount_kopecks": 20_000_000_00, "redeem_points": 0}
    await problem_of(await api.call("POST", "/api/v1/purchases/quote", body=quote), 422, "receipt_too_large")
    # The owner's limit, changed at run time through the settings.
    changed = await api.call("PATCH", "/api/v1/program/settings", key=api.admin, body={"max_receipt_rub": 1000})
    assert (await changed.json())["max_receipt_rub"] == 1000
    await problem_of(await api.call("POST", "/api/v1/purchases", body=purchase("BIG-2", amount=1000_01)), 422,
                     "receipt_too_large")
    assert (await api.call("POST", "/api/v1/purchases", body=purchase("OK-1", amount=1000_00))).status == 201
    assert await operations_of(api, "purchase_accrual") == 1
