"""End to end in webhook mode with Telegram failing under the till: the reply to a committed /accrue
and the notice after it both get 500 from the emulator, so the update fails, the app releases its
claim and the emulator delivers the update again, as Telegram does. Exactly one accrual, and the
chat never says "try again". (Its own app: the failed delivery is logged as an error on purpose.)"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.e2e.conftest import Stack, app_stack
from tests.e2e.steps import REPLY_TIMEOUT, say

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

CASHIER = 200_010
STORE = "F1"


async def prepare(stack: Stack) -> None:
    await stack.cli("store", "add", STORE, "Faults")
    await stack.cli("staff", "add", str(CASHIER), "cashier", "--store", STORE, "--name", "Kate")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    async with app_stack(
        tmp_path_factory.mktemp("webhook-faults"), name="app (webhook, faults)", webhook=True, setup=prepare
    ) as stack:
        yield stack


async def test_a_failed_answer_after_accrue_then_the_redelivery_accrue_once(stack: Stack) -> None:
    client = stack.client
    kate = await client.create_user(CASHIER, "Kate", language_code="en")
    await say(client, kate, "/newcustomer +79161000301 Lev", "Customer Lev created")
    await client.inject_fault(kate, "500", count=2)
    sent = await client.send_text(kate, "/accrue 9161000301 1000")
    # The redelivered update is the same receipt: the stored result, nothing accrued again.
    replayed = await client.wait_for(kate, "already posted", REPLY_TIMEOUT, after=sent)
    assert "accrued for receipt tg-" in replayed.text, replayed.text
    report = await say(client, kate, "/report today", "Receipts:")
    assert "Receipts: 1 for 1,000\u00a0₽" in report.text, report.text
    assert not [m.text for m in await client.messages(kate) if "try again" in m.text]
    assert "releasing it for redelivery" in stack.app.log.read_text(encoding="utf-8")
