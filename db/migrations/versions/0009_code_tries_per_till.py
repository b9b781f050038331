"""Wrong one-time codes are counted per till and card (code_tries) instead of per card
(cards.otp_failures, otp_failures_since): a till could lock a customer out of paying everywhere.
Counters in flight are dropped; they last ten minutes anyway.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "code_tries",
        sa.Column("card_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("till", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("since", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name=op.f("fk_code_tries_card_id_cards")),
        sa.PrimaryKeyConstraint("card_id", "till", name=op.f("pk_code_tries")),
    )
    op.create_index("ix_code_tries_till_since", "code_tries", ["till", "since"], unique=False)
    # SQLite (3.35+) drops a column in place: no copy of the cards table, which every other table
    # refers to, as a batch operation would make.
    op.drop_column("cards", "otp_failures_since")
    op.drop_column("cards", "otp_failures")


def downgrade() -> None:
    op.add_column("cards", sa.Column("otp_failures", sa.Integer(), server_default="0", nullable=False))
    op.add_column("cards", sa.Column("otp_failures_since", db.types.UTCDateTime(timezone=True), nullable=True))
    op.drop_index("ix_code_tries_till_since", table_name="code_tries")
    op.drop_table("code_tries")
