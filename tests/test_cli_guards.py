"""The command line refuses what an operator may have mistyped: a job run for another day asks first
(it burns real points as if that day had come), unknown store codes and key scopes are named."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from db import migrate
from db.engine import create_engine
from db.models import Lot
from db.uow import UnitOfWork
from services import customers
from services.clock import SystemClock
from services.phones import PhonePolicy


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`python -m bot ARGS` in this process (a subprocess costs seconds of imports), with no terminal
    on standard input, as under cron or CI."""
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for name in ("BOT_TOKEN", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.chdir(tmp_path)

    async def build() -> None:
        engine = create_engine(url)
        await migrate.upgrade(engine)
        # A walk-in customer gets the welcome bonus: 100 points that expire 30 days from now.
        await customers.create_walk_in(
            UnitOfWork(engine), SystemClock(), phone="+79161234567", name="Анна", phone_policy=PhonePolicy(),
            actor="test",
        )
        await engine.dispose()

    asyncio.run(build())
    yield url
    logging.getLogger().handlers.clear()


def _lot_statuses(url: str) -> list[str]:
    async def read() -> list[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return [s for (s,) in await conn.execute(select(Lot.status))]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_job_for_another_day_says_what_it_would_do_and_asks(capsys: pytest.CaptureFixture[str], url: str) -> None:
    later = (SystemClock().now() + timedelta(days=60)).date().isoformat()
    code, out = _cli(capsys, "jobs", "run", "expire", "--today", later)
    assert code == 1, out
    assert f"as if today were {later}" in out and "100 points would expire on 1 cards" in out
    assert "add --yes" in out
    assert _lot_statuses(url) == ["active"]
    code, out = _cli(capsys, "jobs", "run", "expire", "--today", later, "--yes")
    assert code == 0 and "expire: 100 points expired on 1 cards" in out, out
    assert _lot_statuses(url) == ["expired"]


def test_a_job_for_today_runs_without_asking(capsys: pytest.CaptureFixture[str], url: str) -> None:
    today = SystemClock().now().astimezone(ZoneInfo("Europe/Moscow")).date().isoformat()
    code, out = _cli(capsys, "jobs", "run", "activate-pending", "--today", today)
    assert code == 0 and "activate-pending:" in out, out


def test_unknown_store_code_and_scopes_are_named(capsys: pytest.CaptureFixture[str], url: str) -> None:
    code, out = _cli(capsys, "staff", "add", "42", "cashier", "--store", "NOPE")
    assert code == 1 and 'There is no store with the code "NOPE"' in out, out
    assert _cli(capsys, "store", "add", "S1", "Main")[0] == 0
    code, out = _cli(capsys, "api-key", "create", "--store", "S1", "--scopes", "pos,root")
    assert code == 1 and 'Unknown key scopes: "pos,root". Allowed: pos, admin' in out, out
