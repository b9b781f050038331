"""Erasure erases (152-FZ): what names a customer is stored so that an erasure can reach it, and
what could not be reached is scrubbed from the rows written before.

Schema:
- `idempotent_requests.card_id` / `.customer_id`: whose card a stored response is about (its body
  carries the card number, which is the phone), so an erasure drops that customer's responses.
- `outbox.chat_id` goes: it held the recipient's Telegram id and was never read (the sender takes
  the chat from the customer at send time).
- `phone_conflicts.phone` may be NULL: an erasure clears it.

Rows written before (not reversible; downgrade restores the columns only):
- Actors `telegram:<Telegram id>` (registration, accepting a staff invite) become `customer:ID` or
  `staff:ID`; one nobody can be matched to any more (an erased customer) becomes `unknown`. In
  audit_log, customer_timeline, operations and customer_links.
- Card numbers leave the audit log's card snapshots (`number`), a walk-in's creation (`card`), the
  timeline's card entries (`card`) and the reasons of family point moves.
- Stored responses that name a card number no card has any more (it was erased, or closed when its
  holder joined a family) are deleted: no retry could be answered with them anyway. The others get
  their card and its owner.
- Phone conflicts about an erased customer (claimant, or the holder of the card) lose the phone.

The audit log refuses UPDATE by a trigger (append-only). This migration, and only it, lifts that
for its own transaction: on PostgreSQL `ALTER TABLE ... DISABLE TRIGGER` takes an ACCESS EXCLUSIVE
lock held until COMMIT, so no other session can write (or read) the log while the trigger is off,
and the same transaction enables it again; on SQLite the triggers are dropped and created again
within the migration's transaction. Either way nothing commits with the log unprotected.

Revision ID: 0006_erasable_references
Revises: 0005_signature_replays
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006_erasable_references"
down_revision: str | None = "0005_signature_replays"
branch_labels = None
depends_on = None

BIGINT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Where actors are written.
ACTOR_COLUMNS = (("audit_log", "actor"), ("operations", "actor"), ("customer_links", "created_by"),
                 ("customer_timeline", "actor"))
CARD_ACTIONS = ("card.issue", "card.status", "card.validity", "card.multiplier", "card.bind", "card.unbind",
                "card.close_for_family")
# The new reasons of services/family.py::_move_points.
MOVED_OUT, MOVED_IN = "moved to the family card", "moved from a family member's card"


def upgrade() -> None:
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.add_column(sa.Column("card_id", BIGINT, nullable=True))
        batch.add_column(sa.Column("customer_id", BIGINT, nullable=True))
        batch.create_index("ix_idempotent_requests_card_id", ["card_id"])
        batch.create_index("ix_idempotent_requests_customer_id", ["customer_id"])
        batch.create_foreign_key("fk_idempotent_requests_card_id_cards", "cards", ["card_id"], ["id"])
        batch.create_foreign_key(
            "fk_idempotent_requests_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("chat_id")
    with op.batch_alter_table("phone_conflicts") as batch:
        batch.alter_column("phone", existing_type=sa.String(20), nullable=True)

    bind = op.get_bind()
    _stored_responses(bind)
    op.execute(
        "UPDATE phone_conflicts SET phone = NULL WHERE "
        "claimant_customer_id IN (SELECT id FROM customers WHERE deleted_at IS NOT NULL) "
        "OR card_id IN (SELECT id FROM cards WHERE number LIKE 'deleted-%')"
    )
    for reason, old in ((MOVED_OUT, "moved to family card %"), (MOVED_IN, "moved from card %")):
        bind.execute(
            sa.text("UPDATE operations SET reason = :reason WHERE kind = 'manual_adjustment' AND reason LIKE :old"),
            {"reason": reason, "old": old},
        )
    def scrub_audit() -> None:
        _actors(bind)
        _audit_values(bind)

    _without_audit_guard(bind, scrub_audit)
    _timeline_values(bind)


def _stored_responses(bind: sa.Connection) -> None:
    cards = {
        str(number): (int(card_id), owner)
        for card_id, number, owner in bind.execute(sa.text("SELECT id, number, customer_id FROM cards"))
    }
    gone: list[dict[str, Any]] = []
    found: list[dict[str, Any]] = []
    for row_id, response in bind.execute(sa.text("SELECT id, response FROM idempotent_requests")):
        body = response if isinstance(response, dict) else json.loads(response or "{}")
        number = body.get("card_number") if isinstance(body, dict) else None
        if number is None:
            continue
        if str(number) in cards:
            card_id, owner = cards[str(number)]
            found.append({"id": row_id, "card_id": card_id, "customer_id": owner})
        else:
            gone.append({"id": row_id})
    if found:
        bind.execute(
            sa.text("UPDATE idempotent_requests SET card_id = :card_id, customer_id = :customer_id WHERE id = :id"),
            found,
        )
    if gone:
        bind.execute(sa.text("DELETE FROM idempotent_requests WHERE id = :id"), gone)


def _actors(bind: sa.Connection) -> None:
    """`telegram:N` -> `customer:ID` (by the registration that wrote it, or the customer who has
    that Telegram id now) or `staff:ID`; `unknown` when nobody has it any more."""
    # The staff member who accepted an invite is the audit row's entity.
    bind.execute(sa.text(
        "UPDATE audit_log SET actor = 'staff:' || entity_id "
        "WHERE action = 'staff.accept_invite' AND actor LIKE 'telegram:%'"
    ))
    # Everything else with a Telegram actor was done as a customer (registration); someone who is
    # both maps to the customer.
    replacement: dict[str, str] = {}
    for telegram_id, staff_id in bind.execute(sa.text("SELECT telegram_id, id FROM staff")):
        replacement[f"telegram:{telegram_id}"] = f"staff:{staff_id}"
    for telegram_id, customer_id in bind.execute(sa.text(
        "SELECT telegram_id, id FROM customers WHERE telegram_id IS NOT NULL"
    )):
        replacement[f"telegram:{telegram_id}"] = f"customer:{customer_id}"
    # Registration wrote its actor on the new customer's timeline: that maps erased customers too.
    for actor, customer_id in bind.execute(sa.text(
        "SELECT actor, MIN(customer_id) FROM customer_timeline WHERE actor LIKE 'telegram:%' "
        "AND kind IN ('registered', 'telegram_attached') GROUP BY actor"
    )):
        replacement[str(actor)] = f"customer:{customer_id}"
    seen: set[str] = set()
    for table, column in ACTOR_COLUMNS:
        seen.update(
            str(actor) for (actor,) in bind.execute(
                sa.text(f"SELECT DISTINCT {column} FROM {table} WHERE {column} LIKE 'telegram:%'")
            )
        )
    if not seen:
        return
    op.create_table("erasure_actor_map", sa.Column("old", sa.String(64), primary_key=True),
                    sa.Column("new", sa.String(64), nullable=False))
    bind.execute(
        sa.text("INSERT INTO erasure_actor_map (old, new) VALUES (:old, :new)"),
        [{"old": actor, "new": replacement.get(actor, "unknown")} for actor in sorted(seen)],
    )
    for table, column in ACTOR_COLUMNS:
        bind.execute(sa.text(
            f"UPDATE {table} SET {column} = (SELECT m.new FROM erasure_actor_map m WHERE m.old = {table}.{column}) "
            f"WHERE {column} IN (SELECT old FROM erasure_actor_map)"
        ))
    op.drop_table("erasure_actor_map")


def _drop_keys(bind: sa.Connection, table: str, column: str, keys: tuple[str, ...], where: str) -> None:
    """Remove `keys` from the JSON objects in `column` of the rows `where` says."""
    if bind.dialect.name == "postgresql":
        removed = " ".join(f"- '{key}'" for key in keys)
        expression = f"({column}::jsonb {removed})::json"
        is_object = f"json_typeof({column}) = 'object'"
        has_key = " OR ".join(f"{column}::jsonb ? '{key}'" for key in keys)
    else:
        paths = ", ".join(f"'$.{key}'" for key in keys)
        expression = f"json_remove({column}, {paths})"
        is_object = f"json_type({column}) = 'object'"
        has_key = " OR ".join(f"json_type({column}, '$.{key}') IS NOT NULL" for key in keys)
    bind.execute(sa.text(
        f"UPDATE {table} SET {column} = {expression} "
        f"WHERE {where} AND {column} IS NOT NULL AND {is_object} AND ({has_key})"
    ))


def _audit_values(bind: sa.Connection) -> None:
    actions = ", ".join(f"'{action}'" for action in CARD_ACTIONS)
    for column in ("before", "after"):
        _drop_keys(bind, "audit_log", f'"{column}"', ("number",), f"action IN ({actions})")
    _drop_keys(bind, "audit_log", '"after"', ("card",), "action = 'customer.create_walk_in'")


def _timeline_values(bind: sa.Connection) -> None:
    _drop_keys(bind, "customer_timeline", "data", ("card",), "kind IN ('card_bind', 'card_unbind', 'phone_conflict')")


def _without_audit_guard(bind: sa.Connection, work: Callable[[], None]) -> None:
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        work()
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    work()
    op.execute(
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    )


def downgrade() -> None:
    op.execute("UPDATE phone_conflicts SET phone = '' WHERE phone IS NULL")
    with op.batch_alter_table("phone_conflicts") as batch:
        batch.alter_column("phone", existing_type=sa.String(20), nullable=False)
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("idempotent_requests") as batch:
        batch.drop_constraint("fk_idempotent_requests_customer_id_customers", type_="foreignkey")
        batch.drop_constraint("fk_idempotent_requests_card_id_cards", type_="foreignkey")
        batch.drop_index("ix_idempotent_requests_customer_id")
        batch.drop_index("ix_idempotent_requests_card_id")
        batch.drop_column("customer_id")
        batch.drop_column("card_id")
