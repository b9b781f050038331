"""An outbox claim has an owner and a lease, and `claimed` (taken, not yet requested) is told apart
from `sending` (the request to Telegram is being made). A sender that died used to leave its whole
claim (about one second of messages) `sending`, and all of it became `unknown`, never sent; now only
the row whose request had started does, and the rest goes back to the queue when the lease lapses.
Rows left `sending` before this migration have no lease, so the next sender treats them as lapsed.

Revision ID: 0008
Revises: 0006_erasable_references
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0008"
down_revision: str | None = "0006_erasable_references"
branch_labels = None
depends_on = None

_OLD = ("pending", "sending", "sent", "failed", "unknown", "skipped")
_NEW = ("pending", "claimed", "sending", "sent", "failed", "unknown", "skipped")


def _check(values: tuple[str, ...]) -> str:
    return f"status IN ({', '.join(repr(v) for v in values)})"


def upgrade() -> None:
    # Batch mode: SQLite changes a CHECK constraint only by copying the table.
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim_owner", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("claimed_until", db.types.UTCDateTime(timezone=True), nullable=True))
        batch.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch.create_check_constraint("status", _check(_NEW))


def downgrade() -> None:
    # A claim not yet requested was never sent: it goes back to the queue.
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'claimed'")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_constraint(op.f("ck_outbox_status"), type_="check")
        batch.create_check_constraint("status", _check(_OLD))
        batch.drop_column("claimed_until")
        batch.drop_column("claim_owner")
