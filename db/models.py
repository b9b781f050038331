"""The schema. Units: money in kopecks, points in hundredths of a point (like kopecks of a ruble:
1 point = 1 RUB = 100 units), rates and multipliers in basis points (500 = 5 %, 10000 = x1).
Every timestamp is UTC with time zone. Change it only together with a migration."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from db.base import Base
from db.types import BigIntPK, UTCDateTime

CARD_STATUSES = ("active", "accrual_only", "payment_only", "blocked")
STAFF_ROLES = ("owner", "admin", "manager", "cashier")
LOT_STATUSES = ("pending", "active", "expired", "cancelled")
OPERATION_KINDS = (
    "purchase_accrual",
    "redemption",
    "refund_reversal",
    "refund_restore",
    "manual_adjustment",
    "welcome_bonus",
    "birthday_bonus",
    "opening_balance",
    "expiry",
    "debt_repayment",
    "discount_purchase",
)
LINK_SEMANTICS = ("card_owner", "contact_person", "legal_representative", "relative")
# `claimed`: taken by a sender (claim_owner) until claimed_until, no request made yet: a lapsed
# claim goes back to `pending`. `sending`: its request is being made: if its sender dies, `unknown`.
OUTBOX_STATUSES = ("pending", "claimed", "sending", "sent", "failed", "unknown", "skipped")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Store(Base):
    __tablename__ = "stores"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CardGroup(Base):
    """ARTIX card groups: each may have its own level ladder (levels with this group_id)."""

    __tablename__ = "card_groups"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Level(Base):
    """A rung of a level ladder: from `threshold` cumulative purchases the card earns `percent_bp`
    (bonus mode) or gets `percent_bp` off (discount mode). group_id NULL = the default ladder."""

    __tablename__ = "levels"
    __table_args__ = (
        UniqueConstraint("group_id", "code"),
        CheckConstraint("threshold_kopecks >= 0", name="threshold_nonneg"),
        CheckConstraint("percent_bp >= 0 AND percent_bp <= 10000", name="percent_range"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("card_groups.id"))
    code: Mapped[str] = mapped_column(String(32))
    # A name per language (services/levels.py LevelNames); migration 0012 named the seeded ones.
    name_ru: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    threshold_kopecks: Mapped[int] = mapped_column(BigInteger)
    percent_bp: Mapped[int] = mapped_column(Integer)


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint(_in("sex", ("male", "female")) + " OR sex IS NULL", name="sex"),
        Index("ix_customers_birthday_md", "birthday_month", "birthday_day"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    surname: Mapped[str | None] = mapped_column(String(100), index=True)
    name: Mapped[str | None] = mapped_column(String(100))
    patronymic: Mapped[str | None] = mapped_column(String(100))
    sex: Mapped[str | None] = mapped_column(String(6))
    birthday: Mapped[date | None] = mapped_column(Date)
    # Denormalised for an index-only "whose birthday is today" scan over millions of customers.
    birthday_month: Mapped[int | None] = mapped_column(Integer)
    birthday_day: Mapped[int | None] = mapped_column(Integer)
    birthday_set_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # E.164, not unique (families)
    extra_phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    city: Mapped[str | None] = mapped_column(String(100))
    code_word: Mapped[str | None] = mapped_column(String(100), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str | None] = mapped_column(String(200))
    pinned_level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    language: Mapped[str] = mapped_column(String(5), server_default="ru")
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    unreachable: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    marketing_consent: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    marketing_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pd_consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pd_policy_version: Mapped[str | None] = mapped_column(String(32))
    # Set when a legal representative gave the consent on behalf of a minor.
    pd_consent_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    # Kinds of service notifications the customer turned off, e.g. ["accrual", "expiry_warning"].
    notification_optouts: Mapped[list[str]] = mapped_column(JSON, default=list)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    # A stable key of the imported source row, so re-importing a file changes nothing.
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"
    __table_args__ = (CheckConstraint(_in("role", STAFF_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    # For a member tied to no store: the store their shift's receipts are posted at (services/shifts.py).
    shift_store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class StaffInvite(Base):
    __tablename__ = "staff_invites"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(10))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    created_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Card(Base):
    """A card is its own points account. `balance`, `pending` and `debt` are caches kept by the
    ledger in the same transaction as the lots and operations that justify them. `balance` is what
    the active lots hold, expired or not: a lot stops being available at its `expires_at` instant,
    but only the expiry job writes that down, so what a card can spend at an instant is `balance`
    minus `expired_held` at that instant (services/ledger/available.py)."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint(_in("status", CARD_STATUSES), name="status"),
        CheckConstraint("balance >= 0", name="balance_nonneg"),
        CheckConstraint("pending >= 0", name="pending_nonneg"),
        CheckConstraint("debt >= 0", name="debt_nonneg"),
        CheckConstraint("multiplier_bp IS NULL OR multiplier_bp > 0", name="multiplier_positive"),
        Index("ix_cards_customer_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    is_primary: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("card_groups.id"))
    status: Mapped[str] = mapped_column(String(16), server_default="active")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    multiplier_bp: Mapped[int | None] = mapped_column(Integer)
    multiplier_from: Mapped[date | None] = mapped_column(Date)
    multiplier_to: Mapped[date | None] = mapped_column(Date)
    level_id: Mapped[int | None] = mapped_column(ForeignKey("levels.id"))
    # Cumulative purchases minus refunds: what the level is computed from.
    purchases_kopecks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    balance: Mapped[int] = mapped_column(BigInteger, server_default="0")
    pending: Mapped[int] = mapped_column(BigInteger, server_default="0")
    debt: Mapped[int] = mapped_column(BigInteger, server_default="0")
    # Not a column: what the card's active lots past their expires_at still hold (the expiry job has
    # yet to burn it), as of the instant named by the statement that loaded the card, which asks
    # for it with `with_expression` (db/repositories/ledger.py::expired_held); None where it did not.
    expired_held: Mapped[int | None] = query_expression()
    # TOTP secret for the customer's 6-digit redemption code, and the last step used (each step
    # pays once). Wrong codes are counted per till in code_tries, not here.
    otp_secret: Mapped[str] = mapped_column(String(64))
    otp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(16), server_default="phone")  # phone | legacy | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CodeTry(Base):
    """Wrong one-time codes that one till typed for one card in the window starting at `since`.
    A till is whoever typed the code: an API key (`api:<id>`) or a cashier (`staff:<id>`), the
    redemption's actor. Counting per till, not per card, means a till (any POS key) cannot lock a
    customer out of paying at every other till; the index on (till, since) serves the limit per
    till across cards (services/ledger/otp.py)."""

    __tablename__ = "code_tries"
    __table_args__ = (Index("ix_code_tries_till_since", "till", "since"),)

    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), primary_key=True)
    till: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    since: Mapped[datetime] = mapped_column(UTCDateTime)


class ProgramSetting(Base):
    __tablename__ = "program_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))


class Operation(Base):
    """One row per ledger event. `points` is signed; the sum over a card equals the points its lots
    hold minus its debt. `idempotency_key` is unique per source (store + receipt for purchases,
    API key + Idempotency-Key or a generated id for others); `request_hash` detects a replay with a
    different body."""

    __tablename__ = "operations"
    __table_args__ = (
        CheckConstraint(_in("kind", OPERATION_KINDS), name="kind"),
        Index("ix_operations_card_history", "card_id", "created_at", "id"),
        Index("ix_operations_store_created", "store_id", "created_at"),
        Index("ix_operations_receipt", "store_id", "receipt_id"),
        Index("ix_operations_related", "related_operation_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))  # who bought
    kind: Mapped[str] = mapped_column(String(24))
    points: Mapped[int] = mapped_column(BigInteger)
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    actor: Mapped[str] = mapped_column(String(64))  # staff:ID | api:KEY_ID | system | customer:ID
    receipt_id: Mapped[str | None] = mapped_column(String(64))
    receipt_kopecks: Mapped[int | None] = mapped_column(BigInteger)
    rate_bp: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(500))
    related_operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Receipt(Base):
    """A purchase, so that refunds (several, partial) are bounded by conditional UPDATEs on one row."""

    __tablename__ = "receipts"
    __table_args__ = (
        UniqueConstraint("store_id", "receipt_id"),
        CheckConstraint("amount_kopecks > 0", name="amount_positive"),
        CheckConstraint("refunded_kopecks >= 0 AND refunded_kopecks <= amount_kopecks", name="refunded_range"),
        CheckConstraint("reversed_points >= 0 AND reversed_points <= earned_points", name="reversed_range"),
        CheckConstraint("restored_points >= 0 AND restored_points <= redeemed_points", name="restored_range"),
        Index("ix_receipts_accrual_operation", "accrual_operation_id"),
        Index("ix_receipts_redemption_operation", "redemption_operation_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id"))
    receipt_id: Mapped[str] = mapped_column(String(64))
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    mode: Mapped[str] = mapped_column(String(10))  # bonus | discount
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    paid_with_points_kopecks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    discount_kopecks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    rate_bp: Mapped[int] = mapped_column(Integer)
    earned_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    redeemed_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    refunded_kopecks: Mapped[int] = mapped_column(BigInteger, server_default="0")
    reversed_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    restored_points: Mapped[int] = mapped_column(BigInteger, server_default="0")
    accrual_operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    redemption_operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Lot(Base):
    """A credit of points with its own life: pending until `available_at`, active until
    `expires_at`. Spending decrements `remaining` with a conditional UPDATE."""

    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint(_in("status", LOT_STATUSES), name="status"),
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_range"),
        Index("ix_lots_card_spend", "card_id", "status", "expires_at"),
        Index("ix_lots_due_activation", "status", "available_at"),
        Index("ix_lots_due_expiry", "status", "expires_at"),
        Index("ix_lots_operation", "operation_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    remaining: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))
    available_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    # For points restored by a refund: the lot they were originally spent from.
    restored_from_lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Allocation(Base):
    """Which lots a redemption (or a reversal, or an expiry) consumed, and how much of it a refund
    has given back so far."""

    __tablename__ = "allocations"
    __table_args__ = (
        CheckConstraint("points > 0", name="points_positive"),
        CheckConstraint("restored >= 0 AND restored <= points", name="restored_range"),
        Index("ix_allocations_operation", "operation_id"),
        Index("ix_allocations_lot", "lot_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    points: Mapped[int] = mapped_column(BigInteger)
    restored: Mapped[int] = mapped_column(BigInteger, server_default="0")


class LinkType(Base):
    """ITigris "Связи клиентов" directory. `semantics` gives a type its behaviour; the default
    ticks say which column ("this customer is ..." / "for this customer ...") is pre-ticked."""

    __tablename__ = "link_types"
    __table_args__ = (CheckConstraint(_in("semantics", LINK_SEMANTICS), name="semantics"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_ru: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    semantics: Mapped[str] = mapped_column(String(24))
    default_forward: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    default_backward: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    system: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))


class CustomerLink(Base):
    """Directed: customer `from_customer_id` is <type> for customer `to_customer_id`."""

    __tablename__ = "customer_links"
    __table_args__ = (
        UniqueConstraint("from_customer_id", "to_customer_id", "link_type_id"),
        CheckConstraint("from_customer_id <> to_customer_id", name="not_self"),
        Index("ix_customer_links_to", "to_customer_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    from_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    to_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    link_type_id: Mapped[int] = mapped_column(ForeignKey("link_types.id"))
    # For card-owner links: which of A's cards B uses.
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FamilyInvite(Base):
    __tablename__ = "family_invites"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    created_by_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_by_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PhoneConflict(Base):
    """A recycled number: card `card_id` belongs to another Telegram account than the one that just
    proved the phone. Staff decide; until then nobody gets the balance."""

    __tablename__ = "phone_conflicts"
    __table_args__ = (CheckConstraint(_in("status", ("open", "moved", "kept")), name="status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20))  # None once either side is erased
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"))
    claimant_customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[str] = mapped_column(String(8), server_default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    created_by_staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(12), server_default="draft")
    queued: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxMessage(Base):
    """Every message to a customer. The UNIQUE (customer, kind, occasion) key makes a producer's
    retry, a restart or a second instance unable to queue the same message twice. A sender's claim
    (`claimed`, then `sending`) names its owner and lasts until `claimed_until` unless renewed
    (services/notifications/sender.py)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "occasion"),
        CheckConstraint(_in("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    # The chat is the customer's Telegram id, read at send time and never stored here: an erased
    # customer's rows then hold nothing that names them.
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[str] = mapped_column(String(32))
    occasion: Mapped[str] = mapped_column(String(128))
    marketing: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_owner: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only (a database trigger refuses UPDATE and DELETE), so it can never be erased: it
    holds internal ids and field names only, never personal values (a card number is a phone).
    Actors are `staff:ID`, `customer:ID`, `api:KEY_ID`, `system` or a CLI name."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_actor_at", "actor", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class TimelineEntry(Base):
    """What happened to a customer, for staff reading the customer card: ids and field names, like
    the audit log (an erasure also empties the erased customer's `data`)."""

    __tablename__ = "customer_timeline"
    __table_args__ = (Index("ix_customer_timeline_customer_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    # HMAC secret for request signing; the bearer key itself is only stored hashed.
    signing_secret: Mapped[str] = mapped_column(String(128))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id"))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotentRequest(Base):
    """The first response to an (API key, Idempotency-Key) or (store, receipt) request, replayed
    verbatim to a retry with the same body. A response about a card carries its number (the
    phone): `card_id` and `customer_id` (the card's owner when it was stored) say whose it is, so
    that erasing that customer drops it."""

    __tablename__ = "idempotent_requests"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    card_id: Mapped[int | None] = mapped_column(ForeignKey("cards.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SignatureReplay(Base):
    """API request signatures already accepted, for refusing replays without Redis: kept until their
    timestamp can no longer be accepted (services/signature_replays.py)."""

    __tablename__ = "signature_replays"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)  # key prefix ":" signature
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ProcessedUpdate(Base):
    """Telegram update ids already handled, for webhook redelivery without Redis."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # claimed (or taken over) at
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: being handled, or abandoned
