"""Notifications: every message to a customer is an outbox row queued in the transaction of the
change it reports (`outbox.enqueue`, `events.*`), and one sender at a time delivers them within
Telegram's limits (`sender.OutboxSender`). Producers never send."""
