"""The sandbox's chats survive a restart: the emulated world saved to a JSON file and loaded at start.

Only the sandbox asks for it (create_emulator_app(state_file=...)); tests' emulators stay in memory.
What is saved: users (personas and those created on the page), each bot's chats (messages, the
reply keyboard shown, blocked or not) and the files the messages refer to. What is not: pending
updates, webhooks, command menus, flood counters, faults and callback answers (a toast is shown
once, live); the bot sets its commands again when it starts.

Writes are debounced (one write at most every DEBOUNCE_SECONDS while the chats change, and a last
one at shutdown) and atomic (a temporary file renamed over the old one), so a crash leaves the
previous state, never half a file.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from emulator.state import ChatState, Emulator, MessageRecord, UserRecord

FORMAT = 1
DEBOUNCE_SECONDS = 0.5
log = logging.getLogger(__name__)


def snapshot(emulator: Emulator) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "epoch": emulator.epoch,
        "version": max((chat.version for bot in emulator.bots.values() for chat in bot.chats.values()), default=0),
        "users": [asdict(user) for user in emulator.users.values()],
        "bots": [
            {
                "token": bot.token,
                "first_name": bot.first_name,
                "username": bot.username,
                "chats": [_chat(chat) for chat in bot.chats.values()],
            }
            for bot in emulator.bots.values()
        ],
        "files": emulator.files.dump(),
    }


def _chat(chat: ChatState) -> dict[str, Any]:
    return {
        "user_id": chat.id,
        "blocked": chat.blocked,
        "reply_keyboard": chat.reply_keyboard,
        "version": chat.version,
        "messages": [
            {
                "message": record.message,
                "outgoing": record.outgoing,
                "markup": record.markup,
                "version": record.version,
                "deleted": record.deleted,
                "edit_count": record.edit_count,
            }
            for record in chat.messages.values()
        ],
    }


def restore(emulator: Emulator, data: dict[str, Any]) -> None:
    """Put a snapshot back; pages that were open see a new epoch and fetch everything again."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown format {data.get('format')!r}")
    emulator.users = {int(raw["id"]): UserRecord(**raw) for raw in data["users"]}
    emulator.restart_versions_after(int(data["version"]))
    emulator.epoch = int(data["epoch"]) + 1
    emulator.files.load(data["files"])
    for raw_bot in data["bots"]:
        bot = emulator.authorize(str(raw_bot["token"]))
        bot.first_name = str(raw_bot["first_name"])
        bot.username = str(raw_bot["username"])
        for raw_chat in raw_bot["chats"]:
            user = emulator.users[int(raw_chat["user_id"])]
            chat = emulator.chat(bot, user)
            chat.blocked = bool(raw_chat["blocked"])
            chat.reply_keyboard = raw_chat["reply_keyboard"]
            chat.version = int(raw_chat["version"])
            for raw in raw_chat["messages"]:
                record = MessageRecord(**raw)
                chat.messages[record.message_id] = record
            chat.continue_message_ids(max(chat.messages, default=0) + 1)


def load(emulator: Emulator, path: Path) -> bool:
    """Load `path` if it exists; a file that cannot be read is set aside (never silently lost)."""
    if not path.exists():
        return False
    try:
        restore(emulator, json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, TypeError) as error:
        aside = path.with_name(path.name + ".unreadable")
        os.replace(path, aside)
        log.warning("sandbox chats in %s could not be read (%s); moved to %s, starting empty", path, error, aside)
        return False
    return True


def save(content: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(content, encoding="utf-8")
    os.replace(temporary, path)


class Saver:
    """Saves the emulator after changes, debounced, while the app runs; once more when it stops."""

    def __init__(self, emulator: Emulator, path: Path) -> None:
        self.emulator = emulator
        self.path = path
        self._task: asyncio.Task[None] | None = None
        self._saved: str | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            self.save_if_changed()
        except OSError:  # a full disk must not keep the app from shutting down
            log.exception("could not save the sandbox chats to %s", self.path)

    def save_if_changed(self) -> None:
        # Long polls fire the signal too; comparing the content skips writes when nothing changed.
        content = json.dumps(snapshot(self.emulator), ensure_ascii=False, sort_keys=True)
        if content != self._saved:
            save(content, self.path)
            self._saved = content

    async def _run(self) -> None:
        while True:
            await self.emulator.changed.wait(3600)
            await asyncio.sleep(DEBOUNCE_SECONDS)
            try:
                self.save_if_changed()
            except OSError:
                log.exception("could not save the sandbox chats to %s", self.path)

