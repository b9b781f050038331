# /find and the customer card staff see.
staff-ask-query = Who are we looking for? Phone, card number, surname, birthday (DD.MM.YYYY) or code word.
staff-find-none = Nobody found for “{ $query }”.
staff-find-found = { $count ->
        [one] Found { $count } customer
       *[other] Found { $count } customers
    }{ $paged ->
        [yes] , showing { $first }–{ $last }
       *[no] {""}
    }. Open a customer card:
staff-find-previous = ◀ Previous
staff-find-next = Next ▶
staff-find-stale = This search is out of date: send /find again.
staff-card-name = 👤 <b>{ $name }</b>
staff-card-phone = Phone: { $phone }
staff-card-birthday = Birthday: { $date }
staff-card-no-card = No card.
staff-card-card = Card { $number } — { $status }
staff-card-level = Level: { $level }
staff-card-balance = Balance: { POINTS($balance) } pts, pending: { POINTS($pending) } pts
staff-card-debt = Refund debt: { POINTS($debt) } pts
staff-card-expiring = Expiring on { $date }: { POINTS($points) } pts
staff-card-operations = Last operations:
staff-card-operation = { $at } · { $kind } · { $points } { $receipt }
staff-card-no-operations = No operations yet.
staff-card-links = 👪 Links
staff-card-erase = 🗑 Erase personal data
staff-erase-ask =
    ⚠️ Erase the personal data of { $name }?
    Their name, phone, birthday, email and Telegram link are erased at once. The card is blocked and its points lost; their links and family end. Anonymous records of operations stay. This cannot be undone.
staff-erase-confirm = 🗑 Yes, erase
staff-erase-done = The personal data of customer #{ $id } is erased.
staff-status-active = active
staff-status-accrual_only = accrual only
staff-status-payment_only = payment only
staff-status-blocked = blocked
staff-op-purchase_accrual = purchase
staff-op-redemption = paid with points
staff-op-refund_reversal = refund: taken back
staff-op-refund_restore = refund: points returned
staff-op-manual_adjustment = adjustment
staff-op-welcome_bonus = welcome bonus
staff-op-birthday_bonus = birthday bonus
staff-op-opening_balance = opening balance
staff-op-expiry = expiry
staff-op-debt_repayment = debt repayment
staff-op-discount_purchase = discount purchase
