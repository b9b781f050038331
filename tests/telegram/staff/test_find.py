"""/find by every kind of query, in one line and as a dialog, and what each role sees on the card."""

from __future__ import annotations

from services import customers
from services.phones import PhonePolicy
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, MANAGER, Shop


async def test_find_in_one_line_by_any_key(shop: Shop) -> None:
    await customers.update_profile(
        shop.uow, shop.clock, customer_id=shop.customer_id, actor="test", by_staff=True, code_word="ромашка"
    )
    for query in ["+7 916 123-45-67", "89161234567", CUSTOMER_CARD, "Петрова", "01.02.1990", "ромашка"]:
        answers = await shop.send(MANAGER, f"/find {query}")
        assert answers == ["Найден 1 клиент. Откройте карточку клиента:"], query
        assert list(shop.buttons().values()) == [f"stf:{shop.customer_id}"], query


async def test_find_as_a_dialog(shop: Shop) -> None:
    assert "Кого ищем?" in (await shop.send(CASHIER, "/find"))[0]
    assert await shop.send(CASHIER, "Петрова") == ["Найден 1 клиент. Откройте карточку клиента:"]
    # The dialog is over: the next text is not a query.
    assert not any("Найдено" in a for a in await shop.send(CASHIER, "Петрова"))


async def test_find_nothing(shop: Shop) -> None:
    assert await shop.send(CASHIER, "/find Сидоров") == ["По запросу «Сидоров» никого не нашлось."]


async def test_a_cashier_sees_a_masked_phone_and_no_birthday(shop: Shop) -> None:
    await shop.send(CASHIER, "/find Петрова")
    label = next(iter(shop.buttons()))
    assert "+7 *** ***-45-67" in label and "+79161234567" not in label
    card = (await shop.press(CASHIER, f"stf:{shop.customer_id}"))[0]
    assert "+7 *** ***-45-67" in card
    assert "+79161234567" not in card and "01.02.1990" not in card and "День рождения" not in card
    assert list(shop.buttons()) == ["👪 Связи"]  # erasing is for managers and above


async def test_a_manager_sees_everything_and_the_card_shows_the_account(shop: Shop) -> None:
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 R-1")
    card = (await shop.press(MANAGER, f"stf:{shop.customer_id}"))[0]
    for expected in ("Петрова Анна", "+79161234567", "01.02.1990", f"Карта {CUSTOMER_CARD} — активна",
                     "Уровень: Базовый",
                     "Баланс: 100 б., ожидают начисления: 50 б.", "покупка · +50 R-1", "приветственный бонус · +100"):
        assert expected in card, expected
    assert "Base" not in card  # the level's Russian name on a Russian screen
    assert shop.buttons() == {
        "👪 Связи": f"lk:open:{shop.customer_id}", "🗑 Удалить персональные данные": f"ster:ask:{shop.customer_id}",
    }


async def test_the_customer_card_in_english(shop: Shop) -> None:
    await shop.send(MANAGER, "/find Петрова", language="en")
    # The locale comes from Telegram for staff who are not customers.
    from tests.support import updates

    start = len(shop.harness.session.requests)
    await shop.harness.feed(updates.callback(updates.user(MANAGER, language="en"), f"stf:{shop.customer_id}"))
    sent = [r.text for r in shop.harness.session.requests[start:] if hasattr(r, "text") and r.text]
    assert any("Balance: 100 pts" in t for t in sent)
    assert any("Level: Base" in t for t in sent)


async def test_an_unknown_customer_button(shop: Shop) -> None:
    assert await shop.press(CASHIER, "stf:999999") == [err("customer_not_found")]


async def test_the_links_button_opens_the_customers_links(shop: Shop) -> None:
    await shop.press(MANAGER, f"stf:{shop.customer_id}")
    links = shop.buttons()["👪 Связи"]
    answers = await shop.press(MANAGER, links)
    assert answers and answers != [err("not_staff")] and "Петрова" in answers[0], answers


async def _namesakes(shop: Shop, count: int) -> None:
    for number in range(count):
        await customers.create_walk_in(
            shop.uow, shop.clock, phone=f"+7903{number:07d}", name="Ольга", surname="Иванова",
            phone_policy=PhonePolicy(), actor="test",
        )


async def test_find_says_how_many_matched_and_pages_through_all(shop: Shop) -> None:
    await _namesakes(shop, 25)
    assert await shop.send(MANAGER, "/find Иванова") == [
        "Найдено 25 клиентов, показаны 1–10. Откройте карточку клиента:"
    ]
    first = list(shop.buttons().values())
    assert len(first) == 11 and first[-1] == "stp:10"
    assert await shop.press(MANAGER, "stp:10") == ["Найдено 25 клиентов, показаны 11–20. Откройте карточку клиента:"]
    second = list(shop.buttons().values())
    assert second[-2:] == ["stp:0", "stp:20"] and not set(first[:10]) & set(second[:10])
    assert await shop.press(MANAGER, "stp:20") == ["Найдено 25 клиентов, показаны 21–25. Откройте карточку клиента:"]
    third = list(shop.buttons().values())
    assert len(third) == 6 and third[-1] == "stp:10"
    assert len(set(first[:10] + second[:10] + third[:5])) == 25
    en = await shop.send(MANAGER, "/find Иванова", language="en")
    assert en == ["Found 25 customers, showing 1–10. Open a customer card:"]


async def test_a_page_button_of_a_forgotten_search_is_out_of_date(shop: Shop) -> None:
    assert await shop.press(CASHIER, "stp:10") == ["Этот поиск устарел: отправьте /find ещё раз."]
