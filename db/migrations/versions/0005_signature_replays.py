"""Signatures of API requests already accepted, so that a captured signed request is refused when
sent again to any instance (services/signature_replays.py; with Redis they live there instead).
Rows are pruned once their timestamp is past the accepted window.

Revision ID: 0005_signature_replays
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005_signature_replays"
down_revision: str | None = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "signature_replays",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("expires_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_signature_replays")),
    )
    with op.batch_alter_table("signature_replays") as batch:
        batch.create_index(batch.f("ix_signature_replays_expires_at"), ["expires_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("signature_replays") as batch:
        batch.drop_index(batch.f("ix_signature_replays_expires_at"))
    op.drop_table("signature_replays")
