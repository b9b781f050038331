"""The append-only audit log: who did what, with the state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, TimelineEntry


async def record(
    session: AsyncSession,
    *,
    at: datetime,
    actor: str,
    action: str,
    entity: str,
    entity_id: object = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add an audit row inside the caller's transaction, so the log and the change commit together."""
    session.add(
        AuditEntry(
            at=at,
            actor=actor,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
        )
    )


async def timeline(
    session: AsyncSession, *, customer_id: int, at: datetime, actor: str, kind: str, data: dict[str, Any]
) -> None:
    """Add an entry to a customer's timeline inside the caller's transaction."""
    session.add(TimelineEntry(customer_id=customer_id, at=at, actor=actor, kind=kind, data=data))
