"""Just enough of the Chrome DevTools Protocol to drive headless Chromium from a test, over aiohttp."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--remote-debugging-port=0",
)


class Page:
    """One browser tab: commands with replies, and the page's uncaught JavaScript errors."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        self._socket = socket
        self._ids = itertools.count(1)
        self._replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self.errors: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for frame in self._socket:
            message = json.loads(frame.data)
            if "id" in message and message["id"] in self._replies:
                self._replies.pop(message["id"]).set_result(message)
            elif message.get("method") == "Runtime.exceptionThrown":
                self.errors.append(message["params"]["exceptionDetails"]["exception"]["description"])

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        request_id = next(self._ids)
        reply = self._replies[request_id] = asyncio.get_running_loop().create_future()
        await self._socket.send_json({"id": request_id, "method": method, "params": params})
        message = await asyncio.wait_for(reply, 15)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return dict(message["result"])

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"]["exception"]["description"])
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float = 10.0) -> Any:
        """Resolve once `expression` is truthy, checking inside the page (no round trip per check)."""
        script = f"""new Promise((resolve) => {{
            const check = () => {{ const value = ({expression}); value ? resolve(value) : setTimeout(check, 30); }};
            check();
        }})"""
        try:
            return await asyncio.wait_for(self.evaluate(script), timeout)
        except TimeoutError:
            body = await self.evaluate("document.body.innerText")
            raise AssertionError(f"page never satisfied {expression!r}; it shows:\n{body}") from None

    async def navigate(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        await self.wait_for("document.readyState === 'complete'")

    async def close(self) -> None:
        await self._socket.close()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


@contextlib.asynccontextmanager
async def chromium(profile_dir: Path) -> AsyncIterator[Page]:
    """A fresh headless browser (its own profile) and one page in it."""
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        *FLAGS,
        f"--user-data-dir={profile_dir}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        port = await asyncio.wait_for(_devtools_port(process), 20)
        async with aiohttp.ClientSession() as http:
            async with http.put(f"http://127.0.0.1:{port}/json/new?about:blank") as response:
                target = await response.json()
            socket = await http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
            page = Page(socket)
            await page.send("Runtime.enable")
            await page.send("Page.enable")
            try:
                yield page
            finally:
                await page.close()
    finally:
        process.terminate()
        await process.wait()


async def _devtools_port(process: asyncio.subprocess.Process) -> int:
    assert process.stderr is not None
    while line := await process.stderr.readline():
        if match := re.search(rb"DevTools listening on ws://[^:]+:(\d+)/", line):
            return int(match.group(1))
    raise RuntimeError("chromium exited before opening the DevTools port")
