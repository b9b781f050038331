"""A staff member may be a customer too: the customer commands still answer them as a customer,
and a customer who is not staff gets no staff answer."""

from __future__ import annotations

from services import customers
from services.phones import PhonePolicy
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, Shop


async def test_a_cashier_who_is_a_customer_sees_their_own_balance(shop: Shop) -> None:
    await customers.register_by_telegram(
        shop.uow, shop.clock, telegram_id=CASHIER, phone="+79035550011", first_name="Kate", last_name=None,
        language="ru", policy_version="1", phone_policy=PhonePolicy(),
    )
    answers = await shop.send(CASHIER, "/balance")
    assert any("Баланс карты <b>9035550011</b>" in a for a in answers), answers
    # ...and the staff commands still work for them.
    assert (await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100"))[0].startswith("✅ Начислено 5 б.")


async def test_a_customer_who_is_not_staff_gets_no_staff_answer(shop: Shop) -> None:
    await customers.register_by_telegram(
        shop.uow, shop.clock, telegram_id=700, phone="+79035550022", first_name="Ivan", last_name=None,
        language="en", policy_version="1", phone_policy=PhonePolicy(),
    )
    assert await shop.send(700, f"/find {CUSTOMER_CARD}") == [err("not_staff", "en")]
    assert await shop.send(700, "/report") == [err("not_staff", "en")]
