"""Indexes on the columns that reference an operation: a replayed purchase finds its receipt and
lot by the operation (services/ledger/accrual.py::stored_accrual), a refund its lots and the debt
repayments of an accrual, and PostgreSQL checks each of these foreign keys when an operation is
deleted. Without them each of those was a scan of the whole table (5 000 000 lots in benchmark 5;
deleting benchmark 2's 50 000 baseline operations took more than six minutes).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels = None
depends_on = None

INDEXES = {
    "ix_operations_related": ("operations", "related_operation_id"),
    "ix_receipts_accrual_operation": ("receipts", "accrual_operation_id"),
    "ix_receipts_redemption_operation": ("receipts", "redemption_operation_id"),
    "ix_lots_operation": ("lots", "operation_id"),
}


def upgrade() -> None:
    for name, (table, column) in INDEXES.items():
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, (table, _) in INDEXES.items():
        op.drop_index(name, table_name=table)
