"""/report: the staff member's and the store's totals, in both forms, and the periods."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from db.uow import UnitOfWork
from services import reports, staff
from services.clock import FrozenClock
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, CASHIER2, CUSTOMER_CARD, MANAGER, OWNER, Shop, open_shop

MOSCOW = ZoneInfo("Europe/Moscow")


async def _cashier_id(shop: Shop) -> int:
    member = await staff.find_active_staff(shop.uow, CASHIER)
    assert member is not None
    return member.id


async def _day_of_work(shop: Shop) -> None:
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 R-1")  # +50
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}")
    await shop.confirm(CASHIER)  # -30, +3 on 70 RUB
    await shop.send(CASHIER, "/refund R-1 400")  # 400 RUB back, 20 points taken back
    await shop.send(CASHIER, "/newcustomer +79031234567 Иван")
    await shop.send(MANAGER, f"/accrue {CUSTOMER_CARD} 2000 M-1")  # +100, same store
    await shop.send(CASHIER2, f"/accrue {CUSTOMER_CARD} 500 X-1")  # another store


async def test_report_totals_for_the_cashier_and_the_store(shop: Shop) -> None:
    await _day_of_work(shop)
    cashier = await _cashier_id(shop)
    report = await reports.shift_report(
        shop.uow, staff_id=cashier, actor=f"staff:{cashier}", store_id=shop.store1, period="today",
        now=shop.clock.now(), tz=MOSCOW,
    )
    assert report.staff == reports.Totals(
        accrued=5300, redeemed=3000, refunded_kopecks=40000, reversed=2000, receipts=2, sales_kopecks=110000,
        new_customers=1,
    )
    # The store: the cashier's and the manager's work, not the other store's; its walk-ins (the
    # fixture's customer was created at S1 too).
    assert report.store == reports.Totals(
        accrued=15300, redeemed=3000, refunded_kopecks=40000, reversed=2000, receipts=3, sales_kopecks=310000,
        new_customers=2,
    )


async def test_report_in_one_line_and_as_buttons(shop: Shop) -> None:
    await _day_of_work(shop)
    answers = await shop.send(CASHIER, "/report today")
    mine, store = answers[0].split("Магазин S1")
    assert "Чеков: 2 на 1\u00a0100\u00a0₽" in mine and "Начислено: 53 б." in mine and "Списано: 30 б." in mine
    assert "Возвраты: 400\u00a0₽ (снято 20 б.)" in mine and "Новых клиентов: 1" in mine
    assert "Чеков: 3 на 3\u00a0100\u00a0₽" in store and "Начислено: 153 б." in store
    assert await shop.send(CASHIER, "/report") == ["Отчёт за какой период?"]
    assert set(shop.buttons().values()) == {"str:today", "str:week"}
    assert (await shop.press(CASHIER, "str:week"))[0].startswith("📊 Отчёт за 7 дней")


async def test_report_for_someone_without_a_store_covers_all_stores(shop: Shop) -> None:
    await _day_of_work(shop)
    answers = await shop.send(OWNER, "/report today")
    assert "все магазины" in answers[0] and "Чеков: 4 на 3\u00a0600\u00a0₽" in answers[0]


async def test_report_bad_period(shop: Shop) -> None:
    assert await shop.send(CASHIER, "/report month") == [err("validation_error")]


async def test_report_periods_follow_the_business_calendar(uow: UnitOfWork, clock: FrozenClock) -> None:
    # 23:30 in Moscow on 14 January is 20:30 UTC: yesterday for a report made on the 15th.
    clock.set(datetime(2026, 1, 14, 20, 30, tzinfo=UTC))
    shop = await open_shop(uow, clock)
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000 OLD")
    clock.set(datetime(2026, 1, 14, 21, 30, tzinfo=UTC))  # 00:30 on the 15th in Moscow
    await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 2000 NEW")
    clock.advance(timedelta(hours=10))

    cashier = await _cashier_id(shop)

    async def totals(period: str) -> reports.Totals:
        report = await reports.shift_report(
            uow, staff_id=cashier, actor=f"staff:{cashier}", store_id=shop.store1, period=period, now=clock.now(),
            tz=MOSCOW,
        )
        return report.staff

    assert (await totals("today")).sales_kopecks == 200000
    assert (await totals("week")).sales_kopecks == 300000
    clock.advance(timedelta(days=7))
    assert (await totals("week")).receipts == 0
