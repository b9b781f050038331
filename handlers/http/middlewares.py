"""aiohttp middlewares: request metrics for every route, and problem documents for /api/ (a domain
error, a bad body, an unknown route, a too large body or a bug all answer application/problem+json,
never an HTML page or a bare 500)."""

from __future__ import annotations

import logging
import time

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.metrics import API_LATENCY, API_REQUESTS
from handlers.http.api.auth import RateLimited
from handlers.http.api.routes import InvalidRequest
from handlers.http.keys import CONTEXT
from handlers.http.problems import HTTP_PROBLEMS, domain_problem, http_problem, locale_of, problem
from services.errors import DomainError

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 415: "unsupported_media_type"}


def _route(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = _route(request)
        API_REQUESTS.labels(request.method, route, str(status)).inc()
        API_LATENCY.labels(route).observe(time.perf_counter() - started)


def _localized(request: web.Request, code: str, **params: object) -> str | None:
    """The `error-<code>` text in the client's language, when the locales have one."""
    locale = locale_of(request.headers.get("Accept-Language", ""))
    text: str = request.app[CONTEXT].translator.get(locale, f"error-{code}", **params)
    return None if text == f"error-{code}" else text


@web.middleware
async def problems_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except InvalidRequest as exc:
        detail = exc.detail or _localized(request, exc.code)
        if exc.errors:
            return http_problem(exc.code, detail=detail, errors=exc.errors)
        return http_problem(exc.code, detail=detail)
    except RateLimited as exc:
        return http_problem(
            "rate_limited", detail=_localized(request, "rate_limited", retry_after=exc.retry_after),
            headers={"Retry-After": str(exc.retry_after)}, retry_after=exc.retry_after,
        )
    except DomainError as exc:
        locale = locale_of(request.headers.get("Accept-Language", ""))
        return domain_problem(exc, request.app[CONTEXT].translator, locale=locale)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = _HTTP_CODES.get(exc.status)
        if code is not None:
            return http_problem(code, detail=_localized(request, code))
        return problem(exc.status, "http_error", exc.reason)
    except Exception:
        log.exception("unhandled error in %s %s", request.method, request.path)
        status, title = HTTP_PROBLEMS["internal_error"]
        return problem(status, "internal_error", title)
