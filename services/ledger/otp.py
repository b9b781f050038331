"""The customer's 6-digit redemption code (TOTP, RFC 6238): 60-second steps, one step of clock skew
either way, each step usable once per card.

A code is accepted only for a step later than the last step used (`cards.otp_last_step`), written
with a conditional UPDATE under the card's lock, so the same code presented twice, even by two
tills at once, pays once. The other presentations are `CodeAlreadyUsed`: a genuine code is a
retry, a double click or a second till, not a guess, and counts as no wrong try.

Wrong codes are counted per till (whoever typed the code: an API key `api:<id>` or a cashier
`staff:<id>`, the redemption's actor) and card, in `code_tries`, never on the card alone: any POS
key could otherwise lock any customer (whose card number is their phone) out of paying at every
till. A till that typed `MAX_FAILURES` wrong codes for a card in `FAILURE_WINDOW` is refused for
that card until the window ends; one that typed `TILL_MAX_FAILURES` for any cards is refused for
every card, since staying under the limit of each card of many customers is how a till would guess
codes in bulk. Other tills go on with the customer's right code. A refusal names when to retry.

The count is written in the redemption's own transaction, which commits it and nothing else (the
code is checked before anything is written) and then refuses: under the card's lock, so concurrent
wrong codes are counted exactly.
"""

from __future__ import annotations

import hmac
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import pyotp
from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.dialects import changed_rows
from db.models import Card, CodeTry
from db.uow import UnitOfWork
from services.errors import BadCode, CodeAlreadyUsed, TooManyCodeAttempts

STEP_SECONDS = 60
DIGITS = 6
VALID_WINDOW = 1
MAX_FAILURES = 5  # wrong codes one till may type for one card in a window
# Wrong codes one till may type for all cards together in a window: a busy till mistyping now and
# then stays far below it; one guessing (3 codes in 10^6 are valid at a time) is stopped at 20.
TILL_MAX_FAILURES = 20
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


# Under this many seconds left in a step, the card shows the next step's code: "valid 3 more s" is
# no time to read six digits to a cashier. verify_code accepts the next step already (VALID_WINDOW).
NEXT_CODE_BELOW_SECONDS = 10


def current_code(card: Card, now: datetime) -> tuple[str, int]:
    """The code to show on the customer's /card screen and the seconds it stays current."""
    step = step_of(now)
    seconds_left = STEP_SECONDS - int(now.timestamp()) % STEP_SECONDS
    shown = step + 1 if seconds_left < NEXT_CODE_BELOW_SECONDS else step
    # A code paid with already (the next step's, shown in the last seconds of the step before) would
    # only be refused as used: show the first step after it while verify_code still accepts that.
    if card.otp_last_step is not None and shown <= card.otp_last_step:
        shown = card.otp_last_step + 1
    if shown > step + VALID_WINDOW:
        shown = step
    return code_for_step(card.otp_secret, shown), seconds_left + (shown - step) * STEP_SECONDS


def _usable_step(card: Card, code: str, now: datetime) -> int:
    """The step `code` shows, if it may pay now; else BadCode (no step in the window shows it) or
    CodeAlreadyUsed (its step, or a later one, paid already)."""
    code = code.strip()
    current = step_of(now)
    matched: int | None = None
    # Compare with every candidate step (no early exit) so timing does not tell which one matched.
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(code_for_step(card.otp_secret, step).encode(), code.encode()):
            matched = step if matched is None else matched
    if matched is None:
        raise BadCode(card_id=card.id)
    if card.otp_last_step is not None and matched <= card.otp_last_step:
        raise CodeAlreadyUsed(card_id=card.id)
    return matched


async def verify_code(session: AsyncSession, card: Card, code: str, now: datetime) -> None:
    """Accept `code` for `card` (locked by the caller), using its step, or raise as _usable_step."""
    matched = _usable_step(card, code, now)
    used = await session.execute(
        update(Card)
        .where(Card.id == card.id, or_(Card.otp_last_step.is_(None), Card.otp_last_step < matched))
        .values(otp_last_step=matched)
    )
    if not changed_rows(used):
        raise CodeAlreadyUsed(card_id=card.id)
    card.otp_last_step = matched


@dataclass(frozen=True)
class TillTries:
    """One till's wrong codes as read under a card's lock: its counter for that card (if any, maybe
    stale) and the (since, failures) of its windows still open, that card's included."""

    card_id: int
    till: str
    card_failures: int | None
    card_since: datetime | None
    open_windows: tuple[tuple[datetime, int], ...]

    def card_window_open(self, now: datetime) -> bool:
        return self.card_since is not None and now - self.card_since < FAILURE_WINDOW

    def ensure_may_try(self, now: datetime) -> None:
        """TooManyCodeAttempts when this till is locked, for this card or for every card."""
        if self.card_since is not None and self.card_window_open(now) and (self.card_failures or 0) >= MAX_FAILURES:
            raise _locked("card", self.card_since + FAILURE_WINDOW, now, self.card_id)
        total = sum(failures for _, failures in self.open_windows)
        if total < TILL_MAX_FAILURES:
            return
        # The till may try again once enough of its oldest windows have closed.
        for since, failures in sorted(self.open_windows):
            total -= failures
            if total < TILL_MAX_FAILURES:
                raise _locked("till", since + FAILURE_WINDOW, now, self.card_id)
        raise AssertionError("unreachable")


def _locked(scope: str, until: datetime, now: datetime, card_id: int) -> TooManyCodeAttempts:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return TooManyCodeAttempts(
        scope=scope, retry_after_seconds=seconds, minutes=math.ceil(seconds / 60), card_id=card_id
    )


async def till_tries(session: AsyncSession, *, card_id: int, till: str, now: datetime) -> TillTries:
    """One indexed read: the till's open windows, and its counter for this card even if stale."""
    rows = await session.execute(
        select(CodeTry.card_id, CodeTry.failures, CodeTry.since).where(
            CodeTry.till == till, or_(CodeTry.since > now - FAILURE_WINDOW, CodeTry.card_id == card_id)
        )
    )
    card_failures: int | None = None
    card_since: datetime | None = None
    open_windows: list[tuple[datetime, int]] = []
    for row_card, failures, since in rows:
        if row_card == card_id:
            card_failures, card_since = failures, since
        if now - since < FAILURE_WINDOW:
            open_windows.append((since, failures))
    return TillTries(card_id, till, card_failures, card_since, tuple(open_windows))


async def count_wrong(session: AsyncSession, tries: TillTries, now: datetime) -> None:
    """Count one wrong code of `tries.till` for `tries.card_id` (whose card the caller locked, so
    no other transaction writes this counter); a window that closed starts again from 1."""
    if tries.card_window_open(now):
        await session.execute(
            update(CodeTry)
            .where(CodeTry.card_id == tries.card_id, CodeTry.till == tries.till)
            .values(failures=CodeTry.failures + 1)
        )
        return
    # A new window: drop this till's closed ones (this card's among them) so the table stays small.
    await session.execute(
        delete(CodeTry).where(CodeTry.till == tries.till, CodeTry.since <= now - FAILURE_WINDOW)
    )
    session.add(CodeTry(card_id=tries.card_id, till=tries.till, failures=1, since=now))
    await session.flush()


async def forget_tries(session: AsyncSession, tries: TillTries) -> None:
    """The till typed the right code: its wrong tries for this card are forgiven."""
    if tries.card_since is not None:
        await session.execute(delete(CodeTry).where(CodeTry.card_id == tries.card_id, CodeTry.till == tries.till))


async def check_code(uow: UnitOfWork, *, card_id: int, code: str, now: datetime, till: str) -> None:
    """Would `code` pass now at `till`? Without using it: the bot checks the code a cashier typed
    before it shows the summary to confirm, so that a typo is caught at once; `verify_code` checks it
    again, and uses it, in the transaction that spends the points, so points never move on a code
    that expired while the summary was read. A wrong code counts against this till here too, under
    the card's lock as in a redemption."""

    async def work(session: AsyncSession) -> BadCode | None:
        card = (await session.execute(select(Card).where(Card.id == card_id).with_for_update())).scalar_one_or_none()
        if card is None:
            return BadCode(card_id=card_id)
        tries = await till_tries(session, card_id=card_id, till=till, now=now)
        tries.ensure_may_try(now)
        try:
            _usable_step(card, code, now)
        except BadCode as wrong:
            await count_wrong(session, tries, now)  # nothing else was written: this commits the count alone
            return wrong
        return None

    wrong = await uow.write(work)
    if wrong is not None:
        raise wrong
