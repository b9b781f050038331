"""Mounting inside the bot's own HTTP app ("sandbox mode") and the standalone runner."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram.types import BufferedInputFile
from aiohttp import web

from emulator import EmulatorClient, add_sandbox_routes
from tests.emulator.conftest import ANNA, TOKEN, make_bot

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
async def host_url() -> AsyncIterator[str]:
    host = web.Application()

    async def health(_: web.Request) -> web.Response:
        return web.Response(text="the bot's own route")

    host.router.add_get("/health", health)
    add_sandbox_routes(host, prefix="/emulator")
    runner = web.AppRunner(host, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    name, port = runner.addresses[0][:2]
    yield f"http://{name}:{port}"
    await runner.cleanup()


async def test_mounted_emulator_serves_bot_api_files_control_and_page(host_url: str) -> None:
    bot = make_bot(f"{host_url}/emulator")
    try:
        async with EmulatorClient(f"{host_url}/emulator") as client:
            assert (await bot.get_me()).id == 123456
            await client.send_text(ANNA, "/start")
            assert [u.message.text for u in await bot.get_updates(timeout=0)] == ["/start"]
            sent = await bot.send_document(ANNA, BufferedInputFile(b"%PDF-1.4", "rules.pdf"))
            file = await bot.get_file(sent.document.file_id)
            downloaded = await bot.download_file(file.file_path)
            assert downloaded is not None and downloaded.read() == b"%PDF-1.4"
            assert (await client.last_message(ANNA)).document["file_name"] == "rules.pdf"
    finally:
        await bot.session.close()

    async with aiohttp.ClientSession() as http:
        async with http.get(f"{host_url}/health") as response:
            assert await response.text() == "the bot's own route"
        for page_url in (f"{host_url}/sandbox", f"{host_url}/emulator/sandbox"):
            async with http.get(page_url) as response:
                page = await response.text()
            assert '<meta name="emulator-base" content="/emulator">' in page
            assert 'src="/emulator/sandbox/static/sandbox.js"' in page
        async with http.get(f"{host_url}/emulator/sandbox/static/sandbox.js") as response:
            assert response.status == 200 and "`${BASE}/control`" in await response.text()


async def test_cli_runner_serves_on_the_given_port() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "emulator", "--port", "0", "--no-limits", cwd=ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert process.stdout is not None
        banner = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        match = re.search(r"at (http://127\.0\.0\.1:\d+)", banner)
        assert match, banner
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{match.group(1)}/bot{TOKEN}/getMe") as response:
                assert (await response.json())["result"]["username"] == "emulated_123456_bot"
            async with http.get(f"{match.group(1)}/sandbox") as response:
                assert '<meta name="emulator-base" content="">' in await response.text()
    finally:
        process.terminate()
        await process.wait()
