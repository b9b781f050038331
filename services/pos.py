"""What a till asks before posting anything: who is this card, and what would a purchase give;
and the till's plain purchase, answered in one transaction.

The lookups are read-only; their numbers come from the same rules the ledger applies when the
purchase is posted (level rate x card multiplier on the part not paid with points, rounded down;
the redemption cap; the balance available now, without lots whose expiry instant has come).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer
from db.repositories import ledger as repo
from db.uow import UnitOfWork
from services import idempotent_requests
from services.card_turns import Ahead, Refused, card_turns
from services.cards import resolve_card
from services.clock import Clock
from services.errors import DomainError, InsufficientPoints, InvalidAmount
from services.idempotent_requests import StoredResponse
from services.ledger.accrual import (
    PurchaseRequest,
    check_purchase_in,
    ensure_receipt_within_limit,
    post_checked_purchase,
    purchase_key,
)
from services.ledger.amounts import accrual_units, floor_to, percent_of
from services.ledger.card_rules import (
    ACCRUAL_STATUSES,
    business_today,
    multiplier_bp,
    open_card,
    opened,
    require_accrual,
    require_payment,
)
from services.ledger.redemption import ensure_within_cap, max_redeemable
from services.ledger.results import AccrualResult
from services.levels import LevelNames, card_level
from services.notifications.outbox import remember_contact_persons
from services.phones import PhonePolicy, mask_phone
from services.program import ProgramSettings, get_settings


@dataclass(frozen=True)
class CardLookup:
    card_id: int
    number: str
    status: str
    balance: int  # units (hundredths of a point) available now: expired lots not counted
    pending: int
    debt: int
    level_code: str
    level_names: LevelNames
    level_percent_bp: int
    masked_phone: str | None
    customer_name: str | None  # first name only: enough to greet, not to identify


@dataclass(frozen=True)
class PurchaseQuote:
    card: CardLookup
    mode: str
    amount_kopecks: int
    redeem_points: int
    rate_bp: int
    points_to_accrue: int  # units
    discount_kopecks: int
    max_redeemable: int  # units: the cap, the balance and the card status all allow it
    accrual_allowed: bool
    payment_allowed: bool


async def _lookup(session: AsyncSession, card: Card, now: datetime) -> CardLookup:
    level = await card_level(session, card)
    balance = card.balance - await repo.expired_held_of(session, card.id, now)
    customer = await session.get(Customer, card.customer_id) if card.customer_id else None
    live = customer is not None and customer.deleted_at is None
    return CardLookup(
        card_id=card.id,
        number=card.number,
        status=card.status,
        balance=balance,
        pending=card.pending,
        debt=card.debt,
        level_code=level.level.code,
        level_names=level.level.names,
        level_percent_bp=level.level.percent_bp,
        masked_phone=mask_phone(customer.phone) if live and customer and customer.phone else None,
        customer_name=customer.name if live and customer else None,
    )


async def lookup_card(uow: UnitOfWork, clock: Clock, query: str, policy: PhonePolicy) -> CardLookup:
    """A card by its number or by a phone in any spelling (CardNotFound otherwise)."""

    async def work(session: AsyncSession) -> CardLookup:
        return await _lookup(session, await resolve_card(session, query, policy), clock.now())

    return await uow.read(work)


def _allowed(check: Callable[[Card, date], None], card: Card, settings: ProgramSettings, clock: Clock) -> bool:
    try:
        check(card, business_today(settings, clock.now()))
    except DomainError:
        return False
    return True


async def quote_purchase(
    uow: UnitOfWork, clock: Clock, *, query: str, amount_kopecks: int, redeem_points: int, policy: PhonePolicy
) -> PurchaseQuote:
    """What posting this purchase would do now. A blocked card is refused like the purchase would be."""
    if amount_kopecks <= 0:
        raise InvalidAmount(field="amount_kopecks", value=amount_kopecks)
    settings = await get_settings(uow)
    ensure_receipt_within_limit(amount_kopecks, settings)
    quantum = settings.point_quantum
    if redeem_points < 0 or redeem_points > amount_kopecks or redeem_points % quantum:
        raise InvalidAmount(field="redeem_points", value=redeem_points)

    async def work(session: AsyncSession) -> PurchaseQuote:
        now = clock.now()
        card = await resolve_card(session, query, policy)
        lookup = await _lookup(session, card, now)
        today = business_today(settings, now)
        accrual_ok = _allowed(require_accrual, card, settings, clock)
        payment_ok = settings.mode == "bonus" and _allowed(require_payment, card, settings, clock)
        if not accrual_ok and not payment_ok:
            require_accrual(card, today)  # raises the precise reason (blocked, outside validity)
        cap = max_redeemable(amount_kopecks, settings.redemption_cap_bp, quantum)
        max_points = min(cap, floor_to(lookup.balance, quantum)) if payment_ok else 0
        ensure_within_cap(redeem_points, amount_kopecks, settings)
        if redeem_points > max_points:
            raise InsufficientPoints(points=redeem_points, balance=lookup.balance)
        level = await card_level(session, card)
        base = amount_kopecks - redeem_points
        units = discount = 0
        if settings.mode == "discount":
            rate = level.level.percent_bp
            discount = percent_of(base, rate)
        else:
            multiplier = multiplier_bp(card, today)
            rate = level.level.percent_bp * multiplier // 10_000
            if card.status in ACCRUAL_STATUSES:
                units = accrual_units(base, level.level.percent_bp, multiplier, quantum)
        return PurchaseQuote(
            card=lookup,
            mode=settings.mode,
            amount_kopecks=amount_kopecks,
            redeem_points=redeem_points,
            rate_bp=rate,
            points_to_accrue=units,
            discount_kopecks=discount,
            max_redeemable=max_points,
            accrual_allowed=accrual_ok,
            payment_allowed=payment_ok,
        )

    return await uow.read(work)


Render = Callable[[str, AccrualResult], dict[str, Any]]


async def _open_for_till(
    session: AsyncSession, key: str, request_hash: str, query: str, policy: PhonePolicy, ask: repo.TillAsk | None,
    now: datetime,
) -> StoredResponse | tuple[Card, repo.PurchaseSeen | None]:
    """The response stored for the till's request, or the card it names, locked, with the
    purchase's look-ups when they came with the lock (`ask`: when the till named a card number)."""
    till = None
    if ask is not None:  # a card number, the usual case: one statement
        till = await repo.lock_card_for_till(session, ask)
    if till is None:  # a phone, or no such number
        stored = await idempotent_requests.find_in(session, key, request_hash)
        if stored is not None:
            return stored
        return await open_card(session, (await resolve_card(session, query, policy)).id, now), None
    stored = idempotent_requests.known_in(session, till.stored, key, request_hash)
    if stored is not None:
        return stored
    card = await opened(session, till.card, till.pinned_level_id)
    if card.customer_id is not None:
        remember_contact_persons(session, card.customer_id, till.contact_persons)
    return card, till.seen


async def accrue_once(
    uow: UnitOfWork,
    clock: Clock,
    *,
    key: str,
    request_hash: str,
    query: str,
    policy: PhonePolicy,
    store_id: int,
    receipt_id: str,
    amount_kopecks: int,
    actor: str,
    render: Render,
) -> StoredResponse:
    """A till's purchase without points to pay (the API's POST /purchases): the stored response
    when this request was answered before, else find the card, accrue and store `render(card
    number, result)` as the response, all in one transaction. A purchase that pays with points
    cannot: its refusal for a wrong code still writes (the till's wrong try, see ledger/otp.py),
    where a refusal here writes nothing so that the purchases sharing the transaction go on."""
    settings = await get_settings(uow)
    # A card number, the usual case, is locked with the other purchases of its batch in one statement.
    ask = None
    if query.isascii() and query.isdigit():
        # `at`: the lock reads the card's expired points as of the till's call (the result's balance).
        ask = repo.TillAsk(query, key, purchase_key(store_id, receipt_id), store_id, receipt_id, clock.now())

    async def work(session: AsyncSession) -> StoredResponse:
        now = clock.now()
        try:
            opened_card = await _open_for_till(session, key, request_hash, query, policy, ask, now)
            if isinstance(opened_card, StoredResponse):
                return opened_card
            card, seen = opened_card
            request = PurchaseRequest(card.id, store_id, receipt_id, amount_kopecks, actor)
            request.validate()
            checked = await check_purchase_in(session, settings, now, request, card, seen)
        except DomainError as refusal:
            raise Refused(refusal) from None  # nothing written: the purchases sharing the transaction go on
        result = checked.replay or await post_checked_purchase(session, settings, now, request, card)
        return idempotent_requests.save_at_commit(
            session, now, key=key, expected_hash=request_hash, status_code=201, body=render(card.number, result),
            about=idempotent_requests.About(card.id, card.customer_id),
        )

    ahead = None if ask is None else Ahead(repo.lock_cards_for_till, ask)
    return await card_turns.write(uow, query, work, ahead=ahead)
