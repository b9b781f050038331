"""Shared pieces: the result row, the table, the database to run against, timing helpers."""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

PG_SKIP = "needs BENCH_DATABASE_URL or TEST_DATABASE_URL pointing at PostgreSQL"


@dataclass(frozen=True)
class Result:
    figure: str
    ours: float
    baseline: float | None
    unit: str
    target: str
    met: bool | None  # None: no target judged (e.g. informational)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline in (None, 0):
            return None
        assert self.baseline is not None
        return self.ours / self.baseline


@dataclass(frozen=True)
class Skipped:
    figure: str
    reason: str


Outcome = Result | Skipped


def postgres_url() -> str | None:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")


async def rate(work: Callable[[], Awaitable[object]], count: int) -> float:
    """Operations per second of `count` sequential calls."""
    start = time.perf_counter()
    for _ in range(count):
        await work()
    return count / (time.perf_counter() - start)


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 100:
        return f"{value:,.0f}".replace(",", " ")
    return f"{value:.3g}"


def print_table(outcomes: list[Outcome]) -> None:
    headers = ("figure", "ours", "baseline", "ratio", "target", "met")
    rows: list[tuple[str, ...]] = []
    for outcome in outcomes:
        if isinstance(outcome, Skipped):
            rows.append((outcome.figure, "skipped", "", "", outcome.reason, ""))
            continue
        met = "-" if outcome.met is None else ("yes" if outcome.met else "NO")
        rows.append(
            (
                outcome.figure,
                f"{_fmt(outcome.ours)} {outcome.unit}",
                "" if outcome.baseline is None else f"{_fmt(outcome.baseline)} {outcome.unit}",
                _fmt(outcome.ratio),
                outcome.target,
                met,
            )
        )
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    notes = [o for o in outcomes if isinstance(o, Result) and o.note]
    for outcome in notes:
        print(f"  {outcome.figure}: {outcome.note}")
    sys.stdout.flush()
