"""Import under hostile files: a stray quote spoils only its own row, an endless line is one bad
row, and the import does not hold the file (nor a list of its rows) in memory."""

from __future__ import annotations

import csv
import gc
import io
import random
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

import services.importer as importer
from db.models import Customer
from db.uow import UnitOfWork
from locales import translator
from services.clock import FrozenClock
from services.importer import import_customers
from services.importer.reading import (
    MAX_RECORD_CHARS,
    MAX_RECORD_LINES,
    BadRecord,
    Table,
    _first_line,
    read_table,
)
from services.phones import PhonePolicy

from .test_files import RU_HEADER


def _row(i: int, **cells: str) -> list[str]:
    row = [f"Кузнецов{chr(0x430 + i % 32)}", "Олег", "", "Мужской", "", f"+7916300{i:04d}", "", "", "Псков", "",
           "10,00", "0", "Нет", "Нет", "01.01.2020"]
    for index, value in cells.items():
        row[int(index[1:])] = value
    return row


def _file(path: Path, lines: list[str]) -> Path:
    path.write_bytes("\r\n".join([RU_HEADER, *lines]).encode("cp1251"))
    return path


async def test_an_unclosed_quote_spoils_only_its_own_row(uow: UnitOfWork, clock: FrozenClock, tmp_path: Path) -> None:
    lines = [";".join(_row(i)) for i in range(10)]
    lines[2] = lines[2].replace(";Олег;", ';"Олег;')  # row 3: a quote that nothing closes
    report = await import_customers(
        uow, clock, path=_file(tmp_path / "q.csv", lines), policy=PhonePolicy(), report_path=tmp_path / "r.csv",
        render=lambda key, args: translator().get("en", key, **args),
    )
    assert report.counts["card"] == 9
    errors = [(row.line, row.reason) for row in report.skipped if row.outcome == "error"]
    assert errors == [(4, "unclosed_quote")]  # line 4 of the file: its row 3
    phones = await uow.read(lambda s: s.scalars(select(Customer.phone).order_by(Customer.phone)))
    assert list(phones) == [f"+7916300{i:04d}" for i in range(10) if i != 2]
    listed = list(csv.reader(io.StringIO((tmp_path / "r.csv").read_text(encoding="utf-8-sig")), delimiter=";"))
    (bad,) = [cells for cells in listed if cells[0] == "4"]
    assert bad[2] == f"a quote opened on this line is not closed on it or within {MAX_RECORD_LINES} lines"
    assert bad[3] == "Кузнецовв" and bad[5] == "'+79163000002"  # who it was (spreadsheet-safe)


async def test_a_quote_closed_rows_later_does_not_merge_the_rows_between(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path
) -> None:
    lines = [";".join(_row(i)) for i in range(8)]
    lines[1] = lines[1].replace(";Псков;", ';"Псков;')  # opens a quote ...
    lines[3] = lines[3].replace(";Псков;", ';Псков";')  # ... that a stray one in the same column "closes"
    report = await import_customers(uow, clock, path=_file(tmp_path / "q.csv", lines), policy=PhonePolicy())
    errors = {row.line: row.reason for row in report.skipped if row.outcome == "error"}
    assert errors == {3: "unclosed_quote"}
    assert report.counts["card"] == 7  # rows 3 and 4 on their own (row 4's quote is mid-cell: a character)


def test_a_quoted_field_may_hold_line_breaks_within_the_bounds(tmp_path: Path) -> None:
    width = len(RU_HEADER.split(";"))
    note = "\r\n".join(f"строка {n}" for n in range(MAX_RECORD_LINES))  # as many lines as allowed
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(_row(0, c8=note))
    writer.writerow(_row(1, c8="\r\n".join(["x"] * (MAX_RECORD_LINES + 1))))  # one line too many
    writer.writerow(_row(2, c8='"' + "д" * (MAX_RECORD_CHARS + 10)))
    writer.writerow(_row(3))
    path = tmp_path / "n.csv"
    path.write_bytes((RU_HEADER + "\r\n" + out.getvalue() + ";".join(_row(4))).encode("utf-8"))
    rows = list(read_table(path).rows())
    assert rows[0] == (2, _row(0, c8=note))
    assert isinstance(rows[1], BadRecord) and (rows[1].line, rows[1].reason) == (2 + MAX_RECORD_LINES, "unclosed_quote")
    # The lines the refused record took are read again as rows: here, pieces of a field.
    pieces = rows[2 : 2 + MAX_RECORD_LINES]
    assert all(isinstance(row, tuple) and len(row[1]) != width for row in pieces)
    too_long = rows[2 + MAX_RECORD_LINES]
    assert isinstance(too_long, BadRecord) and too_long.reason == "record_too_long"
    assert rows[-2:] == [(too_long.line + 1, _row(3)), (too_long.line + 2, _row(4))]


def test_records_are_cut_as_csv_cuts_well_formed_ones(tmp_path: Path) -> None:
    """Where every quote is closed within the bounds, the records (and their first lines' numbers)
    are what csv reads; without a quote, anything goes (io's line ends, blank lines, odd spaces)."""
    rng = random.Random(13)
    header = ["h"] * 15
    loose = ["a", "b;c", "\r", "\n", "\r\n", ";", " ", "\x0b", "\u2028", "\x85", "д", "'", "'=1", "'x"]
    for attempt in range(1500):
        if attempt % 2:
            text_ = ";".join(header) + "\r\n" + "".join(rng.choice(loose) for _ in range(rng.randrange(30)))
        else:
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";", lineterminator="\r\n")  # quotes every \r and \n
            writer.writerow(header)
            for _ in range(rng.randrange(6)):
                cells = ["x"] * len(header)
                for column in rng.sample(range(len(header)), 2):  # at most 8 line breaks: within the bounds
                    cells[column] = "".join(rng.choice(['"', "a", ";", "\r\n", "\n", " ", "д"]) for _ in range(4))
                writer.writerow(cells)
            text_ = out.getvalue()
        expected = []
        reader = csv.reader(io.StringIO(text_, newline=""), delimiter=";")
        start = 1
        for cells in reader:
            if any(cell.strip() for cell in cells) and start > 1:
                # what a spreadsheet-safe export protected is read back unprotected
                restored = [c[1:] if c.startswith("'") and c.lstrip("'").startswith(("=", "+", "-", "@")) else c
                            for c in cells]
                expected.append((start, restored))
            start = reader.line_num + 1
        path = tmp_path / "t.csv"
        path.write_bytes(text_.encode("utf-8"))
        table = Table(path, "utf-8", ";", header, {}, 1)
        assert list(table.rows()) == expected, text_
    long = " \r\n" * 100_000 + "\u2028Фамилия;Имя\r\n" + "x" * 300_000
    assert _first_line(long) == "Фамилия;Имя"


async def _peak(uow: UnitOfWork, clock: FrozenClock, path: Path) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        await import_customers(uow, clock, path=path, policy=PhonePolicy(), dry_run=True)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


async def test_memory_does_not_grow_with_the_file(
    uow: UnitOfWork, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file four times as long costs the import a few dozen bytes a row more (the census), not
    the file and its rows (which was 2-3 KB a row). Chunks of 1000 rows keep the test small."""
    monkeypatch.setattr(importer, "READ_CHUNK", 1000, raising=False)

    def write(path: Path, rows: int) -> Path:
        return _file(path, [";".join(_row(i, c5=f"+7916{i:07d}", c0="Кузнецов")) for i in range(rows)])

    small = await _peak(uow, clock, write(tmp_path / "small.csv", 3_000))
    large = await _peak(uow, clock, write(tmp_path / "large.csv", 12_000))
    assert large - small < 9_000 * 150, (small, large)
