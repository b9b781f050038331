"""Private chats only, strangers always get the contact button back, unknown input never errors,
edited messages are ignored, flood control, and the command menu in both languages."""

from __future__ import annotations

import pytest
from aiogram.methods import AnswerCallbackQuery, SendMessage, SetMyCommands
from aiogram.types import BotCommandScopeAllPrivateChats, Update

from db.uow import UnitOfWork
from handlers.telegram.commands import CUSTOMER_COMMANDS, set_customer_commands
from services.clock import FrozenClock
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.telegram.customer import helpers
from tests.telegram.customer.helpers import customer_count, has_contact_button, last_message, register, reply_buttons


async def test_silent_outside_private_chats(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender, stranger = updates.user(71), updates.user(79)
    await register(harness, sender)
    for chat_type in ("group", "supergroup", "channel"):
        for who in (sender, stranger):
            for value in ("/start", "/card", "/balance", "/history", "/profile", "/help", "/language", "/deleteme",
                          "привет"):
                await harness.feed(updates.text(who, value, chat_type=chat_type))
    assert harness.session.requests == []


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_stranger_gets_the_prompt_with_the_contact_button_for_anything(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(72, language=language)
    inputs: list[Update] = [
        updates.text(sender, value) for value in ("привет", "/card", "/balance", "/history", "/profile", "/help",
                                                  "💳 Карта", "/nonsense")
    ]
    inputs += [helpers.sticker(sender), helpers.photo(sender), helpers.voice(sender)]
    for update in inputs:
        harness.session.clear()
        await harness.feed(update)
        answer = last_message(harness)
        assert has_contact_button(answer.reply_markup)
        assert {"ru": "бонусная программа", "en": "loyalty program"}[language] in answer.text
    assert await customer_count(uow) == 0


async def test_a_stranger_pressing_an_old_button_is_told_to_register(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    await harness.feed(updates.callback(updates.user(73, language="en"), "hist|first||1"))
    [answer] = harness.session.sent(AnswerCallbackQuery)
    assert answer.text == "Please register first: send /start and share your number."


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_customer_sending_something_unknown_gets_the_menu(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(74, language=language)
    await register(harness, sender)
    for update in (updates.text(sender, "что-то"), updates.text(sender, "/nonsense"), helpers.sticker(sender),
                   helpers.photo(sender), helpers.voice(sender)):
        harness.session.clear()
        await harness.feed(update)
        answer = last_message(harness)
        assert {"ru": "Не понял", "en": "did not get that"}[language] in answer.text
        assert {"ru": "💳 Карта", "en": "💳 Card"}[language] in reply_buttons(answer.reply_markup)


async def test_edited_messages_are_ignored(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(75)
    await harness.feed(helpers.edited(sender, "/start"))
    await register(harness, sender)
    await harness.feed(helpers.edited(sender, "/deleteme"))
    assert harness.session.requests == []


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_flood_is_slowed_with_one_notice(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock, flood_limit=3)
    sender = updates.user(76, language=language)
    for _ in range(10):
        await harness.feed(updates.text(sender, "/help"))
    texts = [m.text for m in harness.session.sent(SendMessage)]
    assert len(texts) == 4  # three answers, then one polite notice, then silence
    assert {"ru": "Не так быстро", "en": "Not so fast"}[language] in texts[-1]
    # Another person is not slowed by the first one's flood.
    harness.session.clear()
    await harness.feed(updates.text(updates.user(77), "/help"))
    assert len(harness.session.sent(SendMessage)) == 1


async def test_flood_control_lets_a_person_continue_after_the_window() -> None:
    from handlers.telegram.throttling import ThrottlingMiddleware

    now = [0.0]
    throttle = ThrottlingMiddleware(limit=2, window=1.0, now=lambda: now[0])
    passed: list[int] = []

    async def handler(event: object, data: dict[str, object]) -> None:
        passed.append(1)

    data = {"event_from_user": updates.user(78)}
    for _ in range(5):
        await throttle(handler, object(), data)  # type: ignore[arg-type]
    assert len(passed) == 2
    now[0] = 1.0
    await throttle(handler, object(), data)  # type: ignore[arg-type]
    assert len(passed) == 3


async def test_a_flood_lasting_seconds_gets_one_notice_and_a_later_flood_another() -> None:
    """Ten updates a second for three seconds is one flood: one notice, not one a second (each of
    which would itself meet Telegram's limit of a message a second in the chat)."""
    from handlers.telegram.throttling import ThrottlingMiddleware
    from locales import translator
    from tests.support.recording_bot import RecordingSession, recording_bot

    now = [0.0]
    throttle = ThrottlingMiddleware(limit=5, window=1.0, now=lambda: now[0], quiet=10.0)
    bot = recording_bot()
    sender = updates.user(80)

    async def handler(event: object, data: dict[str, object]) -> None:
        return None

    async def flood(seconds: int) -> None:
        for _ in range(seconds * 10):
            update = Update.model_validate(updates.text(sender, "/help").model_dump(), context={"bot": bot})
            data = {"event_from_user": sender, "event_chat": update.message.chat, "tr": translator()}  # type: ignore[union-attr]
            await throttle(handler, update, data)  # type: ignore[arg-type]
            now[0] += 0.1

    session = bot.session
    assert isinstance(session, RecordingSession)
    await flood(3)
    assert len(session.sent(SendMessage)) == 1
    now[0] += 10.0  # quiet for long enough: the flood is over
    await flood(1)
    assert len(session.sent(SendMessage)) == 2


@pytest.mark.parametrize("with_workflow_data", [True, False], ids=["polling", "webhook"])
async def test_customer_commands_are_set_at_startup_in_both_languages(
    uow: UnitOfWork, clock: FrozenClock, with_workflow_data: bool
) -> None:
    harness = make_harness(uow, clock)
    if with_workflow_data:
        await harness.dispatcher.emit_startup(bot=harness.bot, **harness.dispatcher.workflow_data)
    else:
        await set_customer_commands(harness.bot)  # the hook needs nothing but the bot
    # Staff hooks may set their own menus per staff chat; the customers' is for all private chats.
    calls = [c for c in harness.session.sent(SetMyCommands) if isinstance(c.scope, BotCommandScopeAllPrivateChats)]
    assert [call.language_code for call in calls] == [None, "ru", "en"]
    for call in calls:
        assert [c.command for c in call.commands] == list(CUSTOMER_COMMANDS)
    assert calls[2].commands[0].description == "My card and the code to pay"
    assert calls[1].commands[0].description == "Моя карта и код для оплаты"
