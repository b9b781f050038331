"""The OpenAPI 3.1 document of /api/v1, generated from the endpoint table and its pydantic models
(OpenAPI 3.1 schemas are JSON Schema 2020-12, which is what pydantic emits)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handlers.http.api.registry import Endpoint
from handlers.http.api.schemas import Problem
from handlers.http.problems import HTTP_PROBLEMS, TYPE_PREFIX

REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")
UNITS = (
    "Money is an integer number of kopecks (1 RUB = 100). Points are an integer number of hundredths "
    "of a point (1 point = 100 = 1 RUB). Numbers with a fraction or an exponent, strings and booleans "
    "are refused. Errors are `application/problem+json` with `type` = `" + TYPE_PREFIX + "<code>`. "
    "Authenticate with `Authorization: Bearer <key>` (`python -m bot api-key create`) and sign with "
    "`X-Signature` (below). A body is JSON sent as `Content-Type: application/json` (else 415), at most "
    "64 KiB. Requests per key are rate-limited, and so are failed authentications per client address "
    "(429 with Retry-After)."
)

# The same text is in the README ("Request signatures"); tests/http/test_signatures.py parses both,
# recomputes the example and sends it to the server, so neither can drift from the code.
SIGNING = """**Request signatures.** Sign each request with the API key's signing secret (shown once, by \
`api-key create`):

`X-Signature: t=<unix seconds>[,n=<nonce>],v2=<hex HMAC-SHA256(signing secret, string to sign)>`

The HMAC key is the signing secret exactly as shown: its 64 hex characters as ASCII bytes, not \
hex-decoded. The string to sign is these seven lines joined by a line feed (`\\n`), with no line \
feed after the last:

1. `loyalty-hmac-sha256-v2`
2. the timestamp `t`: decimal UNIX seconds;
3. the nonce `n` (1-64 characters of `A-Z a-z 0-9 _ -`), or an empty line when there is none;
4. the method in capitals (`GET`, `POST`, `PUT`, `PATCH`);
5. the path and query exactly as sent in the request line, no scheme or host \
(`/api/v1/cards/lookup?q=9161234567`: the same percent-escapes and parameter order);
6. the `Idempotency-Key` header's value, or an empty line when there is none;
7. the lowercase hex SHA-256 of the raw body bytes; for a request without a body, of nothing: \
`e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`.

The timestamp may be at most 300 s behind the server's clock and 30 s ahead of it (the defaults of \
`API_SIGNATURE_MAX_AGE_SECONDS` and `API_SIGNATURE_MAX_FUTURE_SECONDS`). Each signature is accepted \
once: the same signed request sent again, to any instance, is refused with 401 `signature_replayed`. \
So sign every request anew, retries included (the receipt id or `Idempotency-Key` keeps a retry from \
counting twice); two identical requests within one second need different nonces. A missing \
(with `API_REQUIRE_SIGNATURE=true`), malformed, expired or wrong signature is 401 `bad_signature`, \
`params.reason` = `missing`, `malformed`, `expired`, `mismatch` or `scheme_v1_retired` (the old \
`v1=` signature of the timestamp and body only).

**Worked example.** Signing secret `3f6c1e0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e`, \
timestamp 1768467600 (2026-01-15 09:00:00 UTC), no nonce; the request:

```http
POST /api/v1/cards/9161234567/adjustments HTTP/1.1
Authorization: Bearer lk_<prefix>_<key>
Content-Type: application/json
Idempotency-Key: adj-2026-0001
X-Signature: t=1768467600,v2=cc225e8729498b1ba93265c4cf425602c49341fd47d3cd4af4ef698c7a02916e

{"points":5000,"reason":"goodwill"}
```

The string to sign (its third line, the nonce, is empty):

```text
loyalty-hmac-sha256-v2
1768467600

POST
/api/v1/cards/9161234567/adjustments
adj-2026-0001
9113be2ee63de10c2ec7c53ba3a0ea359ee34f885bf120e79f9c30f01ebaf096
```

The same in a shell:

```sh
printf '%s' '{"points":5000,"reason":"goodwill"}' | sha256sum
printf 'loyalty-hmac-sha256-v2\\n1768467600\\n\\nPOST\\n/api/v1/cards/9161234567/adjustments\\nadj-2026-0001\\n\
9113be2ee63de10c2ec7c53ba3a0ea359ee34f885bf120e79f9c30f01ebaf096' \\
  | openssl dgst -sha256 -hmac '3f6c1e0a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e'
```
"""


def openapi_path(path: str) -> str:
    """aiohttp `/cards/{number:[0-9]+}` -> OpenAPI `/cards/{number}`."""
    return _PATH_PARAM.sub(r"{\1}", path)


def _models(endpoints: Sequence[Endpoint]) -> list[type[BaseModel]]:
    found: dict[str, type[BaseModel]] = {"Problem": Problem}
    for endpoint in endpoints:
        for model in (endpoint.body, endpoint.response):
            if model is not None:
                found[model.__name__] = model
    return list(found.values())


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "in": "query",
            "required": name in required,
            "schema": {k: v for k, v in prop.items() if k not in ("title", "description")},
            **({"description": prop["description"]} if "description" in prop else {}),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": {"$ref": REF.format(
        model="Problem")}}}}


def _operation(endpoint: Endpoint) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[0-9]{1,32}$"}}
        for name in _PATH_PARAM.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    parameters += [
        {"name": header, "in": "header", "required": True, "schema": {"type": "string", "maxLength": 100}}
        for header in endpoint.headers
    ]
    parameters.append(
        {"name": "X-Signature", "in": "header", "required": False,
         "schema": {"type": "string", "pattern": "^t=[0-9]{1,12}(,n=[A-Za-z0-9_-]{1,64})?(,v2=[0-9a-f]{64})+$"},
         "description": "t=<unix seconds>[,n=<nonce>],v2=<hex HMAC-SHA256(signing secret, string to sign)>: "
                        "see the document's description. Required with API_REQUIRE_SIGNATURE=true."}
    )
    responses: dict[str, Any] = {
        str(endpoint.status): {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": REF.format(model=endpoint.response.__name__)}}},
        },
        "401": _problem_response("unauthorized, bad_signature, signature_replayed"),
        "403": _problem_response("insufficient_scope"),
        "429": _problem_response(
            "rate_limited" + (", too_many_code_attempts" if "too_many_code_attempts" in endpoint.errors else "")
            + " (see Retry-After)"
        ),
        **({"415": _problem_response("unsupported_media_type")} if endpoint.body is not None else {}),
        "4XX": _problem_response("Any other client error: " + ", ".join(("validation_error", *endpoint.errors))),
        "500": _problem_response("internal_error"),
    }
    description = f"Scope: `{endpoint.scope}`."
    if endpoint.idempotent:
        description += " Idempotent: " + endpoint.idempotent
    operation: dict[str, Any] = {
        "operationId": endpoint.operation_id,
        "summary": endpoint.summary,
        "description": description,
        "tags": [endpoint.scope],
        "security": [{"bearer": []}],
        "parameters": parameters,
        "responses": responses,
    }
    if endpoint.body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=endpoint.body.__name__)}}},
        }
    return operation


def build_document(endpoints: Sequence[Endpoint]) -> dict[str, Any]:
    _, schemas = models_json_schema(
        [(model, "validation" if model in {e.body for e in endpoints} else "serialization")
         for model in _models(endpoints)],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for endpoint in endpoints:
        paths.setdefault(openapi_path(endpoint.full_path), {})[endpoint.method.lower()] = _operation(endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Loyalty POS/admin API", "version": "1", "description": UNITS + "\n\n" + SIGNING},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "x-problem-types": {TYPE_PREFIX + code: title for code, (_, title) in HTTP_PROBLEMS.items()},
    }
