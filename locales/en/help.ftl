help-text =
    This is a loyalty program: every purchase earns points, and points pay up to { PERCENT($cap) } of a receipt (1 point = 1 RUB). Your card number is your phone number.

    /card — the card with its QR code and the code to pay with points
    /balance — balance, pending and expiring points, level
    /history — operations
    /profile — name, birthday, email, notifications
    /language — language
    /deleteme — delete my data
    /help — this help
