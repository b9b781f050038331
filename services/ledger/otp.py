"""The customer's 6-digit redemption code (TOTP, RFC 6238): 60-second steps, one step of clock skew
either way, each step usable once per card, at most 5 wrong codes per card in 10 minutes.

A code is accepted only for a step later than the last step used (`cards.otp_last_step`), written
with a conditional UPDATE, so the same code presented twice, even by two tills at once, passes once.
Wrong codes are counted in their own transaction (see `record_failure`): the redemption that found
the code wrong rolls back, and the count must survive that rollback.
"""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Protocol

import pyotp
from sqlalchemy import case, literal, or_, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialects import changed_rows
from db.models import Card
from db.types import UTCDateTime
from db.uow import UnitOfWork
from services.errors import BadCode, TooManyCodeAttempts

STEP_SECONDS = 60
DIGITS = 6
VALID_WINDOW = 1
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=10)


class CodeCheck(Protocol):
    async def __call__(self, session: AsyncSession, card: Card, code: str, now: datetime) -> None: ...


def new_secret() -> str:
    return pyotp.random_base32()


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def step_of(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_for_step(secret: str, step: int) -> str:
    return _totp(secret).at(step * STEP_SECONDS)


def current_code(card: Card, now: datetime) -> tuple[str, int]:
    """The code to show on the customer's /card screen and the seconds it stays current."""
    step = step_of(now)
    seconds_left = STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS
    return code_for_step(card.otp_secret, step), seconds_left


def _locked_out(card: Card, now: datetime) -> bool:
    return (
        card.otp_failures >= MAX_FAILURES
        and card.otp_failures_since is not None
        and now - card.otp_failures_since < FAILURE_WINDOW
    )


def _usable_step(card: Card, code: str, now: datetime) -> int:
    """The step `code` belongs to, if it may be used now; else BadCode / TooManyCodeAttempts."""
    if _locked_out(card, now):
        raise TooManyCodeAttempts(card_id=card.id)
    code = code.strip()
    current = step_of(now)
    matched: int | None = None
    # Compare with every candidate step (no early exit) so timing does not tell which one matched.
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(code_for_step(card.otp_secret, step).encode(), code.encode()):
            matched = step if matched is None else matched
    if matched is None or (card.otp_last_step is not None and matched <= card.otp_last_step):
        raise BadCode(card_id=card.id)
    return matched


async def verify_code(session: AsyncSession, card: Card, code: str, now: datetime) -> None:
    """Accept `code` for `card` (locked by the caller) or raise BadCode / TooManyCodeAttempts."""
    matched = _usable_step(card, code, now)
    used = await session.execute(
        update(Card)
        .where(Card.id == card.id, or_(Card.otp_last_step.is_(None), Card.otp_last_step < matched))
        .values(otp_last_step=matched, otp_failures=0, otp_failures_since=None)
    )
    if not changed_rows(used):
        raise BadCode(card_id=card.id)
    card.otp_last_step = matched


async def check_code(uow: UnitOfWork, *, card_id: int, code: str, now: datetime) -> None:
    """Would `code` pass now? Without using it: the bot checks the code a cashier typed before it
    shows the summary to confirm, so that a typo is caught at once; `verify_code` checks it again,
    and uses it, in the transaction that spends the points, so points never move on a code that
    expired while the summary was read. A wrong code counts towards the lockout here too."""

    async def work(session: AsyncSession) -> None:
        card = await session.get(Card, card_id)
        if card is None:
            raise BadCode(card_id=card_id)
        _usable_step(card, code, now)

    try:
        await uow.read(work)
    except BadCode:
        await record_failure(uow, card_id=card_id, now=now)
        raise


async def record_failure(uow: UnitOfWork, *, card_id: int, now: datetime) -> None:
    """Count one wrong code; a count older than the window starts again from 1."""
    stale = or_(Card.otp_failures_since.is_(None), Card.otp_failures_since <= now - FAILURE_WINDOW)

    async def work(session: AsyncSession) -> None:
        await session.execute(
            update(Card)
            .where(Card.id == card_id)
            .values(
                otp_failures=case((stale, 1), else_=Card.otp_failures + 1),
                otp_failures_since=case((stale, literal(now, UTCDateTime)), else_=Card.otp_failures_since),
            )
        )

    await uow.write(work)
