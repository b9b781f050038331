# /broadcast for admins
broadcast-ask-text = Send the text of the broadcast (bold, italic and links are kept). /cancel to stop.
broadcast-ask-audience = Who gets it? Only customers with marketing consent are ever included.
broadcast-audience-all = Everyone with consent
broadcast-audience-level = By level
broadcast-audience-store = By store
broadcast-audience-birthday_month = By birthday month
broadcast-audience-inactive = Inactive for N days
broadcast-ask-level = Which level?
broadcast-ask-store = Which store?
broadcast-ask-month = Birthday in which month?
broadcast-ask-days = No purchases for how many days? Send a number.
broadcast-no-choices = There is nothing to choose from yet.
broadcast-preview = ↑ This is how customers will see it.
broadcast-count = Recipients: { $count }. Send?
broadcast-nobody = Nobody matches this audience. Nothing was queued.
broadcast-send = Send
broadcast-cancel = Cancel
broadcast-cancelled = Broadcast cancelled.
broadcast-preview-failed = Telegram refused this text as a message: check the formatting and send it again.
broadcast-queued = Broadcast #{ $id } queued for { $queued } { $queued ->
        [one] customer
       *[other] customers
    }. I will report when it is delivered; /outbox shows the progress.
broadcast-finished = Broadcast #{ $id } is finished: queued { $queued }, delivered { $delivered }, blocked the bot { $blocked }, failed { $failed }, skipped { $skipped }.
error-invalid_audience = This audience is not valid.
error-invalid_broadcast_text = The text must not be empty and must be at most { $limit } characters.
broadcast-progress = Broadcast #{ $id } in progress: delivered { $delivered } of { $queued }, { $waiting } waiting.
