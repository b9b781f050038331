"""DELETE /api/v1/customers/{id}: admins erase a customer (the same erasure as /deleteme); tills
cannot; an erased or unknown customer is 404. (What an erasure reaches: tests/test_erasure_everywhere.py.)"""

from __future__ import annotations

from services import customers
from tests.http.conftest import PHONE, Api


async def _walk_in(api: Api) -> int:
    return (await customers.find_customers(
        api.context.uow, PHONE, phone_policy=api.context.phone_policy, full_access=True
    ))[0].id


async def test_an_admin_erases_a_customer(api: Api) -> None:
    customer_id = await _walk_in(api)
    response = await api.call("DELETE", f"/api/v1/customers/{customer_id}", key=api.admin)
    assert response.status == 200 and await response.json() == {"customer_id": customer_id, "erased": True}
    assert await customers.find_customers(
        api.context.uow, PHONE, phone_policy=api.context.phone_policy, full_access=True
    ) == []
    again = await api.call("DELETE", f"/api/v1/customers/{customer_id}", key=api.admin)
    assert again.status == 404 and (await again.json())["code"] == "customer_not_found"


async def test_a_till_cannot_erase_and_unknown_ids_are_not_found(api: Api) -> None:
    customer_id = await _walk_in(api)
    refused = await api.call("DELETE", f"/api/v1/customers/{customer_id}", key=api.pos)
    assert refused.status == 403
    assert (await customers.get_customer(api.context.uow, customer_id)).phone == PHONE
    for unknown in ("999999", "9" * 40):
        missing = await api.call("DELETE", f"/api/v1/customers/{unknown}", key=api.admin)
        assert missing.status == 404, unknown
