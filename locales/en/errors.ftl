# Domain errors: error-<code> for every DomainError code (services/errors.py).
error-domain_error = That could not be done.
error-not_found = Nothing found.
error-forbidden = Not allowed.
error-conflict = Conflict: the data has changed meanwhile.
error-validation_error = Invalid data.
error-invalid_phone = "{ $phone }" does not look like a phone number. Example: +7 916 123-45-67.
error-phone_region_not_allowed = Numbers of this country ({ $region }) are not part of the program.
error-phone_has_extension = Extensions are not supported: give a mobile number without one.
error-customer_not_found = Customer not found.
error-card_not_found = Card not found.
error-card_blocked = The card is blocked.
error-card_not_valid = The card is not valid now (outside its validity dates).
error-accrual_not_allowed = Points cannot be earned on this card.
error-payment_not_allowed = This card cannot pay with points.
error-card_exists = Card { $number } already exists.
error-card_owned = Card { $number } belongs to another customer: rebinding needs confirmation.
error-consent_required = Data-processing consent is needed first.
error-birthday_already_set = Your birthday is already set; only staff can change it.
error-invalid_date = The date "{ $value }" does not fit. Use DD.MM.YYYY, not in the future and not before 1900.
error-invalid_email = "{ $value }" does not look like an email address.
error-invalid_name = The name looks wrong: letters, spaces and hyphens only, up to 100 characters.
error-staff_not_found = Staff member not found.
error-store_not_found = There is no store with the code "{ $code }". The stores are listed by `store list` (command line) or /shift.
error-invalid_scopes = Unknown key scopes: "{ $scopes }". Allowed: { $allowed } (comma-separated).
error-store_exists = A store with this code already exists.
error-invalid_role = Unknown role. Possible: { $roles }.
error-role_too_high = This needs the role "{ $role }" or higher.
error-not_staff = This command is for staff only.
error-invite_invalid = The invitation is not valid: it was used or has expired.
error-invalid_amount = The amount is wrong. Examples: 1234, 1234.50, 1234,50.
error-insufficient_points = Not enough points.
error-cap_exceeded = Points can pay at most { PERCENT($cap_percent) } of the receipt: at most { POINTS($max_units) } { $max_units ->
        [one] point
       *[other] points
    } on this { MONEY($receipt_kopecks) } receipt.
error-receipt_too_large = A receipt of { MONEY($amount_kopecks) } is above the program's limit of { MONEY($max_kopecks) }. Check the amount: it may be a typo, or the customer's code typed as the amount.
error-bad_code = The code is wrong or expired. Ask the customer to open their card in the bot and read the current code.
error-code_already_used = This code has already been used. Ask the customer to open their card in the bot and read the new code: it changes every minute.
error-too_many_code_attempts = { $scope ->
        [till] Too many wrong codes were typed at this till; paying with points is paused here
       *[card] Too many wrong codes for this card were typed at this till; the customer can pay with points at another till
    }. Try again in { $minutes } { $minutes ->
        [one] minute
       *[other] minutes
    }.
error-idempotency_conflict = This receipt id was already used with different data.
error-receipt_not_found = Receipt not found.
error-refund_exceeds_receipt = The refund is larger than the receipt.
error-reason_required = A reason is required.
error-adjustment_limit = The daily limit of manual adjustments is reached.
error-wrong_store = The receipt belongs to another store.
error-no_store_yet = The program has no store yet, and every receipt is posted at a store. Create the first one right here: /newstore CODE Name, e.g. /newstore MAIN Main street shop.
error-no_store_ask_admin = The program has no store yet, and every receipt is posted at a store. Ask the owner or an admin to create one with /newstore.
error-store_choice_needed = Choose the store for your shift: /shift.
error-invite_would_demote = You are already staff with a higher role than this invitation gives; it was not applied. An admin can change your role.
error-unexpected = Something went wrong. We are looking into it; please try again a bit later.
error-unexpected-staff = Something went wrong. If this was an operation on a card, it may have been recorded: check the card's history (/find) before repeating it.
error-unauthorized = The API key is missing, unknown or revoked.
error-bad_signature = The request signature is missing, malformed, wrong or outside the allowed time window.
error-signature_replayed = This signed request was already accepted once. Sign every request anew: a new timestamp, or a new nonce (n=) within one second.
error-unsupported_media_type = The request body must be JSON sent with Content-Type: application/json (with charset=utf-8, if a charset is given).
error-rate_limited = Too many requests; retry in { $retry_after } s.
error-insufficient_scope = This API key has no scope "{ $scope }".
error-api_key_not_found = No API key with this prefix.
error-invalid_setting = Invalid value for the setting "{ $key }".
error-level_not_found = Level not found.
error-bad_cursor = This page is outdated: open the history again.
error-sandbox_database_holds_real_data = This database holds real data ({ $customers } customers and { $staff } staff members who are not the sandbox's personas): the sandbox will not add its demo staff to it. Point SANDBOX_DATABASE_URL at a database of its own, or leave it unset for the sandbox's own file ./sandbox.db.
