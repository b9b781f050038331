"""A hypothesis state machine driving the ledger through random accruals, redemptions (with real
one-time codes), refunds, adjustments, bonuses, time jumps, activation and expiry, checking the
invariants after every step plus: nothing redeemed above the cap, never more reversed than earned,
never more restored than spent, and the available balance is what the lots not yet expired hold
(a rule jumps to a lot's expiry instant or a microsecond before it). check_invariants itself covers
"expired lots hold 0", "restored points keep their expiry" and "nothing is taken from a lot at or
after its expiry instant but by the expiry job".

pytest-asyncio does not drive state machines, so each machine owns an event loop and runs every
rule with `loop.run_until_complete`.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import uuid
from collections.abc import Awaitable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select

from db.engine import create_engine
from db.models import Card, Lot, Receipt
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.errors import DomainError, InsufficientPoints, RefundExceedsReceipt
from services.ledger import (
    accrue_purchase,
    activate_due_lots,
    adjust_points,
    check_invariants,
    expire_due_lots,
    get_balance,
    grant_birthday_bonus,
    grant_welcome_bonus,
    redeem,
    refund,
)
from services.ledger.amounts import BP
from services.program import update_settings
from tests.conftest import PG_SKIP_REASON, PG_URL, _reset_postgres
from tests.ledger.helpers import P, code_now, make_card, make_store

T = TypeVar("T")
RUB = 100
CARDS = 3


class LedgerMachine(RuleBasedStateMachine):
    db_url: str = ""
    template: Path | None = None
    workdir: Path | None = None

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        url = type(self).db_url
        if url.startswith("sqlite"):
            assert type(self).template is not None and type(self).workdir is not None
            path = type(self).workdir / f"{uuid.uuid4().hex}.db"
            shutil.copy(type(self).template, path)
            url = f"sqlite+aiosqlite:///{path}"
        self.engine = create_engine(url)
        if self.engine.dialect.name == "postgresql":
            self.run(_reset_postgres(self.engine))
        self.uow = UnitOfWork(self.engine)
        self.clock = FrozenClock()
        self.receipts: list[str] = []
        self.counter = 0
        self.cards: list[tuple[int, str]] = []
        self.store_id = 0

    def run(self, coro: Awaitable[T]) -> T:
        return self.loop.run_until_complete(coro)  # type: ignore[arg-type]

    def teardown(self) -> None:
        self.run(self.engine.dispose())
        self.loop.close()

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    @initialize(window=st.sampled_from([0, 14]), decimals=st.sampled_from([0, 2]))
    def setup(self, window: int, decimals: int) -> None:
        changes = {"return_window_days": window, "points_decimals": decimals, "daily_adjustment_limit_points": 10**7}
        self.run(update_settings(self.uow, self.clock, changes=changes, actor="test"))
        self.quantum = 100 if decimals == 0 else 1
        self.store_id = self.run(make_store(self.uow, self.clock))
        for _ in range(CARDS):
            card_id, _, secret = self.run(make_card(self.uow, self.clock))
            self.cards.append((card_id, secret))

    @rule(card=st.integers(0, CARDS - 1), rub=st.integers(1, 40_000))
    def purchase(self, card: int, rub: int) -> None:
        receipt = self.next_id("P")
        self.run(
            accrue_purchase(
                self.uow,
                self.clock,
                card_id=self.cards[card][0],
                store_id=self.store_id,
                receipt_id=receipt,
                amount_kopecks=rub * RUB,
                actor="pos",
            )
        )
        self.receipts.append(receipt)

    @rule(card=st.integers(0, CARDS - 1), rub=st.integers(1, 40_000), share=st.floats(0.01, 1.0))
    def purchase_with_points(self, card: int, rub: int, share: float) -> None:
        card_id, secret = self.cards[card]
        self.clock.advance(timedelta(seconds=61))  # a fresh code step: each code can be used once
        cap = rub * RUB * 3000 // BP
        points = max(self.quantum, int(cap * share) // self.quantum * self.quantum)
        receipt = self.next_id("R")
        try:
            result = self.run(
                redeem(
                    self.uow,
                    self.clock,
                    card_id=card_id,
                    store_id=self.store_id,
                    receipt_id=receipt,
                    receipt_amount_kopecks=rub * RUB,
                    points=points,
                    code=code_now(secret, self.clock),
                    actor="pos",
                )
            )
        except InsufficientPoints:
            event("redeem: insufficient")
            return
        except DomainError as exc:  # cap rounding on tiny receipts
            assert exc.code == "cap_exceeded", exc
            return
        assert result.redeemed_points == points
        self.receipts.append(receipt)

    @precondition(lambda self: bool(self.receipts))
    @rule(data=st.data(), full=st.booleans(), share=st.floats(0.01, 1.0))
    def refund_receipt(self, data: st.DataObject, full: bool, share: float) -> None:
        receipt = data.draw(st.sampled_from(self.receipts))
        amount = None
        if not full:
            row = self.run(self.uow.read(lambda s: _receipt(s, self.store_id, receipt)))
            amount = max(1, int((row.amount_kopecks - row.refunded_kopecks) * share))
        try:
            result = self.run(
                refund(
                    self.uow,
                    self.clock,
                    store_id=self.store_id,
                    receipt_id=receipt,
                    amount_kopecks=amount,
                    refund_id=self.next_id("F"),
                    actor="pos",
                )
            )
        except RefundExceedsReceipt:
            event("refund: nothing left to refund")
            return
        event(f"refund: debt={result.new_debt > 0} restored={result.restored_points > 0}")

    @precondition(lambda self: bool(self.receipts))
    @rule(data=st.data())
    def refund_in_part(self, data: st.DataObject) -> None:
        """A second refund rule: refunds matter most, and hypothesis picks rules evenly."""
        self.refund_receipt(data, full=False, share=0.5)

    @rule(card=st.integers(0, CARDS - 1), points=st.integers(-300, 300).filter(bool))
    def adjust(self, card: int, points: int) -> None:
        with contextlib.suppress(InsufficientPoints):
            self.run(
                adjust_points(
                    self.uow,
                    self.clock,
                    card_id=self.cards[card][0],
                    points=P(points),
                    reason="test",
                    idempotency_key=self.next_id("A"),
                    actor="staff:1",
                )
            )

    @rule(card=st.integers(0, CARDS - 1))
    def spend_everything(self, card: int) -> None:
        """Drain a card so that a later refund reverses more than it holds (debt)."""
        card_id = self.cards[card][0]
        balance = self.run(get_balance(self.uow, self.clock, card_id)).available // self.quantum * self.quantum
        if balance:
            self.run(
                adjust_points(
                    self.uow,
                    self.clock,
                    card_id=card_id,
                    points=-balance,
                    reason="drain",
                    idempotency_key=self.next_id("D"),
                    actor="staff:1",
                )
            )

    @rule(card=st.integers(0, CARDS - 1), birthday=st.booleans())
    def bonus(self, card: int, birthday: bool) -> None:
        card_id = self.cards[card][0]
        if birthday:
            self.run(grant_birthday_bonus(self.uow, self.clock, card_id=card_id, year=self.clock.now().year))
        else:
            self.run(grant_welcome_bonus(self.uow, self.clock, card_id=card_id))

    @rule(days=st.sampled_from([1, 7, 13, 14, 15, 30, 100, 365, 400]))
    def time_passes(self, days: int) -> None:
        self.clock.advance(timedelta(days=days))

    @rule(card=st.integers(0, CARDS - 1), just_before=st.booleans())
    def to_an_expiry_instant(self, card: int, just_before: bool) -> None:
        """Jump to the instant the card's soonest live lot expires, or a microsecond before it: the
        boundary where the lot stops counting (the invariant below), with or without a job run."""
        soonest = self.run(self.uow.read(lambda s: _soonest_expiry(s, self.cards[card][0], self.clock.now())))
        if soonest is None:
            return
        self.clock.set(soonest - timedelta(microseconds=1) if just_before else soonest)
        event(f"expiry instant: {'just before' if just_before else 'at'}")

    @rule()
    def activate(self) -> None:
        self.run(activate_due_lots(self.uow, self.clock, batch_size=2))

    @rule()
    def expire(self) -> None:
        expired = self.run(expire_due_lots(self.uow, self.clock, batch_size=2))
        event(f"expire: {'some' if expired else 'none'}")

    @invariant()
    def ledger_is_consistent(self) -> None:
        if not self.cards:
            return
        self.run(check_invariants(self.uow))
        for r in self.run(self.uow.read(_receipts)):
            assert r.redeemed_points * BP <= 3000 * r.amount_kopecks, "redeemed above the cap"
            assert 0 <= r.reversed_points <= r.earned_points, "reversed more than earned"
            assert 0 <= r.restored_points <= r.redeemed_points, "restored more than spent"
            if r.refunded_kopecks == r.amount_kopecks:
                assert r.reversed_points == r.earned_points and r.restored_points == r.redeemed_points
        for card in self.run(self.uow.read(_cards)):
            assert card.balance >= 0 and card.debt >= 0

    @invariant()
    def available_is_what_live_lots_hold(self) -> None:
        """From its expires_at instant on a lot counts nowhere, whether the expiry job ran or not."""
        now = self.clock.now()
        for card_id, _ in self.cards:
            live = self.run(self.uow.read(lambda s, card_id=card_id: _live_remaining(s, card_id, now)))
            assert self.run(get_balance(self.uow, self.clock, card_id)).available == live


async def _receipt(session: Any, store_id: int, receipt_id: str) -> Receipt:
    row = (
        await session.execute(select(Receipt).where(Receipt.store_id == store_id, Receipt.receipt_id == receipt_id))
    ).scalar_one()
    return row  # type: ignore[no-any-return]


async def _soonest_expiry(session: Any, card_id: int, now: datetime) -> datetime | None:
    stmt = select(func.min(Lot.expires_at)).where(
        Lot.card_id == card_id, Lot.status == "active", Lot.remaining > 0, Lot.expires_at > now
    )
    return (await session.execute(stmt)).scalar_one()  # type: ignore[no-any-return]


async def _live_remaining(session: Any, card_id: int, now: datetime) -> int:
    stmt = select(func.coalesce(func.sum(Lot.remaining), 0)).where(
        Lot.card_id == card_id, Lot.status == "active", (Lot.expires_at.is_(None)) | (Lot.expires_at > now)
    )
    return int((await session.execute(stmt)).scalar_one())


async def _receipts(session: Any) -> list[Receipt]:
    return list((await session.execute(select(Receipt))).scalars())


async def _cards(session: Any) -> list[Card]:
    return list((await session.execute(select(Card))).scalars())


def _run(url: str, template: Path | None, workdir: Path | None, examples: int) -> None:
    LedgerMachine.db_url = url
    LedgerMachine.template = template
    LedgerMachine.workdir = workdir
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=50,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_ledger_state_machine_sqlite(sqlite_template: Path, tmp_path: Path) -> None:
    _run("sqlite", sqlite_template, tmp_path, examples=60)


@pytest.mark.postgres
def test_ledger_state_machine_postgres() -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    _run(PG_URL, None, None, examples=15)
