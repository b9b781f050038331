"""Build Telegram updates as a user's client would send them."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from aiogram.types import CallbackQuery, Chat, Contact, Message, MessageEntity, Update, User

_update_ids = itertools.count(1)
_message_ids = itertools.count(100_000)


def user(user_id: int, *, first_name: str = "Анна", last_name: str | None = "Петрова", language: str = "ru") -> User:
    return User(id=user_id, is_bot=False, first_name=first_name, last_name=last_name, language_code=language)


def _message(sender: User, *, chat_type: str = "private", **fields: object) -> Message:
    chat = Chat(id=sender.id if chat_type == "private" else -100123, type=chat_type)
    return Message(
        message_id=next(_message_ids), date=datetime.now(UTC), chat=chat, from_user=sender, **fields  # type: ignore[arg-type]
    )


def text(sender: User, value: str, *, chat_type: str = "private") -> Update:
    entities = None
    if value.startswith("/"):
        command = value.split()[0]
        entities = [MessageEntity(type="bot_command", offset=0, length=len(command))]
    message = _message(sender, chat_type=chat_type, text=value, entities=entities)
    return Update(update_id=next(_update_ids), message=message)


def contact(sender: User, phone: str, *, owner_id: int | None = -1) -> Update:
    """`owner_id=-1` (default) = the sender's own contact; another id or None = a foreign contact."""
    contact_user = sender.id if owner_id == -1 else owner_id
    shared = Contact(phone_number=phone, first_name=sender.first_name, last_name=sender.last_name, user_id=contact_user)
    return Update(update_id=next(_update_ids), message=_message(sender, contact=shared))


def callback(sender: User, data: str, *, message_text: str = "…", message_id: int | None = None) -> Update:
    bot_message = Message(
        message_id=message_id or next(_message_ids), date=datetime.now(UTC),
        chat=Chat(id=sender.id, type="private"), text=message_text,
    )
    query = CallbackQuery(
        id=str(next(_update_ids)), from_user=sender, chat_instance="ci", data=data, message=bot_message
    )
    return Update(update_id=next(_update_ids), callback_query=query)
