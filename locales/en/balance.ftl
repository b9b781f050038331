balance-title = 💰 Balance of card <b>{ $number }</b>
balance-available = Available: <b>{ POINTS($points) }</b> { $points ->
        [one] point
       *[other] points
    }
balance-pending = Pending: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }
balance-pending-unlock = • available from { $date }: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }
balance-debt = Debt after a refund: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    } (repaid by the next accruals)
balance-expiring = Expiring on { $date }: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }
balance-level = Level: { $level } ({ PERCENT($percent) } back on purchases)
balance-next-level = Spend { MONEY($amount) } more to reach { $level }
balance-top-level = This is the top level.
balance-level-pinned = Your level is fixed for you.
balance-level-discount = Level: { $level }: { PERCENT($percent) } off your purchases
