"""The services behind the HTTP server: update claims and API keys, against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiKey, AuditEntry
from db.uow import UnitOfWork
from services import api_keys, stores, update_dedup
from services.clock import FrozenClock
from services.errors import BadSignature, StoreNotFound, Unauthorized, ValidationFailed
from services.update_dedup import Claim


async def test_an_update_is_claimed_once_released_and_pruned(uow: UnitOfWork, clock: FrozenClock) -> None:
    assert await update_dedup.claim_update(uow, clock, 10) is Claim.NEW
    assert await update_dedup.claim_update(uow, clock, 10) is Claim.BUSY  # still being handled
    await update_dedup.finish_update(uow, clock, 10)
    assert await update_dedup.claim_update(uow, clock, 10) is Claim.DONE
    await update_dedup.release_update(uow, 10)
    assert await update_dedup.claim_update(uow, clock, 10) is Claim.NEW
    await update_dedup.finish_update(uow, clock, 10)
    clock.advance(timedelta(hours=26))
    assert await update_dedup.claim_update(uow, clock, 11) is Claim.NEW
    await update_dedup.finish_update(uow, clock, 11)
    assert await update_dedup.prune_processed_updates(uow, clock) == 1  # 10 is old, 11 is fresh
    assert await update_dedup.claim_update(uow, clock, 11) is Claim.DONE


async def test_a_claim_abandoned_mid_update_is_taken_over_after_its_lease(uow: UnitOfWork, clock: FrozenClock) -> None:
    assert await update_dedup.claim_update(uow, clock, 20) is Claim.NEW  # an instance that then dies
    clock.advance(update_dedup.LEASE - timedelta(seconds=1))
    assert await update_dedup.claim_update(uow, clock, 20) is Claim.BUSY
    clock.advance(timedelta(seconds=2))
    assert await update_dedup.claim_update(uow, clock, 20) is Claim.NEW  # the redelivery takes it over
    assert await update_dedup.claim_update(uow, clock, 20) is Claim.BUSY  # and holds a fresh lease
    await update_dedup.finish_update(uow, clock, 20)
    clock.advance(update_dedup.LEASE * 2)
    assert await update_dedup.claim_update(uow, clock, 20) is Claim.DONE  # a finished claim never expires early


async def test_the_lease_is_the_callers(uow: UnitOfWork, clock: FrozenClock) -> None:
    """UPDATE_LEASE_SECONDS: an operator (or a test) may shorten how long a dead instance's claim holds."""
    lease = timedelta(seconds=20)
    assert await update_dedup.claim_update(uow, clock, 30, lease=lease) is Claim.NEW
    clock.advance(timedelta(seconds=19))
    assert await update_dedup.claim_update(uow, clock, 30, lease=lease) is Claim.BUSY
    clock.advance(timedelta(seconds=2))
    assert await update_dedup.claim_update(uow, clock, 30, lease=lease) is Claim.NEW


async def test_keys_are_stored_hashed_and_audited(uow: UnitOfWork, clock: FrozenClock) -> None:
    await stores.add_store(uow, clock, code="S1", name="Main", actor="test")
    created = await api_keys.create_api_key(uow, clock, store_code="S1", scopes=("pos",), name="till", actor="cli")

    async def rows(session: AsyncSession) -> tuple[ApiKey, list[str]]:
        key = (await session.execute(select(ApiKey))).scalar_one()
        actions = list((await session.execute(select(AuditEntry.action))).scalars())
        return key, actions

    key, actions = await uow.read(rows)
    assert created.key not in (key.key_hash, key.prefix, key.signing_secret)
    assert key.key_hash == api_keys.hash_key(created.key)
    assert "api_key.create" in actions
    principal = await api_keys.authenticate(uow, created.key)
    assert (principal.store_code, principal.scopes) == ("S1", ("pos",))
    assert principal.has("pos") and not principal.has("admin")
    with pytest.raises(Unauthorized):
        await api_keys.authenticate(uow, created.key + "x")
    with pytest.raises(StoreNotFound):
        await api_keys.create_api_key(uow, clock, store_code="NOPE", scopes=("pos",), name=None, actor="cli")
    with pytest.raises(ValidationFailed):
        api_keys.parse_scopes("pos,root")


def test_signature_window_edges(clock: FrozenClock) -> None:
    now = int(clock.now().timestamp())
    request = api_keys.SignedRequest("POST", "/api/v1/purchases?x=1", "", b'{"a": 1}')
    window = api_keys.SignatureWindow(max_age_seconds=300, max_future_seconds=30)
    for offset in (-300, 0, 30):
        api_keys.verify_signature("s", api_keys.sign("s", now + offset, request), request, clock.now(), window)
    for offset in (-301, 31):
        with pytest.raises(BadSignature):
            api_keys.verify_signature("s", api_keys.sign("s", now + offset, request), request, clock.now(), window)
    # Two v2 values (a client rotating secrets): one matching is enough, and it is the one returned.
    header = api_keys.sign("s", now, request) + ",v2=" + "0" * 64
    assert api_keys.verify_signature("s", header, request, clock.now(), window) == header.split("v2=")[1][:64]
    # A nonce is signed: changing it breaks the signature.
    with_nonce = api_keys.sign("s", now, request, nonce="abc")
    api_keys.verify_signature("s", with_nonce, request, clock.now(), window)
    with pytest.raises(BadSignature):
        api_keys.verify_signature("s", with_nonce.replace("n=abc", "n=abd"), request, clock.now(), window)


def test_the_signed_string_separates_every_part() -> None:
    base = api_keys.SignedRequest("POST", "/api/v1/purchases", "k", b"{}")
    variants = [
        base,
        api_keys.SignedRequest("PUT", "/api/v1/purchases", "k", b"{}"),
        api_keys.SignedRequest("POST", "/api/v1/purchases?", "k", b"{}"),
        api_keys.SignedRequest("POST", "/api/v1/purchases", "", b"{}"),
        api_keys.SignedRequest("POST", "/api/v1/purchases", "k", b"{} "),
    ]
    strings = {api_keys.canonical_string(1, "", request) for request in variants}
    strings.add(api_keys.canonical_string(1, "n", base))
    strings.add(api_keys.canonical_string(2, "", base))
    assert len(strings) == len(variants) + 2
