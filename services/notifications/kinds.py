"""Kinds of messages, which opt-out switch each obeys, and which are marketing."""

from __future__ import annotations

ACCRUAL = "accrual"
ACTIVATION = "activation"
REDEMPTION = "redemption"
REFUND = "refund"
LEVEL_UP = "level_up"
EXPIRY_WARNING = "expiry_warning"
EXPIRED = "expired"
BIRTHDAY = "birthday"
BROADCAST = "broadcast"

# The customer's switches (customers.notification_optouts, program setting `notifications`) are
# coarser than the kinds: points becoming available belong with the accrual that earned them.
OPTOUT_SWITCH: dict[str, str | None] = {
    ACCRUAL: "accrual",
    ACTIVATION: "accrual",
    REDEMPTION: "redemption",
    REFUND: "refund",
    LEVEL_UP: "level_up",
    EXPIRY_WARNING: "expiry_warning",
    EXPIRED: "expired",
    BIRTHDAY: "birthday",
    BROADCAST: None,  # governed by the marketing consent alone
}

MARKETING = frozenset({BIRTHDAY, BROADCAST})
# Contact persons (DOMAIN "links") get copies of service messages, never of marketing.
COPIED_TO_CONTACTS = frozenset(OPTOUT_SWITCH) - MARKETING
