# Staff in the bot: roles, access, invites, the staff list, dialogs and the command menu.
staff-role-owner = owner
staff-role-admin = admin
staff-role-manager = manager
staff-role-cashier = cashier
staff-no-store = no store
staff-cancelled = Cancelled.
staff-button-cancel = ✖️ Cancel

staff-welcome = { $name }, you are staff now: { $role }, store { $store }. Staff commands are in the bot menu.
staff-invite-created =
    Invitation: { $role }, store { $store }. The link works once and for 24 hours:
    { $link }
staff-invite-own-store = My store ({ $store })
staff-ask-role = Which role should the new staff member get?
staff-ask-store = Which store will they work at?
staff-usage-invite = Format: /invite ROLE [STORE], e.g. /invite cashier S1. Or just /invite and the bot will ask.

staff-list-title = Staff:
staff-list-line = • { $name } — { $role }, { $store }, id { $telegram_id }
staff-list-line-inactive = • <s>{ $name }</s> — { $role }, { $store }, deactivated
staff-button-deactivate = Deactivate: { $name }
staff-deactivate-confirm = Deactivate { $name } ({ $role }, store { $store })? Their staff commands go away at once; a new invite brings them back.
staff-button-deactivate-yes = Yes, deactivate
staff-deactivated = { $name } is no longer staff.

staff-menu-find = Find a customer
staff-menu-accrue = Points for a purchase
staff-menu-redeem = Pay with points
staff-menu-refund = Refund a receipt
staff-menu-newcustomer = New customer
staff-menu-report = Shift report
staff-menu-shift = Store of the shift
staff-menu-newstore = New store
staff-menu-adjust = Adjust points by hand
staff-menu-cardstatus = Card status
staff-menu-conflicts = Phone number conflicts
staff-menu-invite = Invite staff
staff-menu-staff = Staff list
staff-menu-broadcast = Broadcast to customers
staff-menu-outbox = Notification queue
staff-menu-linktypes = Customer link types

staff-usage-newstore = Format: /newstore CODE Name, e.g. /newstore MAIN Main street shop. The code is Latin letters, digits, "-" and "_", up to 32 characters.
staff-store-created = Store "{ $name }" ({ $code }) created. You can now accrue and redeem points: /accrue, /redeem.
staff-shift-choose = You are not tied to a store. Which store are you working in now? Choose one — the bot remembers it; /shift changes it. Then repeat the operation.
staff-shift-chosen = Store for this shift: "{ $store }" ({ $code }). Receipts are posted there.
staff-shift-own-store = You are tied to store { $store }: receipts are posted there.

# /start and /help for staff (handlers/telegram/staff/welcome.py)
staff-start = Hello, { $name }! You are { $role } in the loyalty program. The buttons below are your commands.
staff-first-store = First step: create the first store — /newstore MAIN Main street shop. Then receipts can be posted.
staff-first-ask-admin = First step: the program has no store yet. Ask the owner or an admin to create one (/newstore).
staff-first-invite = First step: invite a cashier — /invite cashier — and post the first receipt: /accrue 9161234567 1500.
staff-first-receipt = First step: the customer tells you their phone number (or shows their card in the bot), you type /accrue 9161234567 1500 — points accrued.
staff-start-help = Every command with examples: /help.
staff-start-become-customer = To earn points yourself as a customer, press "📱 Share my number". By pressing it you consent to the processing of your personal data under 152-FZ, policy version { $version }.
staff-help-cashier =
    Cashier commands:
    /accrue 9161234567 1500 R-15 — accrue points for a receipt (card or phone, amount, receipt number — optional)
    /redeem 9161234567 300 1500 123456 — pay with points: points, receipt amount, the customer's code from their /card
    /refund R-15 500 — refund a receipt (the amount is optional: without it, all that is left of the receipt)
    /find Petrova — find a customer by phone, card, surname, birthday or code word
    /newcustomer +79161234567 Anna — add a customer who has no Telegram
    /report — the shift's report, /report week — the last 7 days
    /shift — the store of your shift (if you are not tied to a store)
    /cancel — stop a dialog you started
    Any command without parameters guides you step by step.
staff-help-manager =
    Manager commands:
    /adjust 9161234567 +50 compensation — manual adjustment with a reason (the daily limit applies)
    /cardstatus 9161234567 blocked — card status: active, accrual_only, payment_only, blocked
    /conflicts — phone number conflicts
    /invite cashier S1 — invite a staff member (a one-time link valid 24 hours)
    /staff — staff members
staff-help-admin =
    Admin and owner commands:
    /newstore MAIN Main street shop — create a store
    /broadcast — a message to customers
    /outbox — the notification queue
    /linktypes — customer link types
