"""What a person does in the chat, step by step, through the emulator (English texts: the test users
write with language_code "en")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from emulator import ChatMessage, EmulatorClient, User

SHARE_BUTTON = "📱 Share my number"
REPLY_TIMEOUT = 20.0  # a busy CI machine, and replies that wait out a 429 first


async def say(
    client: EmulatorClient, user: User, text: str, expect: str, timeout: float = REPLY_TIMEOUT
) -> ChatMessage:
    """Send `text` and return the first later bot message containing `expect`."""
    sent = await client.send_text(user, text)
    return await client.wait_for(user, expect, timeout, after=sent)


async def confirm(
    client: EmulatorClient, user: User, summary: ChatMessage, expect: str, timeout: float = REPLY_TIMEOUT
) -> ChatMessage:
    """Press "✅ Confirm" under a till summary; return the first later message containing `expect`."""
    await client.press(user, summary, summary.button("✅ Confirm").callback_data or "")
    return await client.wait_for(user, expect, timeout, after=summary)


async def register(client: EmulatorClient, user: User) -> str:
    """/start, then the contact button: returns the card number the bot announces."""
    await say(client, user, "/start", "To get your card")
    keyboard = (await client.chat(user)).reply_keyboard or {}
    buttons = [b for row in keyboard.get("keyboard", []) for b in row]
    assert [b.get("request_contact") for b in buttons if b["text"] == SHARE_BUTTON] == [True], buttons
    shared = await client.reply_button(user, SHARE_BUTTON)
    done = await client.wait_for(user, "Done! Your card", REPLY_TIMEOUT, after=shared)
    match = re.search(r"Your card: (\d+)", done.text)
    assert match, done.text
    return match.group(1)


@dataclass(frozen=True)
class CardScreen:
    message: ChatMessage
    number: str
    points: str
    code: str | None


async def open_card(client: EmulatorClient, user: User) -> CardScreen:
    """/card: a photo (the QR code) whose caption holds the number, the points and the code."""
    sent = await client.send_text(user, "/card")
    message = await client.wait_for(user, lambda m: m.photo is not None, REPLY_TIMEOUT, after=sent)
    caption = message.text
    number = re.search(r"Card (\d+)", caption)
    points = re.search(r"Points available: ([\d.,  ]+)", caption)
    code = re.search(r"Code to pay with points: (\d{6})", caption)
    assert number and points, caption
    return CardScreen(message, number.group(1), points.group(1).strip(), code.group(1) if code else None)


def receipt_of(text: str) -> str:
    """The receipt id a staff reply names (generated `tg-...` ones included)."""
    match = re.search(r"receipt (\S+) of", text, re.IGNORECASE)
    assert match, text
    return match.group(1)
