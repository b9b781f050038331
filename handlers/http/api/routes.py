"""The endpoint table of /api/v1 and the glue that turns an Endpoint into an aiohttp handler:
read the body (64 KiB at most), authenticate, check the scope, validate, call, answer."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from handlers.http.api import admin, pos
from handlers.http.api.auth import IDEMPOTENCY_HEADER, authenticate
from handlers.http.api.openapi import build_document
from handlers.http.api.registry import PREFIX, Call, Endpoint
from handlers.http.api.schemas import (
    AdjustmentOut,
    AdjustmentRequest,
    CardOut,
    CardStatusRequest,
    CustomerOut,
    CustomersOut,
    CustomersQuery,
    ErasureOut,
    LookupQuery,
    OperationsPage,
    OperationsQuery,
    ProgramSettingsOut,
    ProgramSettingsPatch,
    PurchaseOut,
    PurchaseRequest,
    QuoteOut,
    QuoteRequest,
    RefundOut,
    RefundRequest,
    StaffListOut,
    WalkInRequest,
)
from handlers.http.keys import CONTEXT

log = logging.getLogger(__name__)

CARD = "/cards/{number:[0-9]+}"

ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/cards/lookup", pos.lookup_card, "pos", "Find a card by its number or a phone",
             CardOut, query=LookupQuery, errors=("card_not_found",)),
    Endpoint("POST", "/purchases/quote", pos.quote_purchase, "pos",
             "What a purchase would accrue, and the most points it may be paid with", QuoteOut, body=QuoteRequest,
             errors=("card_not_found", "card_blocked", "cap_exceeded", "insufficient_points", "receipt_too_large")),
    Endpoint("POST", "/purchases", pos.post_purchase, "pos", "Post a purchase (accrual, and redemption with a code)",
             PurchaseOut, status=201, body=PurchaseRequest,
             errors=("card_not_found", "card_blocked", "cap_exceeded", "insufficient_points", "receipt_too_large",
                     "bad_code", "code_already_used", "too_many_code_attempts", "idempotency_conflict"),
             idempotent="On (store, receipt_id): the same body again returns the first response "
             "(header Idempotent-Replayed: true); another body returns 409 idempotency_conflict. "
             "`code` is not part of the comparison (it changes every minute)."),
    Endpoint("POST", "/refunds", pos.post_refund, "pos", "Refund a receipt of this store, fully or partly",
             RefundOut, status=201, body=RefundRequest,
             errors=("receipt_not_found", "refund_exceeds_receipt", "idempotency_conflict"),
             idempotent="On (store, receipt_id, refund_id), like purchases."),
    Endpoint("GET", CARD + "/operations", pos.list_operations, "pos", "A card's operations, newest first",
             OperationsPage, query=OperationsQuery, errors=("card_not_found", "bad_cursor")),
    Endpoint("POST", "/customers", pos.create_customer, "pos", "Create a walk-in customer with a card by phone",
             CustomerOut, status=201, body=WalkInRequest, errors=("invalid_phone", "card_exists", "invalid_name")),
    Endpoint("POST", CARD + "/adjustments", admin.adjust_points, "admin", "Add or take away points by hand",
             AdjustmentOut, status=201, body=AdjustmentRequest, headers=(IDEMPOTENCY_HEADER,),
             errors=("card_not_found", "card_blocked", "insufficient_points", "adjustment_limit",
                     "idempotency_conflict"),
             idempotent="On (API key, Idempotency-Key header)."),
    Endpoint("PUT", CARD + "/status", admin.set_card_status, "admin", "Set a card's status", CardOut,
             body=CardStatusRequest, errors=("card_not_found",)),
    Endpoint("GET", "/program/settings", admin.get_program_settings, "admin", "Program settings",
             ProgramSettingsOut),
    Endpoint("PATCH", "/program/settings", admin.update_program_settings, "admin", "Change program settings",
             ProgramSettingsOut, body=ProgramSettingsPatch, errors=("invalid_setting",)),
    Endpoint("GET", "/customers", admin.search_customers, "admin", "Search customers", CustomersOut,
             query=CustomersQuery),
    Endpoint("DELETE", "/customers/{customer_id:[0-9]+}", admin.erase_customer, "admin",
             "Erase a customer's personal data (152-FZ): at once and for good", ErasureOut,
             errors=("customer_not_found",)),
    Endpoint("GET", "/staff", admin.list_staff, "admin", "Staff members", StaffListOut),
)


class InvalidRequest(Exception):
    """The body or query does not fit the model: becomes a 400 or 422 problem."""

    def __init__(self, code: str, errors: list[dict[str, Any]] | None = None, detail: str | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.errors = errors or []
        self.detail = detail


def _issues(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) if not isinstance(p, int) else p for p in e["loc"]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(model: type[BaseModel], raw: bytes) -> BaseModel:
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise InvalidRequest("malformed_json", detail=str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise InvalidRequest("malformed_json", detail="the body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidRequest("validation_error", _issues(exc)) from None


def parse_query(model: type[BaseModel], query: Mapping[str, str]) -> BaseModel:
    if len(set(query)) != len(query):
        raise InvalidRequest("validation_error", detail="a query parameter is repeated")
    try:
        return model.model_validate(dict(query))
    except ValidationError as exc:
        raise InvalidRequest("validation_error", _issues(exc)) from None


def _is_json(request: web.Request) -> bool:
    """`application/json`, with no charset or utf-8 (the body is decoded as UTF-8, whatever it says)."""
    return request.content_type == "application/json" and (request.charset or "utf-8").lower() in {"utf-8", "utf8"}


def _handler(endpoint: Endpoint) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        if raw and not _is_json(request):
            # Before authenticating: refusing costs nothing, and a signature is not spent on it.
            raise InvalidRequest("unsupported_media_type")
        principal = await authenticate(request, raw)
        principal.require(endpoint.scope)
        body = parse_body(endpoint.body, raw) if endpoint.body is not None else None
        query = parse_query(endpoint.query, request.query) if endpoint.query is not None else None
        call = Call(request.app[CONTEXT], principal, body, query, request.match_info, request.headers)
        reply = await endpoint.fn(call)
        headers = {"Idempotent-Replayed": "true"} if reply.replayed else None
        return web.json_response(reply.body, status=reply.status, headers=headers)

    handle.__name__ = endpoint.operation_id
    return handle


_document: dict[str, Any] | None = None


async def openapi(request: web.Request) -> web.Response:
    global _document
    if _document is None:
        _document = build_document(ENDPOINTS)
    return web.json_response(_document)


def setup(app: web.Application) -> None:
    for endpoint in ENDPOINTS:
        app.router.add_route(endpoint.method, endpoint.full_path, _handler(endpoint), name=endpoint.operation_id)
    app.router.add_get(PREFIX + "/openapi.json", openapi, name="openapi")
