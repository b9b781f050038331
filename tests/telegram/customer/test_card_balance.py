"""/card (QR + barcode image, status, level, the rotating code and its refresh) and /balance."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from aiogram.methods import EditMessageCaption, SendPhoto
from aiogram.types import BufferedInputFile
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Card
from db.uow import UnitOfWork
from handlers.telegram.card import CardAction
from services import cards, stores
from services.clock import FrozenClock
from services.ledger import accrue_purchase
from services.ledger.otp import STEP_SECONDS, code_for_step, current_code, step_of, verify_code
from tests.support import updates
from tests.support.fixtures import make_harness
from tests.telegram.customer.helpers import CARD, alerts, callback_on_photo, inline_buttons, last_message, register

REFRESH = CardAction(action="refresh").pack()


async def _code(uow: UnitOfWork, clock: FrozenClock, card_id: int) -> str:
    async def work(session: AsyncSession) -> str:
        card = await session.get(Card, card_id)
        assert card is not None
        return current_code(card, clock.now())[0]

    return await uow.read(work)


@pytest.mark.parametrize(("language", "command"), [("ru", "/card"), ("en", "/card"), ("ru", "💳 Карта"),
                                                    ("en", "💳 Card")])
async def test_card_shows_picture_status_level_and_current_code(
    uow: UnitOfWork, clock: FrozenClock, language: str, command: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(31, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    await harness.feed(updates.text(sender, command))
    [sent] = harness.session.sent(SendPhoto)
    caption = sent.caption or ""
    assert CARD in caption
    assert {"ru": "активна", "en": "active"}[language] in caption
    assert {"ru": "Базовый", "en": "Base"}[language] in caption
    assert await _code(uow, clock, customer.card_id) in caption
    assert re.search(r"\b\d{6}\b", caption)
    seconds = 60 - int(clock.now().timestamp()) % 60
    assert f"{seconds} " in caption
    assert [data for _, data in inline_buttons(sent.reply_markup)] == [REFRESH]
    assert isinstance(sent.photo, BufferedInputFile)
    image = Image.open(io.BytesIO(sent.photo.data))
    assert image.format == "PNG" and image.height > image.width  # QR above, barcode below


async def test_under_10_seconds_left_the_card_shows_the_next_code(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(33)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    into_step = int(clock.now().timestamp()) % STEP_SECONDS
    clock.advance(timedelta(seconds=(STEP_SECONDS - 5 - into_step) % STEP_SECONDS))  # 5 s left in this step
    await harness.feed(updates.text(sender, "/card"))
    caption = harness.session.sent(SendPhoto)[0].caption or ""

    async def work(session: AsyncSession) -> tuple[str, str]:
        card = await session.get(Card, customer.card_id, with_for_update=True)
        assert card is not None
        step = step_of(clock.now())
        shown = code_for_step(card.otp_secret, step + 1)
        await verify_code(session, card, shown, clock.now())  # the till accepts it right away
        return shown, code_for_step(card.otp_secret, step)

    shown, expiring = await uow.write(work)
    assert shown in caption and expiring not in caption
    # Its validity is the rest of this step and the whole next one, not "5 more seconds".
    assert "Действует ещё 65 с." in caption

    # Paid with; at the start of the next step the card does not show that used code again.
    clock.advance(timedelta(seconds=6))
    assert await _code(uow, clock, customer.card_id) != shown

    async def verify_again(session: AsyncSession) -> None:
        card = await session.get(Card, customer.card_id, with_for_update=True)
        assert card is not None
        await verify_code(session, card, current_code(card, clock.now())[0], clock.now())

    await uow.write(verify_again)  # and the one it shows is accepted


async def test_refresh_edits_the_caption_with_the_new_code(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(32)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    await harness.feed(updates.text(sender, "/card"))
    old_caption = harness.session.sent(SendPhoto)[0].caption or ""
    clock.advance(timedelta(seconds=61))
    await harness.feed(callback_on_photo(sender, REFRESH, old_caption))
    [edit] = harness.session.sent(EditMessageCaption)
    new_code = await _code(uow, clock, customer.card_id)
    assert new_code in (edit.caption or "") and edit.caption != old_caption
    assert len(harness.session.sent(SendPhoto)) == 1  # edited in place, not sent again


async def test_refresh_on_a_message_of_another_card_sends_the_current_one(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(33)
    await register(harness, sender)
    await harness.feed(callback_on_photo(sender, REFRESH, "💳 Карта 9990001122"))
    assert not harness.session.sent(EditMessageCaption)
    [sent] = harness.session.sent(SendPhoto)
    assert CARD in (sent.caption or "") and "9990001122" not in (sent.caption or "")


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_balance_shows_available_pending_expiry_and_next_level(
    uow: UnitOfWork, clock: FrozenClock, language: str
) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(34, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    store = await stores.add_store(uow, clock, code="S1", name="Тверская", actor="test")
    await accrue_purchase(uow, clock, card_id=customer.card_id, store_id=store.id, receipt_id="R1",
                          amount_kopecks=1_000_000, actor="test")  # 10 000 RUB -> 500 points, pending 14 days
    await harness.feed(updates.text(sender, "/balance"))
    text = last_message(harness).text
    # 15.01.2026 + 14 days; the welcome bonus (100) expires in 30 days.
    assert {"ru": "Доступно: <b>100</b>", "en": "Available: <b>100</b>"}[language] in text
    assert {"ru": "Ожидают начисления: 500", "en": "Pending: 500"}[language] in text
    assert "29.01.2026" in text
    assert "14.02.2026" in text
    assert {"ru": "Базовый (5\u00a0%", "en": "Base (5%"}[language] in text
    assert {
        "ru": "«Серебряный» осталось купить на 20\u00a0000\u00a0₽", "en": "Spend 20,000\u00a0₽ more to reach Silver"
    }[language] in text


async def test_balance_menu_button_in_the_other_language_still_works(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(35, language="ru")
    await register(harness, sender)
    await harness.feed(updates.text(sender, "💰 Balance"))
    assert "Доступно" in last_message(harness).text


async def test_tampered_card_callback_is_answered_as_outdated(uow: UnitOfWork, clock: FrozenClock) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(36)
    await register(harness, sender)
    await harness.feed(callback_on_photo(sender, "card:steal:9990001122", "x"))
    assert alerts(harness) == ["Эта кнопка устарела. Откройте раздел заново из меню."]
    assert not harness.session.sent(SendPhoto)


@pytest.mark.parametrize("language", ["ru", "en"])
async def test_a_card_that_cannot_pay_shows_no_code(uow: UnitOfWork, clock: FrozenClock, language: str) -> None:
    harness = make_harness(uow, clock)
    sender = updates.user(37, language=language)
    customer = await register(harness, sender)
    assert customer.card_id is not None
    await cards.set_status(uow, clock, card_id=customer.card_id, status="accrual_only", actor="staff:1")
    await harness.feed(updates.text(sender, "/card"))
    [sent] = harness.session.sent(SendPhoto)
    caption = sent.caption or ""
    assert {"ru": "только начисление", "en": "earning only"}[language] in caption
    assert {"ru": "недоступна", "en": "not available"}[language] in caption
    assert await _code(uow, clock, customer.card_id) not in caption
    assert sent.reply_markup is None


async def test_balance_in_discount_mode_shows_the_discount(uow: UnitOfWork, clock: FrozenClock) -> None:
    from services.program import update_settings

    harness = make_harness(uow, clock)
    sender = updates.user(36, language="ru")
    await register(harness, sender)
    await update_settings(uow, clock, changes={"mode": "discount"}, actor="test")
    await harness.feed(updates.text(sender, "/balance"))
    text = last_message(harness).text
    assert "скидка 5\u00a0% на покупки" in text
    # The welcome points from before the switch stay spendable, so they are still shown.
    assert "Доступно: <b>100</b>" in text
