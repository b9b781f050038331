"""Endpoints a till needs (scope `pos`): find a card, quote, post purchases and refunds, history,
walk-in customers. Purchases and refunds are posted at the API key's store."""

from __future__ import annotations

import base64

from handlers.http.api.registry import Call, Reply
from handlers.http.api.schemas import (
    CardOut,
    CustomerOut,
    LevelOut,
    OperationOut,
    OperationsPage,
    PurchaseOut,
    PurchaseRequest,
    QuoteOut,
    QuoteRequest,
    RefundOut,
    RefundRequest,
    WalkInRequest,
)
from services import cards, customers, idempotent_requests, ledger, pos
from services.customers import CustomerView
from services.errors import BadCursor, CardNotFound
from services.idempotent_requests import StoredResponse
from services.ledger import AccrualResult
from services.pos import CardLookup


def card_out(card: CardLookup) -> CardOut:
    return CardOut(
        number=card.number,
        status=card.status,
        balance=card.balance,
        pending=card.pending,
        debt=card.debt,
        level=LevelOut(code=card.level_code, name=card.level_names.en, name_ru=card.level_names.ru,
                       name_en=card.level_names.en, percent_bp=card.level_percent_bp),
        masked_phone=card.masked_phone,
        customer_name=card.customer_name,
    )


def customer_out(customer: CustomerView) -> CustomerOut:
    return CustomerOut(
        id=customer.id,
        name=customer.name,
        surname=customer.surname,
        patronymic=customer.patronymic,
        phone=customer.phone,
        card_number=customer.card_number,
        telegram_linked=customer.telegram_id is not None,
        masked=customer.masked,
    )


async def lookup_card(call: Call) -> Reply:
    found = await pos.lookup_card(call.context.uow, call.context.clock, call.query.q, call.context.phone_policy)
    return Reply.of(card_out(found))


async def quote_purchase(call: Call) -> Reply:
    body: QuoteRequest = call.body
    quote = await pos.quote_purchase(
        call.context.uow,
        call.context.clock,
        query=body.query,
        amount_kopecks=body.amount_kopecks,
        redeem_points=body.redeem_points,
        policy=call.context.phone_policy,
    )
    return Reply.of(
        QuoteOut(
            card=card_out(quote.card),
            mode=quote.mode,
            amount_kopecks=quote.amount_kopecks,
            redeem_points=quote.redeem_points,
            rate_bp=quote.rate_bp,
            points_to_accrue=quote.points_to_accrue,
            discount_kopecks=quote.discount_kopecks,
            max_redeemable=quote.max_redeemable,
            accrual_allowed=quote.accrual_allowed,
            payment_allowed=quote.payment_allowed,
        )
    )


def _purchase_out(call: Call, card_number: str, accrual: AccrualResult, redeemed: int) -> PurchaseOut:
    return PurchaseOut(
        receipt_id=accrual.receipt_id,
        store=call.principal.store_code,
        card_number=card_number,
        mode=accrual.mode,
        amount_kopecks=accrual.amount_kopecks,
        redeemed_points=redeemed,
        accrued_points=accrual.accrued_points,
        debt_repaid=accrual.debt_repaid,
        rate_bp=accrual.rate_bp,
        discount_kopecks=accrual.discount_kopecks,
        points_status=accrual.lot_status,
        available_at=accrual.available_at,
        expires_at=accrual.expires_at,
        level_up=accrual.level_up,
        balance=accrual.card.balance,
        pending=accrual.card.pending,
        debt=accrual.card.debt,
        level_code=accrual.card.level_code,
        operation_id=accrual.operation_id,
    )


def _body_hash(call: Call) -> str:
    # The one-time code changes every minute: a retry with a fresh code is the same purchase.
    return idempotent_requests.request_hash(call.body.model_dump(exclude={"code"}))


def _stored(stored: StoredResponse) -> Reply:
    return Reply(stored.status_code, stored.body, replayed=stored.replayed)


async def _once(call: Call, key: str) -> Reply | None:
    """The stored first response to this key and body, if any (IdempotencyConflict for another body)."""
    stored = await idempotent_requests.find_response(call.context.uow, key, _body_hash(call))
    return None if stored is None else _stored(stored)


async def _remember(call: Call, key: str, reply: Reply, *, card_id: int) -> Reply:
    """Store the first response; `card_id`: the card it is about, so that erasing its owner drops it."""
    stored = await idempotent_requests.save_response(
        call.context.uow, call.context.clock, key=key, expected_hash=_body_hash(call), status_code=reply.status,
        body=reply.body, card_id=card_id,
    )
    return _stored(stored)


async def post_purchase(call: Call) -> Reply:
    body: PurchaseRequest = call.body
    principal = call.principal
    key = f"api:purchase:{principal.store_id}:{body.receipt_id}"
    context = call.context
    if body.redeem_points == 0:
        stored = await pos.accrue_once(
            context.uow, context.clock, key=key, request_hash=_body_hash(call), query=body.query,
            policy=context.phone_policy, store_id=principal.store_id, receipt_id=body.receipt_id,
            amount_kopecks=body.amount_kopecks, actor=principal.actor,
            render=lambda number, accrual: Reply.of(_purchase_out(call, number, accrual, 0), 201).body,
        )
        return _stored(stored)
    replay = await _once(call, key)
    if replay is not None:
        return replay
    card = await cards.find_card(context.uow, context.clock, body.query, context.phone_policy)
    assert body.code is not None
    redemption = await ledger.redeem(
        context.uow, context.clock, card_id=card.id, store_id=principal.store_id, receipt_id=body.receipt_id,
        receipt_amount_kopecks=body.amount_kopecks, points=body.redeem_points, code=body.code,
        actor=principal.actor,
    )
    out = _purchase_out(call, card.number, redemption.accrual, redemption.redeemed_points)
    return await _remember(call, key, Reply.of(out, 201), card_id=card.id)


async def post_refund(call: Call) -> Reply:
    body: RefundRequest = call.body
    principal = call.principal
    key = f"api:refund:{principal.store_id}:{body.receipt_id}:{body.refund_id}"
    replay = await _once(call, key)
    if replay is not None:
        return replay
    result = await ledger.refund(
        call.context.uow, call.context.clock, store_id=principal.store_id, receipt_id=body.receipt_id,
        amount_kopecks=body.amount_kopecks, refund_id=body.refund_id, actor=principal.actor,
    )
    out = RefundOut(
        refund_id=result.refund_id,
        receipt_id=result.receipt_id,
        store=principal.store_code,
        refunded_kopecks=result.refunded_kopecks,
        receipt_refunded_kopecks=result.receipt_refunded_kopecks,
        reversed_points=result.reversed_points,
        restored_points=result.restored_points,
        new_debt=result.new_debt,
        balance=result.card.balance,
        pending=result.card.pending,
        debt=result.card.debt,
        level_code=result.card.level_code,
        operation_id=result.operation_id,
    )
    return await _remember(call, key, Reply.of(out, 201), card_id=result.card.card_id)


async def card_id_by_number(call: Call) -> int:
    card = await cards.find_card(call.context.uow, call.context.clock, call.path["number"], call.context.phone_policy)
    if card.number != call.path["number"]:
        # find_card also understands phones; a path names a card by its number only.
        raise CardNotFound(query=call.path["number"])
    return card.id


def _encode_cursor(cursor: str | None) -> str | None:
    """Opaque and URL-safe: the ledger's cursor holds a "+" that a query string would turn into a space."""
    return None if cursor is None else base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise BadCursor(cursor=cursor) from None


async def list_operations(call: Call) -> Reply:
    card_id = await card_id_by_number(call)
    page = await ledger.get_history(
        call.context.uow, card_id, limit=call.query.limit, before=_decode_cursor(call.query.before),
        after=_decode_cursor(call.query.after),
    )
    items = [
        OperationOut(
            id=row.operation_id,
            kind=row.kind,
            points=row.points,
            created_at=row.created_at,
            store_name=row.store_name,
            receipt_id=row.receipt_id,
            receipt_kopecks=row.receipt_kopecks,
            rate_bp=row.rate_bp,
            reason=row.reason,
        )
        for row in page.rows
    ]
    return Reply.of(
        OperationsPage(
            items=items, older_cursor=_encode_cursor(page.older_cursor), newer_cursor=_encode_cursor(page.newer_cursor)
        )
    )


async def create_customer(call: Call) -> Reply:
    body: WalkInRequest = call.body
    principal = call.principal
    created = await customers.create_walk_in(
        call.context.uow, call.context.clock, phone=body.phone, name=body.name, surname=body.surname,
        phone_policy=call.context.phone_policy, actor=principal.actor, store_id=principal.store_id,
    )
    if not principal.has("admin"):
        created = await customers.get_customer(call.context.uow, created.id, full_access=False)
    return Reply.of(customer_out(created), 201)


async def card_by_path(call: Call) -> Reply:
    found = await pos.lookup_card(call.context.uow, call.context.clock, call.path["number"], call.context.phone_policy)
    return Reply.of(card_out(found))
