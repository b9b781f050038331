profile-text =
    👤 Profile
    Name: { $name }
    Phone: { $phone }
    Birthday: { $birthday }
    Email: { $email }
    Language: { $language }
    Promotional messages: { $marketing }
profile-not-set = not set
profile-not-set-name = not set
profile-on = on
profile-off = off
profile-edit-name = ✏️ Name
profile-edit-birthday = 🎂 Birthday
profile-edit-email = ✉️ Email
profile-notifications = 🔔 Notifications
profile-marketing-turn-on = 📣 Get promotions
profile-marketing-turn-off = 🔕 No promotions
profile-language = 🌐 Language
profile-back = ◀ Back
profile-ask-name = Write how we should call you (letters only, up to 100 characters). /cancel to cancel.
profile-ask-birthday = Write your birthday as DD.MM.YYYY, e.g. 05.03.1990. It can be set only once. /cancel to cancel.
profile-ask-email = Write your email address, or "-" to remove it. /cancel to cancel.
profile-need-text = Please send text, not a file or a sticker.
profile-saved = Saved ✅
profile-cancelled = All right, nothing changed.
profile-notifications-title = 🔔 Notifications (tap to turn on or off):
profile-kind-accrual = Points earned
profile-kind-redemption = Paid with points
profile-kind-refund = Refunds
profile-kind-expiry_warning = Points about to expire
profile-kind-expired = Points expired
profile-kind-level_up = New level
