"""The Telegram implementation of the Notifier port: aiogram's errors become the port's."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import (
    RestartingTelegram,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiohttp import ClientConnectorError

from bot import retry
from services.notifications.ports import Blocked, DeliveryUnknown, PermanentFailure, RetryAfter, TemporaryFailure


class TelegramNotifier:
    def __init__(self, bot: Bot, *, timeout: int = 20) -> None:
        self.bot = bot
        self.timeout = timeout

    async def send(self, chat_id: int, text: str) -> None:
        # The sender paces itself and must see a 429 at once, not after the session's retries.
        token = retry.bypass.set(True)
        try:
            await self.bot.send_message(chat_id, text, request_timeout=self.timeout)
        except TelegramRetryAfter as exc:
            raise RetryAfter(float(exc.retry_after)) from exc
        except TelegramForbiddenError as exc:
            raise Blocked(exc.message) from exc
        except (TelegramBadRequest, TelegramNotFound) as exc:
            raise PermanentFailure(exc.message[:200]) from exc
        except (TelegramServerError, RestartingTelegram) as exc:
            raise TemporaryFailure(exc.message[:200]) from exc
        except TelegramNetworkError as exc:
            if isinstance(exc.__context__, ClientConnectorError):
                raise TemporaryFailure(str(exc)[:200]) from exc  # never connected: nothing was sent
            raise DeliveryUnknown(str(exc)[:200] or "timeout") from exc
        except TimeoutError as exc:
            # The request may have reached Telegram before the connection failed.
            raise DeliveryUnknown(str(exc)[:200] or "timeout") from exc
        except TelegramAPIError as exc:  # e.g. a revoked token: nothing was sent, later may work
            raise TemporaryFailure(exc.message[:200]) from exc
        finally:
            retry.bypass.reset(token)
