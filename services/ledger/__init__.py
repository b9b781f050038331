"""The points ledger: lots, operations, allocations (DOMAIN.md "Ledger").

Decisions worth knowing before reading the modules:
- Amounts are units, hundredths of a point (1 point = 100 units = 1 RUB = 100 kopecks); every
  accrual, reversal and restore rounds DOWN to the program's quantum (whole points by default).
- Every use case locks the card row first (FOR UPDATE; BEGIN IMMEDIATE on SQLite), then spends
  with conditional UPDATEs; a refused request changes nothing (a wrong code is counted apart).
- Idempotency keys: `purchase:{store}:{receipt}`, `redemption:{store}:{receipt}`,
  `refund:{store}:{receipt}:{refund_id}`, `adjustment:{caller key}`, `welcome:{card}`,
  `birthday:{card}:{year}`; the same key with another request hash raises IdempotencyConflict.
- Debt: a reversal takes the receipt's own lot, then active, then other pending points, and only
  the rest becomes `cards.debt`; so a card with debt holds nothing, and the next credit of any kind
  repays it first (a 0-point `debt_repayment` operation with an allocation of the repaid amount).
- Restored points (refund of a receipt paid with points): a new active lot per source lot, with
  `restored_from_lot_id` and the source's `expires_at`; past that date the next expiry run burns it.
- Activation writes no operation (it moves points from pending to active, no sum changes); expiry
  writes one `expiry` operation per card per batch with an allocation per burnt lot.
- Discount mode: no points; a `discount_purchase` operation of 0 points and a receipt with the
  discount; purchases (the whole receipt amount, in both modes) still count towards levels.
"""

from services.ledger.accrual import accrue_purchase, ensure_receipt_within_limit
from services.ledger.adjustments import adjust_points
from services.ledger.bonuses import (
    add_welcome_bonus,
    birthday_bonus_eligible,
    grant_birthday_bonus,
    grant_welcome_bonus,
)
from services.ledger.invariants import InvariantViolation, check_invariants
from services.ledger.lifecycle import activate_due_lots, expire_due_lots
from services.ledger.otp import check_code, current_code, new_secret
from services.ledger.redemption import ensure_within_cap, max_redeemable, posted_receipt, redeem
from services.ledger.refunds import refund
from services.ledger.results import (
    AccrualResult,
    AdjustmentResult,
    BonusResult,
    CardPoints,
    CardSnapshot,
    RedemptionResult,
    RefundResult,
)
from services.ledger.views import BalanceView, HistoryPage, HistoryRow, PendingUnlock, get_balance, get_history

__all__ = [
    "AccrualResult",
    "AdjustmentResult",
    "BalanceView",
    "BonusResult",
    "CardPoints",
    "CardSnapshot",
    "HistoryPage",
    "HistoryRow",
    "InvariantViolation",
    "PendingUnlock",
    "RedemptionResult",
    "RefundResult",
    "accrue_purchase",
    "activate_due_lots",
    "add_welcome_bonus",
    "adjust_points",
    "birthday_bonus_eligible",
    "check_code",
    "check_invariants",
    "current_code",
    "ensure_receipt_within_limit",
    "ensure_within_cap",
    "expire_due_lots",
    "get_balance",
    "get_history",
    "grant_birthday_bonus",
    "grant_welcome_bonus",
    "max_redeemable",
    "new_secret",
    "posted_receipt",
    "redeem",
    "refund",
]
