"""A staff member tied to no store remembers the store chosen for the shift (services/shifts.py).

Revision ID: 0011
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.add_column(sa.Column("shift_store_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch.create_foreign_key("fk_staff_shift_store_id_stores", "stores", ["shift_store_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("staff") as batch:
        batch.drop_constraint("fk_staff_shift_store_id_stores", type_="foreignkey")
        batch.drop_column("shift_store_id")
