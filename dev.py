#!/usr/bin/env python3
"""Developer entry point that sets itself up: needs only Python 3.11+.

    python3 dev.py run        # the product (sandbox with a local Telegram emulator when BOT_TOKEN is empty)
    python3 dev.py test       # the whole test suite (extra arguments go to pytest)
    python3 dev.py lint       # ruff and mypy
    python3 dev.py bench      # benchmarks (--quick for the short run)
    python3 dev.py bot ...    # any `python -m bot` command, e.g. `python3 dev.py bot staff add 123 owner`

The first call creates .venv and installs the project with its development tools; later calls
reinstall only when pyproject.toml changed.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed-pyproject-sha256"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036  (this file runs before the venv exists)
        sys.exit("Python 3.11 or newer is required.")
    if not PYTHON.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != digest:
        print("Installing dependencies into .venv ...", flush=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "-e", f"{ROOT}[dev]"], check=True)
        STAMP.write_text(digest)


def run(*args: object) -> int:
    return subprocess.run([str(a) for a in args], cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    ensure_venv()
    if command == "run":
        return run(PYTHON, "-m", "bot", "run", *rest)
    if command == "bot":
        return run(PYTHON, "-m", "bot", *rest)
    if command == "test":
        return run(PYTHON, "-m", "pytest", *rest)
    if command == "lint":
        ruff = run(PYTHON, "-m", "ruff", "check", ".")
        mypy = run(PYTHON, "-m", "mypy", "services", "db", "bot", "handlers", "scheduler")
        return ruff or mypy
    if command == "bench":
        return run(PYTHON, "-m", "bench", *rest)
    print(f"Unknown command {command!r}.\n{__doc__}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
