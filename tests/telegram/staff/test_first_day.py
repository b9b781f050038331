"""A staff member's first day: the store a member tied to none works in, /newstore on a fresh
deployment, /start and /help for staff (issue: the cashier's and the owner's day)."""

from __future__ import annotations

from aiogram.methods import SendMessage
from aiogram.types import ReplyKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Receipt
from db.uow import UnitOfWork
from services import customers, program, staff, stores
from services.clock import FrozenClock
from services.consent import POLICY_VERSION
from services.phones import PhonePolicy
from tests.support.fixtures import make_harness
from tests.telegram.staff.conftest import err, text
from tests.telegram.staff.helpers import ADMIN, CASHIER, CUSTOMER_CARD, CUSTOMER_PHONE, OWNER, Shop

ACCRUED = "✅ Начислено"


async def _receipt_stores(uow: UnitOfWork) -> list[int]:
    async def work(session: AsyncSession) -> list[int]:
        return [s for (s,) in await session.execute(select(Receipt.store_id).order_by(Receipt.id))]

    return await uow.read(work)


def _last_reply_keyboard(shop: Shop) -> list[list[str]]:
    for request in reversed(shop.harness.session.requests):
        if isinstance(request, SendMessage) and isinstance(request.reply_markup, ReplyKeyboardMarkup):
            return [[b.text for b in row] for row in request.reply_markup.keyboard]
    raise AssertionError("no reply keyboard sent")


async def test_a_member_without_a_store_chooses_the_shift_store_among_several(shop: Shop) -> None:
    answers = await shop.send(OWNER, f"/accrue {CUSTOMER_CARD} 100 F-1")
    assert answers == [text("staff-shift-choose")]
    assert list(shop.buttons()) == ["Main street (S1)", "Station (S2)"]
    assert await shop.operations("purchase_accrual") == 0
    chosen = await shop.press(OWNER, shop.buttons()["Station (S2)"])
    assert text("staff-shift-chosen", store="Station", code="S2") in chosen
    # Remembered: the next receipt is posted at the chosen store without asking.
    assert (await shop.send(OWNER, f"/accrue {CUSTOMER_CARD} 100 F-1"))[0].startswith(ACCRUED)
    assert await _receipt_stores(shop.uow) == [shop.store2]
    # /shift changes it.
    assert await shop.send(OWNER, "/shift") == [text("staff-shift-choose")]
    await shop.press(OWNER, shop.buttons()["Main street (S1)"])
    assert (await shop.send(OWNER, f"/accrue {CUSTOMER_CARD} 100 F-2"))[0].startswith(ACCRUED)
    assert await _receipt_stores(shop.uow) == [shop.store2, shop.store1]
    # Someone tied to a store is told so and posts there.
    assert await shop.send(CASHIER, "/shift") == [text("staff-shift-own-store", store="S1")]


async def test_in_english_the_choice_is_in_english(shop: Shop) -> None:
    answers = await shop.send(OWNER, f"/accrue {CUSTOMER_CARD} 100 F-1", language="en")
    assert answers == [text("staff-shift-choose", "en")]


async def _fresh(uow: UnitOfWork, clock: FrozenClock) -> Shop:
    """A fresh deployment: an owner from OWNER_TELEGRAM_IDS, a cashier without a store, no store yet."""
    await staff.add_staff(uow, clock, telegram_id=OWNER, role="owner", name="Olga", actor="test")
    await staff.add_staff(uow, clock, telegram_id=CASHIER, role="cashier", name="Kate", actor="test")
    customer = await customers.create_walk_in(
        uow, clock, phone=CUSTOMER_PHONE, name="Анна", phone_policy=PhonePolicy(), actor="test"
    )
    assert customer.card_id is not None
    return Shop(make_harness(uow, clock), uow, clock, 0, 0, customer.id, customer.card_id)


async def test_a_fresh_deployment_has_no_dead_end(uow: UnitOfWork, clock: FrozenClock) -> None:
    shop = await _fresh(uow, clock)
    assert await shop.send(OWNER, f"/accrue {CUSTOMER_CARD} 100") == [err("no_store_yet")]
    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100") == [err("no_store_ask_admin")]
    assert await shop.send(CASHIER, "/newstore MAIN Магазин") == [err("role_too_high", role="admin")]
    assert await shop.send(OWNER, "/newstore") == [text("staff-usage-newstore")]
    assert await shop.send(OWNER, "/newstore m@in Магазин") == [err("validation_error", field="code")]
    assert await shop.operations("purchase_accrual") == 0
    created = await shop.send(OWNER, "/newstore MAIN Магазин на Ленина")
    assert created == [text("staff-store-created", code="MAIN", name="Магазин на Ленина")]
    # With exactly one store, everybody tied to none works in it.
    assert (await shop.send(OWNER, f"/accrue {CUSTOMER_CARD} 100 A-1"))[0].startswith(ACCRUED)
    assert (await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100 A-2"))[0].startswith(ACCRUED)
    only = (await stores.list_stores(uow))[0]
    assert await _receipt_stores(uow) == [only.id, only.id]


async def test_staff_start_shows_their_keyboard_and_the_first_step(uow: UnitOfWork, clock: FrozenClock) -> None:
    shop = await _fresh(uow, clock)
    [welcome] = await shop.send(OWNER, "/start")
    assert welcome.startswith(text("staff-start", name="Olga", role=text("staff-role-owner")))
    assert text("staff-first-store") in welcome
    # Not a customer yet: the contact button is there too, with the consent it gives.
    assert text("staff-start-become-customer", version=POLICY_VERSION).split(",")[0] in welcome
    keyboard = _last_reply_keyboard(shop)
    assert ["/accrue", "/redeem"] in keyboard and ["/broadcast", "/staff"] in keyboard
    assert keyboard[-1] == [text("start-share-contact")]
    [cashier] = await shop.send(CASHIER, "/start")
    assert text("staff-first-ask-admin") in cashier
    keyboard = _last_reply_keyboard(shop)
    buttons = [each for row in keyboard for each in row]
    assert "/adjust" not in buttons and "/broadcast" not in buttons
    await shop.send(OWNER, "/newstore MAIN Магазин")
    [cashier] = await shop.send(CASHIER, "/start")
    assert text("staff-first-receipt") in cashier


async def test_staff_start_in_a_shop_with_stores(shop: Shop) -> None:
    [welcome] = await shop.send(ADMIN, "/start", language="en")
    assert welcome.startswith(text("staff-start", "en", name="Alex", role=text("staff-role-admin", "en")))
    assert text("staff-first-invite", "en") in welcome


async def test_staff_help_is_role_aware(shop: Shop) -> None:
    [cashier] = await shop.send(CASHIER, "/help")
    assert cashier == text("staff-help-cashier")
    assert "/accrue 9161234567 1500 R-15" in cashier
    [owner] = await shop.send(OWNER, "/help", language="en")
    assert owner == "\n\n".join(
        text(key, "en") for key in ("staff-help-cashier", "staff-help-manager", "staff-help-admin")
    )


async def test_help_and_start_follow_the_cap_setting(shop: Shop) -> None:
    await program.update_settings(shop.uow, shop.clock, changes={"redemption_cap_bp": 5000}, actor="test")
    customer = 555
    [prompt] = await shop.send(customer, "/start")
    assert "до 50\u00a0% чека" in prompt and "30\u00a0%" not in prompt
    [prompt] = await shop.send(customer, "/start", language="en")
    assert "up to 50% of a receipt" in prompt


async def test_a_staff_member_who_is_a_customer_gets_both_helps(shop: Shop) -> None:
    await program.update_settings(shop.uow, shop.clock, changes={"redemption_cap_bp": 4000}, actor="test")
    await customers.register_by_telegram(
        shop.uow, shop.clock, telegram_id=CASHIER, phone="+79031234567", first_name="Kate", last_name=None,
        language="ru", policy_version=POLICY_VERSION, phone_policy=PhonePolicy(),
    )
    [answer] = await shop.send(CASHIER, "/help")
    assert answer.startswith("Это бонусная программа") and "до 40\u00a0% чека" in answer
    assert answer.endswith(text("staff-help-cashier"))
