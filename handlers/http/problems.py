"""RFC 9457 problem documents (`application/problem+json`). `type` is stable per error:
`urn:loyalty:problem:<code>`, with the same `code` a domain error carries (services/errors.py);
`title` names the kind, `detail` is the localized message (Accept-Language: ru or English),
`params` the parameters."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from aiohttp import web

from locales import Translator, fluent_args
from services.errors import DomainError

CONTENT_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:loyalty:problem:"

# Problems raised by the HTTP layer itself, not by the rules: code -> (status, title).
HTTP_PROBLEMS: dict[str, tuple[int, str]] = {
    "malformed_json": (400, "The body is not a JSON object."),
    "validation_error": (422, "The request does not match the schema."),
    "payload_too_large": (413, "The body is larger than the limit."),
    "not_found": (404, "No such resource."),
    "method_not_allowed": (405, "This method is not allowed on this resource."),
    "unsupported_media_type": (415, "Send the body as application/json."),
    "rate_limited": (429, "Too many requests for this API key, or too many failed authentications from this "
                          "address; retry after the given seconds."),
    "internal_error": (500, "Something went wrong on our side; the request may be retried."),
}


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    return str(value)


def problem(
    status: int,
    code: str,
    title: str,
    *,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> web.Response:
    body: dict[str, Any] = {"type": TYPE_PREFIX + code, "code": code, "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({key: _jsonable(value) for key, value in extensions.items()})
    return web.Response(
        status=status, text=json.dumps(body, ensure_ascii=False), content_type=CONTENT_TYPE, headers=headers
    )


def http_problem(code: str, *, detail: str | None = None, headers: dict[str, str] | None = None,
                 **extensions: Any) -> web.Response:
    status, title = HTTP_PROBLEMS[code]
    return problem(status, code, title, detail=detail, headers=headers, **extensions)


def domain_problem(error: DomainError, translator: Translator, *, locale: str = "en") -> web.Response:
    """`title` names the kind of problem and never changes; `detail` is the message a cashier would
    read in the bot, in `locale`, with this occurrence's parameters."""
    title = error.code.replace("_", " ").capitalize()
    detail: str | None = translator.get(locale, f"error-{error.code}", **fluent_args(error.params))
    if detail == f"error-{error.code}":
        detail = None
    # An error that says when to come back (a till locked out of codes) says it as HTTP does too.
    retry_after = error.params.get("retry_after_seconds")
    headers = {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else None
    return problem(error.http_status, error.code, title, detail=detail, headers=headers, params=error.params)


def locale_of(accept_language: str) -> str:
    """Russian when the client asks for it first, English otherwise (integrators read English)."""
    return "ru" if accept_language.strip().lower().startswith("ru") else "en"
