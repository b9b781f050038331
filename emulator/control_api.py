"""The control API under /control: tests and the sandbox act as users and inspect what the bot did.

JSON in, JSON out; failures answer {"error": "..."} with a 4xx status. Every route that concerns a
bot takes an optional "bot" (token or numeric id, in the body or the query string); it defaults to
the only bot that has talked to the emulator, waiting a few seconds for one to appear.

    GET    /control/bots                          bots seen so far
    POST   /control/bots                          {token, first_name?, username?} register or rename
    GET    /control/personas                      the sandbox's ready-made users
    GET    /control/users                         all users
    POST   /control/users                         {id?, first_name, last_name?, username?, language_code?, phone?}
    POST   /control/users/{id}/messages           {text, entities?}  text or /command; entities: bold, italic...
    POST   /control/users/{id}/contacts           {phone_number?, own=true, contact_user_id?, first_name?,
                                                   last_name?, forwarded=false}
    POST   /control/users/{id}/photos             {image_base64?, caption?}
    POST   /control/users/{id}/stickers           {emoji}
    POST   /control/users/{id}/edits              {message_id, text}  -> edited_message
    POST   /control/users/{id}/callbacks          {message_id, data}  -> {callback_query_id}
    POST   /control/users/{id}/block | /unblock   -> my_chat_member
    GET    /control/chats/{id}?since=V&wait=S&epoch=E   transcript changes after version V (long poll)
    POST   /control/chats/{id}/wait               {count?, contains?, regex?, after?, timeout?} (408 on timeout)
    GET    /control/files/{file_id}               raw bytes of any stored file
    POST   /control/faults                        {chat_id, kind: 429|403|500|timeout, count?, retry_after?,
                                                   delay?, deliver?}
    DELETE /control/faults?chat_id=               drop pending faults (all chats without chat_id)
    GET    /control/stats                         sends with timestamps, 429s given, faults served
    POST   /control/reset                         forget users, chats, files, updates, webhooks, counters
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from emulator.errors import ApiError, ControlError
from emulator.faults import Fault, FaultKind
from emulator.formatting import entities_to_html
from emulator.incoming import UserActions
from emulator.personas import PERSONAS
from emulator.state import EMULATOR_KEY, BotState, Emulator, MessageRecord, UserRecord

BOT_WAIT_SECONDS = 5.0
MAX_WAIT_SECONDS = 60.0
_FIRST_CUSTOM_USER_ID = 500000

ControlHandler = Callable[[web.Request], Awaitable[Any]]


def _endpoint(handler: ControlHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Turn a handler returning plain data into a JSON endpoint with uniform errors."""

    async def wrapper(request: web.Request) -> web.StreamResponse:
        try:
            result = await handler(request)
        except ControlError as error:
            return web.json_response({"error": error.message}, status=error.status)
        if isinstance(result, web.StreamResponse):
            return result
        return web.json_response(result)

    return wrapper


class Body:
    """Typed access to a JSON request body, refusing wrong types with a 400."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    async def read(cls, request: web.Request) -> Body:
        if not request.can_read_body:
            return cls({})
        try:
            data = await request.json()
        except ValueError:
            raise ControlError(400, "the body must be a JSON object") from None
        if not isinstance(data, dict):
            raise ControlError(400, "the body must be a JSON object")
        return cls(data)

    def _typed(self, key: str, kinds: tuple[type, ...], required: bool) -> Any:
        value = self.data.get(key)
        if value is None:
            if required:
                raise ControlError(400, f"{key} is required")
            return None
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ControlError(400, f"{key} has a wrong type")
        return value

    def int_or_none(self, key: str) -> int | None:
        value = self._typed(key, (int,), False)
        return None if value is None else int(value)

    def require_int(self, key: str) -> int:
        return int(self._typed(key, (int,), True))

    def str_or_none(self, key: str) -> str | None:
        value = self._typed(key, (str,), False)
        return None if value is None else str(value)

    def require_str(self, key: str) -> str:
        return str(self._typed(key, (str,), True))

    def float_or(self, key: str, default: float) -> float:
        value = self._typed(key, (int, float), False)
        return default if value is None else float(value)

    def bool_or(self, key: str, default: bool) -> bool:
        value = self._typed(key, (bool,), False)
        return default if value is None else bool(value)


async def select_bot(emulator: Emulator, ref: object) -> BotState:
    if ref in (None, ""):
        await emulator.wait_until(lambda: emulator.bots, BOT_WAIT_SECONDS)
        if not emulator.bots:
            raise ControlError(409, "no bot has called the Bot API yet; start the bot or POST /control/bots")
        if len(emulator.bots) > 1:
            raise ControlError(400, 'several bots are connected; pass "bot" (token or id)')
        return next(iter(emulator.bots.values()))
    text = str(ref)
    for bot in emulator.bots.values():
        if text in (bot.token, str(bot.id)):
            return bot
    raise ControlError(404, f"unknown bot {text}")


def _emulator(request: web.Request) -> Emulator:
    return request.app[EMULATOR_KEY]


def _path_int(request: web.Request, name: str) -> int:
    try:
        return int(request.match_info[name])
    except ValueError:
        raise ControlError(400, f"{name} must be an integer") from None


def _user(emulator: Emulator, user_id: int) -> UserRecord:
    """Users are created on first use, so a test can act as any id without a setup step."""
    user = emulator.users.get(user_id)
    if user is None:
        user = emulator.users[user_id] = UserRecord(id=user_id, first_name=f"User {user_id}", language_code="ru")
    return user


async def _actions(request: web.Request, body: Body) -> UserActions:
    emulator = _emulator(request)
    bot = await select_bot(emulator, body.data.get("bot") or request.query.get("bot"))
    return UserActions(emulator, bot, _user(emulator, _path_int(request, "user_id")))


def message_view(record: MessageRecord) -> dict[str, Any]:
    message = record.message
    text = message.get("text", message.get("caption"))
    entities = message.get("entities", message.get("caption_entities", []))
    return {
        "message_id": record.message_id,
        "outgoing": record.outgoing,
        "deleted": record.deleted,
        "edit_count": record.edit_count,
        "version": record.version,
        "markup": record.markup,
        "html": None if text is None else entities_to_html(text, entities),
        "message": message,
    }


@_endpoint
async def list_bots(request: web.Request) -> list[dict[str, Any]]:
    return [bot.view() for bot in _emulator(request).bots.values()]


@_endpoint
async def register_bot(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    emulator = _emulator(request)
    try:
        bot = emulator.authorize(body.require_str("token"))
    except ApiError as error:
        raise ControlError(400, "token must look like 123456:secret and match earlier use of that id") from error
    bot.first_name = body.str_or_none("first_name") or bot.first_name
    bot.username = body.str_or_none("username") or bot.username
    return bot.view()


@_endpoint
async def list_personas(request: web.Request) -> list[dict[str, Any]]:
    return [
        {
            "id": p.id,
            "first_name": p.first_name,
            "last_name": p.last_name,
            "username": p.username,
            "phone": p.phone,
            "language_code": p.language_code,
            "role_ru": p.role_ru,
            "role_en": p.role_en,
        }
        for p in PERSONAS
    ]


@_endpoint
async def list_users(request: web.Request) -> list[dict[str, Any]]:
    return [user.view() for user in _emulator(request).users.values()]


@_endpoint
async def upsert_user(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    emulator = _emulator(request)
    user_id = body.int_or_none("id") or max([_FIRST_CUSTOM_USER_ID, *emulator.users]) + 1
    user = emulator.users.get(user_id)
    if user is None:
        user = emulator.users[user_id] = UserRecord(id=user_id, first_name=body.require_str("first_name"))
    for key in ("first_name", "last_name", "username", "language_code", "phone"):
        if key in body.data:
            setattr(user, key, body.require_str(key) if key == "first_name" else body.str_or_none(key))
    emulator.changed.fire()
    return user.view()


@_endpoint
async def user_message(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    entities = body.data.get("entities")
    if entities is not None and not isinstance(entities, list):
        raise ControlError(400, "entities must be a list")
    return (await _actions(request, body)).text(body.require_str("text"), entities)


@_endpoint
async def user_contact(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    return (await _actions(request, body)).contact(
        body.str_or_none("phone_number"),
        own=body.bool_or("own", True),
        contact_user_id=body.int_or_none("contact_user_id"),
        first_name=body.str_or_none("first_name"),
        last_name=body.str_or_none("last_name"),
        forwarded=body.bool_or("forwarded", False),
    )


@_endpoint
async def user_photo(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    encoded = body.str_or_none("image_base64")
    try:
        data = base64.b64decode(encoded, validate=True) if encoded else None
    except binascii.Error:
        raise ControlError(400, "image_base64 is not valid base64") from None
    return (await _actions(request, body)).photo(data, body.str_or_none("caption"))


@_endpoint
async def user_sticker(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    return (await _actions(request, body)).sticker(body.str_or_none("emoji") or "👍")


@_endpoint
async def user_edit(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    return (await _actions(request, body)).edit(body.require_int("message_id"), body.require_str("text"))


@_endpoint
async def user_callback(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    actions = await _actions(request, body)
    return {"callback_query_id": actions.press(body.require_int("message_id"), body.require_str("data"))}


@_endpoint
async def user_block(request: web.Request) -> dict[str, Any]:
    return (await _actions(request, await Body.read(request))).set_blocked(True)


@_endpoint
async def user_unblock(request: web.Request) -> dict[str, Any]:
    return (await _actions(request, await Body.read(request))).set_blocked(False)


def _query_number(request: web.Request, name: str, default: float) -> float:
    try:
        return float(request.query.get(name, default))
    except ValueError:
        raise ControlError(400, f"{name} must be a number") from None


@_endpoint
async def chat_transcript(request: web.Request) -> dict[str, Any]:
    """Changes since version `since`; with `wait`, a long poll that answers at the first change."""
    emulator = _emulator(request)
    bot = await select_bot(emulator, request.query.get("bot"))
    chat_id = _path_int(request, "chat_id")
    since = int(_query_number(request, "since", 0))
    epoch = int(_query_number(request, "epoch", emulator.epoch))
    wait = min(_query_number(request, "wait", 0), MAX_WAIT_SECONDS)

    def changed() -> bool:
        chat = bot.chats.get(chat_id)
        return emulator.epoch != epoch or (chat is not None and chat.version > since)

    await emulator.wait_until(changed, wait)
    if emulator.epoch != epoch:
        since = 0
    chat = bot.chats.get(chat_id)
    user = emulator.users.get(chat_id)
    view: dict[str, Any] = {
        "bot": bot.user_object(),
        "chat_id": chat_id,
        "epoch": emulator.epoch,
        "version": since,
        "blocked": False,
        "messages": [],
        "callback_answers": [],
        "reply_keyboard": None,
        "action": None,
        "commands": bot.visible_commands(chat_id, user.language_code if user else None),
    }
    if chat is not None:
        view.update(
            version=max(chat.version, since),
            blocked=chat.blocked,
            messages=[message_view(r) for r in chat.messages.values() if r.version > since],
            callback_answers=[a.view() for a in chat.callback_answers if a.version > since],
            reply_keyboard=chat.reply_keyboard,
            action=None if chat.action is None else {"action": chat.action[0], "at": chat.action[1]},
        )
    return view


@_endpoint
async def wait_for_messages(request: web.Request) -> Any:
    """Long poll until the bot's messages (after message id `after`) satisfy the condition."""
    body = await Body.read(request)
    emulator = _emulator(request)
    bot = await select_bot(emulator, body.data.get("bot") or request.query.get("bot"))
    chat_id = _path_int(request, "chat_id")
    count = body.int_or_none("count") or 1
    after = body.int_or_none("after") or 0
    contains = body.str_or_none("contains")
    try:
        pattern = re.compile(body.str_or_none("regex") or "")
    except re.error as error:
        raise ControlError(400, f"bad regex: {error}") from None

    def candidates() -> list[MessageRecord]:
        chat = bot.chats.get(chat_id)
        if chat is None:
            return []
        return [r for r in chat.messages.values() if r.outgoing and not r.deleted and r.message_id > after]

    def matching() -> list[MessageRecord]:
        found = candidates()
        if contains is not None or pattern.pattern:
            texts = [(r, r.message.get("text", r.message.get("caption", ""))) for r in found]
            return [r for r, text in texts if (contains is None or contains in text) and pattern.search(text)][:1]
        return found[:count] if len(found) >= count else []

    found = await emulator.wait_until(matching, min(body.float_or("timeout", 5.0), MAX_WAIT_SECONDS))
    if not found:
        seen = [message_view(r) for r in candidates()]
        return web.json_response({"error": "timed out waiting for the bot", "messages": seen}, status=408)
    return {"messages": [message_view(r) for r in found]}


@_endpoint
async def download_file(request: web.Request) -> web.Response:
    stored = _emulator(request).files.get(request.match_info["file_id"])
    if stored is None:
        raise ControlError(404, "no such file")
    return web.Response(body=stored.data, content_type=stored.mime_type)


@_endpoint
async def add_fault(request: web.Request) -> dict[str, Any]:
    body = await Body.read(request)
    emulator = _emulator(request)
    bot = await select_bot(emulator, body.data.get("bot") or request.query.get("bot"))
    kind_text = str(body.data.get("kind", ""))
    try:
        kind = FaultKind(kind_text)
    except ValueError:
        raise ControlError(400, f"kind must be one of {[k.value for k in FaultKind]}") from None
    fault = Fault(
        kind=kind,
        remaining=body.int_or_none("count") or 1,
        retry_after=body.int_or_none("retry_after") or 1,
        delay=body.float_or("delay", 5.0),
        deliver=body.bool_or("deliver", False),
    )
    bot.faults[body.require_int("chat_id")].append(fault)
    return fault.view()


@_endpoint
async def clear_faults(request: web.Request) -> dict[str, Any]:
    emulator = _emulator(request)
    bot = await select_bot(emulator, request.query.get("bot"))
    if "chat_id" in request.query:
        bot.faults.pop(int(_query_number(request, "chat_id", 0)), None)
    else:
        bot.faults.clear()
    return {"ok": True}


@_endpoint
async def stats(request: web.Request) -> dict[str, Any]:
    emulator = _emulator(request)
    bot = await select_bot(emulator, request.query.get("bot"))
    return {
        "bot_id": bot.id,
        "sends": {
            str(chat_id): [{"method": s.method, "at": s.at, "message_id": s.message_id} for s in sends]
            for chat_id, sends in bot.sends.items()
        },
        "rate_limited": {str(chat_id): count for chat_id, count in bot.rate_limited.items()},
        "rate_limited_total": sum(bot.rate_limited.values()),
        "faults_served": bot.faults_served,
        "pending_faults": {str(chat_id): [f.view() for f in queue] for chat_id, queue in bot.faults.items() if queue},
        "pending_updates": len(bot.pending),
    }


@_endpoint
async def reset(request: web.Request) -> dict[str, Any]:
    await _emulator(request).reset()
    return {"ok": True}


def add_control_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/control/bots", list_bots)
    router.add_post("/control/bots", register_bot)
    router.add_get("/control/personas", list_personas)
    router.add_get("/control/users", list_users)
    router.add_post("/control/users", upsert_user)
    router.add_post("/control/users/{user_id}/messages", user_message)
    router.add_post("/control/users/{user_id}/contacts", user_contact)
    router.add_post("/control/users/{user_id}/photos", user_photo)
    router.add_post("/control/users/{user_id}/stickers", user_sticker)
    router.add_post("/control/users/{user_id}/edits", user_edit)
    router.add_post("/control/users/{user_id}/callbacks", user_callback)
    router.add_post("/control/users/{user_id}/block", user_block)
    router.add_post("/control/users/{user_id}/unblock", user_unblock)
    router.add_get("/control/chats/{chat_id}", chat_transcript)
    router.add_post("/control/chats/{chat_id}/wait", wait_for_messages)
    router.add_get("/control/files/{file_id}", download_file)
    router.add_post("/control/faults", add_fault)
    router.add_delete("/control/faults", clear_faults)
    router.add_get("/control/stats", stats)
    router.add_post("/control/reset", reset)
