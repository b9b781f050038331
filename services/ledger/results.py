"""What the ledger use cases return. All point amounts are in units (hundredths of a point)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class CardSnapshot:
    card_id: int
    balance: int  # available (active) points
    pending: int
    debt: int
    level_code: str


@dataclass(frozen=True)
class AccrualResult:
    card: CardSnapshot
    store_id: int
    receipt_id: str
    mode: str  # bonus | discount
    amount_kopecks: int
    paid_with_points_kopecks: int
    rate_bp: int  # effective rate (level x multiplier); the discount percent in discount mode
    accrued_points: int
    debt_repaid: int
    lot_status: str | None  # pending | active | None when nothing was accrued
    available_at: datetime | None
    expires_at: datetime | None
    discount_kopecks: int
    level_up: bool
    operation_id: int
    replayed: bool  # True: this is the stored outcome of an earlier identical request


@dataclass(frozen=True)
class RedemptionResult:
    redeemed_points: int
    accrual: AccrualResult  # what the rest of the receipt earned; accrual.card is the card after both
    operation_id: int
    replayed: bool


@dataclass(frozen=True)
class RefundResult:
    card: CardSnapshot
    store_id: int
    receipt_id: str
    refund_id: str
    refunded_kopecks: int  # by this refund
    receipt_refunded_kopecks: int  # by all refunds of the receipt so far
    reversed_points: int  # earned points taken back by this refund
    restored_points: int  # spent points given back by this refund
    new_debt: int  # part of the reversal the card could not cover
    operation_id: int
    replayed: bool


@dataclass(frozen=True)
class AdjustmentResult:
    card: CardSnapshot
    points: int
    operation_id: int
    expires_at: datetime | None
    replayed: bool


@dataclass(frozen=True)
class BonusResult:
    card: CardSnapshot
    kind: str  # welcome_bonus | birthday_bonus
    points: int
    expires_at: datetime
    operation_id: int
    granted: bool  # False: it had been granted before, nothing changed now


@dataclass(frozen=True)
class CardPoints:
    """One card's share of a batch job (activation or expiry), for the notifications to come."""

    card_id: int
    points: int
