# Messages to customers, rendered by the outbox sender in the customer's language.
notify-accrual = +{ POINTS($points) } { $points ->
        [one] point
       *[other] points
    } for your purchase. Balance: { POINTS($balance) } { $balance ->
        [one] point
       *[other] points
    }.
notify-accrual-pending = +{ POINTS($points) } { $points ->
        [one] point
       *[other] points
    } for your purchase, to spend from { $available_on }.
notify-activation = { POINTS($points) } { $points ->
        [one] point
       *[other] points
    } can now be spent. Balance: { POINTS($balance) } { $balance ->
        [one] point
       *[other] points
    }.
notify-redemption = You paid { POINTS($points) } { $points ->
        [one] point
       *[other] points
    } for your purchase. Balance: { POINTS($balance) } { $balance ->
        [one] point
       *[other] points
    }.
notify-refund = Refund: { POINTS($reversed) } { $reversed ->
        [one] point
       *[other] points
    } earned on the purchase taken back. Balance: { POINTS($balance) } { $balance ->
        [one] point
       *[other] points
    }.
notify-refund-restored = Refund: { POINTS($reversed) } { $reversed ->
        [one] point
       *[other] points
    } taken back, { POINTS($restored) } { $restored ->
        [one] spent point
       *[other] spent points
    } returned. Balance: { POINTS($balance) } { $balance ->
        [one] point
       *[other] points
    }.
notify-level-up = Congratulations! Your level is now <b>{ $level }</b>.
notify-expiry-warning = On { $date }, { POINTS($points) } { $points ->
        [one] point
       *[other] points
    } will expire. Spend them before then!
notify-expired = { POINTS($points) } { $points ->
        [one] point
       *[other] points
    } expired. Balance: { POINTS($balance) } { $balance ->
        [one] point
       *[other] points
    }.
notify-birthday = Happy birthday! We wish you all the best.
notify-birthday-bonus = Happy birthday! Here { $bonus ->
        [one] is
       *[other] are
    } { POINTS($bonus) } gift { $bonus ->
        [one] point
       *[other] points
    }, valid until { $valid_until }.
notify-about = <i>About { $name }:</i>
# /outbox for admins
outbox-status-draft = draft
outbox-status-sending = sending
outbox-status-done = done
outbox-title = <b>Outbox</b>
outbox-counts =
    Waiting: { $pending }
    Taken by the sender: { $claimed }
    Sending now: { $sending }
    Sent: { $sent }
    Skipped (opted out, blocked, deleted): { $skipped }
    Failed: { $failed }
    Delivery unknown (not retried): { $unknown }
outbox-broadcast = Broadcast #{ $id } ({ $status }): queued { $queued }, delivered { $delivered }, blocked { $blocked }, failed { $failed }, skipped { $skipped }, waiting { $waiting }
