"""Who is calling: `Authorization: Bearer <key>`, the optional `X-Signature` (accepted once), the
rate limits (per key; per client address for failed authentications, checked before any look-up)."""

from __future__ import annotations

import math

from aiohttp import web

from bot.settings import Settings
from handlers.http.api.ratelimit import RateLimiter
from handlers.http.keys import AUTH_FAILURE_LIMITER, CONTEXT, RATE_LIMITER, REPLAY_GUARD
from services import api_keys
from services.api_keys import ApiPrincipal, SignatureWindow, SignedRequest
from services.errors import BadSignature, SignatureReplayed, Unauthorized

IDEMPOTENCY_HEADER = "Idempotency-Key"


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, math.ceil(retry_after))


def signature_window(settings: Settings) -> SignatureWindow:
    return SignatureWindow(settings.api_signature_max_age_seconds, settings.api_signature_max_future_seconds)


def signed_request(request: web.Request, raw_body: bytes) -> SignedRequest:
    """What the signature covers, taken from the request as received: the request target exactly
    as in the request line (not a decoded or re-encoded path), the first Idempotency-Key header (the
    one the endpoints read)."""
    return SignedRequest(request.method, request.raw_path, request.headers.get(IDEMPOTENCY_HEADER, ""), raw_body)


def client_address(request: web.Request, settings: Settings) -> str:
    """The peer of the connection; with API_TRUST_X_FORWARDED_FOR, the last X-Forwarded-For entry
    (the one the reverse proxy appended: what a client writes before it is not believed)."""
    if settings.api_trust_x_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").rpartition(",")[2].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote or "unknown"


async def authenticate(request: web.Request, raw_body: bytes) -> ApiPrincipal:
    context = request.app[CONTEXT]
    failures = request.app[AUTH_FAILURE_LIMITER]
    address = f"api-address:{client_address(request, context.settings)}"
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not presented.strip():
            await _refuse_if_flooding(failures, address)
            raise Unauthorized()
        principal = api_keys.known_principal(context.uow, presented)
        if principal is None:
            # A key this instance has not just checked costs a look-up: not for an address that
            # keeps failing. A till's own key is known, so an attacker next to it does not stop it.
            await _refuse_if_flooding(failures, address)
            principal = await api_keys.authenticate(context.uow, presented)
        await _check_signature(request, raw_body, principal)
    except Unauthorized:
        await failures.hit(address)
        raise
    retry_after = await request.app[RATE_LIMITER].hit(f"api-key:{principal.key_id}")
    if retry_after is not None:
        raise RateLimited(retry_after)
    return principal


async def _refuse_if_flooding(failures: RateLimiter, address: str) -> None:
    retry_after = await failures.peek(address)
    if retry_after is not None:
        raise RateLimited(retry_after)


async def _check_signature(request: web.Request, raw_body: bytes, principal: ApiPrincipal) -> None:
    context = request.app[CONTEXT]
    header = request.headers.get("X-Signature")
    if header is None:
        if context.settings.api_require_signature:
            raise BadSignature(reason="missing")
        return
    signature = api_keys.verify_signature(
        principal.signing_secret, header, signed_request(request, raw_body), context.clock.now(),
        signature_window(context.settings),
    )
    # Claimed before the per-key limit: a replay never spends the till's requests. A request refused
    # after its claim (429, or any later error) is signed anew by the client anyway.
    if not await request.app[REPLAY_GUARD].first_use(f"{principal.prefix}:{signature}"):
        raise SignatureReplayed()
