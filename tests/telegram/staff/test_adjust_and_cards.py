"""/adjust and /cardstatus: manager and above, both forms, reasons, limits, bad input."""

from __future__ import annotations

from services import program
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import ADMIN, CASHIER, CUSTOMER_CARD, MANAGER, OWNER, Shop


async def test_adjust_in_one_line_both_ways(shop: Shop) -> None:
    answers = await shop.send(MANAGER, f"/adjust {CUSTOMER_CARD} +50 компенсация за ожидание")
    assert answers[0].startswith("✅ Корректировка +50 б. проведена.")
    assert await shop.balance() == 15000
    answers = await shop.send(ADMIN, "/adjust +7 916 123 45 67 -30 ошибка кассира")
    assert answers[0].startswith("✅ Корректировка -30 б. проведена.")
    assert await shop.balance() == 12000
    assert "ledger.adjust" in await shop.audit_actions()


async def test_adjust_as_a_dialog(shop: Shop) -> None:
    await shop.send(OWNER, "/adjust")
    assert (await shop.send(OWNER, CUSTOMER_CARD))[0].startswith(f"Карта {CUSTOMER_CARD}, баланс 100 б.")
    await shop.send(OWNER, "+25")
    assert (await shop.send(OWNER, "подарок"))[0].startswith("✅ Корректировка +25 б.")
    assert await shop.balance() == 12500


async def test_adjust_refusals_change_nothing(shop: Shop) -> None:
    assert await shop.send(MANAGER, f"/adjust {CUSTOMER_CARD} +50") == [err("reason_required")]
    assert await shop.send(MANAGER, f"/adjust {CUSTOMER_CARD} 1e9 причина") == [err("invalid_amount")]
    assert await shop.send(MANAGER, f"/adjust {CUSTOMER_CARD} -500 причина") == [err("insufficient_points")]
    assert await shop.send(MANAGER, "/adjust 9031112233 +5 причина") == [err("card_not_found")]
    assert await shop.send(CASHIER, f"/adjust {CUSTOMER_CARD} +5 причина") == [err("role_too_high", role="manager")]
    # The dialog insists on a reason too.
    await shop.send(MANAGER, "/adjust")
    await shop.send(MANAGER, CUSTOMER_CARD)
    await shop.send(MANAGER, "+5")
    assert await shop.send(MANAGER, "   ") == [err("reason_required")]
    assert await shop.balance() == 10000
    assert await shop.operations("manual_adjustment") == 0


async def test_the_daily_adjustment_limit(shop: Shop) -> None:
    await program.update_settings(shop.uow, shop.clock, changes={"daily_adjustment_limit_points": 100}, actor="t")
    await shop.send(MANAGER, f"/adjust {CUSTOMER_CARD} +80 акция")
    assert await shop.send(MANAGER, f"/adjust {CUSTOMER_CARD} +30 акция") == [err("adjustment_limit")]
    assert await shop.balance() == 18000
    # The limit is per staff member: another manager still has theirs.
    assert (await shop.send(ADMIN, f"/adjust {CUSTOMER_CARD} +30 акция"))[0].startswith("✅")


async def test_cardstatus_in_one_line(shop: Shop) -> None:
    for status, label in [("blocked", "заблокирована"), ("accrual_only", "только начисление"),
                          ("payment_only", "только оплата"), ("active", "активна")]:
        answers = await shop.send(MANAGER, f"/cardstatus +7 916 123 45 67 {status}")
        assert answers == [f"Карта {CUSTOMER_CARD}: статус «{label}»."]
        assert (await shop.card()).status == status


async def test_cardstatus_as_a_dialog_and_its_audit(shop: Shop) -> None:
    await shop.send(MANAGER, "/cardstatus")
    answers = await shop.send(MANAGER, "+7 916 123-45-67")
    assert answers == [f"Карта {CUSTOMER_CARD} сейчас: активна. Новый статус?"]
    assert "sts:blocked" in shop.buttons().values()
    assert await shop.press(MANAGER, "sts:blocked") == [f"Карта {CUSTOMER_CARD}: статус «заблокирована»."]
    assert (await shop.card()).status == "blocked"
    assert "card.status" in await shop.audit_actions()


async def test_cardstatus_refusals(shop: Shop) -> None:
    assert await shop.send(CASHIER, f"/cardstatus {CUSTOMER_CARD} blocked") == [err("role_too_high", role="manager")]
    bad = await shop.send(MANAGER, f"/cardstatus {CUSTOMER_CARD} frozen")
    assert bad == [err("validation_error")]
    assert await shop.send(MANAGER, "/cardstatus 9031112233 blocked") == [err("card_not_found")]
    assert (await shop.card()).status == "active"
