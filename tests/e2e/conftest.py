"""End-to-end fixtures: the real application (`python -m bot run`, a subprocess) talking over real
HTTP to the Bot API emulator running in the test process.

Only public interfaces are used: Telegram messages through the emulator's control API, the POS/admin
HTTP API and the command line (`python -m bot ...`). The database is PostgreSQL when
TEST_DATABASE_URL is set (its schema dropped, then `python -m bot migrate`), else a fresh SQLite
file. Every process's output goes to a file and is attached to the report of a failing test.

The emulator keeps Telegram's limits on (30 messages/s per bot, 1/s per chat): a bot that floods
gets 429s, which the tests can see in the emulator's stats.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from emulator import EmulatorClient, RunningEmulator, User, running_emulator

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG_URL = os.environ.get("TEST_DATABASE_URL")
# Well-formed (digits, colon, a long tail) so Settings accepts it; the emulator accepts any such token.
TOKEN = "7000000001:E2E-fake-token-only-the-emulator-knows"
WEBHOOK_SECRET = "e2e-webhook-secret-0123456789"
# Generous: on a busy CI machine importing aiogram alone takes several seconds.
START_TIMEOUT = 120.0
CLI_TIMEOUT = 180.0
STOP_TIMEOUT = 40.0
LOG_TAIL_CHARS = 30_000
# Environment passed through to the processes; everything else (REDIS_URL, a developer's BOT_TOKEN)
# is left out so that the app runs exactly as configured here.
_PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT", "TZ")

# (name, file) of every process output of the current app: attached to failing reports.
LOGS: list[tuple[str, Path]] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.failed and item.get_closest_marker("e2e") is not None:
        for name, path in LOGS:
            report.sections.append((f"{name} (last {LOG_TAIL_CHARS} characters)", _tail(path)))


def _tail(path: Path) -> str:
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return "(no output)"
    # The outbox sender's tick every 2 s is logged twice by APScheduler: noise next to a failure.
    lines = [line for line in content.splitlines() if "deliver (trigger: interval" not in line]
    return "\n".join(lines)[-LOG_TAIL_CHARS:]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(**values: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
    # The checkout is not installed into the venv: the processes run from a temporary directory.
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(values)
    return env


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@dataclass
class AppProcess:
    """`python -m bot run` with its output in a file."""

    name: str
    env: dict[str, str]
    cwd: Path
    http_url: str
    log: Path
    process: asyncio.subprocess.Process | None = None

    async def start(self, *args: str) -> None:
        LOGS.append((self.name, self.log))
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                PYTHON, "-m", "bot", *(args or ("run",)), cwd=self.cwd, env=self.env,
                stdout=out, stderr=asyncio.subprocess.STDOUT, start_new_session=True,
            )

    def failure(self, why: str) -> AssertionError:
        return AssertionError(f"{self.name}: {why}\n--- output ---\n{_tail(self.log)}")

    async def wait_healthy(self, timeout: float = START_TIMEOUT) -> None:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise self.failure(f"exited with code {self.process.returncode} before answering /healthz")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with http.get(f"{self.http_url}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise self.failure(f"/healthz did not answer 200 within {timeout:.0f}s")

    async def stop(self) -> int | None:
        """SIGTERM (a graceful stop, as systemd or Docker would do), then SIGKILL if it hangs."""
        if self.process is None or self.process.returncode is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.process.wait(), STOP_TIMEOUT)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
            with self.log.open("a", encoding="utf-8") as out:
                out.write(f"\n[e2e] killed: no exit within {STOP_TIMEOUT:.0f}s of SIGTERM\n")
            return None


@dataclass
class Stack:
    """The emulator (in this process), the app (a subprocess) and the ways to talk to them."""

    emulator: RunningEmulator
    app: AppProcess
    cli_log: Path
    api_keys: dict[str, str] = field(default_factory=dict)

    @property
    def client(self) -> EmulatorClient:
        return self.emulator.client

    @property
    def http_url(self) -> str:
        return self.app.http_url

    async def cli(self, *args: str) -> str:
        """Run `python -m bot ARGS` against the same database and settings; its output, or a failure."""
        started = time.monotonic()
        process = await asyncio.create_subprocess_exec(
            PYTHON, "-m", "bot", *args, cwd=self.app.cwd, env=self.app.env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        try:
            raw, _ = await asyncio.wait_for(process.communicate(), CLI_TIMEOUT)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise AssertionError(f"`python -m bot {' '.join(args)}` did not finish in {CLI_TIMEOUT:.0f}s") from None
        output = raw.decode("utf-8", errors="replace")
        with self.cli_log.open("a", encoding="utf-8") as log:
            took = time.monotonic() - started
            log.write(f"$ python -m bot {' '.join(args)}  -> exit {process.returncode} in {took:.1f} s\n{output}\n")
        if process.returncode != 0:
            raise AssertionError(f"`python -m bot {' '.join(args)}` exited {process.returncode}:\n{output}")
        return output

    async def api(
        self, method: str, path: str, *, key: str, json: dict[str, Any] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Call the POS/admin API with a key made by `api-key create`; (status, JSON body)."""
        headers = {"Authorization": f"Bearer {key}"}
        url = f"{self.http_url}/api/v1{path}"
        async with aiohttp.ClientSession() as http, http.request(method, url, json=json, headers=headers) as response:
            return response.status, await response.json(content_type=None)


PROBE_USER_ID = 990_001


async def wait_bot_answers(stack: Stack, timeout: float = START_TIMEOUT) -> None:
    """The bot is live once it answers a message: polling (or the webhook) works end to end."""
    client = stack.client
    probe = await client.create_user(PROBE_USER_ID, "Probe", language_code="en")
    sent = await client.send_text(probe, "/start")
    deadline = time.monotonic() + timeout
    while True:
        if stack.app.process is not None and stack.app.process.returncode is not None:
            raise stack.app.failure(f"exited with code {stack.app.process.returncode} before answering")
        remaining = deadline - time.monotonic()
        try:
            await client.wait_for(probe, "loyalty program", timeout=min(10.0, max(remaining, 0.1)), after=sent)
            return
        except AssertionError:
            if time.monotonic() >= deadline:
                raise stack.app.failure(f"the bot did not answer /start within {timeout:.0f}s") from None


@contextlib.asynccontextmanager
async def app_stack(
    workdir: Path, *, name: str, webhook: bool = False, owners: Sequence[int] = (),
    setup: Callable[[Stack], Awaitable[None]] | None = None,
) -> AsyncIterator[Stack]:
    """A fresh database, the emulator, then `python -m bot run` against both; stopped on exit.

    `setup` (command-line preparations: stores, staff, keys) runs while the app starts up."""
    LOGS.clear()
    async with running_emulator(port=0) as emulator:
        await emulator.client.register_bot(TOKEN)
        port = free_port()
        http_url = f"http://127.0.0.1:{port}"
        database_url = PG_URL or f"sqlite+aiosqlite:///{workdir / 'loyalty.db'}"
        env = base_env(
            BOT_TOKEN=TOKEN,
            BOT_API_BASE_URL=emulator.url,
            DATABASE_URL=database_url,
            HTTP_HOST="127.0.0.1",
            HTTP_PORT=str(port),
            OWNER_TELEGRAM_IDS=",".join(str(owner) for owner in owners),
            LOG_LEVEL="INFO",
        )
        if webhook:
            env |= {"WEBHOOK_BASE_URL": http_url, "WEBHOOK_SECRET": WEBHOOK_SECRET}
        app = AppProcess(name, env, workdir, http_url, workdir / "app.log")
        cli_log = workdir / "cli.log"
        LOGS.append(("command line", cli_log))
        stack = Stack(emulator, app, cli_log)
        if PG_URL:
            await reset_postgres(PG_URL)
        # Migrated first on SQLite too, so that the app and the setup commands starting at the same
        # time both find the schema at head rather than race to create it.
        await stack.cli("migrate")
        await app.start("run")
        try:

            async def ready() -> None:
                await app.wait_healthy()
                await wait_bot_answers(stack)

            await asyncio.gather(ready(), setup(stack) if setup is not None else asyncio.sleep(0))
            yield stack
        finally:
            code = await app.stop()
            with app.log.open("a", encoding="utf-8") as out:
                out.write(f"\n[e2e] exit code after SIGTERM: {code}\n")


def logged_errors(app: AppProcess) -> list[str]:
    """Error lines and tracebacks in the app's output: an update that failed inside a handler may
    still leave the chat looking right, so every module ends by reading the log."""
    lines = app.log.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line for line in lines if "level='error'" in line or "level='critical'" in line or "Traceback" in line]


async def customer(client: EmulatorClient, user_id: int, phone: str, name: str = "Anna") -> User:
    """A Telegram user writing in English (so the tests read the English texts) with a phone."""
    return await client.create_user(user_id, name, last_name="Test", language_code="en", phone=phone)
