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
    "Authenticate with `Authorization: Bearer <key>` (`python -m bot api-key create`); optionally sign with "
    "`X-Signature: t=<unix>,v1=<hex HMAC-SHA256(signing_secret, t + \".\" + raw_body)>` (+-300 s). "
    "Bodies are limited to 64 KiB. Requests per key are rate-limited (429 with Retry-After)."
)


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
        {"name": "X-Signature", "in": "header", "required": False, "schema": {"type": "string"},
         "description": "t=<unix seconds>,v1=<hex HMAC-SHA256(signing_secret, t + '.' + raw body)>"}
    )
    responses: dict[str, Any] = {
        str(endpoint.status): {
            "description": "OK",
            "content": {"application/json": {"schema": {"$ref": REF.format(model=endpoint.response.__name__)}}},
        },
        "401": _problem_response("unauthorized, bad_signature"),
        "403": _problem_response("insufficient_scope"),
        "429": _problem_response(
            "rate_limited" + (", too_many_code_attempts" if "too_many_code_attempts" in endpoint.errors else "")
            + " (see Retry-After)"
        ),
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
        "info": {"title": "Loyalty POS/admin API", "version": "1", "description": UNITS},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "x-problem-types": {TYPE_PREFIX + code: title for code, (_, title) in HTTP_PROBLEMS.items()},
    }
