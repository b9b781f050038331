registration-foreign-contact = This is not your contact. To get your card, share your own number with the button below: forwarded and other people's contacts are not accepted.
registration-created =
    Done! Your card: <b>{ $number }</b>.
    Welcome bonus: { POINTS($points) } { $points ->
        [one] point
       *[other] points
    }. Show the card at the till with /card.
registration-attached =
    We found your card <b>{ $number }</b>: it is in Telegram now, your points are all there. Show it at the till with /card.
registration-conflict =
    Thank you, your number is confirmed. A card with this number already belongs to another Telegram account (the number probably had another owner before). We hand points to nobody: our staff will sort it out and write to you here.
registration-already = You are already registered. Your card: <b>{ $number }</b>.
