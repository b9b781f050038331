"""Who is calling: `Authorization: Bearer <key>`, the optional `X-Signature`, the rate limit."""

from __future__ import annotations

import math

from aiohttp import web

from handlers.http.keys import CONTEXT, RATE_LIMITER
from services import api_keys
from services.api_keys import ApiPrincipal
from services.errors import BadSignature, Unauthorized


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = max(1, math.ceil(retry_after))


async def authenticate(request: web.Request, raw_body: bytes) -> ApiPrincipal:
    context = request.app[CONTEXT]
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented.strip():
        raise Unauthorized()
    principal = await api_keys.authenticate(context.uow, presented)
    signature = request.headers.get("X-Signature")
    if signature is not None:
        api_keys.verify_signature(principal.signing_secret, signature, raw_body, context.clock.now())
    elif context.settings.api_require_signature:
        raise BadSignature(reason="missing")
    retry_after = await request.app[RATE_LIMITER].hit(f"api-key:{principal.key_id}")
    if retry_after is not None:
        raise RateLimited(retry_after)
    return principal
