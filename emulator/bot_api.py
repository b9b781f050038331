"""The Bot API itself: /bot{token}/{method} and /file/bot{token}/{file_path}.

Answers mirror api.telegram.org: same envelopes, status codes and error descriptions, so aiogram
raises the same exception classes it would in production.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import aiohttp
import yarl
from aiohttp import web

from emulator.errors import (
    BLOCKED_BY_USER,
    ApiError,
    bad_request,
    conflict,
    forbidden,
    internal_error,
    not_found,
    too_many_requests,
)
from emulator.faults import FaultKind
from emulator.files import StoredFile
from emulator.formatting import format_text, utf16_len
from emulator.limits import LIMITED_METHODS
from emulator.markup import Markup, inline_only, parse_markup
from emulator.params import Params, UploadedFile
from emulator.state import (
    EMULATOR_KEY,
    BotState,
    CallbackAnswer,
    ChatState,
    Emulator,
    MessageRecord,
    SendRecord,
    scope_key,
)
from emulator.webhook import WebhookDelivery

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
logger = logging.getLogger(__name__)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class Call:
    emulator: Emulator
    bot: BotState
    params: Params

    def target_chat(self) -> ChatState:
        raw = self.params.get_str("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            # "@channelusername" targets: the emulator has only private chats.
            raise bad_request("chat not found") from None
        if chat_id not in self.emulator.users:
            raise bad_request("chat not found")
        chat = self.bot.chats.get(chat_id)
        if chat is None:
            raise forbidden("bot can't initiate conversation with a user")
        if chat.blocked:
            raise forbidden(BLOCKED_BY_USER)
        return chat

    def markup(self) -> Markup | None:
        return parse_markup(self.params.get_json("reply_markup"))

    def caption(self) -> dict[str, Any]:
        raw = self.params.get_str("caption")
        if not raw:
            return {}
        text, entities = format_text(raw, self.params.get_str("parse_mode"), self.params.get_json("caption_entities"))
        if utf16_len(text) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return {"caption": text, "caption_entities": entities} if entities else {"caption": text}

    def reply_target(self, chat: ChatState) -> dict[str, Any] | None:
        reply = self.params.get_json("reply_parameters") or {}
        message_id = reply.get("message_id") or self.params.get_int("reply_to_message_id")
        if not message_id:
            return None
        record = chat.live_message(int(message_id))
        if record is None:
            if reply.get("allow_sending_without_reply") or self.params.get_bool("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        # Telegram does not nest replies more than one level deep.
        return {key: value for key, value in record.message.items() if key != "reply_to_message"}

    def store_outgoing(self, chat: ChatState, content: dict[str, Any]) -> dict[str, Any]:
        markup = self.markup()
        reply = self.reply_target(chat)
        message: dict[str, Any] = {
            "message_id": chat.next_message_id(),
            "from": self.bot.user_object(),
            "chat": chat.user.chat_object(),
            "date": self.emulator.now(),
            **content,
        }
        if reply is not None:
            message["reply_to_message"] = reply
        if (inline := inline_only(markup)) is not None:
            message["reply_markup"] = inline
        chat.add_message(message, outgoing=True, markup=markup)
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        return message

    def editable(self, chat: ChatState, missing: str) -> MessageRecord:
        if self.params.has("inline_message_id"):
            # Inline mode is not emulated, so no inline message can exist.
            raise bad_request("MESSAGE_ID_INVALID")
        message_id = self.params.require_int("message_id", "message identifier is not specified")
        record = chat.live_message(message_id)
        if record is None:
            raise bad_request(missing)
        if not record.outgoing:
            raise bad_request("message can't be edited")
        return record

    def apply_edit(self, chat: ChatState, record: MessageRecord, changes: dict[str, Any]) -> dict[str, Any]:
        """Edits replace the inline keyboard too: omitting reply_markup removes it, as in Telegram."""
        markup = self.markup()
        if markup is not None and inline_only(markup) is None:
            raise bad_request("inline keyboard expected")
        edited = {key: value for key, value in record.message.items() if key not in changes}
        edited.update({key: value for key, value in changes.items() if value})
        edited.pop("reply_markup", None)
        if markup is not None:
            edited["reply_markup"] = markup

        def content(message: dict[str, Any]) -> dict[str, Any]:
            return {key: value for key, value in message.items() if key != "edit_date"}

        if content(edited) == content(record.message):
            raise bad_request(NOT_MODIFIED)
        edited["edit_date"] = self.emulator.now()
        record.message = edited
        record.markup = markup
        record.edit_count += 1
        record.version = chat.bump()
        return edited

    async def input_file(self, name: str, kind: str) -> UploadedFile | StoredFile:
        value = self.params.get_file(name)
        if value is None or value == "":
            raise bad_request(f"there is no {name} in the request")
        if isinstance(value, UploadedFile):
            return value
        if value.startswith(("http://", "https://")):
            return await self._download(value)
        stored = self.emulator.files.get(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request("type of file mismatch")
        return stored

    async def _download(self, url: str) -> UploadedFile:
        """Telegram fetches URLs itself; so does the emulator (it only reaches local servers here)."""
        try:
            async with self.emulator.http().get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                response.raise_for_status()
                data = await response.read()
                content_type = response.content_type
        except (aiohttp.ClientError, TimeoutError) as error:
            raise bad_request("failed to get HTTP URL content") from error
        return UploadedFile(data, yarl.URL(url).name or None, content_type)


Handler = Callable[[Call], Awaitable[Any]]
_METHODS: dict[str, tuple[str, Handler]] = {}


def method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler; Telegram matches method names case-insensitively."""

    def register(handler: Handler) -> Handler:
        _METHODS[name.lower()] = (name, handler)
        return handler

    return register


async def execute(emulator: Emulator, bot: BotState, method_name: str, params: Params) -> Any:
    """Run one method with fault injection and flood control around the message-producing ones."""
    found = _METHODS.get(method_name.lower())
    if found is None:
        raise not_found()
    canonical, handler = found
    call = Call(emulator, bot, params)
    chat_id = _limited_chat_id(method_name, params)
    if chat_id is None:
        return await handler(call)
    if bot.faults[chat_id]:
        await _serve_fault(emulator, bot, chat_id)
    if emulator.limits.enforce and (retry_after := bot.limiter.retry_after(chat_id, time.monotonic())):
        bot.rate_limited[chat_id] += 1
        raise too_many_requests(retry_after)
    result = await handler(call)
    bot.limiter.record(chat_id, time.monotonic())
    message_id = result.get("message_id") if isinstance(result, dict) else None
    bot.sends[chat_id].append(SendRecord(canonical, time.time(), message_id))
    return result


def _limited_chat_id(method_name: str, params: Params) -> int | None:
    if method_name.lower() not in LIMITED_METHODS:
        return None
    try:
        return params.get_int("chat_id")
    except ApiError:
        return None


async def _serve_fault(emulator: Emulator, bot: BotState, chat_id: int) -> None:
    queue = bot.faults[chat_id]
    fault = queue[0]
    fault.remaining -= 1
    if fault.remaining <= 0:
        queue.popleft()
    bot.faults_served += 1
    emulator.changed.fire()
    if fault.kind is FaultKind.TOO_MANY_REQUESTS:
        raise too_many_requests(fault.retry_after)
    if fault.kind is FaultKind.FORBIDDEN:
        raise forbidden(BLOCKED_BY_USER)
    if fault.kind is FaultKind.SERVER_ERROR:
        raise internal_error()
    await emulator.wait_until(lambda: False, fault.delay)
    if not fault.deliver:
        raise ApiError(502, "Bad Gateway")


async def handle_method(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    try:
        bot = emulator.authorize(request.match_info["token"])
        params = await Params.from_request(request)
        result = await execute(emulator, bot, request.match_info["method"], params)
    except ApiError as error:
        return error.response()
    except Exception:
        # An emulator bug must still look like a Telegram failure to the bot, and be visible in the log.
        logger.exception("emulator failed on %s", request.match_info["method"])
        return internal_error().response()
    return web.json_response({"ok": True, "result": result})


async def handle_file_download(request: web.Request) -> web.Response:
    emulator = request.app[EMULATOR_KEY]
    try:
        emulator.authorize(request.match_info["token"])
    except ApiError as error:
        return error.response()
    stored = emulator.files.by_path(request.match_info["file_path"])
    if stored is None:
        return not_found().response()
    return web.Response(body=stored.data, content_type=stored.mime_type)


@method("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    return call.bot.me()


@method("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    bot, params = call.bot, call.params
    if bot.webhook is not None:
        raise conflict(
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"
        )
    offset = params.get_int("offset")
    if offset is not None and offset > 0:
        bot.pending[:] = [update for update in bot.pending if update["update_id"] >= offset]
    elif offset is not None and offset < 0:
        bot.pending[:] = bot.pending[offset:]
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = list(allowed) or None
    limit = min(max(params.get_int("limit") or 100, 1), 100)
    timeout = max(params.get_int("timeout") or 0, 0)
    # A newer getUpdates ends an older pending one with 409, which is how Telegram reports two
    # instances of one bot polling at once.
    bot.poll_generation += 1
    generation = bot.poll_generation
    call.emulator.changed.fire()

    def ready() -> list[dict[str, Any]]:
        if bot.poll_generation != generation:
            raise conflict("terminated by other getUpdates request; make sure that only one bot instance is running")
        if bot.webhook is not None:
            raise conflict("terminated by setWebhook request")
        return bot.pending[:limit]

    return await call.emulator.wait_until(ready, timeout)


@method("setWebhook")
async def set_webhook(call: Call) -> bool:
    bot, params = call.bot, call.params
    url = params.get_str("url") or ""
    secret_token = params.get_str("secret_token")
    max_connections = params.get_int("max_connections") or 40
    if url:
        parsed = yarl.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise bad_request("bad webhook: invalid webhook URL specified")
        if secret_token is not None and not _SECRET_TOKEN.fullmatch(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
    await _drop_webhook(call)
    allowed = params.get_json("allowed_updates")
    if allowed is not None:
        bot.allowed_updates = list(allowed) or None
    if url:
        bot.webhook = WebhookDelivery(
            call.emulator,
            bot,
            url=url,
            secret_token=secret_token,
            max_connections=max_connections,
            execute=partial(execute, call.emulator),
        )
        bot.webhook.start()
    call.emulator.changed.fire()
    return True


@method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    await _drop_webhook(call)
    call.emulator.changed.fire()
    return True


async def _drop_webhook(call: Call) -> None:
    if call.bot.webhook is not None:
        await call.bot.webhook.stop()
        call.bot.webhook = None
    if call.params.get_bool("drop_pending_updates"):
        call.bot.pending.clear()


@method("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    bot = call.bot
    info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(bot.pending)}
    if bot.webhook is not None:
        info.update(bot.webhook.info())
        if bot.allowed_updates:
            info["allowed_updates"] = bot.allowed_updates
    return info


@method("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    chat = call.target_chat()
    params = call.params
    raw = params.require_str("text", "message text is empty")
    text, entities = format_text(raw, params.get_str("parse_mode"), params.get_json("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return call.store_outgoing(chat, {"text": text, "entities": entities} if entities else {"text": text})


@method("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    chat = call.target_chat()
    source = await call.input_file("photo", "photo")
    caption = call.caption()
    sizes = source.photo_sizes if isinstance(source, StoredFile) else call.emulator.files.add_photo(source.data)
    return call.store_outgoing(chat, {"photo": sizes, **caption})


@method("sendDocument")
async def send_document(call: Call) -> dict[str, Any]:
    chat = call.target_chat()
    source = await call.input_file("document", "document")
    caption = call.caption()
    if isinstance(source, UploadedFile):
        source = call.emulator.files.add(
            source.data,
            kind="document",
            mime_type=source.content_type or "application/octet-stream",
            file_name=source.filename,
        )
    return call.store_outgoing(chat, {"document": source.document_object(), **caption})


@method("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    chat = call.target_chat()
    record = call.editable(chat, "message to edit not found")
    if "text" not in record.message:
        raise bad_request("there is no text in the message to edit")
    params = call.params
    raw = params.require_str("text", "message text is empty")
    text, entities = format_text(raw, params.get_str("parse_mode"), params.get_json("entities"))
    if not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return call.apply_edit(chat, record, {"text": text, "entities": entities})


@method("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    chat = call.target_chat()
    record = call.editable(chat, "message to edit not found")
    if "photo" not in record.message and "document" not in record.message:
        raise bad_request("there is no caption in the message to edit")
    caption = call.caption()
    return call.apply_edit(
        chat, record, {"caption": caption.get("caption"), "caption_entities": caption.get("caption_entities")}
    )


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    chat = call.target_chat()
    record = call.editable(chat, "message to edit not found")
    return call.apply_edit(chat, record, {})


@method("deleteMessage")
async def delete_message(call: Call) -> bool:
    chat = call.target_chat()
    message_id = call.params.require_int("message_id", "message identifier is not specified")
    record = chat.live_message(message_id)
    if record is None:
        raise bad_request("message to delete not found")
    record.deleted = True
    record.version = chat.bump()
    return True


@method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    query_id = call.params.require_str("callback_query_id", QUERY_TOO_OLD)
    query = call.bot.callback_queries.get(query_id)
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    query.answered = True
    chat = call.bot.chats[query.chat_id]
    version = chat.bump()
    chat.callback_answers.append(
        CallbackAnswer(
            callback_query_id=query_id,
            message_id=query.message_id,
            text=call.params.get_str("text"),
            show_alert=call.params.get_bool("show_alert"),
            url=call.params.get_str("url"),
            version=version,
        )
    )
    return True


def _commands_key(call: Call) -> tuple[str, str]:
    scope = call.params.get_json("scope") or {"type": "default"}
    return scope_key(scope), call.params.get_str("language_code") or ""


@method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    raw = call.params.get_json("commands")
    if not isinstance(raw, list) or len(raw) > 100:
        raise bad_request("commands must be a list of at most 100 BotCommand objects")
    commands = []
    for item in raw:
        command = str(item.get("command", "")).removeprefix("/") if isinstance(item, dict) else ""
        description = str(item.get("description", "")) if isinstance(item, dict) else ""
        if not _COMMAND.fullmatch(command):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        commands.append({"command": command, "description": description})
    key = _commands_key(call)
    if commands:
        call.bot.commands[key] = commands
    else:
        call.bot.commands.pop(key, None)
    call.emulator.changed.fire()
    return True


@method("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, Any]]:
    return call.bot.commands.get(_commands_key(call), [])


@method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    call.bot.commands.pop(_commands_key(call), None)
    call.emulator.changed.fire()
    return True


@method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    chat = call.target_chat()
    action = call.params.get_str("action")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    chat.action = (action, time.time())
    chat.bump()
    return True


@method("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    stored = call.emulator.files.get(call.params.get_str("file_id") or "")
    if stored is None:
        raise bad_request("invalid file_id")
    return stored.file_object()
