"""Benchmark 7: peak memory of `python -m bot import-customers` on a generated client base of
200 MB (quick: 10 MB), dry run and real import, each in a process of its own (peak RSS from
wait4). Baseline, in the same run: the same command's start-up alone (`import-customers --help`,
which loads what the import loads and stops). Target: under 500 MiB whatever the file's size
(the import holds a few chunks of rows and a census of a few dozen bytes a row, not the file).
The real import runs on PostgreSQL when the bench has one (full run), else on SQLite."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.harness import Outcome, Result, postgres_url
from bench.import_customers import generate
from db import migrate
from db.engine import create_engine

TARGET_MIB = 500
FULL_BYTES = 200 * 10**6
QUICK_BYTES = 10 * 10**6


def generate_size(path: Path, size: int) -> int:
    """Figure 6's synthetic clients, as many as make about `size` bytes; returns the rows."""
    sample = path.with_suffix(".sample")
    generate(sample, 10_000)
    per_row = sample.stat().st_size / 10_000
    sample.unlink()
    rows = int(size / per_row)
    generate(path, rows)
    return rows


def _peak_mib(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one child process, from its own rusage."""
    started = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        assert proc.stderr is not None
        raise RuntimeError(f"{args[3:]} exited {proc.returncode}: {proc.stderr.read().decode()[-500:]}")
    if proc.stderr is not None:
        proc.stderr.close()
    return usage.ru_maxrss / 1024, seconds  # Linux: KiB


async def run(quick: bool) -> list[Outcome]:
    size = QUICK_BYTES if quick else FULL_BYTES
    url = None if quick else postgres_url()
    results: list[Outcome] = []
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "clients.csv"
        rows = await asyncio.to_thread(generate_size, source, size)
        megabytes = source.stat().st_size / 10**6
        backend = "PostgreSQL" if url else "SQLite"
        database_url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(database_url)
        await migrate.downgrade(engine, "base")
        await migrate.upgrade(engine)
        await engine.dispose()
        env = {**os.environ, "DATABASE_URL": database_url, "BOT_TOKEN": "", "LOG_LEVEL": "WARNING"}
        command = [sys.executable, "-m", "bot", "import-customers"]
        baseline, _ = await asyncio.to_thread(_peak_mib, [*command, "--help"], env)
        report = ["--report", str(Path(tmp) / "report.csv")]
        for label, extra in (("dry run", ["--dry-run"]), (f"import, {backend}", [])):
            peak, seconds = await asyncio.to_thread(_peak_mib, [*command, str(source), *report, *extra], env)
            results.append(Result(
                figure=f"7. import memory, {megabytes:.0f} MB file: {label}", ours=peak, baseline=baseline,
                unit="MiB", target=f"< {TARGET_MIB} MiB", met=peak < TARGET_MIB,
                note=f"{rows} rows in {seconds:.0f} s; baseline = peak RSS of `import-customers --help`",
            ))
    return results
