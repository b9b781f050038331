"""Migration 0006_erasable_references scrubs what rows written before it hold about people: Telegram
actors become internal ids, card numbers leave the audit log, the timeline and family move reasons,
stored responses get their card (or go, when their card number is gone), erased customers' phone
conflicts lose the phone; the audit log is append-only again afterwards."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from db import migrate

AT = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


async def _sql(engine: AsyncEngine, statement: str, **params: Any) -> list[Any]:
    async with engine.begin() as conn:
        result = await conn.execute(text(statement), {"at": AT, **params})
        return list(result.all()) if result.returns_rows else []


async def test_rows_written_before_are_scrubbed(engine: AsyncEngine) -> None:
    await migrate.downgrade(engine, "0004")
    customer = (
        "INSERT INTO customers (id, name, phone, telegram_id, language, unreachable, marketing_consent, "
        "notification_optouts, created_at, deleted_at) VALUES (:id, :name, :phone, :tg, 'ru', false, false, '[]', "
        ":at, :deleted)"
    )
    # 1: live, Telegram 7001; 2: erased before the migration (was Telegram 7002); staff 1: Telegram 7003.
    await _sql(engine, customer, id=1, name="Анна", phone="+79161234567", tg=7001, deleted=None)
    await _sql(engine, customer, id=2, name=None, phone=None, tg=None, deleted=AT)
    await _sql(
        engine, "INSERT INTO staff (id, telegram_id, name, role, created_at) VALUES (1, 7003, 'S', 'owner', :at)"
    )
    card = "INSERT INTO cards (id, number, customer_id, otp_secret, created_at) VALUES (:id, :number, :owner, 'X', :at)"
    await _sql(engine, card, id=1, number="9161234567", owner=1)
    await _sql(engine, card, id=2, number="deleted-2", owner=None)
    audit = (
        'INSERT INTO audit_log (at, actor, action, entity, entity_id, "before", "after") '
        "VALUES (:at, :actor, :action, :entity, :entity_id, :before, :after)"
    )
    snapshot = json.dumps({"number": "9031804259", "customer_id": 2, "status": "active"})
    await _sql(engine, audit, actor="telegram:7002", action="card.issue", entity="card", entity_id="2",
               before=None, after=snapshot)
    await _sql(engine, audit, actor="telegram:7003", action="staff.accept_invite", entity="staff", entity_id="1",
               before=None, after=json.dumps({"role": "owner"}))
    await _sql(engine, audit, actor="staff:1", action="customer.create_walk_in", entity="customer", entity_id="1",
               before=None, after=json.dumps({"card": "9161234567", "store_id": None}))
    await _sql(engine, audit, actor="staff:1", action="settings.update", entity="settings", entity_id=None,
               before=json.dumps({"number": 5}), after="null")
    timeline = (
        "INSERT INTO customer_timeline (customer_id, at, actor, kind, data) VALUES (:c, :at, :actor, :kind, :data)"
    )
    await _sql(engine, timeline, c=2, actor="telegram:7002", kind="registered", data="{}")
    await _sql(engine, timeline, c=1, actor="telegram:7001", kind="registered", data="{}")
    await _sql(engine, timeline, c=1, actor="staff:1", kind="card_bind",
               data=json.dumps({"card": "9161234567", "from": None, "to": 1}))
    operation = (
        "INSERT INTO operations (card_id, kind, points, actor, reason, idempotency_key, created_at) "
        "VALUES (:card, :kind, :points, :actor, :reason, :key, :at)"
    )
    await _sql(engine, operation, card=2, kind="welcome_bonus", points=100, actor="telegram:7002", reason="welcome",
               key="welcome:2")
    await _sql(engine, operation, card=1, kind="welcome_bonus", points=100, actor="telegram:7001", reason="welcome",
               key="welcome:1")
    await _sql(engine, operation, card=1, kind="manual_adjustment", points=5,
               actor="telegram:7999", reason="moved from card 9031804259", key="family-move:2:1:1:in")
    stored = (
        "INSERT INTO idempotent_requests (key, request_hash, status_code, response, created_at) "
        "VALUES (:key, 'h', 201, :response, :at)"
    )
    await _sql(engine, stored, key="live", response=json.dumps({"card_number": "9161234567"}))
    await _sql(engine, stored, key="gone", response=json.dumps({"card_number": "9031804259"}))
    await _sql(engine, stored, key="refund", response=json.dumps({"refund_id": "F"}))
    await _sql(engine, "INSERT INTO phone_conflicts (phone, card_id, claimant_customer_id, status, created_at) "
                       "VALUES ('+79031804259', 2, 1, 'open', :at)")
    await _sql(engine, "INSERT INTO outbox (customer_id, chat_id, kind, occasion, payload, status, not_before, "
                       "created_at) VALUES (1, 7001, 'accrual', 'op:1', '{}', 'sent', :at, :at)")

    await migrate.upgrade(engine, "head")

    actors = {tuple(r) for r in await _sql(engine, "SELECT action, actor FROM audit_log")}
    assert ("card.issue", "customer:2") in actors and ("staff.accept_invite", "staff:1") in actors
    assert [r[0] for r in await _sql(engine, "SELECT actor FROM customer_timeline ORDER BY id")] == [
        "customer:2", "customer:1", "staff:1"
    ]
    assert [r[0] for r in await _sql(engine, "SELECT actor FROM operations ORDER BY id")] == [
        "customer:2", "customer:1", "unknown"
    ]
    assert (await _sql(engine, "SELECT reason FROM operations WHERE kind = 'manual_adjustment'"))[0][0] == (
        "moved from a family member's card"
    )
    for (payload,) in await _sql(engine, 'SELECT "after" FROM audit_log WHERE action IN (\'card.issue\', '
                                         "'customer.create_walk_in')"):
        assert "9031804259" not in str(payload) and "9161234567" not in str(payload)
    # A key named "number" in what is not a card's snapshot stays; JSON null stays null.
    kept = await _sql(engine, "SELECT \"before\" FROM audit_log WHERE action = 'settings.update'")
    assert "number" in str(kept[0][0])
    assert "9161234567" not in str(await _sql(engine, "SELECT data FROM customer_timeline"))
    stored_rows = await _sql(engine, "SELECT key, card_id, customer_id FROM idempotent_requests")
    assert sorted(tuple(r) for r in stored_rows) == [("live", 1, 1), ("refund", None, None)]
    assert await _sql(engine, "SELECT phone FROM phone_conflicts") == [(None,)]
    async with engine.connect() as conn:
        columns = await conn.run_sync(lambda sync: [c["name"] for c in inspect(sync).get_columns("outbox")])
    assert "chat_id" not in columns
    # Append-only again.
    with pytest.raises((IntegrityError, OperationalError, DBAPIError)):
        await _sql(engine, "UPDATE audit_log SET actor = 'x'")
    with pytest.raises((IntegrityError, OperationalError, DBAPIError)):
        await _sql(engine, "DELETE FROM audit_log")
