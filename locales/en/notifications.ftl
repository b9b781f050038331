# Messages to customers, rendered by the outbox sender in the customer's language.
notify-accrual = +{ $points } points for your purchase. Balance: { $balance }.
notify-accrual-pending = +{ $points } points for your purchase. They become available on { $available_on }.
notify-activation = { $points } points are now available to spend. Balance: { $balance }.
notify-redemption = You paid { $points } points for your purchase. Balance: { $balance }.
notify-refund = Refund: { $reversed } points earned on the purchase were taken back. Balance: { $balance }.
notify-refund-restored = Refund: { $reversed } points taken back, { $restored } spent points returned. Balance: { $balance }.
notify-level-up = Congratulations! Your level is now <b>{ $level }</b>.
notify-expiry-warning = { $points } points expire on { $date }. Spend them before then!
notify-expired = { $points } points have expired. Balance: { $balance }.
notify-birthday = Happy birthday! We wish you all the best.
notify-birthday-bonus = Happy birthday! Here are { $bonus } gift points, valid until { $valid_until }.
notify-about = <i>About { $name }:</i>
# /outbox for admins
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
