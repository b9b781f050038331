"""Reading a client-base file: size limit, encoding (UTF-8 with or without BOM, or Windows-1251),
delimiter (`;` or `,`) and the header. Anything we cannot read with confidence is refused with an
error saying why, before a single row is written.

The file is never held in memory: the encoding is checked and the rows are read as a stream, one
physical line at a time (`Table.rows`, which the import runs through twice). Each record is cut
from its own lines. A record whose quote is not closed by the end of its line may go on over at
most MAX_RECORD_LINES lines and MAX_RECORD_CHARS characters, if it then has exactly as many fields
as the header and no line in its middle is a row's worth of delimiters without a quote. Otherwise its first line
is one bad record ("unclosed_quote") and reading goes on at the very next line, so that a stray
quote spoils only its own row. A line longer than MAX_RECORD_CHARS is one bad record too
("record_too_long"), skipped unread. A cell with a quote in front of a formula's first character
(a spreadsheet-safe export's, services/spreadsheet.py) is read without that quote."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from services.errors import DomainError, ValidationFailed
from services.importer.columns import REQUIRED, map_header
from services.spreadsheet import QUOTE, restore

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# A record (a legitimate quoted field may hold line breaks: notes, addresses) spans at most this
# many physical lines and characters; a client's row is a few hundred characters.
MAX_RECORD_LINES = 10
MAX_RECORD_CHARS = 64 * 1024
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 16  # bytes read at a time when checking the encoding
# Encodings Russian spreadsheets are saved in by mistake; only used to name the problem.
_MISTAKEN = ("koi8_r", "cp866", "mac_cyrillic", "utf_16")
_ENDS = ("\n", "\r")


class ImportFileNotFound(DomainError):
    code = "import_file_not_found"


class ImportFileTooLarge(ValidationFailed):
    code = "import_too_large"


class ImportBadEncoding(ValidationFailed):
    code = "import_bad_encoding"


class ImportBadHeader(ValidationFailed):
    code = "import_bad_header"


@dataclass(frozen=True, slots=True)
class BadRecord:
    """A record that could not be cut from the file; `reason` is a locale key suffix."""

    line: int
    reason: str  # unclosed_quote | record_too_long
    args: dict[str, object]
    cells: list[str] = field(default_factory=list)  # its first line cut at the delimiter, for the report


Row = tuple[int, list[str]] | BadRecord
_Line = tuple[int, str | None]  # (line number, the line with its end; None: longer than MAX_RECORD_CHARS)


def physical_lines(stream: IO[str]) -> Iterator[_Line]:
    """The lines as `open(newline="")` cuts them (at \\r\\n, \\r or \\n), none longer than
    MAX_RECORD_CHARS: the rest of a longer one is read past in pieces, never held."""
    number = 0
    while line := stream.readline(MAX_RECORD_CHARS + 1):
        number += 1
        if len(line) > MAX_RECORD_CHARS and not line.endswith(_ENDS):
            while (more := stream.readline(MAX_RECORD_CHARS)) and not more.endswith(_ENDS):
                pass
            yield number, None
            continue
        yield number, line


def _quoted(
    first: str, pull: Callable[[], _Line | None], delimiter: str
) -> tuple[list[str], list[_Line], bool]:
    """The record that begins with `first`, which has a quote: (cells, the further lines it took,
    whether it closed within the bounds). csv asks for another line only while a quoted field is
    open, so it is handed lines one by one until it has its record or a bound is reached."""
    taken: list[_Line] = []
    closed = True

    def feed() -> Iterator[str]:
        nonlocal closed
        size = len(first)
        yield first
        while True:
            item = pull() if len(taken) + 1 < MAX_RECORD_LINES else None
            if item is None or item[1] is None or size + len(item[1]) > MAX_RECORD_CHARS:
                if item is not None:
                    taken.append(item)
                closed = False
                return
            taken.append(item)
            size += len(item[1])
            yield item[1]

    cells = next(csv.reader(feed(), delimiter=delimiter), [])
    return cells, taken, closed


def _row_like(item: _Line, delimiter: str, width: int) -> bool:
    line = item[1]
    return line is not None and '"' not in line and line.count(delimiter) == width - 1


def records(lines: Iterator[_Line], delimiter: str, width: int) -> Iterator[Row]:
    """(line number of its first line, cells) for every non-blank record, or a BadRecord."""
    back: list[_Line] = []  # lines to read again, the next one last

    def pull() -> _Line | None:
        return back.pop() if back else next(lines, None)

    while (item := pull()) is not None:
        number, line = item
        if line is None:
            yield BadRecord(number, "record_too_long", {"limit": MAX_RECORD_CHARS // 1024})
            continue
        if '"' in line:
            cells, taken, closed = _quoted(line, pull, delimiter)
            # A record over several lines must come out whole, and no line in its middle may look
            # like a row of its own (a line without a quote there is all inside one quoted field:
            # a note does not hold a row's number of delimiters). If not, the quote that opened it
            # was a stray one (closed, if at all, by another stray one), and the lines it took are
            # rows of their own.
            whole = closed and (
                not taken or (len(cells) == width and not any(_row_like(m, delimiter, width) for m in taken[:-1]))
            )
            if not whole:
                back.extend(reversed(taken))
                yield BadRecord(
                    number, "unclosed_quote", {"lines": MAX_RECORD_LINES},
                    line.rstrip("\r\n").split(delimiter),
                )
                continue
            protected = bool(taken) or QUOTE in line
        else:
            # Without a quote csv cuts the line at the delimiter and nowhere else.
            cells = line.rstrip("\r\n").split(delimiter)
            protected = QUOTE in line
        if protected:  # may hold a cell a spreadsheet-safe export protected (services/spreadsheet.py)
            cells = [restore(cell) for cell in cells]
        if any(cell.strip() for cell in cells):
            yield number, cells


@dataclass(frozen=True)
class Table:
    path: Path
    encoding: str  # utf-8 | utf-8-sig | cp1251
    delimiter: str
    header: list[str]
    columns: dict[int, str]  # column index -> field
    header_line: int  # the header's line number: the rows are the records after it

    def rows(self) -> Iterator[Row]:
        """Every non-blank data record, read from the file as it goes."""
        # errors="replace": the encoding was checked; a file changed under us must not crash the import.
        with self.path.open(encoding=self.encoding, errors="replace", newline="") as stream:
            lines = physical_lines(stream)
            for number, _ in lines:
                if number >= self.header_line:
                    break
            yield from records(lines, self.delimiter, len(self.header))


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


def _decodes(path: Path, encoding: str, *, skip: int = 0) -> bool:
    """Whether the whole file decodes, read a chunk at a time."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as stream:
        stream.seek(skip)
        try:
            while chunk := stream.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path, head: bytes) -> str:
    """utf-8-sig, utf-8 or cp1251 (`head`: the file's first bytes), or ImportBadEncoding."""
    if head.startswith(_BOM):
        if not _decodes(path, "utf-8", skip=len(_BOM)):
            raise ImportBadEncoding(reason="utf-8 with a BOM but invalid bytes")
        return "utf-8-sig"
    if b"\x00" in head[:65536]:
        raise ImportBadEncoding(reason="binary or UTF-16")
    if _decodes(path, "utf-8"):
        return "utf-8"
    if not _decodes(path, "cp1251") or not _plausible_cyrillic(head.decode("cp1251")):
        raise ImportBadEncoding(reason="neither UTF-8 nor Windows-1251")
    return "cp1251"


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


def _header_line(path: Path, encoding: str) -> tuple[int, str]:
    """The first non-blank line and its number (0 and "" when there is none we can read)."""
    with path.open(encoding=encoding, errors="replace", newline="") as stream:
        for number, line in physical_lines(stream):
            if line is None:
                break
            if line.strip():
                return number, line.rstrip("\r\n")
    return 0, ""


def read_table(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Table:
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportFileNotFound(path=str(path)) from None
    if size > max_bytes:
        raise ImportFileTooLarge(size_mb=round(size / 2**20, 1), limit_mb=round(max_bytes / 2**20, 1))
    with path.open("rb") as stream:
        head = stream.read(200_000)  # what the encoding is judged on (Windows-1251: a character a byte)
    try:
        encoding = detect_encoding(path, head)
    except ImportBadEncoding:
        guessed = _guess_mistaken_encoding(head)
        if guessed:
            raise ImportBadEncoding(reason=f"it looks like {guessed}") from None
        raise
    header_line, line = _header_line(path, encoding)
    delimiter, cells, columns = _header(line)
    missing = [field for field in REQUIRED if field not in columns.values()]
    if missing:
        guessed = _guess_mistaken_encoding(head)
        if guessed:
            raise ImportBadEncoding(reason=f"it looks like {guessed}")
        raise ImportBadHeader(missing=", ".join(missing), found="; ".join(cells)[:200])
    return Table(path, encoding, delimiter, cells, columns, header_line)
