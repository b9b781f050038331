"""Money-moving dialogs never guess (issue 18): refusals say what was wrong, what is allowed and
what to type again; a summary is confirmed before a redemption and before a large accrual, exactly
once; absurd receipts are refused with the limit named; and after a commit a failed answer never
says "try again", while a redelivered update is the same operation."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiogram.exceptions import TelegramServerError
from aiogram.methods import SendMessage

from locales import money, points, translator
from services import ledger, program
from tests.support import updates
from tests.telegram.staff.helpers import CASHIER, CUSTOMER_CARD, MANAGER, Shop

LOCALES = ["ru", "en"]
NBSP = "\u00a0"  # the Russian thousands separator


def t(locale: str, key: str, /, **args: object) -> str:
    return translator().get(locale, key, **args)


def err(locale: str, code: str, /, **args: object) -> str:
    return translator().get(locale, f"error-{code}", **args)


async def seed(shop: Shop, points: int) -> None:
    await ledger.adjust_points(
        shop.uow, shop.clock, card_id=shop.card_id, points=points * 100, reason="seed", idempotency_key="seed",
        actor="test",
    )


async def six_digit_code(shop: Shop) -> str:
    """The customer's current code, moved on until it does not start with 0 (so it reads as a
    receipt of 100 000 RUB or more)."""
    code = await shop.code()
    while code.startswith("0"):
        shop.clock.advance(timedelta(seconds=60))
        code = await shop.code()
    return code


def server_error() -> TelegramServerError:
    return TelegramServerError(method=SendMessage(chat_id=CASHIER, text="-"), message="Internal Server Error")


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_issue_a_code_typed_as_the_amount_after_a_cap_refusal_moves_no_money(
    shop: Shop, locale: str
) -> None:
    await seed(shop, 1000)
    balance = await shop.balance()
    await shop.send(CASHIER, "/redeem", language=locale)
    await shop.send(CASHIER, CUSTOMER_CARD, language=locale)
    await shop.send(CASHIER, "500", language=locale)
    refused = await shop.send(CASHIER, "1000", language=locale)
    # What was wrong and what is allowed, with the numbers, and which value to type again.
    allowed = {
        "ru": f"не больше 300 баллов на чек 1{NBSP}000{NBSP}₽", "en": f"at most 300 points on this 1,000{NBSP}₽ receipt"
    }
    assert len(refused) == 1 and allowed[locale] in refused[0], refused
    assert refused[0].endswith(t(locale, "staff-again-receipt-amount")), refused
    assert t(locale, "staff-button-change-points") in shop.buttons()

    code = await six_digit_code(shop)
    taken = await shop.send(CASHIER, code, language=locale)  # the customer's code, at the amount step
    # Not silently: the amount taken is said back ...
    assert taken == [t(locale, "staff-ask-code-for", amount=money(int(code) * 100), points=points(50000))]
    summary = await shop.send(CASHIER, code, language=locale)
    # ... and nothing moves before the summary is confirmed, which shows the odd receipt.
    assert len(summary) == 1 and summary[0].startswith(t(locale, "staff-summary-title-redeem")), summary
    receipt_line = t(locale, "staff-summary-receipt", receipt="x", amount=money(int(code) * 100))
    assert receipt_line.split("x", 1)[1] in summary[0], summary
    assert await shop.operations("redemption") == 0 and await shop.operations("purchase_accrual") == 0
    cancelled = await shop.press(CASHIER, shop.buttons()[t(locale, "staff-button-cancel-operation")], language=locale)
    assert cancelled == [t(locale, "staff-confirm-cancelled")]
    assert await shop.operations("redemption") == 0 and await shop.operations("purchase_accrual") == 0
    assert await shop.balance() == balance


@pytest.mark.parametrize("locale", LOCALES)
async def test_change_points_after_a_cap_refusal(shop: Shop, locale: str) -> None:
    await seed(shop, 1000)
    for answer in ("/redeem", CUSTOMER_CARD, "500"):
        await shop.send(CASHIER, answer, language=locale)
    await shop.send(CASHIER, "1000", language=locale)
    asked = await shop.press(CASHIER, shop.buttons()[t(locale, "staff-button-change-points")], language=locale)
    assert asked == [t(locale, "staff-ask-points-again")]
    await shop.send(CASHIER, "300", language=locale)
    assert (await shop.send(CASHIER, "1000", language=locale))[0].startswith(
        t(locale, "staff-ask-code-for", amount=money(100000), points=points(30000))
    )
    summary = await shop.send(CASHIER, await shop.code(), language=locale)
    assert summary[0].startswith(t(locale, "staff-summary-title-redeem"))
    done = await shop.press(CASHIER, shop.buttons()[t(locale, "staff-button-confirm")], language=locale)
    assert done[0].startswith(t(locale, "staff-redeem-done", points="300")), done
    assert await shop.operations("redemption") == 1


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_redemption_is_summarised_and_posted_once(shop: Shop, locale: str) -> None:
    cashier = updates.user(CASHIER, language=locale)
    command = updates.text(cashier, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}")
    summary = await shop.feed(command)
    assert len(summary) == 1 and summary[0].startswith(t(locale, "staff-summary-title-redeem")), summary
    # The customer as a cashier may see them: the name, a masked phone.
    assert "Петрова Анна" in summary[0] and "+7 *** ***-45-67" in summary[0] and CUSTOMER_CARD in summary[0]
    assert t(locale, "staff-summary-paid", points=points(3000)) in summary[0]
    assert t(locale, "staff-summary-earn", points=points(300)) in summary[0]
    assert await shop.operations("redemption") == 0 and await shop.balance() == 10000

    press = updates.callback(cashier, shop.buttons()[t(locale, "staff-button-confirm")])
    done = await shop.feed(press)
    assert done[0].startswith(t(locale, "staff-redeem-done", points="30")), done
    assert await shop.operations("redemption") == 1 and await shop.balance() == 7000
    # The same callback redelivered, and a second press: nothing more.
    assert await shop.feed(press) == [t(locale, "staff-confirm-stale")]
    assert await shop.press(CASHIER, str(press.callback_query.data), language=locale) == [  # type: ignore[union-attr]
        t(locale, "staff-confirm-stale")
    ]
    # The command update redelivered: the first result, not a second redemption (its code is used up).
    replayed = await shop.feed(command)
    assert replayed[0].startswith(t(locale, "staff-receipt-replayed")), replayed
    assert await shop.operations("redemption") == 1 and await shop.balance() == 7000


async def test_two_presses_at_once_post_one_redemption(shop: Shop) -> None:
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}")
    press = updates.callback(updates.user(CASHIER), shop.buttons()[t("ru", "staff-button-confirm")])
    await asyncio.gather(shop.harness.feed(press), shop.harness.feed(press))
    assert await shop.operations("redemption") == 1 and await shop.balance() == 7000


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_code_that_expired_under_the_summary_moves_nothing(shop: Shop, locale: str) -> None:
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}", language=locale)
    confirm = shop.buttons()[t(locale, "staff-button-confirm")]
    shop.clock.advance(timedelta(minutes=3))
    assert await shop.press(CASHIER, confirm, language=locale) == [t(locale, "staff-confirm-code-stale")]
    assert await shop.operations("redemption") == 0 and await shop.balance() == 10000
    # The current code brings the summary back.
    summary = await shop.send(CASHIER, await shop.code(), language=locale)
    assert summary[0].startswith(t(locale, "staff-summary-title-redeem"))
    # The same operation (the same receipt id) as the first summary: either Confirm posts it, once.
    assert shop.buttons()[t(locale, "staff-button-confirm")] == confirm
    done = await shop.press(CASHIER, confirm, language=locale)
    assert done[0].startswith(t(locale, "staff-redeem-done", points="30"))
    assert await shop.operations("redemption") == 1


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_wrong_code_is_refused_before_the_summary(shop: Shop, locale: str) -> None:
    for answer in ("/redeem", CUSTOMER_CARD, "20", "100"):
        await shop.send(CASHIER, answer, language=locale)
    wrong = "000000" if await shop.code() != "000000" else "111111"
    assert await shop.send(CASHIER, wrong, language=locale) == [
        err(locale, "bad_code") + "\n" + t(locale, "staff-again-code")
    ]
    assert (await shop.send(CASHIER, await shop.code(), language=locale))[0].startswith(
        t(locale, "staff-summary-title-redeem")
    )


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_accrual_above_the_threshold_is_summarised_below_it_is_posted(shop: Shop, locale: str) -> None:
    summary = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 150000 A-1", language=locale)
    assert summary[0].startswith(t(locale, "staff-summary-title-accrue", threshold=money(10_000_000))), summary
    assert t(locale, "staff-summary-earn", points=points(750000)) in summary[0]
    assert await shop.operations("purchase_accrual") == 0
    done = await shop.press(CASHIER, shop.buttons()[t(locale, "staff-button-confirm")], language=locale)
    accrued = t(locale, "staff-accrue-done", points="7500", percent="5", amount="150000", receipt="A-1")
    assert done[0].startswith(accrued), done
    assert await shop.operations("purchase_accrual") == 1
    # Exactly the threshold: posted at once.
    posted = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100000 A-2", language=locale)
    assert posted[0].startswith(t(locale, "staff-accrue-done", points="10000", percent="10", amount="100000",
                                  receipt="A-2")), posted
    assert await shop.operations("purchase_accrual") == 2
    # The owner's threshold, read live.
    await program.update_settings(shop.uow, shop.clock, changes={"confirm_accrual_above_rub": 1000}, actor="test")
    asked = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1500", language=locale)
    assert asked[0].startswith(t(locale, "staff-summary-title-accrue", threshold=money(100_000))), asked
    assert await shop.operations("purchase_accrual") == 2
    assert (await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 1000", language=locale))[0].startswith("✅")
    assert await shop.operations("purchase_accrual") == 3


@pytest.mark.parametrize("locale", LOCALES)
async def test_the_accrual_dialog_summarises_a_large_receipt(shop: Shop, locale: str) -> None:
    for answer in ("/accrue", CUSTOMER_CARD, "150000"):
        await shop.send(CASHIER, answer, language=locale)
    summary = await shop.press(CASHIER, "stx:skip", language=locale)
    assert summary[0].startswith(t(locale, "staff-summary-title-accrue", threshold=money(10_000_000))), summary
    assert await shop.press(CASHIER, shop.buttons()[t(locale, "staff-button-cancel-operation")], language=locale) == [
        t(locale, "staff-confirm-cancelled")
    ]
    assert await shop.operations("purchase_accrual") == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_absurd_receipt_is_refused_naming_the_limit(shop: Shop, locale: str) -> None:
    def too_large(amount: int, limit: int) -> str:
        return err(locale, "receipt_too_large", amount_kopecks=money(amount * 100),
                   max_kopecks=money(limit * 100))

    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 20000000", language=locale) == [
        too_large(20_000_000, 10_000_000)
    ]
    assert f"10{NBSP}000{NBSP}000{NBSP}₽" in too_large(1, 10_000_000) or locale == "en"
    code = await shop.code()
    assert await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 10 20000000 {code}", language=locale) == [
        too_large(20_000_000, 10_000_000)
    ]
    await program.update_settings(shop.uow, shop.clock, changes={"max_receipt_rub": 500_000}, actor="test")
    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 677827", language=locale) == [
        too_large(677_827, 500_000)
    ]
    # In the dialog: the limit, and the value to type again; the dialog waits for it.
    for answer in ("/accrue", CUSTOMER_CARD):
        await shop.send(CASHIER, answer, language=locale)
    assert await shop.send(CASHIER, "677827", language=locale) == [
        too_large(677_827, 500_000) + "\n" + t(locale, "staff-again-amount")
    ]
    assert (await shop.send(CASHIER, "1000", language=locale))[0] == t(
        locale, "staff-ask-receipt-for", amount=money(100000)
    )
    assert await shop.operations("purchase_accrual") == 0 and await shop.operations("redemption") == 0


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_failed_answer_after_an_accrual_says_what_was_committed(shop: Shop, locale: str) -> None:
    shop.harness.session.fail_next(SendMessage, server_error())
    command = updates.text(updates.user(CASHIER, language=locale), f"/accrue {CUSTOMER_CARD} 1000")
    answers = await shop.feed(command)
    assert await shop.operations("purchase_accrual") == 1
    # The answer that failed, then what was committed, and that it must not be repeated.
    assert len(answers) == 2, answers
    assert answers[1].startswith(t(locale, "staff-committed-unanswered", card=CUSTOMER_CARD)), answers
    assert answers[0] in answers[1]
    assert err(locale, "unexpected") not in answers
    # A redelivery of the same update is the same operation.
    again = await shop.feed(command)
    assert again[0].startswith(t(locale, "staff-receipt-replayed")), again
    assert await shop.operations("purchase_accrual") == 1


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_failed_answer_after_an_adjustment_says_what_was_committed(shop: Shop, locale: str) -> None:
    shop.harness.session.fail_next(SendMessage, server_error())
    command = updates.text(updates.user(MANAGER, language=locale), f"/adjust {CUSTOMER_CARD} +50 compensation")
    answers = await shop.feed(command)
    assert answers[-1].startswith(t(locale, "staff-committed-unanswered", card=CUSTOMER_CARD)), answers
    assert err(locale, "unexpected") not in answers
    again = await shop.feed(command)
    assert again[0].startswith(t(locale, "staff-adjust-replayed")), again
    assert await shop.operations("manual_adjustment") == 1 and await shop.balance() == 15000


@pytest.mark.parametrize("locale", LOCALES)
async def test_a_failed_confirmation_answer_says_what_was_committed(shop: Shop, locale: str) -> None:
    await shop.send(CASHIER, f"/redeem {CUSTOMER_CARD} 30 100 {await shop.code()}", language=locale)
    press = updates.callback(updates.user(CASHIER, language=locale), shop.buttons()[t(locale, "staff-button-confirm")])
    shop.harness.session.fail_next(SendMessage, server_error())
    answers = await shop.feed(press)
    assert answers[-1].startswith(t(locale, "staff-committed-unanswered", card=CUSTOMER_CARD)), answers
    again = await shop.feed(press)  # redelivered: the stored result, nothing more
    assert again[0].startswith(t(locale, "staff-receipt-replayed")), again
    assert await shop.operations("redemption") == 1 and await shop.balance() == 7000


@pytest.mark.parametrize("locale", LOCALES)
async def test_an_unexpected_error_never_tells_staff_to_try_again(shop: Shop, locale: str) -> None:
    shop.harness.session.fail_next(SendMessage, server_error())
    answers = await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD}", language=locale)
    assert answers[-1] == err(locale, "unexpected-staff"), answers
