"""Export of the client base in the format import-customers reads (the Russian CRM export):
Windows-1251 (or UTF-8), `;`, the Russian column names, dates DD.MM.YYYY, amounts with a decimal
comma. Deleted customers are left out entirely (their personal data is gone anyway).

Per customer: the card column holds a legacy card's number when they have one, else the primary
card's number (the phone: importing it back recognises it as the phone card); the balance and the
orders sum are those of the primary card; a family member without a card of their own gets empty
amounts. Marketing consent is written to both mailing columns (we keep one consent, not two).

Cells that a spreadsheet would take for a formula (`=...`, and the E.164 phones' `+7...`) are
written with a quote in front (services/spreadsheet.py); the import takes it off again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card, Customer
from db.uow import UnitOfWork
from services import audit
from services.clock import Clock
from services.importer.columns import RUSSIAN
from services.program import load_settings
from services.spreadsheet import safe_writer

_CHUNK = 5000
_SEX = {"male": "Мужской", "female": "Женский"}


@dataclass(frozen=True)
class ExportResult:
    path: str
    customers: int


def _money(kopecks: int) -> str:
    return f"{kopecks // 100},{kopecks % 100:02d}"


def _row(customer: Customer, cards: list[Card], tz: ZoneInfo) -> list[str]:
    primary = next((c for c in cards if c.is_primary), cards[0] if cards else None)
    legacy = next((c for c in cards if c.source == "legacy"), None)
    shown = legacy or primary
    registered = customer.created_at.astimezone(tz).date() if isinstance(customer.created_at, datetime) else None
    return [
        customer.surname or "", customer.name or "", customer.patronymic or "", _SEX.get(customer.sex or "", ""),
        customer.birthday.strftime("%d.%m.%Y") if customer.birthday else "", customer.phone or "",
        customer.extra_phone or "", customer.email or "", customer.city or "", shown.number if shown else "",
        _money(primary.balance) if primary else "", _money(primary.purchases_kopecks) if primary else "",
        "Да" if customer.marketing_consent else "Нет", "Да" if customer.marketing_consent else "Нет",
        registered.strftime("%d.%m.%Y") if registered else "",
    ]


async def export_customers(
    uow: UnitOfWork, clock: Clock, *, path: Path, encoding: str = "cp1251", actor: str = "cli:export"
) -> ExportResult:
    """Stream the customers to `path` in chunks (never the whole base in memory)."""
    settings = await uow.read(load_settings)
    count = 0
    last_id = 0
    with path.open("w", encoding=encoding, errors="replace", newline="") as out:
        writer = safe_writer(out, delimiter=";")
        writer.writerow(RUSSIAN)
        while True:

            async def chunk(session: AsyncSession, after: int = last_id) -> list[tuple[Customer, list[Card]]]:
                customers = list(
                    (
                        await session.execute(
                            select(Customer)
                            .where(Customer.id > after, Customer.deleted_at.is_(None))
                            .order_by(Customer.id)
                            .limit(_CHUNK)
                        )
                    ).scalars()
                )
                by_owner: dict[int, list[Card]] = {}
                if customers:
                    ids = [c.id for c in customers]
                    for start in range(0, len(ids), 900):
                        cards = await session.execute(
                            select(Card)
                            .where(Card.customer_id.in_(ids[start : start + 900]))
                            .order_by(Card.is_primary.desc(), Card.id)
                        )
                        for card in cards.scalars():
                            assert card.customer_id is not None
                            by_owner.setdefault(card.customer_id, []).append(card)
                return [(c, by_owner.get(c.id, [])) for c in customers]

            rows = await uow.read(chunk)
            if not rows:
                break
            for customer, cards in rows:
                writer.writerow(_row(customer, cards, settings.tz))
            count += len(rows)
            last_id = rows[-1][0].id

    async def log(session: AsyncSession) -> None:
        await audit.record(
            session, at=clock.now(), actor=actor, action="customers.export", entity="export", entity_id=None,
            after={"file": path.name, "customers": count},
        )

    await uow.write(log)
    return ExportResult(str(path), count)
