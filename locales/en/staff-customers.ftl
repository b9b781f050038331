# /newcustomer and /conflicts.
staff-ask-phone = The new customer's phone?
staff-ask-name = The customer's name (a surname may follow: “Anna Petrova”)?
staff-usage-newcustomer = Format: /newcustomer PHONE NAME [SURNAME], e.g. /newcustomer +79161234567 Anna Petrova. Or just /newcustomer.
staff-newcustomer-done = ✅ Customer { $name } created, card { $card } ({ $phone }). When they open the bot with this number, the card becomes theirs.
staff-conflicts-none = No open phone number conflicts.
staff-conflicts-title = Open conflicts: { $count }. A number changed hands: decide who keeps the card.
staff-conflict = #{ $id } · { $phone } · card { $card }, balance { POINTS($balance) } pts · since { $created }
staff-button-move-card = Move the card to the new account
staff-button-keep-card = Keep the card with its holder
staff-conflict-moved = Conflict #{ $id }: card { $card } moved to the new account.
staff-conflict-kept = Conflict #{ $id }: card { $card } stays with its holder.
