"""API keys of the POS/admin HTTP API: one per till or integration, tied to a store, with scopes.

A key looks like `lk_<prefix>_<secret>`. Only a SHA-256 of the whole key is stored, so a leaked
database does not leak usable keys; the prefix finds the row without scanning. The signing secret
is stored as is because the server needs it to recompute request signatures (HMAC-SHA256).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ApiKey, Store
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.engine_cache import EngineCache
from services.errors import BadSignature, InvalidScopes, NotFound, ScopeRequired, Unauthorized, ValidationFailed
from services.stores import get_store

SCOPES = ("pos", "admin")
KEY_PREFIX = "lk"
# The first line of the string a client signs: names the scheme, so that a later one cannot be
# mistaken for it.
SIGNATURE_SCHEME = "loyalty-hmac-sha256-v2"
_KEY_SHAPE = re.compile(r"^lk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{20,100})$")
_SIGNATURE_PART = re.compile(r"^([a-z0-9]{1,8})=([A-Za-z0-9_-]*)$")
_NONCE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"


@dataclass(frozen=True)
class CreatedApiKey:
    """Returned once, at creation: `key` and `signing_secret` are shown to the operator only now."""

    id: int
    prefix: str
    key: str
    signing_secret: str
    store_code: str
    scopes: tuple[str, ...]
    name: str | None


@dataclass(frozen=True)
class ApiKeyView:
    id: int
    prefix: str
    store_code: str | None
    scopes: tuple[str, ...]
    name: str | None
    active: bool
    created_at: datetime


@dataclass(frozen=True)
class ApiPrincipal:
    """Who is calling: what a request may do and on behalf of which store."""

    key_id: int
    prefix: str
    store_id: int
    store_code: str
    scopes: tuple[str, ...]
    signing_secret: str

    @property
    def actor(self) -> str:
        return f"api:{self.key_id}"

    def has(self, scope: str) -> bool:
        # admin covers everything a till can do.
        return scope in self.scopes or "admin" in self.scopes

    def require(self, scope: str) -> None:
        if not self.has(scope):
            raise ScopeRequired(scope=scope)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def parse_scopes(raw: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    scopes = tuple(dict.fromkeys(item.strip().lower() for item in items if item.strip()))
    if not scopes or any(scope not in SCOPES for scope in scopes):
        raise InvalidScopes(scopes=raw if isinstance(raw, str) else ",".join(raw), allowed=", ".join(SCOPES))
    return scopes


def _random_alnum(length: int) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "".join(secrets.choice(alphabet) for _ in range(length))


async def create_api_key(
    uow: UnitOfWork, clock: Clock, *, store_code: str, scopes: tuple[str, ...], name: str | None, actor: str
) -> CreatedApiKey:
    scopes = parse_scopes(scopes)
    if name is not None and len(name) > 100:
        raise ValidationFailed(field="name")
    prefix = _random_alnum(12)
    key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    signing_secret = secrets.token_hex(32)

    async def work(session: AsyncSession) -> CreatedApiKey:
        store = await get_store(session, store_code)
        row = ApiKey(
            prefix=prefix,
            key_hash=hash_key(key),
            signing_secret=signing_secret,
            store_id=store.id,
            scopes=list(scopes),
            name=name,
            active=True,
            created_at=clock.now(),
        )
        session.add(row)
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="api_key.create", entity="api_key", entity_id=row.id,
            after={"prefix": prefix, "store": store.code, "scopes": list(scopes), "name": name},
        )
        return CreatedApiKey(row.id, prefix, key, signing_secret, store.code, scopes, name)

    return await uow.write(work)


async def list_api_keys(uow: UnitOfWork) -> list[ApiKeyView]:
    async def work(session: AsyncSession) -> list[ApiKeyView]:
        rows = await session.execute(
            select(ApiKey, Store.code).outerjoin(Store, Store.id == ApiKey.store_id).order_by(ApiKey.id)
        )
        return [
            ApiKeyView(key.id, key.prefix, code, tuple(key.scopes), key.name, key.active, key.created_at)
            for key, code in rows
        ]

    return await uow.read(work)


async def revoke_api_key(uow: UnitOfWork, clock: Clock, *, prefix: str, actor: str) -> None:
    async def work(session: AsyncSession) -> None:
        key = (await session.execute(select(ApiKey).where(ApiKey.prefix == prefix))).scalar_one_or_none()
        if key is None:
            raise ApiKeyNotFound(prefix=prefix)
        key.active = False
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="api_key.revoke", entity="api_key", entity_id=key.id,
            before={"active": True}, after={"active": False},
        )

    await uow.write(work)
    # After the commit: a request reading the key before it would otherwise cache it as active.
    _principals.forget(uow.engine, prefix)


# A till sends every purchase with its key; the key row is read once per this many seconds. A key
# revoked here stops at once; revoked on another instance, it stops there within this time.
PRINCIPAL_CACHE_SECONDS = 5.0
_principals: EngineCache[tuple[str, ApiPrincipal]] = EngineCache(PRINCIPAL_CACHE_SECONDS)


def _known(uow: UnitOfWork, prefix: str, presented_hash: str) -> ApiPrincipal | None:
    cached = _principals.get(uow.engine, prefix)
    if cached is not None and hmac.compare_digest(cached[0], presented_hash):
        return cached[1]
    return None


def known_principal(uow: UnitOfWork, presented: str) -> ApiPrincipal | None:
    """The principal of a key this instance checked moments ago, without a look-up; None when the
    key is malformed, unknown here, or its cached check ran out (then `authenticate` decides)."""
    match = _KEY_SHAPE.match(presented.strip())
    if match is None:
        return None
    return _known(uow, match.group(1), hash_key(presented.strip()))


async def authenticate(uow: UnitOfWork, presented: str) -> ApiPrincipal:
    """The principal of a bearer key, or Unauthorized (the same error whatever was wrong, so a
    caller cannot probe which prefixes exist)."""
    match = _KEY_SHAPE.match(presented.strip())
    if match is None:
        raise Unauthorized()
    prefix = match.group(1)
    presented_hash = hash_key(presented.strip())
    known = _known(uow, prefix, presented_hash)
    if known is not None:
        return known

    async def work(session: AsyncSession) -> tuple[str, ApiPrincipal]:
        row = (
            await session.execute(
                select(ApiKey, Store.code).join(Store, Store.id == ApiKey.store_id).where(ApiKey.prefix == prefix)
            )
        ).first()
        if row is None:
            raise Unauthorized()
        key, store_code = row
        if not hmac.compare_digest(key.key_hash, presented_hash) or not key.active:
            raise Unauthorized()
        assert key.store_id is not None
        principal = ApiPrincipal(key.id, key.prefix, key.store_id, store_code, tuple(key.scopes), key.signing_secret)
        return key.key_hash, principal

    found = await uow.read(work)
    _principals.put(uow.engine, found, prefix)
    return found[1]


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers, as the server received it: the method, the request target (path and
    query exactly as sent, percent-escapes and all), the Idempotency-Key header and the raw body."""

    method: str
    target: str
    idempotency_key: str
    body: bytes


@dataclass(frozen=True)
class SignatureWindow:
    """How far a signature's timestamp may lag behind the server's clock, and run ahead of it."""

    max_age_seconds: int = 300
    max_future_seconds: int = 30

    @property
    def remembered_seconds(self) -> int:
        """How long a used signature must be remembered: from its first use (at the earliest
        max_future before its timestamp) until its timestamp is too old."""
        return self.max_age_seconds + self.max_future_seconds


def canonical_string(timestamp: int, nonce: str, request: SignedRequest) -> str:
    """The string a client signs (README, "Request signatures"): seven lines joined by "\n", no
    trailing newline. Every line is one value that cannot hold a newline, so no two requests share
    a string."""
    return "\n".join((
        SIGNATURE_SCHEME,
        str(timestamp),
        nonce,
        request.method.upper(),
        request.target,
        request.idempotency_key,
        hashlib.sha256(request.body).hexdigest(),
    ))


def _mac(secret: str, text: str) -> str:
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, request: SignedRequest, *, nonce: str = "") -> str:
    """The `X-Signature` header value a client sends for `request` at `timestamp` (UNIX seconds)."""
    if nonce and not _NONCE.match(nonce):
        raise ValueError("a nonce is 1-64 characters of A-Z a-z 0-9 _ -")
    digest = _mac(secret, canonical_string(timestamp, nonce, request))
    return f"t={timestamp},n={nonce},v2={digest}" if nonce else f"t={timestamp},v2={digest}"


def verify_signature(
    secret: str, header: str, request: SignedRequest, now: datetime, window: SignatureWindow = SignatureWindow()
) -> str:
    """Check `X-Signature: t=UNIX[,n=NONCE],v2=HEX` against `request`: the timestamp within the
    window around `now`, HEX = HMAC-SHA256(secret, canonical_string(...)). Several v2 values are
    allowed (a client rotating secrets); one must match, and is returned (the replay store keys on
    it). Refuses with BadSignature naming the reason."""
    timestamp: int | None = None
    nonce = ""
    candidates: list[str] = []
    for part in header.split(","):
        match = _SIGNATURE_PART.match(part.strip())
        if match is None:
            raise BadSignature(reason="malformed")
        name, value = match.groups()
        if name == "t":
            if timestamp is not None or not value.isascii() or not value.isdigit() or len(value) > 12:
                raise BadSignature(reason="malformed")
            timestamp = int(value)
        elif name == "n":
            if nonce or not _NONCE.match(value):
                raise BadSignature(reason="malformed")
            nonce = value
        elif name == "v2":
            candidates.append(value.lower())
        else:
            # v1 signed only the timestamp and the body: one captured request opened others.
            raise BadSignature(reason="scheme_v1_retired" if name == "v1" else "malformed")
    if timestamp is None or not candidates:
        raise BadSignature(reason="malformed")
    age = now.timestamp() - timestamp
    if age > window.max_age_seconds or -age > window.max_future_seconds:
        raise BadSignature(reason="expired")
    expected = _mac(secret, canonical_string(timestamp, nonce, request))
    for candidate in candidates:
        if hmac.compare_digest(expected, candidate):
            return expected
    raise BadSignature(reason="mismatch")
