"""Endpoints for the back office (scope `admin`): adjustments, card status, program settings,
customer search, staff."""

from __future__ import annotations

from handlers.http.api.auth import IDEMPOTENCY_HEADER
from handlers.http.api.pos import card_by_path, card_id_by_number, customer_out
from handlers.http.api.registry import Call, Reply
from handlers.http.api.schemas import (
    AdjustmentOut,
    AdjustmentRequest,
    CardStatusRequest,
    CustomersOut,
    ErasureOut,
    ProgramSettingsOut,
    ProgramSettingsPatch,
    StaffListOut,
    StaffOut,
)
from services import cards, customers, idempotent_requests, ledger, program, staff
from services.errors import CustomerNotFound, ValidationFailed


async def adjust_points(call: Call) -> Reply:
    body: AdjustmentRequest = call.body
    principal = call.principal
    idempotency = call.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not idempotency or len(idempotency) > 100:
        raise ValidationFailed(field=IDEMPOTENCY_HEADER)
    key = f"api:adjustment:{principal.key_id}:{idempotency}"
    card_id = await card_id_by_number(call)
    expected = idempotent_requests.request_hash({"card": call.path["number"], **body.model_dump()})
    stored = await idempotent_requests.find_response(call.context.uow, key, expected)
    if stored is not None:
        return Reply(stored.status_code, stored.body, replayed=True)
    result = await ledger.adjust_points(
        call.context.uow, call.context.clock, card_id=card_id, points=body.points, reason=body.reason,
        idempotency_key=f"api:{principal.key_id}:{idempotency}", actor=principal.actor, store_id=principal.store_id,
    )
    out = AdjustmentOut(
        card_number=call.path["number"],
        points=result.points,
        expires_at=result.expires_at,
        balance=result.card.balance,
        pending=result.card.pending,
        debt=result.card.debt,
        level_code=result.card.level_code,
        operation_id=result.operation_id,
    )
    saved = await idempotent_requests.save_response(
        call.context.uow, call.context.clock, key=key, expected_hash=expected, status_code=201,
        body=out.model_dump(mode="json"), card_id=card_id,
    )
    return Reply(saved.status_code, saved.body, replayed=saved.replayed)


async def set_card_status(call: Call) -> Reply:
    body: CardStatusRequest = call.body
    card_id = await card_id_by_number(call)
    await cards.set_status(
        call.context.uow, call.context.clock, card_id=card_id, status=body.status, actor=call.principal.actor
    )
    return await card_by_path(call)


def _settings_out(settings: program.ProgramSettings) -> ProgramSettingsOut:
    return ProgramSettingsOut.model_validate(settings.to_json())


async def get_program_settings(call: Call) -> Reply:
    program.invalidate_cache(call.context.uow)  # an admin reading settings wants the stored ones
    return Reply.of(_settings_out(await program.get_settings(call.context.uow)))


async def update_program_settings(call: Call) -> Reply:
    body: ProgramSettingsPatch = call.body
    settings = await program.update_settings(
        call.context.uow, call.context.clock, changes=body.changes(), actor=call.principal.actor
    )
    return Reply.of(_settings_out(settings))


async def search_customers(call: Call) -> Reply:
    page = await customers.search_customers(
        call.context.uow, call.query.q, phone_policy=call.context.phone_policy, full_access=True,
        offset=call.query.offset, limit=call.query.limit,
    )
    return Reply.of(
        CustomersOut(items=[customer_out(customer) for customer in page.items], total=page.total, offset=page.offset)
    )


async def erase_customer(call: Call) -> Reply:
    """152-FZ erasure on the customer's request, e.g. from the back office."""
    digits = call.path["customer_id"]
    if len(digits) > 18:  # beyond any id (BIGINT)
        raise CustomerNotFound(customer_id=digits)
    customer_id = int(digits)
    await customers.delete_personal_data(
        call.context.uow, call.context.clock, customer_id=customer_id, actor=call.principal.actor,
        conversations=call.context.conversations,
    )
    return Reply.of(ErasureOut(customer_id=customer_id, erased=True))


async def list_staff(call: Call) -> Reply:
    members = await staff.list_staff(call.context.uow)
    return Reply.of(
        StaffListOut(
            items=[
                StaffOut(
                    id=m.id, telegram_id=m.telegram_id, name=m.name, role=m.role, store_code=m.store_code,
                    active=m.active,
                )
                for m in members
            ]
        )
    )
