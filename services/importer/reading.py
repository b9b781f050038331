"""Reading a client-base file: size limit, encoding (UTF-8 with or without BOM, or Windows-1251),
delimiter (`;` or `,`) and the header. Anything we cannot read with confidence is refused with an
error saying why, before a single row is written."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from services.errors import DomainError, ValidationFailed
from services.importer.columns import REQUIRED, map_header

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"
# Encodings Russian spreadsheets are saved in by mistake; only used to name the problem.
_MISTAKEN = ("koi8_r", "cp866", "mac_cyrillic", "utf_16")
# A line as io.StringIO(newline="") reads it: up to and including \r\n, \r or \n.
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class ImportFileNotFound(DomainError):
    code = "import_file_not_found"


class ImportFileTooLarge(ValidationFailed):
    code = "import_too_large"


class ImportBadEncoding(ValidationFailed):
    code = "import_bad_encoding"


class ImportBadHeader(ValidationFailed):
    code = "import_bad_header"


@dataclass(frozen=True)
class Table:
    encoding: str  # utf-8 | utf-8-sig | cp1251
    delimiter: str
    header: list[str]
    columns: dict[int, str]  # column index -> field
    text: str

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line number in the file, cells) for every non-blank data row."""
        # The lines are cut from the text one at a time: io.StringIO would hold a copy of the whole
        # file at 4 bytes a character.
        reader = csv.reader(map(re.Match.group, _LINE.finditer(self.text)), delimiter=self.delimiter)
        header_seen = False
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if not header_seen:
                header_seen = True
                continue
            yield reader.line_num, cells


def _plausible_cyrillic(text: str) -> bool:
    """Windows-1251 decodes almost any byte; real text is letters, digits and punctuation."""
    sample = text[:200_000]
    if not sample:
        return True
    odd = sum(
        1 for ch in sample
        if not (ch.isprintable() or ch in "\r\n\t") or ("\u0080" <= ch <= "\u00bf" and ch not in "«»°№\u00a0")
    )
    return odd / len(sample) < 0.001


def decode(data: bytes) -> tuple[str, str]:
    if data.startswith(_BOM):
        try:
            return data[len(_BOM):].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise ImportBadEncoding(reason="utf-8 with a BOM but invalid bytes") from None
    if b"\x00" in data[:65536]:
        raise ImportBadEncoding(reason="binary or UTF-16")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1251")
    except UnicodeDecodeError:
        raise ImportBadEncoding(reason="neither UTF-8 nor Windows-1251") from None
    if not _plausible_cyrillic(text):
        raise ImportBadEncoding(reason="neither UTF-8 nor Windows-1251")
    return text, "cp1251"


def _first_line(text: str) -> str:
    """The first non-blank line, as text.splitlines() cuts them, without cutting the whole file."""
    size = 65536
    while True:
        lines = text[:size].splitlines()
        whole = size >= len(text)
        for line in lines if whole else lines[:-1]:  # the last one may go on past `size`
            if line.strip():
                return line
        if whole:
            return ""
        size *= 4


def _header(line: str) -> tuple[str, list[str], dict[int, str]]:
    best: tuple[str, list[str], dict[int, str]] = (";", next(csv.reader([line], delimiter=";"), []), {})
    for delimiter in (";", ","):
        cells = next(csv.reader([line], delimiter=delimiter), [])
        columns = map_header(cells)
        if len(columns) > len(best[2]):
            best = (delimiter, cells, columns)
    return best


def _guess_mistaken_encoding(data: bytes) -> str | None:
    for encoding in _MISTAKEN:
        try:
            text = data[:65536].decode(encoding, errors="strict")
        except UnicodeDecodeError:
            continue
        if set(REQUIRED) <= set(_header(_first_line(text))[2].values()):
            return encoding
    return None


def read_table(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportFileNotFound(path=str(path)) from None
    if size > max_bytes:
        raise ImportFileTooLarge(size_mb=round(size / 2**20, 1), limit_mb=round(max_bytes / 2**20, 1))
    data = path.read_bytes()
    try:
        text, encoding = decode(data)
    except ImportBadEncoding:
        guessed = _guess_mistaken_encoding(data)
        if guessed:
            raise ImportBadEncoding(reason=f"it looks like {guessed}") from None
        raise
    delimiter, cells, columns = _header(_first_line(text))
    missing = [field for field in REQUIRED if field not in columns.values()]
    if missing:
        guessed = _guess_mistaken_encoding(data)
        if guessed:
            raise ImportBadEncoding(reason=f"it looks like {guessed}")
        raise ImportBadHeader(missing=", ".join(missing), found="; ".join(cells)[:200])
    return Table(encoding=encoding, delimiter=delimiter, header=cells, columns=columns, text=text)
