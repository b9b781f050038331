"""A manager erases a customer's personal data from the customer card, after a confirmation;
cashiers cannot, and a second press finds nobody. (What an erasure reaches: tests/test_erasure_everywhere.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry
from services import customers, staff
from services.errors import CustomerNotFound
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import CASHIER, MANAGER, Shop


async def _erase_audit(shop: Shop) -> list[tuple[str, str | None]]:
    async def work(session: AsyncSession) -> list[tuple[str, str | None]]:
        rows = await session.execute(
            select(AuditEntry.actor, AuditEntry.entity_id).where(AuditEntry.action == "customer.delete")
        )
        return [(actor, entity) for actor, entity in rows]

    return await shop.uow.read(work)


async def test_a_manager_erases_after_confirming(shop: Shop) -> None:
    await shop.press(MANAGER, f"stf:{shop.customer_id}")
    question = await shop.press(MANAGER, shop.buttons()["🗑 Удалить персональные данные"])
    assert "Удалить персональные данные клиента Петрова Анна?" in question[0]
    assert list(shop.buttons()) == ["🗑 Да, удалить", "✖️ Отмена"]
    # Asking changed nothing.
    assert (await customers.get_customer(shop.uow, shop.customer_id)).phone == "+79161234567"
    done = await shop.press(MANAGER, shop.buttons()["🗑 Да, удалить"])
    assert done == [f"Персональные данные клиента №{shop.customer_id} удалены."]
    with pytest.raises(CustomerNotFound):
        await customers.get_customer(shop.uow, shop.customer_id)
    manager = await staff.find_active_staff(shop.uow, MANAGER)
    assert manager is not None
    assert await _erase_audit(shop) == [(f"staff:{manager.id}", str(shop.customer_id))]
    # A second press (an old message, another manager) finds nobody.
    assert await shop.press(MANAGER, f"ster:confirm:{shop.customer_id}") == [err("customer_not_found")]


async def test_cashiers_cannot_erase(shop: Shop) -> None:
    for step in ("ask", "confirm"):
        assert await shop.press(CASHIER, f"ster:{step}:{shop.customer_id}") == [
            err("role_too_high", role="manager")
        ]
    assert (await customers.get_customer(shop.uow, shop.customer_id)).phone == "+79161234567"
    assert await _erase_audit(shop) == []


async def test_the_cancel_button_keeps_the_customer(shop: Shop) -> None:
    await shop.press(MANAGER, f"ster:ask:{shop.customer_id}")
    assert await shop.press(MANAGER, shop.buttons()["✖️ Отмена"]) == ["Отменено."]
    assert (await customers.get_customer(shop.uow, shop.customer_id)).phone == "+79161234567"

