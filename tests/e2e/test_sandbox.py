"""The sandbox as a newcomer meets it: `python -m bot run` with no BOT_TOKEN (and no other settings)
serves the emulator and the chat page; in headless Chromium, Anna registers by clicking the contact
button, then Boris, seeded as the demo store's cashier, accrues points on her card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator import EmulatorClient
from tests.e2e.conftest import LOGS, AppProcess, base_env, free_port, logged_errors
from tests.emulator.cdp import CHROMIUM, Page, chromium

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)"),
]

ANNA, BORIS, OLGA = 100_001, 200_002, 300_003
PAGE_TIMEOUT = 30.0


async def click(page: Page, selector: str) -> None:
    await page.wait_for(f"document.querySelector({json.dumps(selector)})", PAGE_TIMEOUT)
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


async def type_and_send(page: Page, text: str) -> None:
    await page.wait_for("!document.getElementById('text-input').disabled", PAGE_TIMEOUT)
    await page.evaluate(
        f"document.getElementById('text-input').value = {json.dumps(text)};"
        "document.getElementById('composer').requestSubmit()"
    )


async def bot_text(page: Page, contains: str) -> str:
    """The text of the first bot bubble now shown that contains `contains` (waits for it)."""
    expression = f"""[...document.querySelectorAll('.msg.from-bot .text')]
        .map((node) => node.innerText).find((text) => text.includes({json.dumps(contains)}))"""
    return str(await page.wait_for(expression, PAGE_TIMEOUT))


async def test_newcomer_registers_by_clicking_and_the_seeded_cashier_serves_her(tmp_path: Path) -> None:
    LOGS.clear()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Nothing but the port (8080 may be taken here): no token, no database URL, a fresh directory.
    app = AppProcess("app (sandbox)", base_env(HTTP_PORT=str(port)), tmp_path, url, tmp_path / "sandbox.log")
    await app.start("run")
    try:
        await app.wait_healthy()
        assert (tmp_path / "sandbox.db").exists() and not (tmp_path / "loyalty.db").exists()
        async with chromium(tmp_path / "profile") as page:
            await page.navigate(f"{url}/sandbox")
            await click(page, f'[data-user-id="{ANNA}"]')
            await type_and_send(page, "/start")
            await bot_text(page, "Чтобы получить карту")
            await click(page, ".reply-keyboard button.share-contact")
            done = await bot_text(page, "Готово!")
            assert "9161234567" in done

            await click(page, f'[data-user-id="{BORIS}"]')
            await type_and_send(page, "/accrue 9161234567 1000")
            accrued = await bot_text(page, "Начислено")
            assert "50" in accrued
            assert page.errors == []

        # Olga is the seeded owner: owner-only commands answer her, not "for staff only".
        async with EmulatorClient(f"{url}/emulator") as client:
            sent = await client.send_text(OLGA, "/broadcast")
            reply = await client.wait_for(OLGA, lambda m: True, PAGE_TIMEOUT, after=sent)
            assert "рассылки" in reply.text and "только для сотрудников" not in reply.text, reply.text
        assert logged_errors(app) == []
    finally:
        await app.stop()
