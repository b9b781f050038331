"""/newcustomer and /conflicts."""

from __future__ import annotations

from services import customers
from services.phones import PhonePolicy
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, MANAGER, Shop


async def test_newcustomer_in_one_line(shop: Shop) -> None:
    answers = await shop.send(CASHIER, "/newcustomer +7 903 123-45-67 Иван Сидоров")
    assert answers[0].startswith("✅ Клиент Сидоров Иван создан, карта 9031234567 (+79031234567).")
    found = await customers.find_customers(shop.uow, "9031234567", phone_policy=PhonePolicy(), full_access=True)
    assert [c.full_name for c in found] == ["Сидоров Иван"]
    assert "customer.create_walk_in" in await shop.audit_actions()


async def test_newcustomer_as_a_dialog(shop: Shop) -> None:
    assert await shop.send(MANAGER, "/newcustomer") == ["Телефон нового клиента?"]
    assert await shop.send(MANAGER, "12345") == [err("invalid_phone", phone="12345")]
    await shop.send(MANAGER, "8 903 765 43 21")
    answers = await shop.send(MANAGER, "Мария")
    assert answers[0].startswith("✅ Клиент Мария создан, карта 9037654321 (+79037654321).")


async def test_newcustomer_refusals(shop: Shop) -> None:
    assert await shop.send(CASHIER, f"/newcustomer {CUSTOMER_CARD} Анна") == [err("card_exists", number=CUSTOMER_CARD)]
    assert (await shop.send(CASHIER, "/newcustomer +79031234567"))[0].startswith("Формат: /newcustomer")
    assert await shop.send(CASHIER, "/newcustomer 12345 Иван") == [err("invalid_phone", phone="12345")]


async def _conflict(shop: Shop) -> None:
    """The walk-in's number is taken over by Telegram account 500, then claimed by account 501."""
    for telegram_id in (500, 501):
        await customers.register_by_telegram(
            shop.uow, shop.clock, telegram_id=telegram_id, phone="+79161234567", first_name="X", last_name=None,
            language="ru", policy_version="1", phone_policy=PhonePolicy(),
        )


async def test_conflicts_move_the_card(shop: Shop) -> None:
    await _conflict(shop)
    answers = await shop.send(MANAGER, "/conflicts")
    assert answers[0].startswith("Открытых конфликтов: 1.")
    assert f"карта {CUSTOMER_CARD}, баланс 100 б." in answers[1] and "+7 *** ***-45-67" in answers[1]
    move = next(data for data in shop.buttons().values() if data.endswith(":1"))
    assert (await shop.press(MANAGER, move))[0].startswith("Конфликт #1: карта 9161234567 передана")
    claimant = await customers.get_by_telegram(shop.uow, 501)
    assert claimant is not None and claimant.card_number == CUSTOMER_CARD
    assert await shop.send(MANAGER, "/conflicts") == ["Открытых конфликтов номеров нет."]
    assert await shop.press(MANAGER, move) == [err("not_found")]


async def test_conflicts_keep_the_card(shop: Shop) -> None:
    await _conflict(shop)
    await shop.send(MANAGER, "/conflicts")
    keep = next(data for data in shop.buttons().values() if data.endswith(":0"))
    assert (await shop.press(MANAGER, keep))[0].startswith("Конфликт #1: карта 9161234567 осталась")
    claimant = await customers.get_by_telegram(shop.uow, 501)
    assert claimant is not None and claimant.card_number is None


async def test_a_cashier_cannot_resolve_conflicts(shop: Shop) -> None:
    await _conflict(shop)
    assert await shop.press(CASHIER, "stc:1:1") == [err("role_too_high", role="manager")]
    assert len(await customers.list_conflicts(shop.uow)) == 1
