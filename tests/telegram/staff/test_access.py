"""Staff commands are refused to everyone else, and each role only gets what it may do."""

from __future__ import annotations

from aiogram.methods import SendMessage

from services.staff import StaffView
from tests.telegram.staff.conftest import err, text
from tests.telegram.staff.helpers import ADMIN, CASHIER, CUSTOMER_CARD, MANAGER, OWNER, STRANGER, Shop

STAFF_COMMANDS = (
    "/find Петрова", "/find", f"/accrue {CUSTOMER_CARD} 100", "/accrue", f"/redeem {CUSTOMER_CARD} 10 100 000000",
    "/redeem", "/refund R1", "/refund", f"/adjust {CUSTOMER_CARD} +5 gift", "/adjust",
    f"/cardstatus {CUSTOMER_CARD} blocked", "/cardstatus", "/newcustomer +79031234567 Иван", "/newcustomer",
    "/conflicts", "/report", "/report today", "/invite cashier", "/invite", "/staff",
)


async def test_a_stranger_gets_not_staff_for_every_staff_command_and_nothing_changes(shop: Shop) -> None:
    operations = await shop.operations()
    audit = await shop.audit_actions()
    for command in STAFF_COMMANDS:
        assert await shop.send(STRANGER, command) == [err("not_staff")], command
    for data in ("stf:1", "stc:1:1", "stm:4", "stq:4", "sts:blocked", "str:today", "sti:cashier", "stw:-", "stx:skip"):
        answers = await shop.press(STRANGER, data)
        assert all("Петрова" not in a and CUSTOMER_CARD not in a for a in answers), data
    assert await shop.operations() == operations
    assert await shop.audit_actions() == audit
    assert (await shop.card()).status == "active"


async def test_a_stranger_pressing_a_customer_card_button_sees_no_data(shop: Shop) -> None:
    assert await shop.press(STRANGER, f"stf:{shop.customer_id}") == [err("not_staff")]


async def test_a_cashier_is_refused_manager_commands(shop: Shop) -> None:
    audit = await shop.audit_actions()
    for command in [f"/adjust {CUSTOMER_CARD} +5 gift", "/adjust", f"/cardstatus {CUSTOMER_CARD} blocked",
                    "/cardstatus", "/conflicts", "/invite cashier", "/invite", "/staff"]:
        assert await shop.send(CASHIER, command) == [err("role_too_high", role="manager")], command
    assert await shop.operations("manual_adjustment") == 0
    assert (await shop.card()).status == "active"
    assert await shop.audit_actions() == audit


async def test_a_deactivated_member_is_a_stranger_again(shop: Shop) -> None:
    await shop.send(ADMIN, "/staff")
    deactivate = next(data for label, data in shop.buttons().items() if "Kate" in label)
    await shop.press(ADMIN, deactivate)
    await shop.press(ADMIN, shop.buttons()["Да, отключить"])
    assert await shop.send(CASHIER, f"/accrue {CUSTOMER_CARD} 100") == [err("not_staff")]
    assert await shop.operations("purchase_accrual") == 0


async def test_a_dialog_left_by_a_deactivated_member_goes_nowhere(shop: Shop) -> None:
    await shop.send(CASHIER, "/accrue")
    await shop.send(ADMIN, "/staff")
    await shop.press(ADMIN, next(data for label, data in shop.buttons().items() if "Kate" in label))
    await shop.press(ADMIN, shop.buttons()["Да, отключить"])
    await shop.send(CASHIER, CUSTOMER_CARD)
    await shop.send(CASHIER, "100")
    assert await shop.operations("purchase_accrual") == 0


async def test_cancel_ends_a_dialog(shop: Shop) -> None:
    await shop.send(CASHIER, "/accrue")
    assert await shop.press(CASHIER, "stx:cancel") == ["Отменено."]
    # The card number is now just text: no dialog takes it.
    await shop.send(CASHIER, CUSTOMER_CARD)
    assert await shop.operations("purchase_accrual") == 0
    await shop.send(CASHIER, "/refund")
    assert await shop.send(CASHIER, "/cancel") == ["Отменено."]


async def test_managers_and_above_pass_the_manager_commands(shop: Shop) -> None:
    for member in (MANAGER, ADMIN, OWNER):
        answers = await shop.send(member, "/conflicts")
        assert answers == ["Открытых конфликтов номеров нет."], member


async def test_staff_commands_are_not_answered_in_groups(shop: Shop) -> None:
    from tests.support import updates

    start = len(shop.harness.session.requests)
    await shop.harness.feed(updates.text(updates.user(CASHIER), f"/accrue {CUSTOMER_CARD} 100", chat_type="group"))
    assert not [r for r in shop.harness.session.requests[start:] if isinstance(r, SendMessage)]
    assert await shop.operations("purchase_accrual") == 0


def test_roles_see_personal_data_from_manager_up() -> None:
    def member(role: str) -> StaffView:
        return StaffView(1, 1, "x", role, None, None, True)

    assert not member("cashier").sees_personal_data
    assert all(member(role).sees_personal_data for role in ("manager", "admin", "owner"))


async def test_another_command_ends_a_dialog_and_is_answered(shop: Shop) -> None:
    await shop.send(CASHIER, "/accrue")
    help_text = await shop.send(CASHIER, "/help")
    assert help_text and all("Отменено" not in answer for answer in help_text)
    # The card number is now just text: the dialog left open by /help takes nothing.
    for answer in (CUSTOMER_CARD, "100", "R1", "-"):
        await shop.send(CASHIER, answer)
    assert await shop.operations("purchase_accrual") == 0
    # A staff command started meanwhile runs its own dialog from the start.
    await shop.send(CASHIER, "/refund")
    assert await shop.send(CASHIER, "/cancel") == ["Отменено."]


async def test_an_old_staff_button_says_it_is_out_of_date(shop: Shop) -> None:
    # "No receipt number" and "Whole receipt" of a dialog that is over, pressed by staff who are not customers.
    for data in ("stx:skip", "stx:full"):
        assert await shop.press(CASHIER, data) == [text("menu-button-outdated")], data
        assert await shop.press(OWNER, data) == [text("menu-button-outdated")], data
    assert await shop.operations("purchase_accrual") == 0
