# /family: a family card built by the customer.
family-title = 👨‍👩‍👧 Family card { $number } (owner: { $owner })
    Family members earn and pay with this card's points.
family-no-members = Nobody yet. Invite your family: everyone's purchases will earn on one card.
family-places = You can add { $left } more of { $limit }.
family-button-invite = ➕ Invite
family-button-remove = ✖ Remove: { $name }
family-button-leave = Leave the family
family-invite = Send this link to a family member (it works once, for { $hours } h):
    { $link }
family-joined = Done: you are in { $owner }'s family. Your purchases earn on card { $number }.
family-moved = Your card's points moved to the family card: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }.
family-already = You are already in { $owner }'s family (card { $number }).
family-choice = { $owner } invites you to their family (card { $number }). You have a card of your own. Switch to the family card? Your points move there with their expiry dates, and your card is closed.
family-button-join = Switch to the family card
family-button-keep = Keep my card
family-kept = Fine, you keep your card.
family-left = You left the family. If your number is free, you have your own card by phone again.
family-removed = Removed from the family
family-no-card = You have no card yet, so no family either. Ask a cashier.
error-family_invite_invalid = The invitation is not valid: it was used or 48 hours have passed. Ask for a new one.
error-family_full = The family already has the most members allowed ({ $limit }).
error-family_no_card = You have no card of your own: only a card owner can invite.
error-family_own_invite = This is your own invitation: send it to a family member.
error-family_card_debt = Your card has a points debt: you cannot switch to the family card yet.
error-family_not_member = This customer is not in the family.
error-family_not_owner = Only the family card's owner can do this.
