"""Checks every API response against the OpenAPI document the server publishes."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jsonschema

from handlers.http.api.openapi import build_document
from handlers.http.api.routes import ENDPOINTS


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return build_document(ENDPOINTS)


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)) + "$")


def operation_for(method: str, path: str) -> dict[str, Any] | None:
    for template, operations in document()["paths"].items():
        if _template_regex(template).match(path) and method.lower() in operations:
            return dict(operations[method.lower()])
    return None


def check_response(method: str, path: str, status: int, content_type: str, body: Any) -> None:
    """Raise AssertionError unless `body` is what the document promises for this route and status."""
    operation = operation_for(method, path)
    assert operation is not None, f"{method} {path} is not in the OpenAPI document"
    responses = operation["responses"]
    declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    assert declared is not None, f"{method} {path} -> {status} is not documented"
    assert content_type in declared["content"], f"{method} {path} -> {status}: {content_type} not documented"
    schema = {"components": document()["components"], **declared["content"][content_type]["schema"]}
    jsonschema.Draft202012Validator(schema).validate(body)
