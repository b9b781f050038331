history-title = 📜 Operations, page { $page } (newest first)
history-empty = No operations on your card yet.
history-nothing-here = Nothing here any more: the history has changed. Go back to the start.
history-to-start = ⏮ To the start
history-previous = ◀ Previous
history-next = Next ▶
history-line = { $when } — { $what }: <b>{ $points }</b>
history-where = 🏬 { $store }
history-receipt = receipt { $receipt }
history-receipt-amount = receipt { $receipt } for { MONEY($amount) }
history-rate = rate { PERCENT($rate) }
history-debt-repaid = { POINTS($points) } { $points ->
        [one] point
       *[other] points
    } repaid a debt
history-reason = "{ $reason }"
history-kind-purchase_accrual = Points for a purchase
history-kind-redemption = Paid with points
history-kind-refund_reversal = Taken back on a refund
history-kind-refund_restore = Returned on a refund
history-kind-manual_adjustment = Adjustment
history-kind-welcome_bonus = Welcome bonus
history-kind-birthday_bonus = Birthday bonus
history-kind-opening_balance = Balance carried over
history-kind-expiry = Points expired
history-kind-debt_repayment = Debt repaid
history-kind-discount_purchase = Purchase with a discount
