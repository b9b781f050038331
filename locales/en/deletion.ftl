deletion-explain =
    ⚠️ Deleting your data
    We will erase your name, phone, birthday, email and Telegram link at once. The card will be blocked and its points lost. Anonymous records of operations stay for accounting. We will not message you again.
    You can register again later, with a new card.
    Delete?
deletion-confirm = 🗑 Yes, delete
deletion-cancel = Cancel
deletion-cancelled = All right, nothing is deleted.
deletion-done = Your data is deleted. Thank you for having been with us. To come back, send /start.
deletion-nothing = We hold no data about you: there is nothing to delete.
