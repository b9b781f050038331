"""A real aiogram Dispatcher polling the emulator while the client acts as users."""

from __future__ import annotations

import io

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from PIL import Image

from emulator import EmulatorClient, EmulatorError, RunningEmulator, WaitTimeout
from tests.emulator.conftest import ANNA, polling

SHARE = "📱 Поделиться номером"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 20, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def inline(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in buttons]])


async def test_start_reply_with_contact_keyboard_is_readable(bot: Bot, client: EmulatorClient) -> None:
    dp = Dispatcher()
    seen: list[str | None] = []

    @dp.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        seen.append(command.args)
        keyboard = ReplyKeyboardMarkup(
            keyboard=[[KeyboardButton(text=SHARE, request_contact=True)]], resize_keyboard=True
        )
        await message.answer(f"Привет, <b>{message.from_user.first_name}</b>!", reply_markup=keyboard)

    async with polling(dp, bot):
        sent = await client.send_text(ANNA, "/start promo42")
        reply = await client.wait_for(ANNA, "Привет", after=sent)

    assert seen == ["promo42"]
    assert reply.text == "Привет, Анна!"
    assert reply.html == "Привет, <b>Анна</b>!"
    assert reply.raw["entities"] == [{"type": "bold", "offset": 8, "length": 4}]
    assert reply.button(SHARE).request_contact
    assert "reply_markup" not in reply.raw  # Telegram only echoes inline keyboards in Message
    assert (await client.chat(ANNA)).reply_keyboard["keyboard"][0][0]["request_contact"] is True


async def test_contacts_own_foreign_and_forwarded(bot: Bot, client: EmulatorClient) -> None:
    dp = Dispatcher()

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        own = message.contact.user_id == message.from_user.id
        origin = "forwarded" if message.forward_origin else "direct"
        await message.answer(f"{'own' if own else 'foreign'} {origin} {message.contact.phone_number}")

    async with polling(dp, bot):
        await client.send_contact(ANNA)
        assert (await client.wait_for(ANNA, "own")).text == "own direct 79161234567"
        await client.send_contact(ANNA, "+79031112233", own=False, first_name="Пётр", contact_user_id=555)
        assert (await client.wait_for(ANNA, "foreign")).text == "foreign direct +79031112233"
        await client.send_contact(ANNA, "79035556677", own=False, forwarded=True)
        assert (await client.wait_for(ANNA, "forwarded")).text == "foreign forwarded 79035556677"

    shared = [m.contact for m in await client.messages(ANNA, include_user=True) if m.contact]
    assert shared == [
        {"phone_number": "79161234567", "first_name": "Анна", "user_id": ANNA, "last_name": "Смирнова"},
        {"phone_number": "+79031112233", "first_name": "Пётр", "user_id": 555},
        {"phone_number": "79035556677", "first_name": "Contact"},
    ]


async def test_reply_button_with_request_contact_shares_own_phone(bot: Bot, client: EmulatorClient) -> None:
    dp = Dispatcher()

    @dp.message(CommandStart())
    async def start(message: Message) -> None:
        keyboard = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text=SHARE, request_contact=True)]])
        await message.answer("Share your phone", reply_markup=keyboard)

    @dp.message(F.contact)
    async def contact(message: Message) -> None:
        await message.answer(f"Got {message.contact.phone_number}", reply_markup=ReplyKeyboardRemove())

    async with polling(dp, bot):
        anna = await client.create_user(4242, "Kate", phone="79997776655")
        assert anna in await client.users()
        await client.send_text(anna, "/start")
        await client.wait_for(anna, "Share")
        await client.reply_button(anna, SHARE)
        reply = await client.wait_for(anna, "Got")

    assert reply.text == "Got 79997776655"
    assert reply.removes_keyboard
    assert (await client.chat(anna)).reply_keyboard is None


async def test_callback_press_answer_and_edit(bot: Bot, client: EmulatorClient) -> None:
    dp = Dispatcher()

    @dp.message(Command("menu"))
    async def menu(message: Message) -> None:
        await message.answer("Menu", reply_markup=inline(("Balance", "balance"), ("Card", "card")))

    @dp.callback_query(F.data == "balance")
    async def balance(query: CallbackQuery) -> None:
        await query.answer("120 points", show_alert=True)
        await query.message.edit_text("Balance: <i>120</i>", reply_markup=inline(("Back", "back")))

    @dp.callback_query(F.data == "back")
    async def back(query: CallbackQuery) -> None:
        await query.answer()
        await query.message.edit_text("Menu again", reply_markup=inline(("Balance", "balance")))

    async with polling(dp, bot):
        await client.send_text(ANNA, "/menu")
        menu_message = await client.wait_for(ANNA, "Menu")
        query_id = await client.press(ANNA, menu_message, menu_message.button("Balance").callback_data or "")
        answer = await client.wait_for_answer(ANNA, query_id)
        edited = await client.wait_for(ANNA, lambda m: m.edited)
        await client.press_button(ANNA, "Back")
        await client.wait_for(ANNA, "Menu again")

    assert (answer.text, answer.show_alert, answer.message_id) == ("120 points", True, menu_message.message_id)
    assert edited.message_id == menu_message.message_id
    assert edited.html == "Balance: <i>120</i>"
    assert [b.text for b in edited.inline_buttons] == ["Back"]
    assert [(a.text, a.show_alert) for a in await client.callback_answers(ANNA)] == [
        ("120 points", True),
        (None, False),
    ]
    assert (await client.last_message(ANNA)).edit_count == 2
    with pytest.raises(EmulatorError, match="no inline button"):
        await client.press(ANNA, menu_message, "card-that-was-replaced")


async def test_send_photo_multipart_keeps_bytes(emu: RunningEmulator, bot: Bot, client: EmulatorClient) -> None:
    image = png(640, 480)
    await client.send_text(ANNA, "hi")  # Telegram refuses to write first; the user must start the chat

    message = await bot.send_photo(ANNA, BufferedInputFile(image, "qr.png"), caption="Ваш <b>QR</b>")

    sizes = message.photo
    assert [(s.width, s.height) for s in sizes] == [(320, 240), (640, 480)]
    assert message.caption == "Ваш QR" and message.caption_entities[0].type == "bold"
    downloaded = await bot.download(sizes[-1].file_id)
    assert downloaded is not None and downloaded.read() == image
    shown = await client.last_message(ANNA)
    assert shown.photo is not None and shown.photo[-1]["file_id"] == sizes[-1].file_id
    async with emu.client._http().get(f"{emu.url}/control/files/{sizes[-1].file_id}") as response:
        assert await response.read() == image
    again = await bot.send_photo(ANNA, sizes[-1].file_id)  # re-sending by file_id, as bots do
    assert again.photo[-1].file_id == sizes[-1].file_id


async def test_send_document_and_get_file(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "hi")
    message = await bot.send_document(ANNA, BufferedInputFile(b"a;b\n1;2\n", "report.csv"))
    assert message.document is not None and message.document.file_name == "report.csv"
    file = await bot.get_file(message.document.file_id)
    assert file.file_size == 8 and file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"a;b\n1;2\n"


async def test_edit_delete_and_telegram_errors(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "hi")
    first = await bot.send_message(ANNA, "Points: 10", reply_markup=inline(("Refresh", "refresh")))
    edited = await bot.edit_message_text("Points: 20", chat_id=ANNA, message_id=first.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None and edited.edit_date is not None
    second = await bot.send_message(ANNA, "temporary")
    assert await bot.delete_message(ANNA, second.message_id)

    messages = await client.messages(ANNA)
    assert [(m.text, m.edit_count) for m in messages] == [("Points: 20", 1)]
    # Editing without reply_markup drops the inline keyboard, as in Telegram.
    assert messages[0].inline_buttons == [] and "reply_markup" not in messages[0].raw
    assert [m.text for m in await client.messages(ANNA, include_deleted=True)] == ["Points: 20", "temporary"]
    assert [m.text for m in await client.messages(ANNA, include_user=True)] == ["hi", "Points: 20"]

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        edited = await bot.edit_message_text("Points: 20", chat_id=ANNA, message_id=first.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(ANNA, second.message_id)
    with pytest.raises(TelegramBadRequest, match="can't parse entities: Can't find end tag"):
        await bot.send_message(ANNA, "<b>unclosed")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await bot.send_message(ANNA, "line<br>break")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(987654321, "nobody")
    with pytest.raises(TelegramForbiddenError, match="can't initiate conversation"):
        await bot.send_message(300003, "Olga never wrote to the bot")


async def test_user_edits_photos_and_stickers_reach_the_bot(bot: Bot, client: EmulatorClient) -> None:
    dp = Dispatcher()

    @dp.edited_message()
    async def edited(message: Message) -> None:
        await message.answer(f"edited to {message.text}")

    @dp.message(F.photo)
    async def photo(message: Message) -> None:
        file = await message.bot.download(message.photo[-1].file_id)
        size = Image.open(file).size if file else None
        await message.answer(f"photo {size} {message.caption}")

    @dp.message(F.sticker)
    async def sticker(message: Message) -> None:
        await message.answer(f"sticker {message.sticker.emoji}")

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text}")

    async with polling(dp, bot):
        original = await client.send_text(ANNA, "helo")
        await client.wait_for(ANNA, "echo helo")
        await client.edit_text(ANNA, original, "hello")
        assert (await client.wait_for(ANNA, "edited")).text == "edited to hello"
        await client.send_photo(ANNA, png(100, 50), caption="receipt")
        assert (await client.wait_for(ANNA, "photo")).text == "photo (100, 50) receipt"
        await client.send_sticker(ANNA, "🔥")
        assert (await client.wait_for(ANNA, "sticker")).text == "sticker 🔥"


async def test_block_produces_my_chat_member_and_403(bot: Bot, client: EmulatorClient) -> None:
    dp = Dispatcher()
    statuses: list[tuple[str, str]] = []

    @dp.my_chat_member()
    async def member(update: ChatMemberUpdated) -> None:
        statuses.append((update.old_chat_member.status, update.new_chat_member.status))

    @dp.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text}")

    async with polling(dp, bot):
        await client.send_text(ANNA, "one")
        await client.wait_for(ANNA, "echo one")
        await client.block(ANNA)
        with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
            await bot.send_message(ANNA, "are you there?")
        with pytest.raises(EmulatorError, match="blocked"):
            await client.send_text(ANNA, "cannot write while blocking")
        await client.unblock(ANNA)
        await client.send_text(ANNA, "two")
        await client.wait_for(ANNA, "echo two")

    assert statuses == [("member", "kicked"), ("kicked", "member")]


async def test_wait_for_times_out_with_what_the_bot_sent(bot: Bot, client: EmulatorClient) -> None:
    await client.send_text(ANNA, "hi")
    await bot.send_message(ANNA, "something else")
    with pytest.raises(WaitTimeout, match="'something else'"):
        await client.wait_for(ANNA, "expected", timeout=0.2)
    with pytest.raises(WaitTimeout, match="'something else'"):
        await client.wait_for(ANNA, lambda m: m.text == "expected", timeout=0.2)
    assert len(await client.wait_for_count(ANNA, 1)) == 1
