"""The sandbox page in headless Chromium: a persona chats with a tiny aiogram bot."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Dispatcher, F
from aiogram.filters import CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiohttp import web

from emulator import add_sandbox_routes, create_emulator_app
from tests.emulator.cdp import CHROMIUM, Page, chromium
from tests.emulator.conftest import TOKEN, make_bot, polling

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)"
)


def echo_dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Поделиться номером", request_contact=True)]])
        await message.answer("Добро пожаловать! Поделитесь номером.", reply_markup=keyboard)

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Баланс", callback_data="bal")]])
        await message.answer(f"Спасибо! Ваш номер <b>{message.contact.phone_number}</b>", reply_markup=markup)

    @dp.callback_query(F.data == "bal")
    async def balance(query: CallbackQuery) -> None:
        await query.answer("Баланс обновлён")
        await query.message.edit_text("На счёте <i>150</i> баллов")

    return dp


@pytest.fixture(params=["standalone", "mounted"])
async def sandbox_url(request: pytest.FixtureRequest) -> AsyncIterator[tuple[str, str]]:
    """(page URL, Bot API base URL) for the emulator on its own and inside a host app."""
    emulator = create_emulator_app(enforce_limits=False)
    if request.param == "mounted":
        host = web.Application()
        add_sandbox_routes(host, emulator)
        app, prefix = host, "/emulator"
    else:
        app, prefix = emulator, ""
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host_name, port = runner.addresses[0][:2]
    root = f"http://{host_name}:{port}"
    yield f"{root}/sandbox", f"{root}{prefix}"
    await runner.cleanup()


async def click(page: Page, selector: str) -> None:
    await page.wait_for(f"document.querySelector({json.dumps(selector)})")
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


async def last_bot_text(page: Page, contains: str) -> str:
    expression = f"""[...document.querySelectorAll('.msg.from-bot .text')]
        .map((node) => node.innerHTML).find((html) => html.includes({json.dumps(contains)}))"""
    return str(await page.wait_for(expression))


async def test_persona_shares_contact_and_presses_inline_button(sandbox_url: tuple[str, str], tmp_path: Path) -> None:
    page_url, api_base = sandbox_url
    bot = make_bot(api_base, TOKEN)
    async with polling(echo_dispatcher(), bot), chromium(tmp_path / "profile") as page:
        await page.navigate(page_url)
        await click(page, '[data-user-id="100001"]')  # Customer Anna
        await page.wait_for("!document.getElementById('text-input').disabled")
        await page.evaluate(
            "document.getElementById('text-input').value = '/start';document.getElementById('composer').requestSubmit()"
        )
        await last_bot_text(page, "Добро пожаловать")
        await click(page, ".reply-keyboard button.share-contact")

        thanks = await last_bot_text(page, "Спасибо")
        assert thanks == "Спасибо! Ваш номер <b>79161234567</b>"
        own_contact = await page.wait_for("document.querySelector('.msg.from-me .card')?.innerText")
        assert "+7 916 123-45-67" in own_contact

        await click(page, '.inline-keyboard button[data-callback="bal"]')
        assert await last_bot_text(page, "На счёте") == "На счёте <i>150</i> баллов"
        toast = await page.wait_for(
            "!document.getElementById('toast').hidden && document.getElementById('toast').innerText"
        )
        assert toast == "Баланс обновлён"
        # The edit replaced the bubble in place: the thanks message is gone, not duplicated.
        texts = await page.evaluate("[...document.querySelectorAll('.msg.from-bot .text')].map((n) => n.innerText)")
        assert texts == ["Добро пожаловать! Поделитесь номером.", "На счёте 150 баллов"]
        assert page.errors == []
