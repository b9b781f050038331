"""The shared 20 000-row sample: outcome counts computed by a deliberately simple, independent
script (not the importer's code), the ledger's invariants after the import, and re-import as a no-op."""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pytest
from sqlalchemy import func, select

from db.models import AuditEntry, Card, Customer, CustomerLink, Lot, Operation, TimelineEntry
from db.uow import UnitOfWork
from services.clock import FrozenClock
from services.importer import import_customers
from services.ledger import check_invariants
from services.phones import PhonePolicy

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "client_base_export.csv"
if not SAMPLE.exists():
    SAMPLE = Path("/work/shared/data/client_base_export.csv")


def _national(raw: str) -> str | None:
    """A valid Russian mobile's 10 digits, or None: digits only, 10 or 11 with 7/8 in front."""
    text = raw.strip()
    if not text or any(ch.isalpha() for ch in text):
        return None
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) == 11 and digits[0] in "78":
        digits = digits[1:]
    if len(digits) != 10:
        return None
    number = phonenumbers.parse("+7" + digits)
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "RU":
        return None
    return digits


def expected_outcomes(path: Path) -> dict[str, int]:
    rows = list(csv.DictReader(io.StringIO(path.read_bytes().decode("cp1251")), delimiter=";"))
    nationals = [_national(row["Телефон"]) for row in rows]
    times = Counter(n for n in nationals if n)
    counts: Counter[str] = Counter()
    seen: set[str] = set()
    legacy: set[str] = set()
    opening = 0
    for row, national in zip(rows, nationals, strict=True):
        own_card = False
        if national is None:
            counts["no_card_phone"] += 1
        elif times[national] >= 5:
            counts["no_card_frequent"] += 1
        elif national in seen or national in legacy:
            counts["family"] += 1
        else:
            counts["card"] += 1
            seen.add(national)
            own_card = True
        card = row["Дисконтная карта"].strip()
        if card and card != national and card not in seen and card not in legacy:
            legacy.add(card)
            own_card = True
        if own_card:
            rubles = Decimal(row["Сумма на дисконтной карте"].replace(",", ".") or "0")
            opening += int(rubles) * 100  # whole points, rounded down
    counts["legacy"] = len(legacy)
    counts["opening_units"] = opening
    counts["rows"] = len(rows)
    return dict(counts)


async def _table_counts(uow: UnitOfWork) -> dict[str, int]:
    async def work(session):  # type: ignore[no-untyped-def]
        out = {}
        for model in (Customer, Card, CustomerLink, Lot, Operation, TimelineEntry):
            out[model.__tablename__] = (await session.execute(select(func.count()).select_from(model))).scalar_one()
        out["lot_units"] = (await session.execute(select(func.coalesce(func.sum(Lot.remaining), 0)))).scalar_one()
        out["balances"] = (await session.execute(select(func.coalesce(func.sum(Card.balance), 0)))).scalar_one()
        out["legacy"] = (
            await session.execute(select(func.count()).select_from(Card).where(Card.source == "legacy"))
        ).scalar_one()
        return out

    return await uow.read(work)


@pytest.mark.skipif(not SAMPLE.exists(), reason="the shared sample file is not available")
async def test_sample_import_matches_an_independent_count_and_reimport_is_a_noop(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    expected = expected_outcomes(SAMPLE)
    started = time.monotonic()
    report = await import_customers(
        uow, clock, path=SAMPLE, policy=PhonePolicy(), report_path=tmp_path / "r.csv",
        render=lambda key, args: key,
    )
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"import took {elapsed:.1f} s"
    assert report.encoding == "cp1251" and report.delimiter == ";"
    assert report.rows == expected["rows"] == 20_000
    for outcome in ("card", "family", "no_card_phone", "no_card_frequent"):
        assert report.counts[outcome] == expected.get(outcome, 0), outcome
    assert sum(report.counts.values()) == 20_000
    assert report.counts["error"] == report.counts["duplicate"] == 0

    db = await _table_counts(uow)
    assert db["customers"] == 20_000
    assert db["legacy"] == expected["legacy"]
    assert db["cards"] == expected["card"] + expected["legacy"]
    assert db["customer_links"] == expected["family"]
    assert db["lot_units"] == db["balances"] == report.opening_units == expected["opening_units"]
    await check_invariants(uow)

    # Every skipped client (no card of their own) is listed with a reason.
    listed = (tmp_path / "r.csv").read_text(encoding="utf-8-sig").splitlines()
    no_card = expected["family"] + expected["no_card_phone"] + expected["no_card_frequent"]
    assert len(listed) >= 1 + no_card

    audit_before = await uow.read(
        lambda s: s.scalar(select(func.count()).select_from(AuditEntry))  # type: ignore[arg-type, return-value]
    )
    again = await import_customers(uow, clock, path=SAMPLE, policy=PhonePolicy())
    assert again.counts["already_imported"] == 20_000
    assert again.changed_nothing
    assert await _table_counts(uow) == db
    audit_after = await uow.read(
        lambda s: s.scalar(select(func.count()).select_from(AuditEntry))  # type: ignore[arg-type, return-value]
    )
    assert audit_after == audit_before + 1  # the attempt itself is audited, nothing else
