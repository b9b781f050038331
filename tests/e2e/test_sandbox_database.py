"""The sandbox never seeds its personas (an owner and a cashier anyone can play) into a database that
holds real data, through the real command line: `python -m bot run` without BOT_TOKEN uses its own
file ./sandbox.db; with DATABASE_URL set it refuses to start unless SANDBOX_DATABASE_URL names its
database; a SANDBOX_DATABASE_URL database with customers or staff of its own is refused too.

The product's database here is PostgreSQL when TEST_DATABASE_URL is set (its schema dropped), else
a SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.e2e.conftest import CLI_TIMEOUT, LOGS, PG_URL, PYTHON, AppProcess, base_env, free_port, reset_postgres

pytestmark = pytest.mark.e2e

OLGA, BORIS = 300_003, 200_002
REAL_OWNER = 555_001


async def bot_cli(cwd: Path, env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        PYTHON, "-m", "bot", *args, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    raw, _ = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
    assert process.returncode is not None
    return process.returncode, raw.decode("utf-8", errors="replace")


async def staff_ids(cwd: Path, database_url: str) -> set[int]:
    code, output = await bot_cli(cwd, base_env(DATABASE_URL=database_url), "staff", "list")
    assert code == 0, output
    return {int(line.split()[0]) for line in output.splitlines() if line.strip()[:1].isdigit()}


async def product_database(tmp_path: Path) -> str:
    """The product's database, migrated, as an operator has it."""
    url = PG_URL or f"sqlite+aiosqlite:///{tmp_path / 'loyalty.db'}"
    if PG_URL:
        await reset_postgres(PG_URL)
    code, output = await bot_cli(tmp_path, base_env(DATABASE_URL=url), "migrate")
    assert code == 0, output
    return url


async def run_until_exit(app: AppProcess, *args: str) -> tuple[int, str]:
    await app.start(*args)
    assert app.process is not None
    try:
        code = await asyncio.wait_for(app.process.wait(), CLI_TIMEOUT)
    finally:
        await app.stop()
    return code, app.log.read_text(encoding="utf-8", errors="replace")


async def test_without_settings_the_sandbox_runs_on_its_own_file(tmp_path: Path) -> None:
    LOGS.clear()
    port = free_port()
    app = AppProcess("sandbox", base_env(HTTP_PORT=str(port)), tmp_path, f"http://127.0.0.1:{port}", tmp_path / "a.log")
    await app.start("run")
    try:
        await app.wait_healthy()
    finally:
        assert await app.stop() == 0
    assert (tmp_path / "sandbox.db").exists()
    assert not (tmp_path / "loyalty.db").exists()  # the product's default database is left alone
    assert await staff_ids(tmp_path, "sqlite+aiosqlite:///./sandbox.db") == {OLGA, BORIS}


@pytest.mark.parametrize("command", ["run", "sandbox"])
async def test_with_database_url_set_the_sandbox_refuses_to_start(tmp_path: Path, command: str) -> None:
    LOGS.clear()
    url = await product_database(tmp_path)
    port = free_port()
    env = base_env(DATABASE_URL=url, HTTP_PORT=str(port))
    if command == "sandbox":  # `sandbox` runs the emulator even with a token: the same refusal
        env["BOT_TOKEN"] = "7000000001:E2E-fake-token-only-the-emulator-knows"
    app = AppProcess("sandbox", env, tmp_path, f"http://127.0.0.1:{port}", tmp_path / f"{command}.log")
    code, output = await run_until_exit(app, command)
    assert code == 2, output
    assert "SANDBOX_DATABASE_URL" in output and "DATABASE_URL" in output
    assert "Traceback" not in output
    assert await staff_ids(tmp_path, url) == set()  # no persona was seeded
    assert not (tmp_path / "sandbox.db").exists()  # nor did it quietly run somewhere else


async def test_a_sandbox_database_with_real_staff_is_refused(tmp_path: Path) -> None:
    LOGS.clear()
    url = await product_database(tmp_path)
    code, output = await bot_cli(
        tmp_path, base_env(DATABASE_URL=url), "staff", "add", str(REAL_OWNER), "owner", "--name", "Real Owner"
    )
    assert code == 0, output
    port = free_port()
    app = AppProcess(
        "sandbox", base_env(SANDBOX_DATABASE_URL=url, HTTP_PORT=str(port)), tmp_path, f"http://127.0.0.1:{port}",
        tmp_path / "real.log",
    )
    code, output = await run_until_exit(app, "run")
    assert code == 1, output
    assert "holds real data" in output and "1 staff members" in output
    assert "Traceback" not in output
    assert await staff_ids(tmp_path, url) == {REAL_OWNER}


async def test_a_sandbox_database_named_explicitly_is_used_and_seeded(tmp_path: Path) -> None:
    LOGS.clear()
    product = await product_database(tmp_path)
    own = f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}"
    port = free_port()
    env = base_env(DATABASE_URL=product, SANDBOX_DATABASE_URL=own, HTTP_PORT=str(port))
    app = AppProcess("sandbox", env, tmp_path, f"http://127.0.0.1:{port}", tmp_path / "explicit.log")
    for _ in range(2):  # and again after a restart: the database is the sandbox's own now
        await app.start("run")
        try:
            await app.wait_healthy()
        finally:
            assert await app.stop() == 0
    assert await staff_ids(tmp_path, own) == {OLGA, BORIS}
    assert await staff_ids(tmp_path, product) == set()
