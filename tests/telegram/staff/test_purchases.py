"""/accrue and /redeem in both forms, and every way to get them wrong."""

from __future__ import annotations

from locales import money, points
from services import cards, program
from tests.telegram.staff.conftest import err, text
from tests.telegram.staff.helpers import CASHIER, CASHIER2, CUSTOMER_CARD, Shop


async def test_accrue_in_one_line_with_a_receipt_and_its_repeat(shop: Shop) -> None:
    answers = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1234,50 A-17")
    assert answers[0].startswith("✅ Начислено 61 б. (5\u00a0%) за чек A-17 на 1\u00a0234,50\u00a0₽.")
    assert "Баллы станут доступны 29.01.2026" in answers[0]
    # The same receipt again is recognised, not accrued twice.
    again = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1234.50 A-17")
    assert again[0].startswith("Этот чек уже был проведён")
    assert await shop.operations("purchase_accrual") == 1
    # The same receipt id with another amount is refused.
    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 999 A-17") == [err("idempotency_conflict")]
    assert await shop.operations("purchase_accrual") == 1
    assert (await shop.card()).pending == 6100


async def test_accrue_without_a_receipt_generates_one_each_time(shop: Shop) -> None:
    first = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100")
    second = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100")
    assert "за чек tg-" in first[0] and first != second
    assert await shop.operations("purchase_accrual") == 2


async def test_accrue_takes_a_card_or_a_phone_in_any_spelling(shop: Shop) -> None:
    for number, card in enumerate(["+7 916 123 45 67", "8 (916) 123-45-67", "+79161234567", CUSTOMER_CARD]):
        answers = await shop.send(CASHIER, f"/accrue {card} 200 B-{number}")
        assert answers[0].startswith(f"✅ Начислено 10 б. (5\u00a0%) за чек B-{number}"), (card, answers)
        answers = await shop.send(CASHIER, f"/accrue {card} 200")
        assert answers[0].startswith("✅ Начислено 10 б. (5\u00a0%) за чек tg-"), (card, answers)


async def test_accrue_as_a_dialog_with_and_without_a_receipt(shop: Shop) -> None:
    assert await shop.send(CASHIER, "/accrue") == ["Номер карты или телефона клиента?".replace("телефона", "телефон")]
    assert (await shop.send(CASHIER, "+7 916 123-45-67"))[0].startswith(f"Карта {CUSTOMER_CARD}, баланс 100 б.")
    # A bad amount is refused, saying what to type again, and the dialog waits for a good one.
    assert await shop.send(CASHIER, "-5") == [err("invalid_amount") + "\n" + text("staff-again-amount")]
    await shop.send(CASHIER, "1000")
    assert "stx:skip" in shop.buttons().values()
    assert (await shop.send(CASHIER, "C-9"))[0].startswith("✅ Начислено 50 б. (5\u00a0%) за чек C-9")
    await shop.send(CASHIER, "/accrue")
    await shop.send(CASHIER, CUSTOMER_CARD)
    await shop.send(CASHIER, "500")
    assert (await shop.press(CASHIER, "stx:skip"))[0].startswith("✅ Начислено 25 б. (5\u00a0%) за чек tg-")
    assert await shop.operations("purchase_accrual") == 2


async def test_accrue_refuses_bad_amounts_and_changes_nothing(shop: Shop) -> None:
    for amount in ["-5", "1e9", "12,345", "0", "0,00", "9999999999999", "100000000001", "abc", "1.234"]:
        assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} {amount}") == [err("invalid_amount")], amount
        assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} {amount} R-1") == [err("invalid_amount")], amount
    spaced = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1 000")
    assert spaced[0].startswith("«1 000» — это сумма с пробелом или сумма и номер чека?")
    assert await shop.operations("purchase_accrual") == 0
    assert (await shop.card()).pending == 0


async def test_accrue_refuses_an_unknown_or_blocked_card(shop: Shop) -> None:
    assert await shop.send(CASHIER, "/accrue 9031112233 100") == [err("card_not_found")]
    await cards.set_status(shop.uow, shop.clock, card_id=shop.card_id, status="blocked", actor="test")
    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100") == [err("card_blocked")]
    await cards.set_status(shop.uow, shop.clock, card_id=shop.card_id, status="payment_only", actor="test")
    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100") == [err("accrual_not_allowed")]
    assert await shop.operations("purchase_accrual") == 0


async def test_accrue_needs_arguments_or_nothing(shop: Shop) -> None:
    assert (await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD}"))[0].startswith("Формат: /accrue")


async def test_discount_mode_answers_the_discount(shop: Shop) -> None:
    await program.update_settings(shop.uow, shop.clock, changes={"mode": "discount"}, actor="test")
    answers = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 D-1")
    assert answers[0].startswith("🏷 Дайте скидку 50\u00a0₽ (5\u00a0%) на чек D-1 на 1\u00a0000\u00a0₽.")
    assert await shop.operations("discount_purchase") == 1


async def test_redeem_in_one_line(shop: Shop) -> None:
    code = await shop.code()
    summary = await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {code}")
    assert summary[0].startswith(text("staff-summary-title-redeem")) and await shop.balance() == 10000
    answers = await shop.confirm(CASHIER)
    assert answers[0].startswith("✅ Списано 30 б.\n✅ Начислено 3 б.")
    assert await shop.balance() == 7000
    # The code was used: the same one again is refused, as used (not as wrong: nothing is locked).
    for _ in range(6):
        assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 1 100 {code}") == [err("code_already_used")]
    assert await shop.balance() == 7000


async def test_wrong_codes_lock_the_cashier_who_typed_them_not_the_card(shop: Shop) -> None:
    wrong = "000000" if await shop.code() != "000000" else "111111"
    for _ in range(5):
        assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 1 100 {wrong}") == [err("bad_code")]
    locked = await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 1 100 {await shop.code()}")
    assert locked == [err("too_many_code_attempts", scope="card", minutes=10)]
    assert "10 минут" in locked[0] and "на другой кассе" in locked[0]
    # Another cashier (another till) takes the customer's right code.
    await shop.send(CASHIER2, f"/redeem {CUSTOMER_CARD} 1 100 {await shop.code()}")
    assert (await shop.confirm(CASHIER2))[0].startswith("✅ Списано")


async def test_redeem_as_a_dialog(shop: Shop) -> None:
    await shop.send(CASHIER, "/redeem")
    assert (await shop.send(CASHIER, "+7 916 123 45 67"))[0].startswith(f"Карта {CUSTOMER_CARD}, баланс 100 б.")
    await shop.send(CASHIER, "20")
    # Over the cap: refused at once, before the customer is asked for the code; a larger receipt fits.
    over = await shop.send(CASHIER, "50")
    cap = err("cap_exceeded", cap_percent=30, max_units=points(1500), receipt_kopecks=money(5000))
    assert over == [cap + "\n" + text("staff-again-receipt-amount")]
    assert over[0].startswith("Баллами можно оплатить не больше 30 % чека: не больше 15 баллов на чек 50\u00a0₽.")
    asked = await shop.send(CASHIER, "100,00")
    assert asked == ["Чек на 100\u00a0₽, списать 20 баллов. Код из карты клиента в боте (6 цифр)?"]
    assert (await shop.send(CASHIER, await shop.code()))[0].startswith(text("staff-summary-title-redeem"))
    assert (await shop.confirm(CASHIER))[0].startswith("✅ Списано 20 б.")
    assert await shop.balance() == 8000


async def test_redeem_refusals_change_nothing(shop: Shop) -> None:
    code = await shop.code()
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 000000") == [err("bad_code")]
    over_cap = await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 31 100 {code}")
    assert over_cap == [err("cap_exceeded", cap_percent=30, max_units=points(3000),
                            receipt_kopecks=money(10000))] and "30 %" in over_cap[0]
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 150 1000 {code}") == [err("insufficient_points")]
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} -5 100 {code}") == [err("invalid_amount")]
    assert await shop.send(CASHIER, f"/redeem 9031112233 5 100 {code}") == [err("card_not_found")]
    await cards.set_status(shop.uow, shop.clock, card_id=shop.card_id, status="accrual_only", actor="test")
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 5 100 {code}") == [err("payment_not_allowed")]
    await cards.set_status(shop.uow, shop.clock, card_id=shop.card_id, status="blocked", actor="test")
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 5 100 {code}") == [err("card_blocked")]
    assert await shop.balance() == 10000
    assert await shop.operations("redemption") == 0
    assert (await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 5 100"))[0].startswith("Формат: /redeem")


async def test_an_expired_code_is_refused(shop: Shop) -> None:
    from datetime import timedelta

    code = await shop.code()
    shop.clock.advance(timedelta(minutes=3))
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 10 100 {code}") == [err("bad_code")]
    assert await shop.balance() == 10000
