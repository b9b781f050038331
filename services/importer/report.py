"""What an import tells its operator: counts by outcome, and a CSV of every client who did not get
a card of their own (or was not imported) with the reason. The CSV is written as the import goes
(`ReportWriter`), so that the report of a big file is never held in memory; `ImportReport.skipped`
keeps the first SKIPPED_KEPT of its rows for the caller."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from services.importer.parsing import Record, RowError
from services.importer.rules import ALREADY, CARD, OUTCOMES, Decision
from services.ledger.amounts import shown_points, shown_rubles
from services.spreadsheet import safe_writer

Render = Callable[[str, dict[str, object]], str]
SKIPPED_KEPT = 10_000


@dataclass(frozen=True)
class SkippedRow:
    line: int
    outcome: str
    reason: str | None
    reason_args: dict[str, object]
    notes: tuple[str, ...]
    surname: str
    name: str
    phone: str
    balance_kopecks: int  # what this row's balance column said, for rows whose balance was not carried


@dataclass
class ImportReport:
    path: str
    encoding: str
    delimiter: str
    dry_run: bool
    rows: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    customers: int = 0
    cards: int = 0
    legacy_cards: int = 0
    links: int = 0
    opening_units: int = 0
    rounded_off_units: int = 0
    not_carried_kopecks: int = 0
    skipped: list[SkippedRow] = field(default_factory=list)  # the first SKIPPED_KEPT
    skipped_total: int = 0
    report_path: str | None = None
    seconds: float = 0.0

    def ordered_counts(self) -> list[tuple[str, int]]:
        return [(outcome, self.counts[outcome]) for outcome in OUTCOMES if self.counts[outcome]]

    @property
    def changed_nothing(self) -> bool:
        return self.customers == self.cards == self.links == self.opening_units == 0


def skipped_row(decision: Decision) -> SkippedRow | None:
    record = decision.record
    notes = tuple(record.notes) if isinstance(record, Record) else ()
    if decision.outcome == ALREADY or (decision.outcome == CARD and not notes):
        return None
    if isinstance(record, RowError):
        return SkippedRow(
            record.line, decision.outcome, decision.reason, decision.reason_args, (), record.surname, record.name,
            record.phone_raw, 0,
        )
    carried = decision.balance_card is not None
    return SkippedRow(
        record.line, decision.outcome, decision.reason, decision.reason_args, notes, record.surname or "",
        record.name, record.phone_raw, 0 if carried else record.balance_kopecks,
    )


def default_report_path(source: Path) -> Path:
    return source.with_name(f"{source.stem}.import-report.csv")


class ReportWriter:
    """The skipped clients' CSV: UTF-8 with a BOM and `;`, so that Excel opens it with Cyrillic
    intact; every cell spreadsheet-safe (it echoes the file's cells, refused ones included)."""

    def __init__(self, path: Path, render: Render) -> None:
        self._render = render
        self._out: TextIO = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = safe_writer(self._out, delimiter=";")
        self._writer.writerow([render(f"import-col-{c}", {}) for c in (
            "line", "outcome", "reason", "surname", "name", "phone", "balance", "notes",
        )])

    def add(self, row: SkippedRow) -> None:
        render = self._render
        reason = render(f"import-reason-{row.reason}", row.reason_args) if row.reason else ""
        notes = ", ".join(render(f"import-note-{n}", {}) for n in row.notes)
        balance = f"{row.balance_kopecks // 100},{row.balance_kopecks % 100:02d}" if row.balance_kopecks else ""
        self._writer.writerow([
            row.line, render(f"import-outcome-{row.outcome}", {}), reason, row.surname, row.name, row.phone,
            balance, notes,
        ])

    def close(self) -> None:
        self._out.close()


def tally(report: ImportReport, decisions: list[Decision], csv: ReportWriter | None) -> None:
    """Count a batch of final decisions into the report, and list its skipped clients."""
    for decision in decisions:
        report.counts[decision.outcome] += 1
        row = skipped_row(decision)
        if row is None:
            continue
        report.skipped_total += 1
        report.not_carried_kopecks += row.balance_kopecks
        if len(report.skipped) < SKIPPED_KEPT:
            report.skipped.append(row)
        if csv is not None:
            csv.add(row)


def summary_lines(report: ImportReport, render: Render) -> list[str]:
    lines = [render("import-summary-title", {
        "file": report.path, "rows": report.rows, "dry": "yes" if report.dry_run else "no",
    })]
    for outcome, count in report.ordered_counts():
        label = render(f"import-outcome-{outcome}", {})
        lines.append(render("import-summary-count", {"outcome": label, "count": count}))
    lines.append(render("import-summary-written", {
        "customers": report.customers, "cards": report.cards, "legacy": report.legacy_cards, "links": report.links,
        "points": report.opening_units // 100,
    }))
    if report.rounded_off_units:
        lines.append(render("import-summary-rounded", {"points": shown_points(report.rounded_off_units)}))
    if report.not_carried_kopecks:
        lines.append(render("import-summary-not-carried", {"rubles": shown_rubles(report.not_carried_kopecks)}))
    if report.report_path:
        lines.append(render("import-summary-report", {"path": report.report_path}))
    lines.append(render("import-summary-time", {"seconds": f"{report.seconds:.1f}"}))
    return lines
