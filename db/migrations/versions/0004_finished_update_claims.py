"""An update claim records when its update was handled (services/update_dedup.py): a claim left
unfinished by an instance that died mid-update can then be taken over by Telegram's redelivery,
where before the update was acknowledged as a duplicate and lost. Claims made before this
migration were all finished (a failed update released its claim).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("processed_updates", sa.Column("finished_at", db.types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE processed_updates SET finished_at = at")


def downgrade() -> None:
    with op.batch_alter_table("processed_updates") as batch:
        batch.drop_column("finished_at")
