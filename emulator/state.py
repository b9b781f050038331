"""The emulated world: bots, users, private chats, pending updates, files and counters.

Everything lives in memory in one event loop, so no locks are needed; every change fires one
`Signal` that wakes long polls, which then re-check their own condition.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
from aiohttp import web

from emulator.errors import unauthorized
from emulator.faults import Fault
from emulator.files import FileStore
from emulator.limits import RateLimiter
from emulator.markup import Markup
from emulator.personas import PERSONAS
from emulator.waiting import Signal

if TYPE_CHECKING:
    from emulator.webhook import WebhookDelivery

T = TypeVar("T")

# Telegram's default when allowed_updates was never set (or set to []).
_NOT_DELIVERED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass(frozen=True)
class LimitSettings:
    enforce: bool = True
    global_rate: int = 30
    per_chat_rate: float = 1.0


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    # Not a Telegram field: the number a request_contact button shares on this user's behalf.
    phone: str | None = None

    def user_object(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if (value := getattr(self, key)) is not None:
                user[key] = value
        return user

    def chat_object(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if (value := getattr(self, key)) is not None:
                chat[key] = value
        return chat

    def view(self) -> dict[str, Any]:
        return {**self.user_object(), "phone": self.phone}


@dataclass
class MessageRecord:
    message: dict[str, Any]
    outgoing: bool
    # reply_markup as the bot sent it; the Message object itself only carries inline keyboards.
    markup: Markup | None
    version: int
    deleted: bool = False
    edit_count: int = 0

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])


@dataclass
class CallbackAnswer:
    callback_query_id: str
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None
    version: int

    def view(self) -> dict[str, Any]:
        return {
            "callback_query_id": self.callback_query_id,
            "message_id": self.message_id,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "version": self.version,
        }


@dataclass(frozen=True)
class SendRecord:
    method: str
    at: float
    message_id: int | None


@dataclass
class CallbackQueryRecord:
    chat_id: int
    message_id: int
    answered: bool = False


class ChatState:
    """A private chat between one bot and one user (chat id == user id)."""

    def __init__(self, user: UserRecord, changed: Signal, versions: Iterator[int]) -> None:
        self.user = user
        self.messages: dict[int, MessageRecord] = {}
        self.blocked = False
        self.reply_keyboard: Markup | None = None
        self.callback_answers: list[CallbackAnswer] = []
        self.action: tuple[str, float] | None = None
        self.version = 0
        self._changed = changed
        # Versions come from one emulator-wide counter so a viewer's "since" survives a reset.
        self._versions = versions
        self._message_ids = itertools.count(1)

    @property
    def id(self) -> int:
        return self.user.id

    def bump(self) -> int:
        self.version = next(self._versions)
        self._changed.fire()
        return self.version

    def add_message(self, message: dict[str, Any], *, outgoing: bool, markup: Markup | None = None) -> MessageRecord:
        record = MessageRecord(message=message, outgoing=outgoing, markup=markup, version=self.bump())
        self.messages[record.message_id] = record
        return record

    def continue_message_ids(self, first: int) -> None:
        """After a restore: new messages take ids after the restored ones."""
        self._message_ids = itertools.count(first)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def live_message(self, message_id: int) -> MessageRecord | None:
        record = self.messages.get(message_id)
        return None if record is None or record.deleted else record


class BotState:
    def __init__(self, token: str, bot_id: int, limits: LimitSettings) -> None:
        self.token = token
        self.id = bot_id
        self.first_name = f"Emulated Bot {bot_id}"
        self.username = f"emulated_{bot_id}_bot"
        self._limits = limits
        self.reset()

    def reset(self) -> None:
        self.chats: dict[int, ChatState] = {}
        self.pending: list[dict[str, Any]] = []
        self.allowed_updates: list[str] | None = None
        self.webhook: WebhookDelivery | None = None
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.limiter = RateLimiter(self._limits.global_rate, self._limits.per_chat_rate)
        self.poll_generation = 0
        # Counters live on the bot, not the chat: a flood towards a chat that never started counts too.
        self.sends: defaultdict[int, list[SendRecord]] = defaultdict(list)
        self.rate_limited: Counter[int] = Counter()
        self.faults: defaultdict[int, deque[Fault]] = defaultdict(deque)
        self.faults_served = 0

    def user_object(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": True, "first_name": self.first_name, "username": self.username}

    def me(self) -> dict[str, Any]:
        return {
            **self.user_object(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def view(self) -> dict[str, Any]:
        return {**self.user_object(), "token": self.token, "webhook": self.webhook.url if self.webhook else None}

    def accepts(self, update_type: str) -> bool:
        if self.allowed_updates:
            return update_type in self.allowed_updates
        return update_type not in _NOT_DELIVERED_BY_DEFAULT

    def visible_commands(self, chat_id: int, language: str | None) -> list[dict[str, Any]]:
        """The command menu a private chat shows, resolved in Telegram's documented scope order."""
        scopes: list[dict[str, Any]] = [
            {"type": "chat", "chat_id": chat_id},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        for scope in scopes:
            for lang in ([language] if language else []) + [""]:
                commands = self.commands.get((scope_key(scope), lang))
                if commands:
                    return commands
        return []


def scope_key(scope: dict[str, Any]) -> str:
    parts = [str(scope.get("type", "default"))]
    if "chat_id" in scope:
        parts.append(str(scope["chat_id"]))
    if "user_id" in scope:
        parts.append(str(scope["user_id"]))
    return ":".join(parts)


class Emulator:
    def __init__(self, limits: LimitSettings) -> None:
        self.limits = limits
        self.bots: dict[int, BotState] = {}
        self.users: dict[int, UserRecord] = {}
        self.files = FileStore()
        self.changed = Signal()
        self.closing = False
        # Never restarted, not even by reset(): a polling bot's offset must keep matching new updates.
        self._update_ids = itertools.count(1)
        self._versions = itertools.count(1)
        # Bumped by reset() so viewers know to drop what they have shown.
        self.epoch = 1
        self._callback_ids = itertools.count(1)
        self._http: aiohttp.ClientSession | None = None
        self._seed_personas()

    def restart_versions_after(self, version: int) -> None:
        """After a restore: versions keep growing, so a viewer's "since" stays meaningful."""
        self._versions = itertools.count(version + 1)

    def _seed_personas(self) -> None:
        for persona in PERSONAS:
            self.users[persona.id] = UserRecord(
                id=persona.id,
                first_name=persona.first_name,
                last_name=persona.last_name,
                username=persona.username,
                language_code=persona.language_code,
                phone=persona.phone,
            )

    @staticmethod
    def now() -> int:
        return int(time.time())

    def authorize(self, token: str) -> BotState:
        """Find or register the bot a token names; a different secret for a known id is refused."""
        bot_id_text, separator, secret = token.partition(":")
        if not (bot_id_text.isdigit() and separator and secret):
            raise unauthorized()
        bot = self.bots.get(int(bot_id_text))
        if bot is None:
            bot = BotState(token, int(bot_id_text), self.limits)
            self.bots[bot.id] = bot
            self.changed.fire()
        elif bot.token != token:
            raise unauthorized()
        return bot

    def next_callback_query_id(self) -> str:
        return f"{next(self._callback_ids):019d}"

    def chat(self, bot: BotState, user: UserRecord) -> ChatState:
        chat = bot.chats.get(user.id)
        if chat is None:
            chat = bot.chats[user.id] = ChatState(user, self.changed, self._versions)
        return chat

    def enqueue(self, bot: BotState, update_type: str, payload: dict[str, Any]) -> None:
        """Queue an update unless filtered: like Telegram, allowed_updates applies when it is created."""
        if not bot.accepts(update_type):
            return
        bot.pending.append({"update_id": next(self._update_ids), update_type: payload})
        self.changed.fire()

    async def wait_until(self, condition: Callable[[], T], timeout: float) -> T:
        """Re-evaluate `condition` on every change until it is truthy, the time is up or we shut down."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = condition()
            remaining = deadline - loop.time()
            if result or self.closing or remaining <= 0:
                return result
            await self.changed.wait(remaining)

    def http(self) -> aiohttp.ClientSession:
        """The emulator's own HTTP client (webhook deliveries, photos sent by URL)."""
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def reset(self) -> None:
        for bot in self.bots.values():
            if bot.webhook is not None:
                await bot.webhook.stop()
            bot.reset()
        self.users.clear()
        self._seed_personas()
        self.files.clear()
        self.epoch += 1
        self.changed.fire()

    async def close(self) -> None:
        """Release long polls and stop deliveries so the server can shut down at once."""
        self.closing = True
        self.changed.fire()
        for bot in self.bots.values():
            if bot.webhook is not None:
                await bot.webhook.stop()
        if self._http is not None:
            await self._http.close()


EMULATOR_KEY = web.AppKey("emulator", Emulator)
