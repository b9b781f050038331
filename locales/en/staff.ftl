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
staff-deactivated = { $name } is no longer staff.

staff-menu-find = Find a customer
staff-menu-accrue = Points for a purchase
staff-menu-redeem = Pay with points
staff-menu-refund = Refund a receipt
staff-menu-newcustomer = New customer
staff-menu-report = Shift report
staff-menu-adjust = Adjust points by hand
staff-menu-cardstatus = Card status
staff-menu-conflicts = Phone number conflicts
staff-menu-invite = Invite staff
staff-menu-staff = Staff list
staff-menu-broadcast = Broadcast to customers
staff-menu-outbox = Notification queue
staff-menu-linktypes = Customer link types
