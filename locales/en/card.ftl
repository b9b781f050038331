card-caption =
    💳 Card <b>{ $number }</b>
    Status: { $status }
    Level: { $level }
    Points available: { POINTS($points) }
card-code =
    Code to pay with points: <b>{ $code }</b>
    Valid for { $seconds } more { $seconds ->
        [one] second
       *[other] seconds
    }. Tell it to the cashier only if you want to pay with points.
card-no-payment = Paying with points is not available on this card now.
card-refresh = 🔄 Refresh code
card-refreshed = Code refreshed
card-none = You have no card yet: your phone number is bound to another card and our staff are sorting it out. We will write to you here.
card-status-active = active
card-status-accrual_only = earning only
card-status-payment_only = paying with points only
card-status-blocked = blocked
