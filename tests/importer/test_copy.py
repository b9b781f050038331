"""PostgreSQL writes the import with COPY, a second batch in flight while one commits; it must store
exactly what the batched INSERTs store (SQLite's path), refusals and family links across a refused
batch included. And the parsing shortcuts must read every value as the general path does."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

import services.importer as importer
from db.models import Base
from db.uow import UnitOfWork
from services import customers
from services.clock import FrozenClock
from services.importer import import_customers, parsing
from services.ledger import check_invariants
from services.phones import PhonePolicy
from tests.conftest import POSTGRES_ONLY, _reset_postgres

from .test_files import RU_HEADER


class _InsertsOnly(UnitOfWork):
    """The same database, written the way SQLite is: batched INSERTs, one batch at a time."""

    is_postgres = False  # type: ignore[assignment]


def _client_base(path: Path) -> Path:
    """2 600 clients in batches of 1000: family within a batch and across batches, legacy cards,
    frequent and invalid phones, broken rows (an amount beyond bigint among them: refused when read),
    and in the second batch a row PostgreSQL refuses (a NUL character) after 64 KiB, with clients
    of the third batch joining a card of the refused batch and the card of a refused row."""
    rng = random.Random(6)
    rows: list[list[str]] = []
    for i in range(2600):
        phone = f"+7916{i:07d}"
        roll = rng.random()
        if roll < 0.03:
            phone = rng.choice(["", "нет", "911125"])
        elif roll < 0.06 and i:
            phone = f"8 (916) {rng.randrange(i):07d}"
        elif roll < 0.07:
            phone = "+7 495 000-00-01"
        rows.append([
            rng.choice(["Иванов", "Петрова", "Сидоров"]), rng.choice(["Иван", "Анна", "Олег"]), "",
            rng.choice(["Мужской", "Женский", ""]), f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 13):02d}.1980",
            phone, "", rng.choice(["", "a@example.ru", "bad"]), "Псков",
            str(500_000 + i) if rng.random() < 0.05 else "", f"{rng.randrange(5000)},{rng.randrange(100):02d}",
            f"{rng.randrange(200_000)},00", rng.choice(["Да", "Нет"]), "Нет", f"{rng.randrange(1, 28):02d}.05.2019",
        ])
    rows[100][10] = "12,34,5"  # a broken amount
    rows[1500][0], rows[1500][5] = "Ива\x00нов", "+79169990011"  # refused by PostgreSQL, in batch 2
    rows[2500][5] = "+79169990011"  # batch 3: joins the refused row's card
    rows[1600][5] = rows[2600 - 1][5] = "+79169990012"  # batch 3 joins a card of the refused batch
    rows[1700][5], rows[1700][11] = "+79169990013", "999999999999999999999,00"  # beyond bigint: bad_amount
    lines = [RU_HEADER] + [";".join(row) for row in rows]
    path.write_bytes("\r\n".join(lines).encode("cp1251"))
    return path


async def _stored(uow: UnitOfWork) -> list[str]:
    """Every row of every table with ids replaced by natural keys (ids differ by sequence gaps)."""

    async def work(session: AsyncSession) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for table in Base.metadata.sorted_tables:
            result = await session.execute(text(f"SELECT * FROM {table.name} ORDER BY 1"))
            out[table.name] = [dict(row._mapping) for row in result]
        return out

    data = await uow.read(work)
    customer = {r["id"]: r["import_key"] or f"customer:{r['phone']}" for r in data["customers"]}
    card = {r["id"]: r["number"] for r in data["cards"]}
    operation = {r["id"]: r["idempotency_key"] for r in data["operations"]}
    link = {r["id"]: (customer[r["from_customer_id"]], customer[r["to_customer_id"]]) for r in data["customer_links"]}
    keys = {"customer_id": customer, "from_customer_id": customer, "to_customer_id": customer, "card_id": card,
            "operation_id": operation, "link_id": link, "from": customer, "to": customer}

    def natural(values: dict[str, Any]) -> dict[str, Any]:
        return {k: keys[k].get(v, v) if k in keys and v is not None else v for k, v in values.items() if k != "id"}

    lines = []
    for table, rows in data.items():
        for row in rows:
            if "otp_secret" in row:
                assert len(row["otp_secret"]) == 32
                row["otp_secret"] = "random"
            for field in ("data", "after"):
                if isinstance(row.get(field), dict):
                    row[field] = natural(row[field])
            if table == "audit_log" and row["entity"] == "customer_link":
                row["entity_id"] = link[int(row["entity_id"])]
            lines.append(f"{table} {natural(row)!r}")
    return sorted(lines)


async def _import(uow: UnitOfWork, clock: FrozenClock, path: Path) -> list[str]:
    report = await import_customers(uow, clock, path=path, policy=PhonePolicy())
    await check_invariants(uow)
    return [
        repr(sorted(report.counts.items())),
        repr((report.customers, report.cards, report.legacy_cards, report.links, report.opening_units)),
        *(repr(row) for row in report.skipped),
    ]


class _Conflict(Exception):
    sqlstate = "40001"  # serialization_failure: the unit of work writes the batch again


@POSTGRES_ONLY  # COPY is PostgreSQL's path
async def test_copy_stores_exactly_what_the_inserts_store(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _client_base(tmp_path / "clients.csv")

    async def run(target: UnitOfWork) -> tuple[list[str], list[str]]:
        await _reset_postgres(uow.engine)
        await customers.create_walk_in(  # a card the file's clients join
            uow, clock, phone="+79160000003", name="Ольга", phone_policy=PhonePolicy(), actor="test"
        )
        report = await _import(target, clock, path)
        again = await _import(target, clock, path)
        return report + again, await _stored(target)

    inserted = await run(_InsertsOnly(uow.engine))
    copied = await run(uow)
    assert copied[0] == inserted[0]
    assert copied[1] == inserted[1]

    # The first batch hits a transient conflict after its ids are drawn and is written again with
    # other ids: the second, planned meanwhile with the first ids, is written again after it.
    real, calls = importer.copy_batch, []

    async def conflicted(session: AsyncSession, decisions: list[Any], *args: Any, planned: Any, **kwargs: Any) -> Any:
        calls.append(decisions[0])

        def then_conflict(cards: dict[str, tuple[int, int]]) -> None:
            planned(cards)
            if len(calls) == 1:
                raise DBAPIError("COPY", None, _Conflict())

        return await real(session, decisions, *args, planned=then_conflict, **kwargs)

    monkeypatch.setattr(importer, "copy_batch", conflicted)
    assert await run(uow) == copied
    lines = [decisions.record.line for decisions in calls]
    assert lines.count(lines[0]) == 2 and lines.count(lines[1]) == 2  # the second: superseded, then again
    skipped = {line.split(",")[0]: line for line in copied[0] if line.startswith("SkippedRow")}
    assert "reason='database'" in skipped["SkippedRow(line=1502"]
    assert "reason='bad_amount'" in skipped["SkippedRow(line=1702"]
    assert "reason='owner_row_failed'" in skipped["SkippedRow(line=2502"]
    assert "outcome='family'" in skipped["SkippedRow(line=2601"]


# --- the parsing shortcuts -------------------------------------------------------------------------


def test_usual_phone_spellings_read_as_the_phone_library_reads_them() -> None:
    rng = random.Random(11)
    policies = [
        PhonePolicy(), PhonePolicy("RU", ("RU", "KZ")), PhonePolicy("KZ", ("RU", "KZ")), PhonePolicy("RU", ("KZ",)),
    ]
    shortcut = 0
    for _ in range(20_000):
        digits = rng.choice("9999348077") + "".join(rng.choice("0123456789") for _ in range(rng.choice((9, 9, 8, 10))))
        a, b, c, d = digits[:3], digits[3:6], digits[6:8], digits[8:]
        seps = ["", " ", "-", ")", ") ", "(", "."]
        prefix = rng.choice(["", "+7", "7", "8", "+7 ", "8 ", "+7(", "8(", "(", "+", "+8", "+77", "９"])
        value = (prefix + a + rng.choice(seps) + b + rng.choice(seps[:3]) + c + rng.choice(seps[:3]) + d
                 + rng.choice(["", "", "-"]))
        policy = rng.choice(policies)
        shortcut += parsing._PLAIN_MOBILE.fullmatch(value) is not None
        assert parsing._phone(value, policy) == parsing.phone_by_the_library(value, policy), (value, policy)
    assert shortcut > 1000


def test_mobiles_are_valid_where_the_phone_library_says_so() -> None:
    """The shortcut's own compiled patterns against phonenumbers' validity, region by region; the
    intricate 930 0.. block of Russian mobiles digit by digit."""
    rng = random.Random(14)
    nationals = [f"{prefix}{rng.randrange(10_000):04d}" for prefix in range(930_000, 931_000) for _ in range(2)]
    nationals += [f"9{rng.randrange(10**9):09d}" for _ in range(20_000)]
    policies = [PhonePolicy(), PhonePolicy("RU", ("KZ",)), PhonePolicy("RU", ("RU", "KZ"))]
    for national in nationals:
        number = phonenumbers.PhoneNumber(country_code=7, national_number=int(national))
        region = phonenumbers.region_code_for_number(number)
        valid = phonenumbers.is_valid_number(number)
        for policy in policies:
            expected = national if valid and region in policy.allowed_regions else None
            assert parsing._plain_mobile(f"+7{national}", policy) == expected, (national, policy)


def _amount_by_decimal(value: str) -> int | str:
    text_ = value.replace("\u00a0", "").replace(" ", "").strip()
    if not text_:
        return 0
    if not parsing._AMOUNT.match(text_):
        return "bad"
    try:
        amount = Decimal(text_.replace(",", "."))
    except InvalidOperation:
        return "bad"
    return "bad" if amount < 0 else int(amount * 100)


def test_amounts_read_as_decimal_reads_them() -> None:
    rng = random.Random(12)
    for _ in range(20_000):
        whole = "".join(rng.choice("0123456789") for _ in range(rng.choice((1, 2, 4, 7, 19, 20, 21, 30))))
        value = (rng.choice(["", "", "-", " ", "\u00a0", "١"]) + whole + rng.choice(["", " "])
                 + rng.choice(["", ",", ".", ",5", ",05", ".50", ",123", "x"]))
        try:
            ours: int | str = parsing._amount(value, "balance")  # the reading, before the cap
        except parsing.RowProblem:
            ours = "bad"
        assert ours == _amount_by_decimal(value), value


def test_cached_values_are_the_values() -> None:
    today = date(2026, 1, 15)
    assert parsing._date(" 29.02.2004 ", "birthday", today, birthday=True) == date(2004, 2, 29)
    with pytest.raises(parsing.RowProblem):
        parsing._date("31.02.1990", "birthday", today, birthday=True)
    with pytest.raises(parsing.RowProblem):  # the same text, not cached as a value
        parsing._date("31.02.1990", "birthday", today, birthday=True)
    assert parsing._date("2030-01-01", "registered", today, birthday=False) == date(2030, 1, 1)
    with pytest.raises(parsing.RowProblem):
        parsing._date("2030-01-01", "birthday", today, birthday=True)
    assert parsing._text("  Анна   Мария ", "name") == "Анна Мария"
    with pytest.raises(parsing.RowProblem):
        parsing._text("Анна2", "name")
    with pytest.raises(parsing.RowProblem):
        parsing._text("   ", "name", required=True)
    assert json.dumps(None) == "null"  # what SQLAlchemy's JSON stores for None, as COPY does
