"""Domain errors. Each has a stable `code`: the locale key of its message (`error-<code>` in
locales/*/errors.ftl) and the `type` of the HTTP problem document. `params` fill the message."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "domain_error"
    http_status = 422

    def __init__(self, **params: Any) -> None:
        self.params = params
        super().__init__(f"{self.code} {params}" if params else self.code)


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


class Forbidden(DomainError):
    code = "forbidden"
    http_status = 403


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class ValidationFailed(DomainError):
    code = "validation_error"
    http_status = 422


# Phones
class InvalidPhone(ValidationFailed):
    code = "invalid_phone"


class PhoneRegionNotAllowed(ValidationFailed):
    code = "phone_region_not_allowed"


class PhoneHasExtension(ValidationFailed):
    code = "phone_has_extension"


# Customers and cards
class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CardNotFound(NotFound):
    code = "card_not_found"


class CardBlocked(DomainError):
    code = "card_blocked"


class CardNotValid(DomainError):
    """Outside the card's valid_from / valid_to dates."""

    code = "card_not_valid"


class AccrualNotAllowed(DomainError):
    code = "accrual_not_allowed"


class PaymentNotAllowed(DomainError):
    code = "payment_not_allowed"


class CardAlreadyExists(Conflict):
    code = "card_exists"


class CardOwnedByAnother(Conflict):
    """Re-binding a card that has an owner needs an explicit confirmation."""

    code = "card_owned"


class ConsentRequired(DomainError):
    code = "consent_required"


class BirthdayAlreadySet(DomainError):
    code = "birthday_already_set"


class InvalidDate(ValidationFailed):
    code = "invalid_date"


class InvalidEmail(ValidationFailed):
    code = "invalid_email"


class InvalidName(ValidationFailed):
    code = "invalid_name"


# Staff
class StaffNotFound(NotFound):
    code = "staff_not_found"


class StoreNotFound(NotFound):
    code = "store_not_found"


class InvalidScopes(ValidationFailed):
    code = "invalid_scopes"


class StoreExists(Conflict):
    code = "store_exists"


class InvalidRole(ValidationFailed):
    code = "invalid_role"


class RoleTooHigh(Forbidden):
    code = "role_too_high"


class NotStaff(Forbidden):
    code = "not_staff"


class InviteInvalid(DomainError):
    code = "invite_invalid"


# Ledger
class InvalidAmount(ValidationFailed):
    code = "invalid_amount"


class InsufficientPoints(DomainError):
    code = "insufficient_points"


class CapExceeded(DomainError):
    code = "cap_exceeded"


class ReceiptTooLarge(DomainError):
    """A receipt above the program's `max_receipt_rub`: a typo (a code typed as an amount), not a sale."""

    code = "receipt_too_large"


class BadCode(DomainError):
    """No step the code could be for shows it: a wrong try, counted against the till."""

    code = "bad_code"


class CodeAlreadyUsed(Conflict):
    """A genuine code of the card that paid already (or was superseded by a later one that did): a
    retry or a second till, not a guess, so it counts as no wrong try."""

    code = "code_already_used"


class TooManyCodeAttempts(DomainError):
    """`scope` "card": this till typed too many wrong codes for this card; "till": for any cards.
    `retry_after_seconds` (and `minutes`, rounded up) say when this till may try again."""

    code = "too_many_code_attempts"
    http_status = 429


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class ReceiptNotFound(NotFound):
    code = "receipt_not_found"


class RefundExceedsReceipt(DomainError):
    code = "refund_exceeds_receipt"


class ReasonRequired(ValidationFailed):
    code = "reason_required"


class AdjustmentLimitReached(Forbidden):
    code = "adjustment_limit"


class WrongStore(Forbidden):
    code = "wrong_store"


class NoStoreYet(Conflict):
    """Till operations record a store and the program has none yet: an owner or admin creates it."""

    code = "no_store_yet"


class NoStoreAskAdmin(Conflict):
    """The same for a member below admin, who may not create stores."""

    code = "no_store_ask_admin"


class StoreChoiceNeeded(Conflict):
    """A member tied to no store, with several stores in the program, chooses one for the shift."""

    code = "store_choice_needed"


class InviteWouldDemote(Forbidden):
    """Opening an invitation for a lower role than one already holds would quietly demote."""

    code = "invite_would_demote"


# HTTP API keys
class Unauthorized(DomainError):
    code = "unauthorized"
    http_status = 401


class BadSignature(Unauthorized):
    code = "bad_signature"


class SignatureReplayed(Unauthorized):
    """This exact signed request was accepted before (on any instance)."""

    code = "signature_replayed"


class ScopeRequired(Forbidden):
    code = "insufficient_scope"


class InvalidSetting(ValidationFailed):
    code = "invalid_setting"


class LevelNotFound(NotFound):
    code = "level_not_found"


class BadCursor(ValidationFailed):
    """A history page cursor that was not made by us (tampered or from another version)."""

    code = "bad_cursor"


# The sandbox
class SandboxDatabaseHoldsRealData(Conflict):
    """The sandbox would seed its personas (an owner, a cashier anyone can play) into a database
    with customers or staff of its own: refused."""

    code = "sandbox_database_holds_real_data"
