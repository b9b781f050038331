"""What the sender needs from the outside world: a way to send a text to a chat, and texts.

The Telegram implementation lives in bot/notifier.py; it translates the Bot API's errors into the
exceptions below so that services never see aiogram."""

from __future__ import annotations

from typing import Any, Protocol


class DeliveryError(Exception):
    """Base of what a Notifier may raise."""


class RetryAfter(DeliveryError):
    """429: Telegram asks everyone to wait `seconds` before sending again."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class Blocked(DeliveryError):
    """403: the user blocked the bot (or deleted their account); nothing will reach them."""


class DeliveryUnknown(DeliveryError):
    """The request may or may not have reached the user (a timeout, a dropped connection)."""


class TemporaryFailure(DeliveryError):
    """Telegram answered with a server error: nothing was delivered, trying later is safe."""


class PermanentFailure(DeliveryError):
    """Telegram refused the message itself (bad chat, bad markup): retrying gives the same answer."""


class Notifier(Protocol):
    async def send(self, chat_id: int, text: str) -> None:
        """Deliver `text` (Telegram HTML) to `chat_id` or raise a DeliveryError."""
        ...


class Texts(Protocol):
    def get(self, locale: str | None, key: str, /, **args: Any) -> str: ...
