"""`python -m bench [--quick] [--only NAME ...]`: run the benchmarks and print one table."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import traceback

from bench.harness import Outcome, Skipped, print_table

# Module names under bench/, in the order of the list.
BENCHMARKS = ["dispatch", "pos", "outbox", "scans", "import_customers", "import_memory"]


async def main(quick: bool, only: list[str] | None) -> None:
    outcomes: list[Outcome] = []
    for name in BENCHMARKS:
        if only and name not in only:
            continue
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            outcomes.append(Skipped(name, "not written yet"))
            continue
        print(f"running {name} ...", flush=True)
        try:
            produced = await module.run(quick)
        except Exception as exc:  # a broken benchmark must not hide the others' numbers
            traceback.print_exc()
            produced = [Skipped(name, f"failed: {exc!r}"[:120])]
        # Printed at once too, so a long full run that is cut short still leaves its numbers.
        print_table(produced)
        outcomes.extend(produced)
    print("\nAll benchmarks:")
    print_table(outcomes)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes (CI)")
    parser.add_argument("--only", nargs="*", choices=BENCHMARKS, help="run only these")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.quick, args.only))
