"""/broadcast, /outbox and reachability through Dispatcher.feed_update with a recording bot."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import SendMessage
from aiogram.types import (
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    Update,
)

from db.uow import UnitOfWork
from handlers.telegram.broadcast import BroadcastAction
from services import customers
from services.clock import FrozenClock
from tests.notifications.helpers import VirtualTime, by_kind, make_admin, make_person, make_sender, outbox, sent_texts
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.support.recording_bot import BOT_USER, recording_bot

ADMIN = 777_001
_ids = itertools.count(900_000)


def formatted(sender_id: int, text: str, bold: int) -> Update:
    """A message whose first `bold` characters are bold, as the admin's client sends it."""
    user = updates.user(sender_id)
    message = Message(
        message_id=next(_ids), date=datetime.now(UTC), chat=Chat(id=sender_id, type="private"), from_user=user,
        text=text, entities=[MessageEntity(type="bold", offset=0, length=bold)],
    )
    return Update(update_id=next(_ids), message=message)


def member_update(user_id: int, status: str) -> Update:
    user = updates.user(user_id)
    banned = ChatMemberBanned(user=BOT_USER, until_date=datetime(2100, 1, 1, tzinfo=UTC))
    member = ChatMemberMember(user=BOT_USER)
    old, new = (member, banned) if status == "kicked" else (banned, member)
    event = ChatMemberUpdated(
        chat=Chat(id=user_id, type="private"), from_user=user, date=datetime.now(UTC),
        old_chat_member=old, new_chat_member=new,
    )
    return Update(update_id=next(_ids), my_chat_member=event)


def press(user_id: int, action: str, value: str = "") -> Update:
    return updates.callback(updates.user(user_id), BroadcastAction(action=action, value=value).pack())


async def test_an_admin_broadcasts_with_preview_count_and_confirmation(uow: UnitOfWork, clock: FrozenClock) -> None:
    await make_admin(uow, clock, ADMIN)
    people = [await make_person(uow, clock, birthday=date(1990, m, 1)) for m in (1, 1, 3)]
    await make_person(uow, clock, marketing=False)
    harness = make_harness(uow, clock)

    await harness.feed(updates.text(updates.user(ADMIN), "/broadcast"))
    await harness.feed(formatted(ADMIN, "Sale tomorrow!", bold=4))
    await harness.feed(press(ADMIN, "audience", "all"))
    texts = harness.texts()
    assert texts[1] == "<b>Sale</b> tomorrow!"  # the markup checked on the admin first
    assert "<b>Sale</b> tomorrow!" in texts[-2]  # the preview
    assert "Получателей: 3" in texts[-1]
    assert await outbox(uow) == []  # nothing before the confirmation

    await harness.feed(press(ADMIN, "send"))
    await harness.feed(press(ADMIN, "send"))  # a double tap queues nothing more
    assert "поставлена в очередь для 3 клиентов" in " ".join(harness.texts())
    rows = by_kind(await outbox(uow), "broadcast")
    assert sorted(r.customer_id for r in rows) == sorted(p.customer_id for p in people)
    assert all(r.marketing and r.broadcast_id == rows[0].broadcast_id for r in rows)

    bot = recording_bot()
    bot.session.fail_next(SendMessage, TelegramForbiddenError(SendMessage(chat_id=0, text=""), "blocked"))  # type: ignore[attr-defined]
    await make_sender(uow, clock, bot, time=VirtualTime()).drain()
    sent = sent_texts(bot.session)  # type: ignore[arg-type]
    assert [text for _, text in sent[:3]] == ["<b>Sale</b> tomorrow!"] * 3
    assert sent[-1] == (
        ADMIN, "Рассылка №1 завершена: в очереди 3, доставлено 2, заблокировали бота 1, ошибок 0, пропущено 0."
    )


async def test_audience_by_birthday_month_and_bad_days(uow: UnitOfWork, clock: FrozenClock) -> None:
    await make_admin(uow, clock, ADMIN)
    await make_person(uow, clock, birthday=date(1990, 3, 5))
    await make_person(uow, clock, birthday=date(1990, 4, 5))
    harness = make_harness(uow, clock)
    await harness.feed(updates.text(updates.user(ADMIN), "/broadcast"))
    await harness.feed(updates.text(updates.user(ADMIN), "Весенняя скидка"))
    await harness.feed(press(ADMIN, "audience", "birthday_month"))
    await harness.feed(press(ADMIN, "pick", "3"))
    assert "Получателей: 1" in harness.texts()[-1]
    await harness.feed(press(ADMIN, "cancel"))
    assert harness.texts()[-1] == "Рассылка отменена."

    await harness.feed(updates.text(updates.user(ADMIN), "/broadcast"))
    await harness.feed(updates.text(updates.user(ADMIN), "Мы скучаем"))
    await harness.feed(press(ADMIN, "audience", "inactive"))
    await harness.feed(updates.text(updates.user(ADMIN), "много"))
    assert harness.texts()[-1] == "Такая аудитория не подходит."
    await harness.feed(updates.text(updates.user(ADMIN), "30"))
    assert "Получателей: 2" in harness.texts()[-1]
    assert await outbox(uow) == []


async def test_broadcast_and_outbox_are_for_admins_only(uow: UnitOfWork, clock: FrozenClock) -> None:
    await make_admin(uow, clock, 777_002, role="manager")
    harness = make_harness(uow, clock)
    await harness.feed(updates.text(updates.user(777_002), "/broadcast"))
    await harness.feed(updates.text(updates.user(777_003), "/outbox"))
    assert harness.texts() == ["Для этого нужна роль не ниже «администратор».", "Эта команда только для сотрудников."]


async def test_outbox_shows_counts_by_status(uow: UnitOfWork, clock: FrozenClock) -> None:
    await make_admin(uow, clock, ADMIN, role="owner")
    person = await make_person(uow, clock)
    await make_person(uow, clock)
    harness = make_harness(uow, clock)
    await harness.feed(updates.text(updates.user(ADMIN), "/broadcast"))
    await harness.feed(updates.text(updates.user(ADMIN), "Привет"))
    await harness.feed(press(ADMIN, "audience", "all"))
    await harness.feed(press(ADMIN, "send"))
    assert person.telegram_id is not None
    await customers.set_reachable(uow, telegram_id=person.telegram_id, reachable=False)
    await make_sender(uow, clock, recording_bot(), time=VirtualTime()).drain()
    await harness.feed(updates.text(updates.user(ADMIN), "/outbox"))
    report = harness.texts()[-1]
    assert "Отправлено: 1" in report and "Пропущено (отписка, блокировка, удаление): 1" in report
    assert "Рассылка №1 (завершена): в очереди 2, доставлено 1" in report


async def test_blocking_unblocking_and_writing_change_reachability(uow: UnitOfWork, clock: FrozenClock) -> None:
    person = await make_person(uow, clock)
    assert person.telegram_id is not None
    harness = make_harness(uow, clock)

    async def unreachable() -> bool:
        return (await customers.get_customer(uow, person.customer_id)).unreachable

    await harness.feed(member_update(person.telegram_id, "kicked"))
    assert await unreachable()
    await harness.feed(member_update(person.telegram_id, "member"))
    assert not await unreachable()
    await harness.feed(member_update(person.telegram_id, "kicked"))
    await harness.feed(updates.text(updates.user(person.telegram_id), "/start"))
    assert not await unreachable()
