"""Request and response models of the API. The same models validate requests, shape responses and
generate the OpenAPI document, so the three cannot disagree.

Units: money is an integer number of KOPECKS (1 RUB = 100); points are an integer number of
HUNDREDTHS of a point (1 point = 100 = 1 RUB, so a number of points also says the kopecks they pay
for). JSON numbers with a fraction or an exponent (`1e9`), strings (`"12,345"`) and booleans are
refused, never rounded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, model_validator

MAX_KOPECKS = 100_000_000_000  # a billion rubles: anything above is a typo
MAX_POINTS = 100_000_000_000

Kopecks = Annotated[
    StrictInt, Field(gt=0, le=MAX_KOPECKS, description="Money in kopecks, an integer (123456 = 1234.56 RUB).")
]
Points = Annotated[
    StrictInt,
    Field(ge=0, le=MAX_POINTS, description="Points in hundredths of a point, an integer (5000 = 50 points = 50 RUB)."),
]
SignedPoints = Annotated[
    StrictInt,
    Field(ge=-MAX_POINTS, le=MAX_POINTS, description="Signed points in hundredths of a point."),
]
Identifier = Annotated[
    StrictStr, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:/#-]+$", description="1-64 characters.")
]
CardNumber = Annotated[StrictStr, Field(min_length=1, max_length=32, pattern=r"^[0-9]+$", description="Digits.")]
PhoneText = Annotated[StrictStr, Field(min_length=3, max_length=40, description="A phone in any usual spelling.")]
CARD_STATUSES = Literal["active", "accrual_only", "payment_only", "blocked"]


class Request(BaseModel):
    """Unknown fields are refused, and types are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Query(BaseModel):
    """Query strings are text, so numbers in them are parsed (but still range-checked)."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CardOrPhone(Request):
    card: CardNumber | None = Field(default=None, description="The card number; give this or `phone`.")
    phone: PhoneText | None = Field(default=None, description="The customer's phone; give this or `card`.")

    @model_validator(mode="after")
    def _one_of(self) -> CardOrPhone:
        if (self.card is None) == (self.phone is None):
            raise ValueError("give exactly one of `card` and `phone`")
        return self

    @property
    def query(self) -> str:
        return self.card if self.card is not None else (self.phone or "")


# Requests


class LookupQuery(Query):
    q: str = Field(min_length=1, max_length=40, description="A card number or a phone.")


class QuoteRequest(CardOrPhone):
    amount_kopecks: Kopecks
    redeem_points: Points = 0


class PurchaseRequest(CardOrPhone):
    receipt_id: Identifier = Field(description="The till's receipt id: unique per store, the idempotency key.")
    amount_kopecks: Kopecks
    redeem_points: Points = Field(default=0, description="Points paying part of the receipt; needs `code`.")
    code: StrictStr | None = Field(
        default=None, pattern=r"^[0-9]{6}$", description="The customer's 6-digit code from their card screen."
    )

    @model_validator(mode="after")
    def _code_with_points(self) -> PurchaseRequest:
        if self.redeem_points > 0 and self.code is None:
            raise ValueError("`code` is required to redeem points")
        if self.redeem_points > self.amount_kopecks:
            raise ValueError("`redeem_points` is larger than the receipt")
        return self


class RefundRequest(Request):
    refund_id: Identifier = Field(description="The till's refund id: the idempotency key with the receipt id.")
    receipt_id: Identifier
    amount_kopecks: Kopecks | None = Field(default=None, description="Omitted: all that is not refunded yet.")


class OperationsQuery(Query):
    limit: int = Field(default=20, ge=1, le=100)
    before: str | None = Field(default=None, max_length=100, description="`older_cursor` of the previous page.")
    after: str | None = Field(default=None, max_length=100, description="`newer_cursor` of the previous page.")

    @model_validator(mode="after")
    def _one_direction(self) -> OperationsQuery:
        if self.before is not None and self.after is not None:
            raise ValueError("give `before` or `after`, not both")
        return self


class WalkInRequest(Request):
    phone: PhoneText
    name: StrictStr = Field(min_length=1, max_length=100)
    surname: StrictStr | None = Field(default=None, max_length=100)


class AdjustmentRequest(Request):
    points: SignedPoints = Field(description="Positive adds, negative takes away; not zero.")
    reason: StrictStr = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _not_zero(self) -> AdjustmentRequest:
        if self.points == 0:
            raise ValueError("`points` must not be zero")
        return self


class CardStatusRequest(Request):
    status: CARD_STATUSES


class CustomersQuery(Query):
    q: str = Field(min_length=1, max_length=100, description="Phone, card number, birthday DD.MM.YYYY, surname.")
    limit: int = Field(default=20, ge=1, le=100, description="Customers per page.")
    offset: int = Field(default=0, ge=0, description="How many matching customers to skip (paging).")


class ProgramSettingsPatch(Request):
    """Only the given keys change. Point amounts here are WHOLE points, as an admin types them."""

    mode: Literal["bonus", "discount"] | None = None
    redemption_cap_bp: StrictInt | None = None
    return_window_days: StrictInt | None = None
    expiry_days: StrictInt | None = None
    expiry_warning_days: StrictInt | None = None
    welcome_bonus_points: StrictInt | None = None
    welcome_bonus_days: StrictInt | None = None
    birthday_bonus_points: StrictInt | None = None
    birthday_bonus_days: StrictInt | None = None
    birthday_min_days_since_set: StrictInt | None = None
    birthday_greeting_hour: StrictInt | None = None
    points_decimals: StrictInt | None = None
    daily_adjustment_limit_points: StrictInt | None = None
    family_members_limit: StrictInt | None = None
    confirm_accrual_above_rub: StrictInt | None = None
    max_receipt_rub: StrictInt | None = None
    business_timezone: StrictStr | None = None
    notifications: list[StrictStr] | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


# Responses


class LevelOut(Response):
    code: str
    name: str = Field(description="The English name (as before names had languages); see name_ru, name_en.")
    name_ru: str
    name_en: str
    percent_bp: int = Field(description="Accrual (or discount) percent in basis points: 500 = 5 %.")


class CardOut(Response):
    number: str
    status: str
    balance: int = Field(description="Available points, hundredths.")
    pending: int = Field(description="Points waiting for the return window to end, hundredths.")
    debt: int = Field(description="Points owed after a refund, repaid by the next accruals, hundredths.")
    level: LevelOut
    masked_phone: str | None
    customer_name: str | None


class QuoteOut(Response):
    card: CardOut
    mode: Literal["bonus", "discount"]
    amount_kopecks: int
    redeem_points: int
    rate_bp: int
    points_to_accrue: int
    discount_kopecks: int
    max_redeemable: int = Field(description="The most points this receipt may be paid with now, hundredths.")
    accrual_allowed: bool
    payment_allowed: bool


class PurchaseOut(Response):
    receipt_id: str
    store: str
    card_number: str
    mode: Literal["bonus", "discount"]
    amount_kopecks: int
    redeemed_points: int
    accrued_points: int
    debt_repaid: int
    rate_bp: int
    discount_kopecks: int
    points_status: Literal["pending", "active"] | None
    available_at: datetime | None
    expires_at: datetime | None
    level_up: bool
    balance: int
    pending: int
    debt: int
    level_code: str
    operation_id: int


class RefundOut(Response):
    refund_id: str
    receipt_id: str
    store: str
    refunded_kopecks: int
    receipt_refunded_kopecks: int
    reversed_points: int
    restored_points: int
    new_debt: int
    balance: int
    pending: int
    debt: int
    level_code: str
    operation_id: int


class OperationOut(Response):
    id: int
    kind: str
    points: int = Field(description="Signed, hundredths.")
    created_at: datetime
    store_name: str | None
    receipt_id: str | None
    receipt_kopecks: int | None
    rate_bp: int | None
    reason: str | None


class OperationsPage(Response):
    items: list[OperationOut] = Field(description="Newest first.")
    older_cursor: str | None = Field(description="Pass as `before` for the next (older) page; null at the end.")
    newer_cursor: str | None = Field(description="Pass as `after` for the previous (newer) page.")


class CustomerOut(Response):
    id: int
    name: str | None
    surname: str | None
    patronymic: str | None
    phone: str | None = Field(description="Masked (+7 *** ***-45-67) unless the key has the admin scope.")
    card_number: str | None
    telegram_linked: bool
    masked: bool


class CustomersOut(Response):
    items: list[CustomerOut]
    total: int = Field(description="How many customers matched in all; `items` is the page from `offset`.")
    offset: int


class AdjustmentOut(Response):
    card_number: str
    points: int
    expires_at: datetime | None
    balance: int
    pending: int
    debt: int
    level_code: str
    operation_id: int


class ProgramSettingsOut(Response):
    mode: Literal["bonus", "discount"]
    redemption_cap_bp: int
    return_window_days: int
    expiry_days: int
    expiry_warning_days: int
    welcome_bonus_points: int
    welcome_bonus_days: int
    birthday_bonus_points: int
    birthday_bonus_days: int
    birthday_min_days_since_set: int
    birthday_greeting_hour: int
    points_decimals: int
    daily_adjustment_limit_points: int
    family_members_limit: int
    confirm_accrual_above_rub: int = Field(description="Whole rubles: a staff accrual in the bot above this receipt "
                                           "amount is confirmed by the cashier first (0: always).")
    max_receipt_rub: int = Field(description="Whole rubles: a receipt above this is refused (receipt_too_large).")
    business_timezone: str
    notifications: list[str]


class StaffOut(Response):
    id: int
    telegram_id: int
    name: str
    role: str
    store_code: str | None
    active: StrictBool


class ErasureOut(Response):
    customer_id: int
    erased: bool = Field(description="Always true: the personal data is gone (ledger rows stay, by ids).")


class StaffListOut(Response):
    items: list[StaffOut]


class ValidationIssue(Response):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """application/problem+json (RFC 9457). `type` is `urn:loyalty:problem:<code>`."""

    model_config = ConfigDict(extra="allow")

    type: str
    code: str
    title: str
    status: int
    detail: str | None = None
    params: dict[str, Any] | None = None
    errors: list[ValidationIssue] | None = None
    retry_after: int | None = None
