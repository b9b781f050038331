"""EmulatorClient: act as Telegram users and inspect what the bot did, from tests or scripts.

    async with running_emulator() as emu:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emu.url)))
        ...start polling...
        anna = await emu.client.create_user(1001, "Anna", phone="79161234567")
        sent = await emu.client.send_text(anna, "/start")
        reply = await emu.client.wait_for(anna, "Welcome", after=sent)
        await emu.client.press(anna, reply.message_id, reply.button("Balance").callback_data)

Users and chats are interchangeable in arguments (a private chat's id is the user's id).
`wait_for` matches the bot's current messages, edits included; pass `after` (a message or id) to
ignore what was there before.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

import aiohttp

FaultName = Literal["429", "403", "500", "timeout"]


@dataclass(frozen=True)
class User:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    phone: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        return cls(
            id=data["id"],
            first_name=data["first_name"],
            last_name=data.get("last_name"),
            username=data.get("username"),
            language_code=data.get("language_code"),
            phone=data.get("phone"),
        )


ChatRef = int | User


@dataclass(frozen=True)
class Button:
    text: str
    raw: dict[str, Any]

    @property
    def callback_data(self) -> str | None:
        return self.raw.get("callback_data")

    @property
    def url(self) -> str | None:
        return self.raw.get("url")

    @property
    def request_contact(self) -> bool:
        return bool(self.raw.get("request_contact"))


@dataclass(frozen=True)
class ChatMessage:
    """One message of a chat as it is now (edits applied); `outgoing` means sent by the bot."""

    message_id: int
    outgoing: bool
    deleted: bool
    edit_count: int
    html: str | None
    markup: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatMessage:
        return cls(
            message_id=data["message_id"],
            outgoing=data["outgoing"],
            deleted=data["deleted"],
            edit_count=data["edit_count"],
            html=data["html"],
            markup=data["markup"],
            raw=data["message"],
        )

    @property
    def text(self) -> str:
        """The text, or the caption of a photo or document ("" when neither)."""
        return str(self.raw.get("text", self.raw.get("caption", "")))

    @property
    def edited(self) -> bool:
        return self.edit_count > 0

    @property
    def photo(self) -> list[dict[str, Any]] | None:
        return self.raw.get("photo")

    @property
    def document(self) -> dict[str, Any] | None:
        return self.raw.get("document")

    @property
    def contact(self) -> dict[str, Any] | None:
        return self.raw.get("contact")

    @property
    def inline_buttons(self) -> list[Button]:
        rows = (self.markup or {}).get("inline_keyboard", [])
        return [Button(b["text"], b) for row in rows for b in row]

    @property
    def reply_buttons(self) -> list[Button]:
        rows = (self.markup or {}).get("keyboard", [])
        return [Button(b["text"], b) for row in rows for b in row]

    @property
    def removes_keyboard(self) -> bool:
        return bool((self.markup or {}).get("remove_keyboard"))

    def button(self, text: str) -> Button:
        """The inline or reply button whose label is `text` (or, failing that, contains it)."""
        buttons = self.inline_buttons + self.reply_buttons
        for candidates in ([b for b in buttons if b.text == text], [b for b in buttons if text in b.text]):
            if candidates:
                return candidates[0]
        raise LookupError(f"no button {text!r} in message {self.message_id}; buttons: {[b.text for b in buttons]}")


MessageRef = int | ChatMessage


@dataclass(frozen=True)
class CallbackAnswer:
    callback_query_id: str
    message_id: int | None
    text: str | None
    show_alert: bool
    url: str | None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CallbackAnswer:
        return cls(data["callback_query_id"], data["message_id"], data["text"], data["show_alert"], data["url"])


@dataclass(frozen=True)
class ChatView:
    chat_id: int
    version: int
    epoch: int
    blocked: bool
    messages: list[ChatMessage]
    callback_answers: list[CallbackAnswer]
    reply_keyboard: dict[str, Any] | None
    commands: list[dict[str, Any]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChatView:
        return cls(
            chat_id=data["chat_id"],
            version=data["version"],
            epoch=data["epoch"],
            blocked=data["blocked"],
            messages=[ChatMessage.from_json(m) for m in data["messages"]],
            callback_answers=[CallbackAnswer.from_json(a) for a in data["callback_answers"]],
            reply_keyboard=data["reply_keyboard"],
            commands=data["commands"],
        )


@dataclass(frozen=True)
class Send:
    method: str
    at: float
    message_id: int | None


@dataclass(frozen=True)
class Stats:
    sends: dict[int, list[Send]]
    rate_limited: dict[int, int]
    rate_limited_total: int
    faults_served: int
    pending_updates: int

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Stats:
        return cls(
            sends={int(k): [Send(s["method"], s["at"], s["message_id"]) for s in v] for k, v in data["sends"].items()},
            rate_limited={int(k): v for k, v in data["rate_limited"].items()},
            rate_limited_total=data["rate_limited_total"],
            faults_served=data["faults_served"],
            pending_updates=data["pending_updates"],
        )

    def max_sends_in_window(self, chat: ChatRef | None = None, window: float = 1.0) -> int:
        """The most accepted sends within any `window` seconds, to one chat or over all chats."""
        if chat is None:
            times = sorted(s.at for sends in self.sends.values() for s in sends)
        else:
            times = sorted(s.at for s in self.sends.get(_id(chat), []))
        best = start = 0
        for end, at in enumerate(times):
            while at - times[start] >= window:
                start += 1
            best = max(best, end - start + 1)
        return best


class EmulatorError(Exception):
    def __init__(self, status: int, message: str, payload: dict[str, Any]) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.payload = payload


class WaitTimeout(AssertionError):
    """The bot did not produce the awaited message in time (an assertion failure in a test)."""


def _id(ref: ChatRef) -> int:
    return ref.id if isinstance(ref, User) else int(ref)


def _message_id(ref: MessageRef | None) -> int:
    if ref is None:
        return 0
    return ref.message_id if isinstance(ref, ChatMessage) else int(ref)


def _describe(messages: list[ChatMessage]) -> str:
    texts = [f"#{m.message_id} {m.text!r}" for m in messages if m.outgoing and not m.deleted]
    return "; ".join(texts) or "nothing"


class EmulatorClient:
    def __init__(
        self, base_url: str, *, bot: str | int | None = None, session: aiohttp.ClientSession | None = None
    ) -> None:
        """`base_url` is the emulator's root (with the mount prefix, if any); `bot` picks one of several bots."""
        self.base_url = base_url.rstrip("/")
        self.bot = bot
        self._session = session
        self._owns_session = session is None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    def for_bot(self, bot: str | int) -> EmulatorClient:
        """A client for another bot of the same emulator (the caller keeps closing this one)."""
        return EmulatorClient(self.base_url, bot=bot, session=self._http())

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def _request(self, method: str, path: str, *, json: dict[str, Any] | None = None, **query: Any) -> Any:
        params = {key: str(value) for key, value in query.items() if value is not None}
        if self.bot is not None:
            params["bot"] = str(self.bot)
        async with self._http().request(method, f"{self.base_url}/control{path}", json=json, params=params) as response:
            try:
                payload = await response.json(content_type=None)
            except ValueError:
                # Not the control API at all (a wrong base URL, a proxy page): show what came back.
                raise EmulatorError(response.status, await response.text(), {}) from None
            if response.status >= 400:
                raise EmulatorError(response.status, payload.get("error", ""), payload)
            return payload

    # --- bots and users -------------------------------------------------------------------------

    async def register_bot(self, token: str, *, first_name: str | None = None, username: str | None = None) -> None:
        """Make a bot known before it first calls the API (so actions need not wait for it)."""
        await self._request("POST", "/bots", json={"token": token, "first_name": first_name, "username": username})

    async def create_user(
        self,
        user_id: int | None = None,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "ru",
        phone: str | None = None,
    ) -> User:
        """Create or update a user; `phone` is what its request_contact buttons share."""
        body = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "username": username,
            "language_code": language_code,
            "phone": phone,
        }
        return User.from_json(await self._request("POST", "/users", json=body))

    async def users(self) -> list[User]:
        return [User.from_json(u) for u in await self._request("GET", "/users")]

    # --- acting as a user -------------------------------------------------------------------------

    async def _user_message(self, user: ChatRef, action: str, body: dict[str, Any]) -> ChatMessage:
        raw = await self._request("POST", f"/users/{_id(user)}/{action}", json=body)
        return ChatMessage(raw["message_id"], False, False, 0, None, None, raw)

    async def send_text(self, user: ChatRef, text: str, *, entities: list[dict[str, Any]] | None = None) -> ChatMessage:
        """Send text; a leading /command gets its bot_command entity like in Telegram. `entities`:
        the formatting the person typed ({"type": "bold", "offset": 0, "length": 3}, UTF-16 units)."""
        body: dict[str, Any] = {"text": text}
        if entities:
            body["entities"] = entities
        return await self._user_message(user, "messages", body)

    async def send_contact(
        self,
        user: ChatRef,
        phone: str | None = None,
        *,
        own: bool = True,
        contact_user_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        forwarded: bool = False,
    ) -> ChatMessage:
        """Own contact (contact.user_id == sender; phone defaults to the user's), or someone else's."""
        body = {
            "phone_number": phone,
            "own": own,
            "contact_user_id": contact_user_id,
            "first_name": first_name,
            "last_name": last_name,
            "forwarded": forwarded,
        }
        return await self._user_message(user, "contacts", body)

    async def send_photo(self, user: ChatRef, image: bytes | None = None, *, caption: str | None = None) -> ChatMessage:
        encoded = base64.b64encode(image).decode() if image is not None else None
        return await self._user_message(user, "photos", {"image_base64": encoded, "caption": caption})

    async def send_sticker(self, user: ChatRef, emoji: str = "👍") -> ChatMessage:
        return await self._user_message(user, "stickers", {"emoji": emoji})

    async def edit_text(self, user: ChatRef, message: MessageRef, text: str) -> ChatMessage:
        """Edit one of the user's own messages: the bot gets an edited_message update."""
        return await self._user_message(user, "edits", {"message_id": _message_id(message), "text": text})

    async def press(self, user: ChatRef, message: MessageRef, data: str) -> str:
        """Press the inline button with callback_data `data`; returns the callback_query id."""
        body = {"message_id": _message_id(message), "data": data}
        result = await self._request("POST", f"/users/{_id(user)}/callbacks", json=body)
        return str(result["callback_query_id"])

    async def press_button(self, user: ChatRef, text: str) -> str:
        """Press the inline button labelled `text` on the newest bot message that has one."""
        for message in reversed(await self.messages(user)):
            button = next((b for b in message.inline_buttons if b.text == text and b.callback_data), None)
            if button is not None and button.callback_data is not None:
                return await self.press(user, message, button.callback_data)
        raise LookupError(f"no inline button {text!r} in chat {_id(user)}")

    async def reply_button(self, user: ChatRef, text: str) -> ChatMessage:
        """Tap a button of the reply keyboard shown now: sends its text, or the own contact."""
        keyboard = (await self.chat(user)).reply_keyboard or {}
        for row in keyboard.get("keyboard", []):
            for button in row:
                if button["text"] == text:
                    if button.get("request_contact"):
                        return await self.send_contact(user)
                    return await self.send_text(user, text)
        raise LookupError(f"no reply keyboard button {text!r} shown in chat {_id(user)}")

    async def block(self, user: ChatRef) -> None:
        await self._request("POST", f"/users/{_id(user)}/block")

    async def unblock(self, user: ChatRef) -> None:
        await self._request("POST", f"/users/{_id(user)}/unblock")

    # --- reading --------------------------------------------------------------------------------

    async def chat(self, chat: ChatRef, *, since: int = 0, wait: float = 0, epoch: int | None = None) -> ChatView:
        """The chat's messages (both sides) changed after version `since`; `wait` long-polls for a change."""
        data = await self._request("GET", f"/chats/{_id(chat)}", since=since, wait=wait, epoch=epoch)
        return ChatView.from_json(data)

    async def messages(
        self, chat: ChatRef, *, include_user: bool = False, include_deleted: bool = False
    ) -> list[ChatMessage]:
        """What the bot sent to the chat, oldest first, edits applied."""
        return [
            m
            for m in (await self.chat(chat)).messages
            if (include_user or m.outgoing) and (include_deleted or not m.deleted)
        ]

    async def last_message(self, chat: ChatRef) -> ChatMessage:
        messages = await self.messages(chat)
        if not messages:
            raise LookupError(f"the bot has sent nothing to chat {_id(chat)}")
        return messages[-1]

    async def callback_answers(self, chat: ChatRef) -> list[CallbackAnswer]:
        return (await self.chat(chat)).callback_answers

    async def wait_for(
        self,
        chat: ChatRef,
        match: str | re.Pattern[str] | Callable[[ChatMessage], bool],
        timeout: float = 5.0,
        *,
        after: MessageRef | None = None,
    ) -> ChatMessage:
        """The first bot message (id > `after`) whose text contains `match`, matches the regex or the predicate."""
        if callable(match):
            return await self._wait_locally(chat, match, timeout, _message_id(after), repr(match))
        body: dict[str, Any] = {"timeout": timeout, "after": _message_id(after)}
        if isinstance(match, re.Pattern):
            body["regex"] = match.pattern
        else:
            body["contains"] = match
        return (await self._wait(chat, body, f"a message matching {match!r}"))[0]

    async def wait_for_count(
        self, chat: ChatRef, count: int, timeout: float = 5.0, *, after: MessageRef | None = None
    ) -> list[ChatMessage]:
        """The first `count` bot messages after `after`, once that many exist."""
        body = {"count": count, "timeout": timeout, "after": _message_id(after)}
        return await self._wait(chat, body, f"{count} messages")

    async def _wait(self, chat: ChatRef, body: dict[str, Any], wanted: str) -> list[ChatMessage]:
        try:
            data = await self._request("POST", f"/chats/{_id(chat)}/wait", json=body)
        except EmulatorError as error:
            if error.status != 408:
                raise
            seen = [ChatMessage.from_json(m) for m in error.payload.get("messages", [])]
            raise WaitTimeout(
                f"chat {_id(chat)}: no {wanted} within {body['timeout']}s; the bot sent: {_describe(seen)}"
            ) from None
        return [ChatMessage.from_json(m) for m in data["messages"]]

    async def _wait_locally(
        self, chat: ChatRef, predicate: Callable[[ChatMessage], bool], timeout: float, after: int, wanted: str
    ) -> ChatMessage:
        """Long-poll the transcript and test each change here (a Python predicate can't travel)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        current: dict[int, ChatMessage] = {}
        since, epoch = 0, None
        while True:
            view = await self.chat(chat, since=since, wait=max(0.0, deadline - loop.time()), epoch=epoch)
            if epoch is not None and view.epoch != epoch:
                current.clear()
            since, epoch = view.version, view.epoch
            current.update((m.message_id, m) for m in view.messages)
            for message in sorted(current.values(), key=lambda m: m.message_id):
                if message.outgoing and not message.deleted and message.message_id > after and predicate(message):
                    return message
            if loop.time() >= deadline:
                raise WaitTimeout(
                    f"chat {_id(chat)}: no {wanted} within {timeout}s; "
                    f"the bot sent: {_describe(list(current.values()))}"
                )

    async def wait_for_answer(self, chat: ChatRef, callback_query_id: str, timeout: float = 5.0) -> CallbackAnswer:
        """Wait until the bot answers the callback query (answerCallbackQuery)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        since = 0
        while True:
            view = await self.chat(chat, since=since, wait=max(0.0, deadline - loop.time()))
            since = view.version
            for answer in view.callback_answers:
                if answer.callback_query_id == callback_query_id:
                    return answer
            if loop.time() >= deadline:
                raise WaitTimeout(f"chat {_id(chat)}: callback query {callback_query_id} not answered in {timeout}s")

    # --- faults and counters ----------------------------------------------------------------------

    async def inject_fault(
        self,
        chat: ChatRef,
        kind: FaultName,
        *,
        count: int = 1,
        retry_after: int = 1,
        delay: float = 5.0,
        deliver: bool = False,
    ) -> None:
        """Make the next `count` sends/edits to the chat fail: 429 (retry_after), 403, 500, or "timeout"
        (the server stalls `delay` s, then answers 502, or performs the call when `deliver`)."""
        body = {
            "chat_id": _id(chat),
            "kind": kind,
            "count": count,
            "retry_after": retry_after,
            "delay": delay,
            "deliver": deliver,
        }
        await self._request("POST", "/faults", json=body)

    async def clear_faults(self, chat: ChatRef | None = None) -> None:
        await self._request("DELETE", "/faults", chat_id=None if chat is None else _id(chat))

    async def stats(self) -> Stats:
        return Stats.from_json(await self._request("GET", "/stats"))

    async def reset(self) -> None:
        """Forget users, chats, files, pending updates, webhooks, faults and counters (bots stay known)."""
        await self._request("POST", "/reset")
