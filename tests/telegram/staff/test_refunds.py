"""/refund in both forms: full, partial, several times; another store's receipt; bad input."""

from __future__ import annotations

from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, CASHIER2, CUSTOMER_CARD, MANAGER, Shop


async def test_partial_then_full_refund_in_one_line(shop: Shop) -> None:
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 R-1")
    assert (await shop.card()).pending == 5000
    partial = await shop.send(CASHIER, "/refund R-1 400")
    assert partial[0].startswith("↩️ Возврат 400\u00a0₽ по чеку R-1 (всего возвращено 400\u00a0₽). Снято 20 б.")
    rest = await shop.send(MANAGER, "/refund R-1")  # a manager of the same store may refund it too
    assert rest[0].startswith("↩️ Возврат 600\u00a0₽ по чеку R-1 (всего возвращено 1\u00a0000\u00a0₽). Снято 30 б.")
    assert (await shop.card()).pending == 0
    assert await shop.send(CASHIER, "/refund R-1") == [err("refund_exceeds_receipt")]
    assert await shop.operations("refund_reversal") == 2


async def test_refund_as_a_dialog(shop: Shop) -> None:
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 R-2")
    assert await shop.send(CASHIER, "/refund") == ["Номер чека для возврата?"]
    await shop.send(CASHIER, "R-2")
    assert "stx:full" in shop.buttons().values()
    assert (await shop.send(CASHIER, "100"))[0].startswith("↩️ Возврат 100\u00a0₽ по чеку R-2")
    await shop.send(CASHIER, "/refund")
    await shop.send(CASHIER, "R-2")
    full = await shop.press(CASHIER, "stx:full")
    assert full[0].startswith("↩️ Возврат 900\u00a0₽ по чеку R-2 (всего возвращено 1\u00a0000\u00a0₽)")


async def test_a_refund_restores_points_spent_on_the_receipt(shop: Shop) -> None:
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}")
    await shop.confirm(CASHIER)
    receipt = next(
        word.rstrip(".") for word in shop.harness.texts()[-1].split() if word.startswith("tg-")
    )
    answers = await shop.send(CASHIER, f"/refund {receipt}")
    assert "возвращено 30 б." in answers[0]
    assert await shop.balance() == 10000


async def test_another_stores_receipt_is_refused(shop: Shop) -> None:
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 R-3")
    assert await shop.send(CASHIER2, "/refund R-3") == [err("wrong_store")]
    assert await shop.send(CASHIER2, "/refund R-3 100") == [err("wrong_store")]
    assert await shop.operations("refund_reversal") == 0


async def test_refund_bad_input(shop: Shop) -> None:
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 R-4")
    assert await shop.send(CASHIER, "/refund NOPE") == [err("receipt_not_found")]
    assert await shop.send(CASHIER, "/refund R-4 -5") == [err("invalid_amount")]
    assert await shop.send(CASHIER, "/refund R-4 0") == [err("invalid_amount")]
    assert await shop.send(CASHIER, "/refund R-4 1e9") == [err("invalid_amount")]
    assert await shop.send(CASHIER, "/refund R-4 1000,01") == [err("refund_exceeds_receipt")]
    assert (await shop.send(CASHIER, "/refund R-4 1 2"))[0].startswith("Формат: /refund")
    assert await shop.operations("refund_reversal") == 0
