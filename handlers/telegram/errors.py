"""One error router: domain errors become a localized answer, anything else is logged, never shown.

Nothing leaves this router: an error handler that raised would fail the update (a webhook 500,
Telegram's redelivery running the handler again). So a Telegram error met while answering an error
is logged, and a 429 that the session's retries could not wait out (bot/retry.py) is a warning: the
update was handled, only its reply came too early for Telegram.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, User

from db.uow import UnitOfWork
from locales import Translator
from services import customers
from services.errors import DomainError

log = logging.getLogger(__name__)


def error_text(tr: Translator, locale: str, error: DomainError) -> str:
    params = dict(error.params)
    # A role travels as its code ("admin"); a person reads its name in their language.
    role = params.get("role")
    if isinstance(role, str) and tr.has(f"staff-role-{role}"):
        params["role"] = tr.get(locale, f"staff-role-{role}")
    return tr.get(locale, f"error-{error.code}", **params)


async def error_locale(locale: str | None, uow: UnitOfWork, user: User | None) -> str:
    """Error handlers run outside the message-level middlewares, so `locale` is usually not in their
    data: work it out the way IdentityMiddleware does (the customer's language, else Telegram's)."""
    if locale:
        return locale
    if user is None:
        return "ru"
    customer = await customers.get_by_telegram(uow, user.id)
    return customer.language if customer else customers.language_of(user.language_code)


async def _reply(event: ErrorEvent, text: str) -> None:
    update = event.update
    try:
        if update.message:
            await update.message.answer(text)
        elif update.callback_query:
            await update.callback_query.answer(text[:200], show_alert=True)
    except TelegramAPIError as exc:  # a 429 past the retries, a blocked bot: the answer is lost, not the update
        log.warning("update %s: its error answer was not delivered: %s", update.update_id, exc)


def get_router() -> Router:
    router = Router(name="errors")

    @router.error(ExceptionTypeFilter(DomainError))
    async def on_domain_error(
        event: ErrorEvent, tr: Translator, uow: UnitOfWork, locale: str | None = None,
        event_from_user: User | None = None,
    ) -> None:
        assert isinstance(event.exception, DomainError)
        locale = await error_locale(locale, uow, event_from_user)
        await _reply(event, error_text(tr, locale, event.exception))

    @router.error(ExceptionTypeFilter(TelegramRetryAfter))
    async def on_flood_wait(event: ErrorEvent) -> None:
        assert isinstance(event.exception, TelegramRetryAfter)
        log.warning(
            "update %s: Telegram asked to wait %s s before %s, longer than a reply waits; not sent",
            event.update.update_id, event.exception.retry_after, type(event.exception.method).__name__,
        )

    @router.error()
    async def on_unexpected(
        event: ErrorEvent, tr: Translator, uow: UnitOfWork, locale: str | None = None,
        event_from_user: User | None = None,
    ) -> None:
        log.exception("unhandled error in update %s", event.update.update_id, exc_info=event.exception)
        try:
            locale = await error_locale(locale, uow, event_from_user)
        except Exception:  # the database may be what failed: answer anyway
            locale = "ru"
        await _reply(event, tr.get(locale, "error-unexpected"))

    return router
