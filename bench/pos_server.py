"""The API server of benchmarks 2-3 in a process of its own, as in production: its CPU is not
shared with the load generator's event loop, and its peak RSS is the bot process's alone.

`python -m bench.pos_server DATABASE_URL` prints the port it listens on, then serves until stdin
closes; then it prints its peak RSS in MiB and the CPU seconds it spent serving, and exits."""

from __future__ import annotations

import asyncio
import sys
import time

from aiohttp import web

from bench.harness import peak_rss_mib
from bot import gc_tuning
from bot.app import build_context, build_web_app
from bot.settings import Settings


async def serve(url: str) -> None:
    settings = Settings(database_url=url, api_rate_limit_per_minute=1_000_000, api_rate_limit_burst=100_000)
    engine, context = build_context(settings)
    runner = web.AppRunner(build_web_app(context), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    gc_tuning.tune_for_serving()  # as `bot.runners.run` does once it serves
    print(site._server.sockets[0].getsockname()[1], flush=True)  # type: ignore[union-attr]
    cpu = time.process_time()
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    cpu = time.process_time() - cpu
    await runner.cleanup()
    await engine.dispose()
    print(f"{peak_rss_mib():.0f} {cpu:.3f}", flush=True)


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
