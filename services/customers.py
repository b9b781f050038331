"""Customers: registration by a proven phone, walk-ins, search, profile, consents, deletion."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Card,
    Customer,
    CustomerLink,
    FamilyInvite,
    OutboxMessage,
    PhoneConflict,
    TimelineEntry,
)
from db.repositories import cards as cards_repo
from db.repositories import customers as repo
from db.uow import UnitOfWork
from services import audit, idempotent_requests
from services.cards import card_for_customer, create_card
from services.clock import Clock
from services.dates import parse_birthday, parse_date
from services.errors import (
    BirthdayAlreadySet,
    CardAlreadyExists,
    ConsentRequired,
    CustomerNotFound,
    InvalidEmail,
    InvalidName,
    NotFound,
    ValidationFailed,
)
from services.ledger.bonuses import add_welcome_bonus
from services.phones import PhonePolicy, looks_like_phone_or_card, mask_phone, parse_phone
from services.program import get_settings

LANGUAGES = ("ru", "en")
SERVICE_NOTIFICATION_KINDS = ("accrual", "redemption", "refund", "expiry_warning", "expired", "level_up")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NAME_MAX = 100


def language_of(telegram_language: str | None) -> str:
    """English for users whose Telegram speaks English, Russian otherwise."""
    return "en" if (telegram_language or "").lower().startswith("en") else "ru"


@dataclass(frozen=True)
class Registration:
    """`created`: new card P with the welcome bonus; `attached`: a walk-in customer's card P now has
    this Telegram account; `conflict`: card P belongs to another account (recycled number), staff
    will decide; `already`: this Telegram account was registered before."""

    outcome: Literal["created", "attached", "conflict", "already"]
    customer_id: int
    card_number: str | None
    welcome_points: int = 0


@dataclass(frozen=True)
class CustomerView:
    id: int
    surname: str | None
    name: str | None
    patronymic: str | None
    phone: str | None  # masked for viewers who may not see personal data
    birthday: date | None  # None for such viewers
    email: str | None
    city: str | None
    code_word: str | None
    language: str
    telegram_id: int | None
    marketing_consent: bool
    notification_optouts: tuple[str, ...]
    pinned_level_id: int | None
    unreachable: bool
    card_number: str | None
    card_id: int | None
    masked: bool

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.surname, self.name, self.patronymic) if part) or "—"


async def customer_view(session: AsyncSession, customer: Customer, *, full_access: bool = True) -> CustomerView:
    card = await card_for_customer(session, customer.id)
    return view_of(customer, card, full_access=full_access)


def view_of(customer: Customer, card: Card | None, *, full_access: bool = True) -> CustomerView:
    """The view of a customer whose card (own or family) the caller has already read."""
    return CustomerView(
        id=customer.id, surname=customer.surname, name=customer.name, patronymic=customer.patronymic,
        phone=customer.phone if full_access else mask_phone(customer.phone),
        birthday=customer.birthday if full_access else None,
        email=customer.email, city=customer.city, code_word=customer.code_word, language=customer.language,
        telegram_id=customer.telegram_id, marketing_consent=customer.marketing_consent,
        notification_optouts=tuple(customer.notification_optouts or ()),
        pinned_level_id=customer.pinned_level_id, unreachable=customer.unreachable,
        card_number=card.number if card else None, card_id=card.id if card else None,
        masked=not full_access,
    )


def _clean_name(value: str | None, field: str) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    if len(value) > _NAME_MAX or any(ch.isdigit() or ch in "<>@/\\" for ch in value):
        raise InvalidName(field=field)
    return value or None


async def register_by_telegram(
    uow: UnitOfWork,
    clock: Clock,
    *,
    telegram_id: int,
    phone: str,
    first_name: str | None,
    last_name: str | None,
    language: str,
    policy_version: str,
    phone_policy: PhonePolicy,
) -> Registration:
    """The customer proved phone P by sharing their own contact; apply DOMAIN.md's three cases."""
    parsed = parse_phone(phone, phone_policy)
    name, surname = _clean_name(first_name, "name"), _clean_name(last_name, "surname")
    program = await get_settings(uow)

    async def work(session: AsyncSession) -> Registration:
        now = clock.now()
        existing = await repo.by_telegram_id(session, telegram_id)
        if existing is not None:
            card = await card_for_customer(session, existing.id)
            return Registration("already", existing.id, card.number if card else None)
        card = await cards_repo.by_number(session, parsed.card_number, for_update=True)
        owner = await session.get(Customer, card.customer_id) if card and card.customer_id else None
        consent = {"pd_consent_at": now, "pd_policy_version": policy_version}
        if card is not None and owner is not None and owner.telegram_id is None and owner.deleted_at is None:
            # Case 1: a walk-in customer created by a cashier opens the bot: same person.
            owner.telegram_id, owner.unreachable = telegram_id, False
            owner.pd_consent_at, owner.pd_policy_version = now, policy_version
            owner.language = language
            owner.name = owner.name or name
            owner.surname = owner.surname or surname
            await session.flush()
            # Actors are internal ids, never the Telegram id: an erasure could not reach those.
            await audit.timeline(
                session, customer_id=owner.id, at=now, actor=f"customer:{owner.id}", kind="telegram_attached",
                data={},
            )
            return Registration("attached", owner.id, card.number)
        customer = Customer(
            name=name, surname=surname, phone=parsed.e164, language=language, telegram_id=telegram_id,
            created_at=now, notification_optouts=[], **consent,
        )
        session.add(customer)
        await session.flush()
        actor = f"customer:{customer.id}"
        await audit.timeline(session, customer_id=customer.id, at=now, actor=actor, kind="registered", data={})
        if card is not None:
            # Case 2: the number belonged to somebody else (or to a card staff unbound). Hand over
            # nothing; staff decide.
            session.add(
                PhoneConflict(
                    phone=parsed.e164, card_id=card.id, claimant_customer_id=customer.id, status="open",
                    created_at=now,
                )
            )
            await audit.record(
                session, at=now, actor=actor, action="phone_conflict.open", entity="card", entity_id=card.id,
                after={"claimant_customer_id": customer.id},
            )
            return Registration("conflict", customer.id, None)
        # Case 3: a new card P with the welcome bonus.
        new_card = await create_card(
            session, clock, number=parsed.card_number, customer_id=customer.id, source="phone", actor=actor
        )
        bonus = await add_welcome_bonus(session, settings=program, card_id=new_card.id, now=now, actor=actor)
        return Registration("created", customer.id, new_card.number, bonus.points)

    try:
        return await uow.write(work)
    except IntegrityError:
        # A concurrent registration took the card number or this Telegram id first: run the cases
        # again against what it committed.
        return await uow.write(work)


async def create_walk_in(
    uow: UnitOfWork,
    clock: Clock,
    *,
    phone: str,
    name: str,
    surname: str | None = None,
    phone_policy: PhonePolicy,
    actor: str,
    store_id: int | None = None,
) -> CustomerView:
    """A customer created at the till; the card is the phone number. When this person opens the
    bot with this phone, their Telegram is attached (registration case 1)."""
    parsed = parse_phone(phone, phone_policy)
    clean_name = _clean_name(name, "name")
    if not clean_name:
        raise InvalidName(field="name")
    clean_surname = _clean_name(surname, "surname")
    program = await get_settings(uow)

    async def work(session: AsyncSession) -> CustomerView:
        now = clock.now()
        if await cards_repo.by_number(session, parsed.card_number) is not None:
            raise CardAlreadyExists(number=parsed.card_number)
        customer = Customer(
            name=clean_name, surname=clean_surname, phone=parsed.e164, language="ru", created_at=now,
            store_id=store_id, notification_optouts=[],
        )
        session.add(customer)
        await session.flush()
        card = await create_card(
            session, clock, number=parsed.card_number, customer_id=customer.id, source="phone", actor=actor
        )
        await add_welcome_bonus(session, settings=program, card_id=card.id, now=now, actor=actor)
        await audit.record(
            session, at=now, actor=actor, action="customer.create_walk_in", entity="customer",
            entity_id=customer.id, after={"card_id": card.id, "store_id": store_id},
        )
        await audit.timeline(session, customer_id=customer.id, at=now, actor=actor, kind="created", data={})
        return await customer_view(session, customer)

    try:
        return await uow.write(work)
    except IntegrityError:
        raise CardAlreadyExists(number=parsed.card_number) from None


async def get_by_telegram(uow: UnitOfWork, telegram_id: int) -> CustomerView | None:
    async def work(session: AsyncSession) -> CustomerView | None:
        customer = await repo.by_telegram_id(session, telegram_id)
        return await customer_view(session, customer) if customer else None

    return await uow.read(work)


async def get_customer(uow: UnitOfWork, customer_id: int, *, full_access: bool = True) -> CustomerView:
    async def work(session: AsyncSession) -> CustomerView:
        customer = await session.get(Customer, customer_id)
        if customer is None or customer.deleted_at is not None:
            raise CustomerNotFound(customer_id=customer_id)
        return await customer_view(session, customer, full_access=full_access)

    return await uow.read(work)


@dataclass(frozen=True)
class CustomerPage:
    """One page of a search and how many customers matched in all."""

    items: list[CustomerView]
    total: int
    offset: int


async def find_customers(
    uow: UnitOfWork, query: str, *, phone_policy: PhonePolicy, full_access: bool, limit: int = 20
) -> list[CustomerView]:
    """The first `limit` customers a search finds (see search_customers)."""
    page = await search_customers(uow, query, phone_policy=phone_policy, full_access=full_access, limit=limit)
    return page.items


async def search_customers(
    uow: UnitOfWork, query: str, *, phone_policy: PhonePolicy, full_access: bool, offset: int = 0, limit: int = 20
) -> CustomerPage:
    """By phone or card number, birthday (DD.MM.YYYY), surname or code word: one page of the live
    customers found, in the order they joined, and how many there are in all."""
    text = query.strip()
    if not text:
        raise ValidationFailed(field="query")
    match = _search_condition(text, phone_policy)

    async def work(session: AsyncSession) -> CustomerPage:
        total, found = await repo.search_page(session, match, offset=offset, limit=limit)
        items = [await customer_view(session, c, full_access=full_access) for c in found]
        return CustomerPage(items=items, total=total, offset=offset)

    return await uow.read(work)


@dataclass(frozen=True)
class CustomerMatches:
    """What a search found: how many in all, and the ids of the first of them (internal ids, never
    the query: a caller keeps them to page through, and a phone typed as a query is personal data)."""

    total: int
    ids: list[int]


async def match_customers(
    uow: UnitOfWork, query: str, *, phone_policy: PhonePolicy, limit: int
) -> CustomerMatches:
    """The customers search_customers finds, as ids to page through with customers_by_ids."""
    text = query.strip()
    if not text:
        raise ValidationFailed(field="query")
    match = _search_condition(text, phone_policy)

    async def work(session: AsyncSession) -> CustomerMatches:
        total, ids = await repo.search_ids(session, match, limit=limit)
        return CustomerMatches(total=total, ids=ids)

    return await uow.read(work)


async def customers_by_ids(uow: UnitOfWork, ids: list[int], *, full_access: bool) -> list[CustomerView]:
    """The live customers among `ids`, in their order (erased ones are left out)."""

    async def work(session: AsyncSession) -> list[CustomerView]:
        return [await customer_view(session, c, full_access=full_access) for c in await repo.live_by_ids(session, ids)]

    return await uow.read(work)


def _search_condition(text: str, phone_policy: PhonePolicy) -> ColumnElement[bool]:
    try:
        day: date | None = parse_date(text)
    except ValidationFailed:
        day = None
    if day is not None:
        return Customer.birthday == day
    if looks_like_phone_or_card(text):
        digits = "".join(ch for ch in text if ch.isdigit())
        conditions: list[ColumnElement[bool]] = [Customer.id.in_(select(Card.customer_id).where(Card.number == digits))]
        with contextlib.suppress(ValidationFailed):
            conditions.append(Customer.phone == parse_phone(text, phone_policy).e164)
        return or_(*conditions)
    lowered = text.lower()
    return or_(func.lower(Customer.surname) == lowered, func.lower(Customer.code_word) == lowered)


async def _live(session: AsyncSession, customer_id: int) -> Customer:
    customer = await repo.by_id(session, customer_id, for_update=True)
    if customer is None or customer.deleted_at is not None:
        raise CustomerNotFound(customer_id=customer_id)
    return customer


async def update_profile(
    uow: UnitOfWork,
    clock: Clock,
    *,
    customer_id: int,
    actor: str,
    by_staff: bool,
    name: str | None = None,
    surname: str | None = None,
    patronymic: str | None = None,
    email: str | None = None,
    birthday: str | None = None,
    city: str | None = None,
    code_word: str | None = None,
) -> CustomerView:
    """Change what is given (None = leave as is). A customer sets their birthday once; staff may
    correct it. Values are validated before anything is written."""
    changes: dict[str, object] = {}
    for field, value in (("name", name), ("surname", surname), ("patronymic", patronymic)):
        if value is not None:
            changes[field] = _clean_name(value, field)
    if email is not None:
        email = email.strip()
        if email and (len(email) > 254 or not _EMAIL.match(email)):
            raise InvalidEmail(value=email)
        changes["email"] = email or None
    if city is not None:
        changes["city"] = " ".join(city.split())[:100] or None
    if code_word is not None:
        changes["code_word"] = " ".join(code_word.split())[:100] or None
    new_birthday = parse_birthday(birthday, clock.now().date()) if birthday is not None else None

    async def work(session: AsyncSession) -> CustomerView:
        customer = await _live(session, customer_id)
        now = clock.now()
        if new_birthday is not None:
            if customer.birthday is not None and not by_staff:
                raise BirthdayAlreadySet()
            if new_birthday != customer.birthday:
                customer.birthday = new_birthday
                customer.birthday_month, customer.birthday_day = new_birthday.month, new_birthday.day
                customer.birthday_set_at = now
                changes["birthday"] = True
        for field, value in changes.items():
            if field != "birthday":
                setattr(customer, field, value)
        await session.flush()
        # Personal values stay out of the append-only log: it names the fields, not their contents.
        await audit.record(
            session, at=now, actor=actor, action="customer.update_profile", entity="customer",
            entity_id=customer.id, after={"fields": sorted(changes)},
        )
        await audit.timeline(
            session, customer_id=customer.id, at=now, actor=actor, kind="profile_updated",
            data={"fields": sorted(changes)},
        )
        return await customer_view(session, customer)

    return await uow.write(work)


async def set_language(uow: UnitOfWork, clock: Clock, *, customer_id: int, language: str) -> CustomerView:
    if language not in LANGUAGES:
        raise ValidationFailed(field="language")

    async def work(session: AsyncSession) -> CustomerView:
        customer = await _live(session, customer_id)
        customer.language = language
        await session.flush()
        return await customer_view(session, customer)

    return await uow.write(work)


async def set_notification(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, kind: str, enabled: bool, actor: str
) -> CustomerView:
    """Turn one kind of service notification on or off."""
    if kind not in SERVICE_NOTIFICATION_KINDS:
        raise ValidationFailed(field="kind")

    async def work(session: AsyncSession) -> CustomerView:
        customer = await _live(session, customer_id)
        optouts = set(customer.notification_optouts or ())
        optouts.discard(kind) if enabled else optouts.add(kind)
        customer.notification_optouts = sorted(optouts)
        await session.flush()
        await audit.timeline(
            session, customer_id=customer.id, at=clock.now(), actor=actor, kind="notifications",
            data={"kind": kind, "enabled": enabled},
        )
        return await customer_view(session, customer)

    return await uow.write(work)


async def set_marketing_consent(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, consent: bool, actor: str
) -> CustomerView:
    async def work(session: AsyncSession) -> CustomerView:
        customer = await _live(session, customer_id)
        if customer.pd_consent_at is None:
            raise ConsentRequired()
        customer.marketing_consent = consent
        customer.marketing_consent_at = clock.now()
        await session.flush()
        await audit.record(
            session, at=clock.now(), actor=actor, action="customer.marketing_consent", entity="customer",
            entity_id=customer.id, after={"marketing_consent": consent},
        )
        await audit.timeline(
            session, customer_id=customer.id, at=clock.now(), actor=actor, kind="marketing_consent",
            data={"consent": consent},
        )
        return await customer_view(session, customer)

    return await uow.write(work)


async def set_reachable(uow: UnitOfWork, *, telegram_id: int, reachable: bool) -> None:
    """A 403 from Telegram marks a customer unreachable; any later message from them undoes it."""

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(Customer)
            .where(Customer.telegram_id == telegram_id, Customer.unreachable.is_not(not reachable))
            .values(unreachable=not reachable)
        )

    await uow.write(work)


class Conversations(Protocol):
    """The bot's conversation state (aiogram's FSM storage: Redis or memory), keyed by Telegram id."""

    async def forget(self, telegram_id: int) -> None:
        """Delete whatever dialog state and data are kept for this Telegram user."""


_PERSONAL_FIELDS = (
    "surname", "name", "patronymic", "sex", "birthday", "birthday_month", "birthday_day", "birthday_set_at",
    "phone", "extra_phone", "email", "city", "code_word", "notes", "source", "telegram_id", "import_key",
)


async def delete_personal_data(
    uow: UnitOfWork, clock: Clock, *, customer_id: int, actor: str, conversations: Conversations | None = None
) -> None:
    """152-FZ erasure, by the customer (/deleteme) or by staff: personal data goes at once, the card
    is blocked and unbound, ledger rows stay (they reference the card, not the person) so every sum
    still balances, and nothing is sent to this person again.

    Whatever else named the person goes in the same transaction: stored API responses about their
    cards (they carry the card number, which is the phone), their queued messages and the copies
    queued about them for their contact persons, their links, open family invites, their timeline's
    details, the phone of phone conflicts about them. The audit log and the timeline hold internal ids
    only, so they stay. After the commit, `conversations` forgets their dialog with the bot (its
    key is their Telegram id)."""

    async def work(session: AsyncSession) -> int | None:
        customer = await _live(session, customer_id)
        telegram_id = customer.telegram_id
        now = clock.now()
        for field in _PERSONAL_FIELDS:
            setattr(customer, field, None)
        customer.marketing_consent = False
        customer.unreachable = True
        customer.deleted_at = now
        cards = list((await session.execute(select(Card).where(Card.customer_id == customer_id))).scalars())
        card_ids = [card.id for card in cards]
        for card in cards:
            card.status, card.customer_id = "blocked", None
            # The number is the phone: free it, so the number is no longer personal data and a
            # future holder of this phone starts with a clean card instead of this history.
            card.number = f"deleted-{card.id}"
        await idempotent_requests.forget_customer(session, customer_id, card_ids)
        await session.execute(
            update(OutboxMessage)
            .where(
                (OutboxMessage.customer_id == customer_id)
                | OutboxMessage.occasion.startswith(f"about:{customer_id}:", autoescape=True),
                OutboxMessage.status == "pending",
            )
            .values(status="skipped", last_error="customer deleted", payload={})
        )
        await session.execute(
            delete(CustomerLink).where(
                (CustomerLink.from_customer_id == customer_id) | (CustomerLink.to_customer_id == customer_id)
            )
        )
        await session.execute(
            delete(FamilyInvite).where(
                FamilyInvite.created_by_customer_id == customer_id, FamilyInvite.used_at.is_(None)
            )
        )
        await session.execute(
            update(TimelineEntry).where(TimelineEntry.customer_id == customer_id).values(data={})
        )
        await session.execute(
            update(PhoneConflict)
            .where(PhoneConflict.claimant_customer_id == customer_id, PhoneConflict.status == "open")
            .values(status="kept", resolved_at=now)
        )
        about_them = PhoneConflict.claimant_customer_id == customer_id
        if card_ids:
            about_them = about_them | PhoneConflict.card_id.in_(card_ids)
        await session.execute(update(PhoneConflict).where(about_them).values(phone=None))
        await session.flush()
        await audit.record(
            session, at=now, actor=actor, action="customer.delete", entity="customer", entity_id=customer_id,
            after={"cards_blocked": card_ids},
        )
        return telegram_id

    telegram_id = await uow.write(work)
    if telegram_id is not None and conversations is not None:
        await conversations.forget(telegram_id)


@dataclass(frozen=True)
class ConflictView:
    id: int
    phone_masked: str
    card_number: str
    card_balance: int
    holder_customer_id: int | None
    claimant_customer_id: int
    created_at_iso: str


async def list_conflicts(uow: UnitOfWork) -> list[ConflictView]:
    async def work(session: AsyncSession) -> list[ConflictView]:
        rows = await session.execute(
            select(PhoneConflict, Card)
            .join(Card, Card.id == PhoneConflict.card_id)
            .where(PhoneConflict.status == "open")
            .order_by(PhoneConflict.id)
        )
        return [
            ConflictView(
                id=conflict.id, phone_masked=mask_phone(conflict.phone), card_number=card.number,
                card_balance=card.balance, holder_customer_id=card.customer_id,
                claimant_customer_id=conflict.claimant_customer_id,
                created_at_iso=conflict.created_at.isoformat(),
            )
            for conflict, card in rows
        ]

    return await uow.read(work)


async def resolve_conflict(
    uow: UnitOfWork, clock: Clock, *, conflict_id: int, move_card: bool, actor: str, staff_id: int | None
) -> ConflictView:
    """Either the card (and its balance) moves to the claimant, or the holder keeps it and the
    claimant stays without a card (staff may issue another)."""

    async def work(session: AsyncSession) -> ConflictView:
        conflict = (
            await session.execute(
                select(PhoneConflict).where(PhoneConflict.id == conflict_id).with_for_update()
            )
        ).scalar_one_or_none()
        if conflict is None or conflict.status != "open":
            raise NotFound(conflict_id=conflict_id)
        card = await cards_repo.by_id(session, conflict.card_id, for_update=True)
        assert card is not None
        now = clock.now()
        previous = card.customer_id
        if move_card:
            card.customer_id = conflict.claimant_customer_id
            card.is_primary = True
        conflict.status = "moved" if move_card else "kept"
        conflict.resolved_at, conflict.resolved_by_staff_id = now, staff_id
        await session.flush()
        await audit.record(
            session, at=now, actor=actor, action="phone_conflict.resolve", entity="card", entity_id=card.id,
            before={"customer_id": previous}, after={"customer_id": card.customer_id, "status": conflict.status},
        )
        for customer_id in {previous, conflict.claimant_customer_id} - {None}:
            assert customer_id is not None
            await audit.timeline(
                session, customer_id=customer_id, at=now, actor=actor, kind="phone_conflict",
                data={"card_id": card.id, "resolution": conflict.status},
            )
        return ConflictView(
            id=conflict.id, phone_masked=mask_phone(conflict.phone), card_number=card.number,
            card_balance=card.balance, holder_customer_id=card.customer_id,
            claimant_customer_id=conflict.claimant_customer_id, created_at_iso=conflict.created_at.isoformat(),
        )

    return await uow.write(work)
