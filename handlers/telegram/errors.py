"""One error router: domain errors become a localized answer, anything else is logged, never shown.

Nothing leaves this router: an error handler that raised would fail the update (a webhook 500,
Telegram's redelivery running the handler again). So a Telegram error met while answering an error
is logged, and a 429 that the session's retries could not wait out (bot/retry.py) is a warning: the
update was handled, only its reply came too early for Telegram.

After a till operation was committed, nothing here may say "please try again": a failed answer
arrives as CommittedButUnanswered and is answered with what was committed (if that fails too, the
update fails on purpose: a webhook's redelivery answers the stored result), and an unexpected error
met by a staff member says the operation may have been recorded (check the card's history).
"""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, User

from db.uow import UnitOfWork
from handlers.telegram.committed import CommittedButUnanswered
from locales import Translator, fluent_args
from services import customers
from services.errors import DomainError
from services.identity import identify

log = logging.getLogger(__name__)


def error_text(tr: Translator, locale: str, error: DomainError) -> str:
    params = fluent_args(error.params)
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

    @router.error(ExceptionTypeFilter(CommittedButUnanswered))
    async def on_committed_but_unanswered(event: ErrorEvent, bot: Bot) -> None:
        assert isinstance(event.exception, CommittedButUnanswered)
        error = event.exception
        log.warning("update %s: committed, but its answer failed (%r); saying what was committed",
                    event.update.update_id, error.__cause__)
        # If this fails too, the update fails: a webhook's redelivery answers the stored result.
        await bot.send_message(error.chat_id, error.notice)

    @router.error()
    async def on_unexpected(
        event: ErrorEvent, tr: Translator, uow: UnitOfWork, locale: str | None = None,
        event_from_user: User | None = None,
    ) -> None:
        log.exception("unhandled error in update %s", event.update.update_id, exc_info=event.exception)
        key = "error-unexpected"
        try:
            locale = await error_locale(locale, uow, event_from_user)
            if event_from_user is not None and (await identify(uow, event_from_user.id)).staff is not None:
                # A till operation may have committed before the failure: "try again" could post it twice.
                key = "error-unexpected-staff"
        except Exception:  # the database may be what failed: answer anyway, without promising anything
            locale = locale or "ru"
            key = "error-unexpected-staff"
        await _reply(event, tr.get(locale, key))

    return router
