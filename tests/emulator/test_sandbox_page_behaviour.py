"""The sandbox page's promises (issue 18), in headless Chromium against a tiny aiogram bot: the
contact button shows the bot's text as sent, a callback toast is shown once and live only, a text
over 4096 characters is refused with a note, bold/italic can be typed, the bot's t.me invite links
open inside the sandbox, and the page fits a phone's 390 px without scrolling sideways."""

from __future__ import annotations

import html
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)
from aiohttp import web

from emulator import create_emulator_app
from tests.emulator.cdp import CHROMIUM, Page, chromium
from tests.emulator.conftest import ANNA, TOKEN, make_bot, polling

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed (apt-get install -y chromium)"
)

BORIS = 200002
CONTACT_TEXT = "📱 Поделиться номером"


def dispatcher() -> Dispatcher:
    dp = Dispatcher()

    @dp.message(CommandStart(deep_link=True))
    async def deep_link(message: Message, command: CommandObject) -> None:
        assert message.from_user is not None
        await message.answer(f"payload {command.args} from {message.from_user.id}")

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=CONTACT_TEXT, request_contact=True)]])
        markup = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Баланс", callback_data="bal")]])
        await message.answer("Добро пожаловать!", reply_markup=keyboard)
        await message.answer("Нажмите", reply_markup=markup)

    @dp.message(Command("link"))
    async def link(message: Message, bot: Bot) -> None:
        me = await bot.me()
        button = InlineKeyboardButton(text="Семья", url=f"https://t.me/{me.username}?start=family-xyz")
        await message.answer(
            f"Ссылка: https://t.me/{me.username}?start=staff-abc\nЧужая: https://t.me/someone_else_bot?start=zzz",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]),
        )

    @dp.callback_query(F.data == "bal")
    async def balance(query: CallbackQuery) -> None:
        await query.answer("Баланс обновлён")

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {html.escape(message.html_text)}"[:4096])

    return dp


@pytest.fixture
async def page_and_bot(tmp_path: Path) -> AsyncIterator[tuple[Page, str]]:
    app = create_emulator_app(enforce_limits=False)
    runner = web.AppRunner(app, shutdown_timeout=1.0)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    root = f"http://{host}:{port}"
    try:
        async with polling(dispatcher(), make_bot(root, TOKEN)), chromium(tmp_path / "profile") as page:
            yield page, f"{root}/sandbox"
    finally:
        await runner.cleanup()


async def click(page: Page, selector: str) -> None:
    await page.wait_for(f"document.querySelector({json.dumps(selector)})")
    await page.evaluate(f"document.querySelector({json.dumps(selector)}).click()")


async def pick(page: Page, user_id: int) -> None:
    await click(page, f'#persona-list [data-user-id="{user_id}"]')
    await page.wait_for("!document.getElementById('text-input').disabled")


async def type_text(page: Page, text: str) -> None:
    await page.evaluate(
        f"{{ const input = document.getElementById('text-input'); input.value = {json.dumps(text)};"
        "input.dispatchEvent(new Event('input')); }"
    )


async def send(page: Page, text: str) -> None:
    await type_text(page, text)
    await page.evaluate("document.getElementById('composer').requestSubmit()")


async def bot_html(page: Page, contains: str) -> str:
    expression = f"""[...document.querySelectorAll('.msg.from-bot .text')]
        .map((node) => node.innerHTML).find((html) => html.includes({json.dumps(contains)}))"""
    return str(await page.wait_for(expression))


async def test_contact_button_shows_the_bots_text_once(page_and_bot: tuple[Page, str]) -> None:
    page, url = page_and_bot
    await page.navigate(url)
    await pick(page, ANNA)
    await send(page, "/start")
    label = await page.wait_for("document.querySelector('.reply-keyboard button.share-contact')?.innerText")
    assert label == CONTACT_TEXT
    assert page.errors == []


async def test_a_callback_toast_is_shown_once_live_and_not_replayed(page_and_bot: tuple[Page, str]) -> None:
    page, url = page_and_bot
    toast = "!document.getElementById('toast').hidden && document.getElementById('toast').innerText"
    await page.navigate(url)
    await pick(page, ANNA)
    await send(page, "/start")
    await click(page, '.inline-keyboard button[data-callback="bal"]')
    assert await page.wait_for(toast) == "Баланс обновлён"
    await page.evaluate("document.getElementById('toast').hidden = true")

    # Switching personas and back: the history is shown again, the toast is not.
    await pick(page, BORIS)
    await pick(page, ANNA)
    await page.wait_for("document.querySelectorAll('.inline-keyboard').length === 1")
    assert await page.evaluate("document.getElementById('toast').hidden") is True

    # Nor after a reload of the page (the persona is remembered).
    await page.navigate(url)
    await page.wait_for("document.querySelectorAll('.inline-keyboard').length === 1")
    assert await page.evaluate("document.getElementById('toast').hidden") is True
    assert page.errors == []


async def test_a_text_over_4096_is_refused_with_a_note(page_and_bot: tuple[Page, str]) -> None:
    page, url = page_and_bot
    await page.navigate(url)
    await pick(page, ANNA)
    await send(page, "x" * 4097)
    note = await page.wait_for(
        "!document.getElementById('composer-note').hidden && document.getElementById('composer-note').innerText"
    )
    assert "4097" in note and "4096" in note
    assert await page.evaluate("document.getElementById('text-input').value.length") == 4097  # kept, to shorten

    # Formatting marks do not count: they are not part of the text Telegram measures.
    await send(page, "**" + "y" * 4096 + "**")
    assert (await bot_html(page, "echo")).startswith("echo: &lt;b&gt;yyy")
    assert await page.evaluate("document.getElementById('composer-note').hidden") is True
    texts = await page.evaluate("[...document.querySelectorAll('.msg.from-me .text')].map((n) => n.innerText.length)")
    assert texts == [4096]  # the refused one was never sent
    assert page.errors == []


async def test_bold_and_italic_can_be_typed(page_and_bot: tuple[Page, str]) -> None:
    page, url = page_and_bot
    await page.navigate(url)
    await pick(page, ANNA)
    await send(page, "**Акция** и __скидка__ 😀 ~~старое~~")
    echoed = await bot_html(page, "echo")
    assert echoed == "echo: &lt;b&gt;Акция&lt;/b&gt; и &lt;i&gt;скидка&lt;/i&gt; 😀 &lt;s&gt;старое&lt;/s&gt;"
    mine = await page.wait_for("document.querySelector('.msg.from-me .text')?.innerHTML")
    assert mine == "<b>Акция</b> и <i>скидка</i> 😀 <s>старое</s>"

    # Ctrl+B and Ctrl+I wrap the selection in the marks.
    await type_text(page, "жирный курсив")
    wrapped = await page.evaluate("""(() => {
        const input = document.getElementById('text-input');
        input.setSelectionRange(0, 6);
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'b', ctrlKey: true, bubbles: true }));
        input.setSelectionRange(input.value.length - 6, input.value.length);
        input.dispatchEvent(new KeyboardEvent('keydown', { key: 'i', ctrlKey: true, bubbles: true }));
        return input.value;
    })()""")
    assert wrapped == "**жирный** __курсив__"
    assert page.errors == []


async def test_an_invite_link_opens_inside_the_sandbox_as_a_chosen_persona(page_and_bot: tuple[Page, str]) -> None:
    page, url = page_and_bot
    await page.navigate(url)
    await pick(page, BORIS)
    await send(page, "/link")
    await bot_html(page, "Ссылка")
    assert await page.evaluate("document.querySelector('.msg.from-bot a.start-link').dataset.start") == "staff-abc"
    await click(page, ".msg.from-bot a.start-link")
    await page.wait_for("!document.getElementById('link-dialog').hidden")
    await click(page, f'#link-personas [data-user-id="{ANNA}"]')
    assert await bot_html(page, "payload") == f"payload staff-abc from {ANNA}"
    assert await page.evaluate("document.querySelector('#persona-list .persona.active').dataset.userId") == str(ANNA)

    # A URL button with the bot's start link opens inside too; another bot's link stays a link.
    await pick(page, BORIS)
    await bot_html(page, "Ссылка")
    assert await page.evaluate("document.querySelectorAll('.msg.from-bot a.start-link').length") == 1
    await click(page, ".inline-keyboard button.start-link")
    await click(page, f'#link-personas [data-user-id="{BORIS}"]')
    assert await bot_html(page, "family-xyz") == f"payload family-xyz from {BORIS}"
    assert page.errors == []


async def test_the_page_fits_a_phone_without_sideways_scrolling(page_and_bot: tuple[Page, str]) -> None:
    page, url = page_and_bot
    await page.send(
        "Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True
    )
    await page.navigate(url)
    await pick(page, ANNA)
    await send(page, "/start")
    await page.wait_for("document.querySelector('.reply-keyboard button.share-contact')")
    await bot_html(page, "Нажмите")
    overflow = await page.evaluate("""(() => {
        const width = document.documentElement.clientWidth;
        const wide = [...document.querySelectorAll('body *')]
            // The persona chips scroll inside their own row (checked below); the row itself must fit.
            .filter((node) => !node.closest('#persona-list > li'))
            .filter((node) => node.getClientRects().length && node.getBoundingClientRect().right > width + 0.5)
            .map((node) => node.id || node.className || node.tagName);
        return { width, scroll: document.documentElement.scrollWidth, wide };
    })()""")
    assert overflow == {"width": 390, "scroll": 390, "wide": []}
    # Usable, not just fitting: the chat gets most of the screen, the text field room to type, and
    # the composer ends on the first screen.
    sizes = await page.evaluate("""(() => {
        const box = (id) => document.getElementById(id).getBoundingClientRect();
        return { messages: box('messages').height, input: box('text-input').width, bottom: box('composer').bottom };
    })()""")
    assert sizes["messages"] >= 844 / 2, sizes
    assert sizes["input"] >= 200, sizes
    assert sizes["bottom"] <= 844, sizes
    # Every persona stays reachable: the row of chips scrolls inside itself.
    reachable = await page.evaluate("""(() => {
        const list = document.getElementById('persona-list');
        list.scrollLeft = list.scrollWidth;
        const last = list.lastElementChild.getBoundingClientRect();
        return last.right <= document.documentElement.clientWidth + 0.5 && last.left >= 0;
    })()""")
    assert reachable is True
    assert page.errors == []
