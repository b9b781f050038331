"""End to end in polling mode: `python -m bot run` against the emulator, driven only through Telegram
messages, the HTTP API and the command line. One app for the module; every test has its own people."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from emulator import EmulatorClient, User
from tests.e2e.conftest import Stack, app_stack, customer, logged_errors
from tests.e2e.steps import REPLY_TIMEOUT, confirm, open_card, receipt_of, register, say

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

OWNER = 300_003  # the sandbox's Olga, made owner through OWNER_TELEGRAM_IDS
CASHIER = 200_002  # the sandbox's Boris, made cashier through `staff add`
STORE = "E2E1"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def prepare(stack: Stack) -> None:
    """A store, its cashier and an API key: the way an operator sets up, from the command line."""
    await stack.cli("store", "add", STORE, "Main", "street")
    staff_added, key_created = await asyncio.gather(
        stack.cli("staff", "add", str(CASHIER), "cashier", "--store", STORE, "--name", "Boris"),
        stack.cli("api-key", "create", "--store", STORE, "--scopes", "pos,admin", "--name", "e2e"),
    )
    assert "cashier" in staff_added
    key = re.search(r"key:\s+(\S+)", key_created)
    assert key, key_created
    stack.api_keys["admin"] = key.group(1)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    workdir = tmp_path_factory.mktemp("polling")
    async with app_stack(workdir, name="app (polling)", owners=[OWNER], setup=prepare) as stack:
        yield stack


async def lookup(stack: Stack, query: str) -> tuple[int, dict[str, Any]]:
    return await stack.api("GET", f"/cards/lookup?q={query}", key=stack.api_keys["admin"])


async def cashier(client: EmulatorClient) -> User:
    return await client.create_user(CASHIER, "Boris", language_code="en")


async def test_customer_registers_and_sees_card_balance_and_history(stack: Stack) -> None:
    client = stack.client
    anna = await customer(client, 100_001, "79161234567")

    number = await register(client, anna)

    assert number == "9161234567"
    menu = (await client.chat(anna)).reply_keyboard or {}
    assert "💳 Card" in [button["text"] for row in menu.get("keyboard", []) for button in row]
    card = await open_card(client, anna)
    assert (card.number, card.points) == (number, "100")
    assert card.code is not None and card.message.inline_buttons[0].text == "🔄 Refresh code"
    photo = card.message.photo
    assert photo
    file_url = f"{stack.emulator.url}/control/files/{photo[-1]['file_id']}"
    async with aiohttp.ClientSession() as http, http.get(file_url) as response:
        image = await response.read()
    assert image.startswith(PNG_SIGNATURE) and len(image) > 500

    balance = await say(client, anna, "/balance", "Balance of card")
    assert "Available: 100 points" in balance.text
    history = await say(client, anna, "📜 History", "Operations, page 1")
    assert re.search(r"Welcome bonus: \+100\b", history.text), history.text
    status, body = await lookup(stack, "+7 916 123-45-67")
    assert status == 200 and (body["number"], body["balance"], body["pending"]) == (number, 100_00, 0)


async def test_cashier_accrues_and_redeems_with_the_code_from_the_customers_card(stack: Stack) -> None:
    client = stack.client
    boris, vera = await cashier(client), await customer(client, 100_101, "79161000101", "Vera")
    number = await register(client, vera)

    accrued = await say(client, boris, f"/accrue {number} 1000 R-100", "accrued for receipt R-100")
    assert "50 pts (5%)" in accrued.text, accrued.text
    # The customer hears about it from the app's outbox sender, not from the cashier's handler.
    await client.wait_for(vera, "+50 points for your purchase", REPLY_TIMEOUT)

    card = await open_card(client, vera)
    assert card.code is not None
    wrong = f"{(int(card.code) + 1) % 1_000_000:06d}"
    refused = await say(client, boris, f"/redeem {number} 30 1000 {wrong}", "code is wrong")
    assert "redeemed" not in refused.text
    summary = await say(client, boris, f"/redeem {number} 30 1000 {card.code}", "Check before redeeming")
    assert "Receipt: tg-" in summary.text and "Paid with points: 30 points" in summary.text, summary.text
    redeemed = await confirm(client, boris, summary, "30 pts redeemed")
    assert receipt_of(redeemed.text).startswith("tg-")
    await client.wait_for(vera, "You paid 30 points", REPLY_TIMEOUT)

    status, body = await lookup(stack, number)
    assert status == 200
    # 100 welcome - 30 paid; the two receipts' points wait for the return window.
    assert body["balance"] == 70_00 and body["pending"] > 50_00, body
    balance = await say(client, vera, "💰 Balance", "Balance of card")
    assert "Available: 70 points" in balance.text, balance.text


async def test_refund_takes_back_earned_points_and_returns_spent_ones(stack: Stack) -> None:
    client = stack.client
    boris, gleb = await cashier(client), await customer(client, 100_102, "79161000102", "Gleb")
    number = await register(client, gleb)
    await say(client, boris, f"/accrue {number} 2000 R-200", "accrued for receipt R-200")
    card = await open_card(client, gleb)
    summary = await say(client, boris, f"/redeem {number} 50 1000 {card.code}", "Check before redeeming")
    redeemed = await confirm(client, boris, summary, "50 pts redeemed")
    paid_receipt = receipt_of(redeemed.text)

    partial = await say(client, boris, "/refund R-200 1000", "Refund of")
    assert "50 pts taken back, 0 pts returned" in partial.text, partial.text
    full = await say(client, boris, f"/refund {paid_receipt}", "Refund of")
    assert "50 pts returned" in full.text, full.text
    await client.wait_for(gleb, "spent points returned", REPLY_TIMEOUT)

    status, body = await lookup(stack, number)
    assert status == 200
    # The welcome 100 again (the 50 spent came back); half of R-200's 100 still pending; no debt.
    assert (body["balance"], body["pending"], body["debt"]) == (100_00, 50_00, 0), body
    history = await say(client, gleb, "/history", "Operations, page 1")
    assert "Returned on a refund" in history.text and "Taken back on a refund" in history.text


async def test_a_till_posts_a_purchase_through_the_http_api_with_the_customers_code(stack: Stack) -> None:
    client = stack.client
    ivan = await customer(client, 100_106, "79161000106", "Ivan")
    number = await register(client, ivan)
    card = await open_card(client, ivan)
    purchase = {"receipt_id": "POS-1", "amount_kopecks": 1000_00, "phone": "8 (916) 100-01-06",
                "redeem_points": 40_00, "code": card.code}

    status, body = await stack.api("POST", "/purchases", key=stack.api_keys["admin"], json=purchase)

    assert status in (200, 201), body
    assert (body["card_number"], body["redeemed_points"], body["store"]) == (number, 40_00, STORE), body
    await client.wait_for(ivan, "You paid 40 points", REPLY_TIMEOUT)
    # A till that retries after a lost answer gets the same answer, and nothing is spent twice.
    again_status, again = await stack.api("POST", "/purchases", key=stack.api_keys["admin"], json=purchase)
    assert (again_status, again) == (status, body)
    _, looked_up = await lookup(stack, number)
    assert looked_up["balance"] == 60_00, looked_up


async def test_the_owner_invites_a_cashier_by_link_and_the_invitee_works_at_once(stack: Stack) -> None:
    client = stack.client
    olga = await client.create_user(OWNER, "Olga", language_code="en")
    invite = await say(client, olga, f"/invite cashier {STORE}", "Invitation:")
    link = re.search(r"https://t\.me/\S+\?start=(staff-\S+)", invite.text)
    assert link, invite.text
    pavel = await customer(client, 100_107, "79161000107", "Pavel")

    await say(client, pavel, f"/start {link.group(1)}", "you are staff now")

    commands = [c["command"] for c in (await client.chat(pavel)).commands]
    assert {"accrue", "redeem", "refund", "card"} <= set(commands), commands
    await say(client, pavel, "/report today", "Today's report")
    # The link worked once: a second person gets no staff rights from it.
    eve = await customer(client, 100_108, "79161000108", "Eve")
    await client.send_text(eve, f"/start {link.group(1)}")
    await say(client, eve, "/report today", "for staff only")


def next_birthday() -> date:
    """A birthday two months ahead (never 29 February): set now, it is > 30 days old by then."""
    day = date.today() + timedelta(days=60)
    return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day


async def test_birthday_job_from_the_command_line_greets_with_the_bonus(stack: Stack) -> None:
    client = stack.client
    dina = await customer(client, 100_103, "79161000103", "Dina")
    await register(client, dina)
    birthday = next_birthday()

    profile = await say(client, dina, "/profile", "Profile")
    await client.press(dina, profile, profile.button("🎂 Birthday").callback_data or "")
    asked = await client.wait_for(dina, "Write your birthday", REPLY_TIMEOUT, after=profile)
    typed = await client.send_text(dina, birthday.replace(year=1990).strftime("%d.%m.%Y"))
    # Two messages in a row to one chat: the second meets the 1 message/s limit and must still arrive.
    saved, shown = await client.wait_for_count(dina, 2, REPLY_TIMEOUT, after=typed)
    assert saved.text == "Saved ✅" and f"Birthday: {birthday.replace(year=1990):%d.%m.%Y}" in shown.text
    assert asked.message_id < saved.message_id
    assert (await client.stats()).rate_limited.get(dina.id, 0) >= 1, "the two replies never met the chat limit"
    await client.press(dina, shown, shown.button("📣 Get promotions").callback_data or "")
    await client.wait_for(dina, "Promotional messages: on", REPLY_TIMEOUT, after=saved)

    today = birthday.isoformat()
    queued = await stack.cli("jobs", "run", "birthdays", "--today", today, "--yes")
    assert "1 greetings queued, 1 birthday bonuses granted" in queued, queued
    # The greeting waits in the outbox for its day; `jobs run deliver` on that day sends it.
    delivered = await stack.cli("jobs", "run", "deliver", "--today", today, "--yes")
    assert re.search(r"sent [1-9]", delivered), delivered
    greeting = await client.wait_for(dina, "Happy birthday!", REPLY_TIMEOUT)
    assert "500 gift points" in greeting.text


BROADCAST_RECIPIENTS = 34  # more than Telegram's 30 messages/s: the sender has to pace itself
BLOCKED_BEFORE = 2  # blocked the bot and the bot heard it (my_chat_member): not even queued
BLOCKED_UNSEEN = 2  # blocked while the bot was not looking: Telegram answers 403 at send time


async def consenting_customer(client: EmulatorClient, index: int, gate: asyncio.Semaphore) -> User:
    async with gate:
        user = await customer(client, 400_000 + index, f"791620{index:05d}", f"Reader{chr(65 + index % 26)}")
        await register(client, user)
        profile = await say(client, user, "/profile", "Profile")
        await client.press(user, profile, profile.button("📣 Get promotions").callback_data or "")
        await client.wait_for(user, "Promotional messages: on", REPLY_TIMEOUT, after=profile.message_id - 1)
        return user


async def test_broadcast_respects_the_limits_and_counts_blocked_customers(stack: Stack) -> None:
    client = stack.client
    gate = asyncio.Semaphore(12)
    readers = await asyncio.gather(*(consenting_customer(client, i, gate) for i in range(BROADCAST_RECIPIENTS)))
    gone, unseen = readers[:BLOCKED_BEFORE], readers[BLOCKED_BEFORE:BLOCKED_BEFORE + BLOCKED_UNSEEN]
    reached = readers[BLOCKED_BEFORE + BLOCKED_UNSEEN:]
    for user in gone:
        await client.block(user)
    for user in unseen:
        await client.inject_fault(user, "403")
    olga = await client.create_user(OWNER, "Olga", language_code="en")

    await say(client, olga, "/broadcast", "Send the text of the broadcast")
    await say(client, olga, "Spring sale: 20% off everything", "Who gets it?")
    await client.press_button(olga, "Everyone with consent")
    count = await client.wait_for(olga, "Recipients:", REPLY_TIMEOUT)
    recipients = int(re.search(r"Recipients: (\d+)", count.text).group(1))  # type: ignore[union-attr]
    # Everyone with consent who did not block the bot: ours, and any from the other tests.
    assert recipients >= len(reached) + len(unseen)
    await asyncio.sleep(1.1)  # let the last replies to the readers' chats age out of the 1/s window
    before = await client.stats()
    await client.press(olga, count, count.button("Send").callback_data or "")
    await client.wait_for(olga, f"queued for {recipients} customers", REPLY_TIMEOUT)
    # Staff have no language of their own: the sender reports in the admin's customer language, else
    # Russian, so the final report is matched in either.
    finished = await client.wait_for(olga, re.compile(r"is finished|завершена"), 60.0)
    after = await client.stats()

    assert after.rate_limited_total == before.rate_limited_total, "the broadcast made Telegram answer 429"
    _id, queued, delivered, blocked, failed, _skipped = map(int, re.findall(r"\d+", finished.text))
    assert (queued, blocked, failed) == (recipients, BLOCKED_UNSEEN, 0), finished.text
    assert delivered == recipients - BLOCKED_UNSEEN, finished.text
    for user in reached:
        await client.wait_for(user, "Spring sale", 5.0)
    for user in gone + unseen:
        assert not [m for m in await client.messages(user) if "Spring sale" in m.text], user
    new_sends = sum(len(after.sends.get(u.id, [])) - len(before.sends.get(u.id, [])) for u in reached)
    assert new_sends == len(reached)


async def test_forged_contacts_are_refused_and_store_nothing(stack: Stack) -> None:
    client = stack.client
    mallory = await customer(client, 100_104, "79161000104", "Mallory")
    victim = await customer(client, 100_105, "79165550105", "Victim")
    await say(client, mallory, "/start", "To get your card")

    attempts = [
        {"phone": victim.phone, "own": False, "contact_user_id": victim.id, "first_name": "Victim"},
        {"phone": victim.phone, "own": False, "contact_user_id": victim.id, "forwarded": True},
        {"phone": "79165550106", "own": False},  # typed by hand: no user id at all
        {"own": True, "forwarded": True},  # her own card, but forwarded: not the button, so no consent
    ]
    for attempt in attempts:
        sent = await client.send_contact(mallory, **attempt)  # type: ignore[arg-type]
        await client.wait_for(mallory, "This is not your contact", REPLY_TIMEOUT, after=sent)

    for phone in ("9165550105", "9165550106"):
        status, body = await lookup(stack, phone)
        assert status == 404, body
    await say(client, mallory, "/card", "To get your card")  # still a stranger
    # Her own contact still works afterwards: the refusals left nothing half-done.
    assert await register(client, mallory) == "9161000104"


async def test_the_app_logged_no_errors(stack: Stack) -> None:
    """Last in the module: nothing above failed inside the app unseen."""
    assert logged_errors(stack.app) == []
