# Receipts at the till: /accrue, /redeem, /refund, /adjust, /cardstatus.
staff-ask-card = The customer's card number or phone?
staff-ask-amount = Card { $card }, balance { POINTS($balance) } pts. Receipt amount? For example 1234.50.
staff-ask-receipt = Receipt number? If there is none, press the button and the bot will make one up.
staff-button-no-receipt = No receipt number
staff-ask-points = Card { $card }, balance { POINTS($balance) } pts. How many points to redeem?
staff-ask-receipt-amount = Receipt amount?
staff-ask-code = The code from the customer's card in the bot (6 digits)?
staff-ask-refund-receipt = Receipt number to refund?
staff-ask-refund-amount = Refund amount? Or press “Whole receipt”.
staff-button-full-refund = Whole receipt
staff-ask-adjust-points = Card { $card }, balance { POINTS($balance) } pts. How many points: +N to add, -N to take?
staff-ask-reason = Reason for the adjustment?
staff-ask-status = Card { $card } is now: { $status }. New status?
staff-usage-accrue = Format: /accrue CARD AMOUNT [RECEIPT], e.g. /accrue 9161234567 1234.50 A-17. Or just /accrue.
staff-usage-redeem = Format: /redeem CARD POINTS RECEIPT_AMOUNT CODE, e.g. /redeem 9161234567 300 1500 123456. Or just /redeem.
staff-usage-refund = Format: /refund RECEIPT [AMOUNT], e.g. /refund A-17 500. Or just /refund.
staff-usage-adjust = Format: /adjust CARD +N|-N REASON, e.g. /adjust 9161234567 +50 compensation. Or just /adjust.
staff-usage-cardstatus = Format: /cardstatus CARD active|accrual_only|payment_only|blocked. Or just /cardstatus.
staff-accrue-ambiguous = Is “{ $typed }” an amount with a space or an amount and a receipt number? Write the amount without spaces; for a three-digit receipt number use /accrue without arguments.
staff-accrue-done = ✅ { POINTS($points) } pts ({ PERCENT($percent) }) accrued for receipt { $receipt } of { MONEY($amount) }.
staff-accrue-nothing = Receipt { $receipt } of { MONEY($amount) } recorded; it earned no points.
staff-accrue-pending = The points become available on { $date }.
staff-accrue-discount = 🏷 Give a discount of { MONEY($discount) } ({ PERCENT($percent) }) on receipt { $receipt } of { MONEY($amount) }. The purchase is recorded.
staff-accrue-level-up = 🎉 The customer reached a new level.
staff-card-after = Card balance: { POINTS($balance) } pts, pending: { POINTS($pending) } pts.
staff-receipt-replayed = This receipt was already posted — nothing was accrued again.
staff-redeem-done = ✅ { POINTS($points) } pts redeemed.
staff-refund-done = ↩️ Refund of { MONEY($amount) } on receipt { $receipt } ({ MONEY($total) } refunded in all). { POINTS($reversed) } pts taken back, { POINTS($restored) } pts returned.
staff-refund-debt = Not enough points: { POINTS($debt) } pts became a debt that the next accruals repay.
staff-adjust-done = ✅ Adjustment of { $points } pts made.
staff-cardstatus-done = Card { $card }: status “{ $status }”.
staff-adjust-replayed = This adjustment was already made — nothing was changed again.
staff-refund-replayed = This refund was already made — nothing was refunded again.
# Steps that say back what was taken, and what to type again after a refusal.
staff-ask-receipt-for = Receipt of { MONEY($amount) }. Receipt number? If there is none, press the button and the bot will make one up.
staff-ask-receipt-amount-for = Redeem { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }. Receipt amount?
staff-ask-code-for = Receipt of { MONEY($amount) }, redeem { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }. The code from the customer's card in the bot (6 digits)?
staff-ask-points-again = How many points to redeem?
staff-button-change-points = Change points
staff-again-amount = Type the receipt amount again.
staff-again-receipt-amount = Type the receipt amount again, or press “Change points”.
staff-again-points = Type the number of points again.
staff-again-code = Type the code again.
staff-again-adjust-points = Type the points again: +N to add, -N to take.
# The summary confirmed before points move.
staff-summary-title-redeem = Check before redeeming:
staff-summary-title-accrue = The receipt is above { MONEY($threshold) } — check before accruing:
staff-summary-customer = Customer: { $name }
staff-summary-no-customer = Customer: the card has no owner
staff-summary-card = Card: { $card }
staff-summary-receipt = Receipt: { $receipt } of { MONEY($amount) }
staff-summary-paid = Paid with points: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }
staff-summary-earn = To earn: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }
staff-summary-discount = Discount to give: { MONEY($discount) }
staff-button-confirm = ✅ Confirm
staff-button-cancel-operation = ✖️ Cancel
staff-confirm-cancelled = Cancelled: nothing was posted — no points redeemed or accrued.
staff-confirm-stale = This summary is no longer open: its operation was posted or cancelled. Nothing was posted again.
staff-confirm-code-stale = The code has expired or is wrong — nothing was redeemed. Ask the customer for the current code from their card in the bot and type it: the summary will come back.
# An answer that failed after the operation was committed.
staff-committed-unanswered = ⚠️ The answer did not get through the first time, but the operation is recorded — do not repeat it; it is in the history of card { $card }:
staff-committed-unanswered-receipt = ⚠️ The answer did not get through the first time, but the operation is recorded — do not repeat it; it is in the card's history:
