"""What users do: each action records the user's side of the chat and queues the update the bot gets."""

from __future__ import annotations

import re
from typing import Any

from emulator.errors import ControlError
from emulator.files import placeholder_image
from emulator.formatting import Entity, utf16_len
from emulator.markup import has_callback_button
from emulator.state import BotState, CallbackQueryRecord, ChatState, Emulator, UserRecord

# What Telegram's apps let a person send in one message (UTF-16 code units, like the Bot API's limit).
MAX_TEXT_LENGTH = 4096
TOO_LONG = f"message is too long: at most {MAX_TEXT_LENGTH} characters"
# What Telegram's composer can produce from the keyboard (its formatting menu and shortcuts).
USER_FORMATTING = frozenset({"bold", "italic", "underline", "strikethrough", "spoiler", "code"})

# Telegram marks every "/command" that starts a word, with an optional @botname.
_BOT_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


def command_entities(text: str) -> list[Entity]:
    return [
        {"type": "bot_command", "offset": utf16_len(text[: match.start()]), "length": utf16_len(match.group())}
        for match in _BOT_COMMAND.finditer(text)
    ]


def user_entities(text: str, raw: list[Any]) -> list[Entity]:
    """The formatting a person can type in Telegram's apps, checked like the Bot API checks a bot's."""
    size = utf16_len(text)
    entities: list[Entity] = []
    for item in raw:
        if not isinstance(item, dict) or item.get("type") not in USER_FORMATTING:
            raise ControlError(400, f"entities: each must be one of {sorted(USER_FORMATTING)} with offset and length")
        offset, length = item.get("offset"), item.get("length")
        if not (isinstance(offset, int) and isinstance(length, int) and offset >= 0 and length > 0):
            raise ControlError(400, "entities: offset and length must be whole numbers, length above 0")
        if offset + length > size:
            raise ControlError(400, "entities: an entity reaches past the end of the text")
        entities.append({"type": item["type"], "offset": offset, "length": length})
    return entities


def _check_length(text: str) -> None:
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise ControlError(400, TOO_LONG)


class UserActions:
    """The actions of one user towards one bot."""

    def __init__(self, emulator: Emulator, bot: BotState, user: UserRecord) -> None:
        self.emulator = emulator
        self.bot = bot
        self.user = user

    @property
    def chat(self) -> ChatState:
        return self.emulator.chat(self.bot, self.user)

    def _send(self, content: dict[str, Any]) -> dict[str, Any]:
        chat = self.chat
        if chat.blocked:
            raise ControlError(409, "the user has blocked the bot; unblock it first")
        message = {
            "message_id": chat.next_message_id(),
            "from": self.user.user_object(),
            "chat": self.user.chat_object(),
            "date": self.emulator.now(),
            **content,
        }
        chat.add_message(message, outgoing=False)
        if chat.reply_keyboard is not None and chat.reply_keyboard.get("one_time_keyboard"):
            chat.reply_keyboard = None
        self.emulator.enqueue(self.bot, "message", message)
        return message

    def text(self, text: str, formatting: list[Any] | None = None) -> dict[str, Any]:
        """Send text; `formatting` is the bold/italic/... a person typed (entities, UTF-16 offsets)."""
        if not text.strip():
            raise ControlError(400, "text is empty")
        _check_length(text)
        entities = sorted(
            [*user_entities(text, formatting or []), *command_entities(text)],
            key=lambda e: (e["offset"], -e["length"]),
        )
        return self._send({"text": text, "entities": entities} if entities else {"text": text})

    def contact(
        self,
        phone_number: str | None,
        *,
        own: bool,
        contact_user_id: int | None,
        first_name: str | None,
        last_name: str | None,
        forwarded: bool,
    ) -> dict[str, Any]:
        """Own contact: what a request_contact button sends. Foreign: a contact card picked by hand."""
        if own:
            phone_number = phone_number or self.user.phone
            if not phone_number:
                raise ControlError(400, "the user has no phone; pass phone_number or set the user's phone")
            contact: dict[str, Any] = {
                "phone_number": phone_number,
                "first_name": self.user.first_name,
                "user_id": self.user.id,
            }
            if self.user.last_name:
                contact["last_name"] = self.user.last_name
        else:
            if not phone_number:
                raise ControlError(400, "phone_number is required for a foreign contact")
            contact = {"phone_number": phone_number, "first_name": first_name or "Contact"}
            if last_name:
                contact["last_name"] = last_name
            if contact_user_id is not None:
                contact["user_id"] = contact_user_id
        content: dict[str, Any] = {"contact": contact}
        if forwarded:
            content["forward_origin"] = self._forward_origin(contact)
        return self._send(content)

    def _forward_origin(self, contact: dict[str, Any]) -> dict[str, Any]:
        origin_user = self.emulator.users.get(contact.get("user_id", 0))
        if origin_user is not None:
            return {"type": "user", "sender_user": origin_user.user_object(), "date": self.emulator.now()}
        return {"type": "hidden_user", "sender_user_name": contact["first_name"], "date": self.emulator.now()}

    def photo(self, data: bytes | None, caption: str | None) -> dict[str, Any]:
        sizes = self.emulator.files.add_photo(data or placeholder_image())
        return self._send({"photo": sizes, "caption": caption} if caption else {"photo": sizes})

    def sticker(self, emoji: str) -> dict[str, Any]:
        stored = self.emulator.files.add(
            placeholder_image(side=512, image_format="WEBP"), kind="sticker", mime_type="image/webp", size=(512, 512)
        )
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._send({"sticker": sticker})

    def edit(self, message_id: int, text: str) -> dict[str, Any]:
        chat = self.chat
        record = chat.live_message(message_id)
        if record is None or record.outgoing:
            raise ControlError(404, f"the user has no message {message_id} in this chat")
        if "text" not in record.message:
            raise ControlError(400, "only text messages can be edited here")
        _check_length(text)
        edited = {key: value for key, value in record.message.items() if key != "entities"}
        edited["text"] = text
        if entities := command_entities(text):
            edited["entities"] = entities
        edited["edit_date"] = self.emulator.now()
        record.message = edited
        record.edit_count += 1
        record.version = chat.bump()
        self.emulator.enqueue(self.bot, "edited_message", edited)
        return edited

    def press(self, message_id: int, data: str) -> str:
        """Press an inline button; returns the callback_query id the bot must answer."""
        chat = self.chat
        if chat.blocked:
            raise ControlError(409, "the user has blocked the bot; unblock it first")
        record = chat.live_message(message_id)
        if record is None or not record.outgoing:
            raise ControlError(404, f"the bot has no message {message_id} in this chat")
        if not has_callback_button(record.markup, data):
            raise ControlError(400, f"message {message_id} has no inline button with callback_data {data!r}")
        query_id = self.emulator.next_callback_query_id()
        self.bot.callback_queries[query_id] = CallbackQueryRecord(chat_id=chat.id, message_id=message_id)
        query = {
            "id": query_id,
            "from": self.user.user_object(),
            "message": record.message,
            "chat_instance": f"{self.bot.id}{chat.id}",
            "data": data,
        }
        self.emulator.enqueue(self.bot, "callback_query", query)
        return query_id

    def set_blocked(self, blocked: bool) -> dict[str, Any]:
        """Block or unblock the bot; the bot learns it from a my_chat_member update, as in Telegram."""
        chat = self.chat
        if chat.blocked == blocked:
            raise ControlError(409, "the bot is already blocked" if blocked else "the bot is not blocked")
        chat.blocked = blocked
        chat.bump()
        bot_user = self.bot.user_object()
        member = {"status": "member", "user": bot_user}
        kicked = {"status": "kicked", "user": bot_user, "until_date": 0}
        update = {
            "chat": self.user.chat_object(),
            "from": self.user.user_object(),
            "date": self.emulator.now(),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }
        self.emulator.enqueue(self.bot, "my_chat_member", update)
        return update
