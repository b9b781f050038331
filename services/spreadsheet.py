"""CSV that a spreadsheet opens without running anything in it (OWASP "CSV injection").

Excel and LibreOffice read a cell that begins with `=`, `+`, `-` or `@` as a formula, and a leading
tab or carriage return does not stop them (`=HYPERLINK(...)` in a city, `=cmd|' /C calc'!A0` in a
refused cell the import report echoes). Every CSV the product writes goes through `safe_writer`,
which writes such a cell with a single quote in front, as OWASP recommends, in every column: the
quote makes the spreadsheet show the cell as text.

The import reads its own export back: `restore` takes exactly that quote off again, so a round trip
keeps every value (phones included: `+79161234567` is written `'+79161234567` and read back as it
was). A value that itself begins with quotes before such a character (`'=x`) gets one more quote,
so that `restore(neutralise(value)) == value` for every value."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

# The characters OWASP lists: what a spreadsheet may take for the start of a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


class _TextOut(Protocol):
    def write(self, text: str, /) -> Any: ...


def _is_formula(text: str) -> bool:
    """Whether the text, without the quotes already in front of it, begins like a formula."""
    return text.lstrip(QUOTE).startswith(FORMULA_STARTS)


def neutralise(value: object) -> str:
    """The cell as a spreadsheet may be given it: a quote in front of what would start a formula."""
    text = "" if value is None else str(value)
    return QUOTE + text if _is_formula(text) else text


def restore(cell: str) -> str:
    """What `neutralise` was given: one quote off a cell it had to protect, any other cell as is."""
    return cell[1:] if cell.startswith(QUOTE) and _is_formula(cell) else cell


class SafeWriter:
    """`csv.writer` whose every cell goes through `neutralise`."""

    def __init__(self, out: _TextOut, *, delimiter: str, lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(out, delimiter=delimiter, lineterminator=lineterminator)

    def writerow(self, cells: Iterable[object]) -> None:
        self._writer.writerow([neutralise(cell) for cell in cells])


def safe_writer(out: _TextOut, *, delimiter: str, lineterminator: str = "\r\n") -> SafeWriter:
    """The one way the product writes CSV (a test holds every other module to it)."""
    return SafeWriter(out, delimiter=delimiter, lineterminator=lineterminator)
