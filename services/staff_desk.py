"""What staff do from the bot, as use cases: who may do what, which store an operation belongs to,
which card typed text means, and the customer card a cashier reads. The points themselves are the
ledger's; this module only decides access and context and then calls one ledger use case.

Access rules (README "Staff in the bot"): every active staff member may look customers up, post
receipts (accrue, redeem, refund) and read their report; adjustments, card statuses, phone
conflicts, invites (a manager: to their own store only), erasing a customer's personal data and the
staff list need a manager or above;
deactivating staff needs an admin.
Receipt operations record the staff member's store (services/shifts.py: for someone tied to no store,
the one chosen for the shift, or the only one), and a receipt is refunded only by the store that took it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Receipt, StaffInvite
from db.uow import UnitOfWork
from services import cards, customers, ledger, pos, staff
from services.cards import CardView
from services.clock import Clock
from services.customers import ConflictView, CustomerMatches, CustomerView
from services.errors import (
    CardNotFound,
    DomainError,
    Forbidden,
    InviteWouldDemote,
    NotStaff,
    ReceiptNotFound,
    RoleTooHigh,
    WrongStore,
)
from services.ledger import AccrualResult, AdjustmentResult, BalanceView, HistoryRow, RedemptionResult, RefundResult
from services.ledger.card_rules import business_today, require_accrual, require_payment
from services.phones import PhonePolicy
from services.program import get_settings
from services.shifts import till_store
from services.staff import ROLE_RANK, InviteView, StaffView

CUSTOMER_CARD_OPERATIONS = 5
SEARCH_PAGE = 10  # customers per page of /find: one screen of buttons


def require(by: StaffView | None, minimum: str = "cashier") -> StaffView:
    """The acting staff member, or NotStaff / RoleTooHigh. Non-staff learn nothing else."""
    if by is None or not by.active:
        raise NotStaff()
    if not by.at_least(minimum):
        raise RoleTooHigh(role=minimum)
    return by


@dataclass(frozen=True)
class TillOrigin:
    """The Telegram message a till operation started from (the one-line command, or the command
    that opened the dialog). Its chat and message ids are the operation's key: a redelivered update,
    a second press of Confirm or a redelivered callback is the same operation, which the ledger
    answers with its first result instead of posting it again. A random id would make each of them
    a new receipt, and a cashier who retried after a lost answer would credit twice."""

    chat_id: int
    message_id: int

    @property
    def key(self) -> str:
        """Also the receipt id of a receipt typed without one: short enough to read back."""
        return f"tg-{self.chat_id}-{self.message_id}"


# Cards typed at the till -------------------------------------------------------------------------


async def find_card(uow: UnitOfWork, clock: Clock, query: str, policy: PhonePolicy) -> CardView:
    return await cards.find_card(uow, clock, query, policy)


async def find_card_in(
    uow: UnitOfWork, clock: Clock, tokens: Sequence[str], policy: PhonePolicy, prefix_lengths: Iterable[int]
) -> tuple[CardView, int]:
    """A card spelled by the first k tokens of a one-line command (a phone may contain spaces:
    `+7 916 123 45 67`), trying each k of `prefix_lengths` in order; returns the card and k."""
    tried = False
    for k in prefix_lengths:
        if not 1 <= k <= len(tokens):
            continue
        tried = True
        try:
            return await cards.find_card(uow, clock, " ".join(tokens[:k]), policy), k
        except DomainError:
            continue
    raise CardNotFound(query=tokens[0] if tokens and tried else "")


# Till operations ---------------------------------------------------------------------------------


def receipt_of(receipt_id: str | None, origin: TillOrigin) -> str:
    """The receipt id typed, else the one the message that started the operation gives."""
    return receipt_id.strip() if receipt_id and receipt_id.strip() else origin.key


async def accrue(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, card_id: int, amount_kopecks: int,
    receipt_id: str | None, origin: TillOrigin,
) -> AccrualResult:
    """Points (or the discount) for a purchase. The same receipt (typed, or the one `origin` gives)
    with the same amount answers the first result, another amount is refused."""
    member = require(by)
    store_id = await till_store(uow, member)
    return await ledger.accrue_purchase(
        uow, clock, card_id=card_id, store_id=store_id, receipt_id=receipt_of(receipt_id, origin),
        amount_kopecks=amount_kopecks, actor=member.actor, staff_id=member.id,
    )


async def check_receipt(uow: UnitOfWork, *, amount_kopecks: int, points: int = 0) -> bool:
    """Refuse a receipt above the program's limit, or points above the share of the receipt they may
    pay (before the customer is asked for a code). True when the cashier confirms the operation
    before it is posted: every redemption, and an accrual above `confirm_accrual_above_rub`."""
    settings = await get_settings(uow)
    ledger.ensure_receipt_within_limit(amount_kopecks, settings)
    if points:
        ledger.ensure_within_cap(points, amount_kopecks, settings)
        return True
    return amount_kopecks > settings.confirm_accrual_above_kopecks


async def check_code(uow: UnitOfWork, clock: Clock, *, by: StaffView | None, card_id: int, code: str) -> None:
    """The customer's code, checked (not used) when the cashier types it; see ledger.otp.check_code."""
    member = require(by)
    await ledger.check_code(uow, card_id=card_id, code=code.strip(), now=clock.now(), till=member.actor)


@dataclass(frozen=True)
class TillSummary:
    """What the cashier confirms before points move: who, which card, which receipt, how much."""

    card_number: str
    customer_name: str | None
    customer_phone: str | None  # masked for cashiers
    receipt_id: str
    mode: str
    amount_kopecks: int
    points: int  # units paid with points
    points_to_earn: int  # units
    discount_kopecks: int
    confirm_above_kopecks: int  # the setting that made an accrual need confirming


async def summarize(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, card_id: int, amount_kopecks: int, points: int,
    receipt_id: str, policy: PhonePolicy,
) -> TillSummary:
    """The summary of a receipt to confirm, refused now for what posting it would refuse (the limit,
    the cap, the card's status, the balance) except the code, which is checked again when posted."""
    member = require(by)
    await till_store(uow, member)
    await check_receipt(uow, amount_kopecks=amount_kopecks, points=points)
    settings = await get_settings(uow)

    async def card_of(session: AsyncSession) -> CardView:
        card = await session.get(Card, card_id)
        if card is None:
            raise CardNotFound(query=str(card_id))
        today = business_today(settings, clock.now())
        (require_payment if points else require_accrual)(card, today)
        return await cards.card_view(session, card, clock.now())

    card = await uow.read(card_of)
    quote = await pos.quote_purchase(
        uow, clock, query=card.number, amount_kopecks=amount_kopecks, redeem_points=points, policy=policy
    )
    name = phone = None
    if card.customer_id is not None:
        customer = await customers.get_customer(uow, card.customer_id, full_access=member.sees_personal_data)
        name, phone = customer.full_name, customer.phone
    return TillSummary(
        card_number=card.number, customer_name=name, customer_phone=phone, receipt_id=receipt_id,
        mode=quote.mode, amount_kopecks=amount_kopecks, points=points, points_to_earn=quote.points_to_accrue,
        discount_kopecks=quote.discount_kopecks, confirm_above_kopecks=settings.confirm_accrual_above_kopecks,
    )


async def posted(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, receipt_id: str
) -> AccrualResult | RedemptionResult | None:
    """The receipt of the member's store as it was posted, if it was (a redelivered command)."""
    member = require(by)
    store_id = await till_store(uow, member)
    return await ledger.posted_receipt(uow, store_id=store_id, receipt_id=receipt_id, at=clock.now())


async def redeem(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, card_id: int, points: int, receipt_kopecks: int,
    code: str, origin: TillOrigin, receipt_id: str | None = None,
) -> RedemptionResult:
    member = require(by)
    store_id = await till_store(uow, member)
    await check_receipt(uow, amount_kopecks=receipt_kopecks, points=points)
    return await ledger.redeem(
        uow, clock, card_id=card_id, store_id=store_id, receipt_id=receipt_of(receipt_id, origin),
        receipt_amount_kopecks=receipt_kopecks, points=points, code=code.strip(), actor=member.actor,
        staff_id=member.id,
    )


async def _receipt_stores(uow: UnitOfWork, receipt_id: str) -> list[int]:
    async def work(session: AsyncSession) -> list[int]:
        rows = await session.execute(select(Receipt.store_id).where(Receipt.receipt_id == receipt_id))
        return [int(store_id) for (store_id,) in rows]

    return await uow.read(work)


async def refund(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, receipt_id: str, amount_kopecks: int | None,
    origin: TillOrigin,
) -> RefundResult:
    """Refund (all that is left, or `amount_kopecks`) of a receipt of the staff member's store."""
    member = require(by)
    store_id = await till_store(uow, member)
    receipt_id = receipt_id.strip()
    stores = await _receipt_stores(uow, receipt_id)
    if store_id not in stores:
        if stores:
            raise WrongStore(receipt_id=receipt_id)
        raise ReceiptNotFound(receipt_id=receipt_id)
    return await ledger.refund(
        uow, clock, store_id=store_id, receipt_id=receipt_id, amount_kopecks=amount_kopecks,
        refund_id=origin.key, actor=member.actor, staff_id=member.id,
    )


async def adjust(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, card_id: int, points: int, reason: str,
    origin: TillOrigin,
) -> AdjustmentResult:
    """Manager and above; the ledger enforces the reason and the per-staff daily limit. The same
    `origin` again (a redelivered update) answers the first adjustment."""
    member = require(by, "manager")
    return await ledger.adjust_points(
        uow, clock, card_id=card_id, points=points, reason=reason, idempotency_key=origin.key,
        actor=member.actor, staff_id=member.id, store_id=member.store_id,
    )


async def set_card_status(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, card_id: int, status: str
) -> CardView:
    member = require(by, "manager")
    return await cards.set_status(uow, clock, card_id=card_id, status=status.strip().lower(), actor=member.actor)


async def new_customer(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, phone: str, name: str, surname: str | None,
    policy: PhonePolicy,
) -> CustomerView:
    member = require(by)
    return await customers.create_walk_in(
        uow, clock, phone=phone, name=name, surname=surname, phone_policy=policy, actor=member.actor,
        store_id=member.store_id,
    )


async def customer_to_erase(uow: UnitOfWork, *, by: StaffView | None, customer_id: int) -> CustomerView:
    """The customer a manager is about to erase, for the confirmation (CustomerNotFound once erased)."""
    require(by, "manager")
    return await customers.get_customer(uow, customer_id)


async def erase_customer(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, customer_id: int,
    conversations: customers.Conversations | None,
) -> None:
    """152-FZ erasure on the customer's request made to staff: managers and above, the same
    erasure as the customer's own /deleteme."""
    member = require(by, "manager")
    await customers.delete_personal_data(
        uow, clock, customer_id=customer_id, actor=member.actor, conversations=conversations
    )


# Phone conflicts ---------------------------------------------------------------------------------


async def open_conflicts(uow: UnitOfWork, *, by: StaffView | None) -> list[ConflictView]:
    require(by, "manager")
    return await customers.list_conflicts(uow)


async def resolve_conflict(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, conflict_id: int, move_card: bool
) -> ConflictView:
    member = require(by, "manager")
    return await customers.resolve_conflict(
        uow, clock, conflict_id=conflict_id, move_card=move_card, actor=member.actor, staff_id=member.id
    )


# Staff management ------------------------------------------------------------------------------


def grantable_roles(by: StaffView) -> list[str]:
    """Roles this member may invite, lowest first."""
    return [role for role, rank in sorted(ROLE_RANK.items(), key=lambda item: item[1]) if rank <= ROLE_RANK[by.role]]


async def invite(
    uow: UnitOfWork, clock: Clock, *, by: StaffView | None, role: str, store_code: str | None
) -> InviteView:
    member = require(by, "manager")
    if store_code and not may_invite_to_any_store(member) and store_code.strip() != member.store_code:
        raise RoleTooHigh(role="admin")  # a manager staffs their own store only
    return await staff.create_invite(uow, clock, by=member, role=role, store_code=store_code or None)


def may_invite_to_any_store(by: StaffView) -> bool:
    return by.at_least("admin")


async def list_staff(uow: UnitOfWork, *, by: StaffView | None) -> list[StaffView]:
    require(by, "manager")
    return await staff.list_staff(uow)


async def _invite_role(uow: UnitOfWork, code: str) -> str | None:
    async def work(session: AsyncSession) -> str | None:
        role = (await session.execute(select(StaffInvite.role).where(StaffInvite.code == code))).scalar_one_or_none()
        return None if role is None else str(role)

    return await uow.read(work)


async def accept_invite(
    uow: UnitOfWork, clock: Clock, *, current: StaffView | None, code: str, telegram_id: int, name: str
) -> StaffView:
    """Make the opener of an invite link staff. Someone who already holds a higher role keeps it: a
    cashier's link clicked by an admin must not demote them (the invite stays unused)."""
    if current is not None:
        role = await _invite_role(uow, code)
        if role is not None and ROLE_RANK.get(role, 0) < ROLE_RANK[current.role]:
            raise InviteWouldDemote(role=current.role)
    return await staff.accept_invite(uow, clock, code=code, telegram_id=telegram_id, name=name)


def may_deactivate(by: StaffView, other: StaffView) -> bool:
    return by.at_least("admin") and other.active and other.id != by.id and ROLE_RANK[other.role] <= ROLE_RANK[by.role]


def _deactivator(by: StaffView | None, staff_id: int) -> StaffView:
    member = require(by, "admin")
    if staff_id == member.id:
        raise Forbidden()  # nobody switches themselves off from the bot
    return member


async def deactivation_candidate(uow: UnitOfWork, *, by: StaffView | None, staff_id: int) -> StaffView:
    """Who a deactivation would switch off, to ask first; refused as the deactivation would be."""
    return await staff.deactivation_candidate(uow, by=_deactivator(by, staff_id), staff_id=staff_id)


async def deactivate(uow: UnitOfWork, clock: Clock, *, by: StaffView | None, staff_id: int) -> StaffView:
    return await staff.deactivate(uow, clock, by=_deactivator(by, staff_id), staff_id=staff_id)


# The customer card -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCard:
    customer: CustomerView  # masked for cashiers
    card_status: str | None
    balance: BalanceView | None
    operations: tuple[HistoryRow, ...]  # newest first


async def _card_status(uow: UnitOfWork, card_id: int) -> str | None:
    async def work(session: AsyncSession) -> str | None:
        status = (await session.execute(select(Card.status).where(Card.id == card_id))).scalar_one_or_none()
        return None if status is None else str(status)

    return await uow.read(work)


# A search keeps the ids of at most this many matches to page through (the count is exact).
SEARCH_KEPT = 500


async def search(uow: UnitOfWork, *, by: StaffView | None, query: str, policy: PhonePolicy) -> CustomerMatches:
    """Who a staff search finds: the count and the ids to page through (see search_page)."""
    require(by)
    return await customers.match_customers(uow, query, phone_policy=policy, limit=SEARCH_KEPT)


async def search_page(
    uow: UnitOfWork, *, by: StaffView | None, ids: list[int], offset: int, limit: int = SEARCH_PAGE
) -> list[CustomerView]:
    """One page of a search's ids, as this viewer may see them."""
    member = require(by)
    page = ids[max(offset, 0) : max(offset, 0) + limit]
    return await customers.customers_by_ids(uow, page, full_access=member.sees_personal_data)


async def customer_card(uow: UnitOfWork, clock: Clock, *, by: StaffView | None, customer_id: int) -> CustomerCard:
    """Name, card, status, level, balance, pending and the last operations, as this viewer may see."""
    member = require(by)
    customer = await customers.get_customer(uow, customer_id, full_access=member.sees_personal_data)
    if customer.card_id is None:
        return CustomerCard(customer, None, None, ())
    balance = await ledger.get_balance(uow, clock, customer.card_id)
    history = await ledger.get_history(uow, customer.card_id, limit=CUSTOMER_CARD_OPERATIONS)
    return CustomerCard(customer, await _card_status(uow, customer.card_id), balance, history.rows)
