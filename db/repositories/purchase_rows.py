"""The rows of one purchase written together: its operation, its lot (when it earns points), its
receipt and the change of the card's amounts, purchase total and level.

On PostgreSQL they go as one statement (data-modifying CTEs: the lot and the receipt take the new
operation's id from the `op` CTE; foreign keys are checked at the end of the statement), so a
purchase costs one round trip where it took five. SQLite cannot put an INSERT in a CTE; there the
same rows go one statement each, which costs nothing over a local file. The caller holds the card
lock and has checked everything: these statements only write.

When ids were drawn ahead for the transaction (`reserve_ids`: a till's purchases sharing one,
services/card_turns.py) and the caller knows the card's amounts as its lock read them, the rows go
with the transaction's other rows at its COMMIT instead (db/commit_rows.py), or before its next
statement if one comes first: the purchases of a batch then cost one statement together, not one
each (benchmark 2). The card's new amounts are computed here from those it had, and set at commit
only if the card still has those (else the transaction fails and the batch runs again, one by one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, bindparam, insert, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.commit_rows import add_at_commit, set_at_commit
from db.dialects import is_postgres
from db.models import Card, Lot, Operation, Receipt

_OPERATIONS: Table = Operation.__table__  # type: ignore[assignment]
_LOTS: Table = Lot.__table__  # type: ignore[assignment]
_RECEIPTS: Table = Receipt.__table__  # type: ignore[assignment]
# Statements on the tables, not the mapped classes: an ORM-enabled UPDATE is annotated and its
# cache key computed anew on every execution (~0.5 ms), and it synchronises the session after.
_CARDS: Table = Card.__table__  # type: ignore[assignment]
_CARD = _CARDS.c


def _columns(table: Table, *, without: tuple[str, ...]) -> list[str]:
    return [c.key for c in table.columns if c.key != "id" and c.key not in without]


_OPERATION_COLUMNS = _columns(_OPERATIONS, without=())
_LOT_COLUMNS = _columns(_LOTS, without=("operation_id",))
_RECEIPT_COLUMNS = _columns(_RECEIPTS, without=("accrual_operation_id",))

# The card's part: cached amounts grow (debt shrinks) under the same `>= 0` guard as every other
# change of them (repositories/ledger.py), and the purchase total and level are set.
_CARD_VALUES = {
    "balance": _CARD.balance + bindparam("card_d_balance"),
    "pending": _CARD.pending + bindparam("card_d_pending"),
    "debt": _CARD.debt + bindparam("card_d_debt"),
    "purchases_kopecks": _CARD.purchases_kopecks + bindparam("card_d_purchases"),
    "level_id": bindparam("card_level_id"),
}
_CARD_WHERE = (
    _CARD.id == bindparam("card_id"),
    _CARD.balance + bindparam("card_d_balance") >= 0,
    _CARD.pending + bindparam("card_d_pending") >= 0,
    _CARD.debt + bindparam("card_d_debt") >= 0,
)


def _params(table: Table, prefix: str) -> dict[str, Any]:
    return {name: bindparam(f"{prefix}{name}", type_=table.c[name].type) for name in _columns(table, without=())}


def _one_statement(with_lot: bool) -> Any:
    op_params = _params(_OPERATIONS, "op_")
    op = insert(_OPERATIONS).values(op_params).returning(_OPERATIONS.c.id).cte("op")
    rc_params = _params(_RECEIPTS, "rc_")
    receipt = (
        insert(_RECEIPTS)
        .from_select(
            [*_RECEIPT_COLUMNS, "accrual_operation_id"],
            select(*(rc_params[name] for name in _RECEIPT_COLUMNS), op.c.id),
        )
        .cte("rc")
    )
    ctes = [op, receipt]
    lot_id: Any = literal_column("NULL")
    if with_lot:
        lot_params = _params(_LOTS, "lot_")
        lot = (
            insert(_LOTS)
            .from_select(
                [*_LOT_COLUMNS, "operation_id"], select(*(lot_params[name] for name in _LOT_COLUMNS), op.c.id)
            )
            .returning(_LOTS.c.id)
            .cte("lot")
        )
        ctes.append(lot)
        lot_id = select(lot.c.id).scalar_subquery()
    return (
        update(_CARDS)
        .where(*_CARD_WHERE)
        .values(_CARD_VALUES)
        .add_cte(*ctes)
        .returning(_CARD.balance, _CARD.pending, _CARD.debt, select(op.c.id).scalar_subquery(), lot_id)
    )


_WITH_LOT = _one_statement(with_lot=True)
_WITHOUT_LOT = _one_statement(with_lot=False)

_INSERT_OPERATION = insert(_OPERATIONS).returning(_OPERATIONS.c.id)
_INSERT_LOT = insert(_LOTS).returning(_LOTS.c.id)
_INSERT_RECEIPT = insert(_RECEIPTS)
_UPDATE_CARD = (
    update(_CARDS).where(*_CARD_WHERE).values(_CARD_VALUES).returning(_CARD.balance, _CARD.pending, _CARD.debt)
)


@dataclass(frozen=True)
class CardChange:
    card_id: int
    d_balance: int
    d_pending: int
    d_debt: int
    d_purchases: int
    level_id: int | None

    def params(self) -> dict[str, Any]:
        return {
            "card_id": self.card_id,
            "card_d_balance": self.d_balance,
            "card_d_pending": self.d_pending,
            "card_d_debt": self.d_debt,
            "card_d_purchases": self.d_purchases,
            "card_level_id": self.level_id,
        }


@dataclass(frozen=True)
class CardState:
    """The card's columns a purchase changes, as they are in this transaction."""

    balance: int
    pending: int
    debt: int
    purchases_kopecks: int
    level_id: int | None

    def row(self, card_id: int) -> dict[str, Any]:
        # Not dataclasses.asdict, which deep-copies: 5 % of a batch's CPU (benchmark 2).
        return {
            "id": card_id, "balance": self.balance, "pending": self.pending, "debt": self.debt,
            "purchases_kopecks": self.purchases_kopecks, "level_id": self.level_id,
        }

    def after(self, change: CardChange) -> CardState:
        return CardState(
            self.balance + change.d_balance, self.pending + change.d_pending, self.debt + change.d_debt,
            self.purchases_kopecks + change.d_purchases, change.level_id,
        )


_RESERVED = "purchase_rows.reserved"  # session.info: [(operation id, lot id)] drawn ahead


def reserve_ids(session: AsyncSession, ids: list[tuple[int, int]]) -> None:
    """Ids drawn from the operations' and lots' sequences for purchases of this transaction."""
    session.info.setdefault(_RESERVED, []).extend(ids)


@dataclass(frozen=True)
class WrittenPurchase:
    operation_id: int
    lot_id: int | None
    balance: int
    pending: int
    debt: int


Row = dict[str, Any]  # column values of a new row, without its id and its operation reference


def _full(row: Row, names: list[str]) -> Row:
    unknown = row.keys() - set(names)
    assert not unknown, f"not columns: {unknown}"
    return {name: row.get(name) for name in names}


async def write_purchase(
    session: AsyncSession, *, operation: Row, lot: Row | None, receipt: Row, card: CardChange,
    before: CardState | None = None,
) -> WrittenPurchase | None:
    """Insert the `operation`, its `lot` and its `receipt` (the lot's and the receipt's reference to
    the operation is set here) and change the card. None when the card's amounts would go below
    zero: nothing matched, and the caller must roll back. Plain values, not mapped objects: a
    purchase builds three rows that nothing in its transaction reads back. A column left out is
    written as NULL. `before`: the card as the caller's lock read it, when it knows."""
    operation = _full(operation, _OPERATION_COLUMNS)
    receipt = _full(receipt, _RECEIPT_COLUMNS)
    lot = None if lot is None else _full(lot, _LOT_COLUMNS)
    reserved: list[tuple[int, int]] = session.info.get(_RESERVED, [])
    if before is not None and reserved:
        return _write_at_commit(session, reserved.pop(), operation, lot, receipt, card, before)
    if is_postgres(session):
        params = card.params()
        params.update({f"op_{k}": v for k, v in operation.items()})
        params.update({f"rc_{k}": v for k, v in receipt.items()})
        if lot is not None:
            params.update({f"lot_{k}": v for k, v in lot.items()})
        row = (await session.execute(_WITH_LOT if lot is not None else _WITHOUT_LOT, params)).one_or_none()
        if row is None:
            return None
        balance, pending, debt, operation_id, lot_id = row
    else:
        operation_id = (await session.execute(_INSERT_OPERATION, operation)).scalar_one()
        lot_id = None
        if lot is not None:
            lot_id = (await session.execute(_INSERT_LOT, {**lot, "operation_id": operation_id})).scalar_one()
        await session.execute(_INSERT_RECEIPT, {**receipt, "accrual_operation_id": operation_id})
        amounts = (await session.execute(_UPDATE_CARD, card.params())).one_or_none()
        if amounts is None:
            return None
        balance, pending, debt = amounts
    return WrittenPurchase(operation_id, lot_id, balance, pending, debt)


def _write_at_commit(
    session: AsyncSession, ids: tuple[int, int], operation: Row, lot: Row | None, receipt: Row, card: CardChange,
    before: CardState,
) -> WrittenPurchase | None:
    after = before.after(card)
    if min(after.balance, after.pending, after.debt) < 0:
        return None
    operation_id, lot_id = ids
    add_at_commit(session, _OPERATIONS, [{"id": operation_id, **operation}])
    if lot is not None:
        add_at_commit(session, _LOTS, [{"id": lot_id, **lot, "operation_id": operation_id}])
    add_at_commit(session, _RECEIPTS, [{**receipt, "accrual_operation_id": operation_id}])
    set_at_commit(session, _CARDS, new=after.row(card.card_id), was=before.row(card.card_id))
    return WrittenPurchase(operation_id, None if lot is None else lot_id, after.balance, after.pending, after.debt)
