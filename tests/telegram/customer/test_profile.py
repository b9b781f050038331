"""/profile: name, birthday once, email, notification switches, marketing consent, language; and
every kind of bad input while a value is expected."""

from __future__ import annotations

from datetime import date

import pytest
from aiogram.methods import EditMessageText

from db.uow import UnitOfWork
from handlers.telegram.profile import ProfileAction
from services import customers
from services.clock import FrozenClock
from tests.support import updates
from tests.support.fixtures import BotHarness, make_harness
from tests.telegram.customer import helpers
from tests.telegram.customer.helpers import alerts, inline_buttons, last_message, register, reply_buttons

BIRTHDAY = ProfileAction(action="edit", value="birthday").pack()
EMAIL = ProfileAction(action="edit", value="email").pack()
NAME = ProfileAction(action="edit", value="name").pack()


async def _customer(harness: BotHarness, user_id: int) -> customers.CustomerView:
    view = await customers.get_by_telegram(harness.context.uow, user_id)
    assert view is not None
    return view


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_profile_shows_fields_and_buttons(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(51, language=language)
    await register(harness, sender)
    await harness.feed(updates.text(sender, "/profile"))
    answer = last_message(harness)
    assert "Анна Петрова" in answer.text and "+79161234567" in answer.text
    assert {"ru": "День рождения: не указан", "en": "Birthday: not set"}[language] in answer.text
    assert BIRTHDAY in [data for _, data in inline_buttons(answer.reply_markup)]


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_birthday_bad_inputs_then_set_once(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(52, language=language)
    await register(harness, sender)
    await harness.feed(updates.callback(sender, BIRTHDAY))
    assert {"ru": "ДД.ММ.ГГГГ", "en": "DD.MM.YYYY"}[language] in last_message(harness).text
    bad_date = {"ru": "не подходит", "en": "does not fit"}[language]
    for value in ("завтра", "31.02.1990", "01.01.2030", "31.12.1899", "1990-03-05"):
        harness.session.clear()
        await harness.feed(updates.text(sender, value))
        assert bad_date in last_message(harness).text, value
        assert (await _customer(harness, 52)).birthday is None
    for media in (helpers.sticker(sender), helpers.photo(sender), helpers.voice(sender)):
        harness.session.clear()
        await harness.feed(media)
        assert {"ru": "Нужен текст", "en": "send text"}[language] in last_message(harness).text
    await harness.feed(updates.text(sender, "05.03.1990"))
    assert (await _customer(harness, 52)).birthday == date(1990, 3, 5)
    profile = last_message(harness)
    assert "05.03.1990" in profile.text
    assert BIRTHDAY not in [data for _, data in inline_buttons(profile.reply_markup)]
    # An old "birthday" button cannot change it again.
    harness.session.clear()
    await harness.feed(updates.callback(sender, BIRTHDAY))
    assert alerts(harness) == [{"ru": "День рождения уже указан; изменить его может только сотрудник.",
                                "en": "Your birthday is already set; only staff can change it."}[language]]
    await harness.feed(updates.text(sender, "01.01.2000"))
    assert (await _customer(harness, 52)).birthday == date(1990, 3, 5)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_email_without_at_is_refused_then_saved_and_removed(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(53, language=language)
    await register(harness, sender)
    await harness.feed(updates.callback(sender, EMAIL))
    await harness.feed(updates.text(sender, "anna.example.com"))
    assert {"ru": "не похоже на адрес", "en": "does not look like an email"}[language] in last_message(harness).text
    assert (await _customer(harness, 53)).email is None
    await harness.feed(updates.text(sender, "anna@example.com"))
    assert (await _customer(harness, 53)).email == "anna@example.com"
    await harness.feed(updates.callback(sender, EMAIL))
    await harness.feed(updates.text(sender, "-"))
    assert (await _customer(harness, 53)).email is None


async def test_name_and_cancel_and_commands_leave_the_form(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(54)
    await register(harness, sender)
    await harness.feed(updates.callback(sender, NAME))
    await harness.feed(updates.text(sender, "<script>"))
    assert "Имя выглядит неправильно" in last_message(harness).text
    await harness.feed(updates.text(sender, "Мария"))
    assert (await _customer(harness, 54)).name == "Мария"
    await harness.feed(updates.callback(sender, NAME))
    await harness.feed(updates.text(sender, "/cancel"))
    assert "ничего не меняем" in last_message(harness).text
    await harness.feed(updates.text(sender, "Ольга"))  # no longer typing a name
    assert (await _customer(harness, 54)).name == "Мария"
    await harness.feed(updates.callback(sender, NAME))
    await harness.feed(updates.text(sender, "/whatever"))
    await harness.feed(updates.text(sender, "Ольга"))
    assert (await _customer(harness, 54)).name == "Мария"


async def test_notification_switches_and_marketing_consent(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(55, language="en")
    await register(harness, sender)
    await harness.feed(updates.callback(sender, ProfileAction(action="notifications").pack()))
    [screen] = harness.session.sent(EditMessageText)
    assert "Points earned: on" in screen.text
    toggles = [data for _, data in inline_buttons(screen.reply_markup) if "toggle" in data]
    assert len(toggles) == len(customers.SERVICE_NOTIFICATION_KINDS)
    harness.session.clear()
    await harness.feed(updates.callback(sender, ProfileAction(action="toggle", value="accrual").pack()))
    assert (await _customer(harness, 55)).notification_optouts == ("accrual",)
    assert "Points earned: off" in harness.session.sent(EditMessageText)[0].text
    await harness.feed(updates.callback(sender, ProfileAction(action="toggle", value="accrual").pack()))
    assert (await _customer(harness, 55)).notification_optouts == ()
    await harness.feed(updates.callback(sender, ProfileAction(action="marketing").pack()))
    assert (await _customer(harness, 55)).marketing_consent is True
    await harness.feed(updates.callback(sender, ProfileAction(action="marketing").pack()))
    assert (await _customer(harness, 55)).marketing_consent is False


@pytest.mark.parametrize(("start", "target"), [("ru", "en"), ("en", "ru")])
async def test_language_switch_changes_texts_and_menu(
    uow: UnitOfWork, clock: FrozenClock, start: str, target: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(56, language=start)
    await register(harness, sender)
    await harness.feed(updates.text(sender, "/language"))
    choices = dict(inline_buttons(last_message(harness).reply_markup))
    await harness.feed(updates.callback(sender, choices[{"ru": "Русский", "en": "English"}[target]]))
    assert (await _customer(harness, 56)).language == target
    assert {"ru": "💳 Карта", "en": "💳 Card"}[target] in reply_buttons(last_message(harness).reply_markup)
    await harness.feed(updates.text(sender, "/help"))
    assert {"ru": "бонусная программа", "en": "loyalty program"}[target] in last_message(harness).text


async def test_a_stranger_can_choose_the_language_before_registering(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(57, language="de")
    await harness.feed(updates.text(sender, "/language"))
    choices = dict(inline_buttons(last_message(harness).reply_markup))
    await harness.feed(updates.callback(sender, choices["English"]))
    assert "loyalty program" in last_message(harness).text
    await harness.feed(updates.contact(sender, helpers.PHONE))
    assert "Your card" in last_message(harness).text
    assert (await _customer(harness, 57)).language == "en"
