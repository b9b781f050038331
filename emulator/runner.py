"""Running the emulator: in-process for tests, or as a standalone server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp import web

from emulator.app import create_emulator_app
from emulator.client import EmulatorClient


@dataclass(frozen=True)
class RunningEmulator:
    url: str
    """Base URL, e.g. http://127.0.0.1:40123; give it to TelegramAPIServer.from_base()."""
    client: EmulatorClient
    app: web.Application


@asynccontextmanager
async def running_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    enforce_limits: bool = True,
    global_rate: int = 30,
    per_chat_rate: float = 1.0,
) -> AsyncIterator[RunningEmulator]:
    """Serve an emulator on a real socket (port 0 = any free port) for the duration of the block."""
    app = create_emulator_app(enforce_limits=enforce_limits, global_rate=global_rate, per_chat_rate=per_chat_rate)
    runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound_host, bound_port = runner.addresses[0][:2]
    url = f"http://{bound_host}:{bound_port}"
    try:
        async with EmulatorClient(url) as client:
            yield RunningEmulator(url=url, client=client, app=app)
    finally:
        await runner.cleanup()


async def serve_forever(host: str, port: int, *, enforce_limits: bool, global_rate: int, per_chat_rate: float) -> None:
    async with running_emulator(
        host=host, port=port, enforce_limits=enforce_limits, global_rate=global_rate, per_chat_rate=per_chat_rate
    ) as emulator:
        print(f"Bot API emulator at {emulator.url}  (sandbox: {emulator.url}/sandbox)", flush=True)
        await asyncio.Event().wait()
