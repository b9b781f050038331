"""/invite, the deep link's life (one use, 24 hours, no role above the inviter's) and /staff."""

from __future__ import annotations

import re
from datetime import timedelta

from aiogram.methods import DeleteMyCommands, SendMessage, SetMyCommands
from aiogram.types import BotCommandScopeChat

from services import staff as staff_service
from tests.telegram.staff.conftest import err
from tests.telegram.staff.helpers import ADMIN, CASHIER, CUSTOMER_CARD, MANAGER, OWNER, STRANGER, Shop

LINK = re.compile(r"https://t\.me/loyalty_test_bot\?start=(staff-[A-Za-z0-9_-]+)")


def _link(answers: list[str]) -> str:
    found = LINK.search(answers[-1])
    assert found, answers
    return found.group(1)


async def _member(shop: Shop, telegram_id: int) -> staff_service.StaffView | None:
    return await staff_service.find_active_staff(shop.uow, telegram_id)


async def test_an_invite_link_makes_the_user_staff_once(shop: Shop) -> None:
    payload = _link(await shop.send(MANAGER, "/invite cashier"))
    answers = await shop.send(STRANGER, f"/start {payload}")
    assert "кассир" in answers[0] and "S1" in answers[0]
    member = await _member(shop, STRANGER)
    assert member is not None and member.role == "cashier" and member.store_code == "S1"
    menus = [r for r in shop.harness.session.requests if isinstance(r, SetMyCommands)]
    assert menus and all(r.scope == BotCommandScopeChat(chat_id=STRANGER) for r in menus)
    assert "accrue" in {c.command for c in menus[0].commands} and "adjust" not in {c.command for c in menus[0].commands}
    # The new cashier works at once.
    assert "Начислено" in (await shop.send(STRANGER, f"/accrue {CUSTOMER_CARD} 100"))[0]
    # The same link a second time, by anyone, is refused.
    assert await shop.send(STRANGER + 1, f"/start {payload}") == [err("invite_invalid")]
    assert await _member(shop, STRANGER + 1) is None


async def test_an_invite_expires_after_24_hours(shop: Shop) -> None:
    payload = _link(await shop.send(MANAGER, "/invite cashier"))
    shop.clock.advance(timedelta(hours=24))
    assert await shop.send(STRANGER, f"/start {payload}") == [err("invite_invalid")]
    assert await _member(shop, STRANGER) is None


async def test_an_invite_just_before_expiry_still_works_and_takes_the_store(shop: Shop) -> None:
    payload = _link(await shop.send(ADMIN, "/invite cashier S2"))
    shop.clock.advance(timedelta(hours=23, minutes=59))
    await shop.send(STRANGER, f"/start {payload}")
    member = await _member(shop, STRANGER)
    assert member is not None and member.store_code == "S2"


async def test_nobody_invites_above_their_own_role(shop: Shop) -> None:
    assert await shop.send(MANAGER, "/invite admin") == [err("role_too_high", role="admin")]
    assert await shop.send(ADMIN, "/invite owner") == [err("role_too_high", role="owner")]
    assert LINK.search((await shop.send(OWNER, "/invite owner S1"))[0])


async def test_bad_invite_arguments(shop: Shop) -> None:
    roles = "owner, admin, manager, cashier"
    assert await shop.send(MANAGER, "/invite boss") == [err("invalid_role", role="boss", roles=roles)]
    assert await shop.send(ADMIN, "/invite cashier NOPE") == [err("store_not_found", code="NOPE")]
    # A manager staffs their own store only.
    assert await shop.send(MANAGER, "/invite cashier S2") == [err("role_too_high", role="admin")]
    assert LINK.search((await shop.send(MANAGER, "/invite cashier S1"))[0])
    assert await shop.send(STRANGER, "/start staff-forged") == [err("invite_invalid")]


async def test_the_invite_dialog_offers_only_grantable_roles_and_stores(shop: Shop) -> None:
    answers = await shop.send(MANAGER, "/invite")
    assert answers == ["Какую роль дать новому сотруднику?"]
    assert set(shop.buttons().values()) == {"sti:cashier", "sti:manager", "stx:cancel"}
    await shop.press(MANAGER, "sti:cashier")
    assert set(shop.buttons().values()) == {"stw:-", "stx:cancel"}  # a manager's own store only
    assert await shop.press(MANAGER, "stw:S2") == [err("role_too_high", role="admin")]  # forged
    await shop.send(ADMIN, "/invite")
    assert set(shop.buttons().values()) == {"sti:cashier", "sti:manager", "sti:admin", "stx:cancel"}
    await shop.press(ADMIN, "sti:manager")
    assert {"stw:-", "stw:S1", "stw:S2"} <= set(shop.buttons().values())
    payload = _link(await shop.press(ADMIN, "stw:S2"))
    await shop.send(STRANGER, f"/start {payload}")
    member = await _member(shop, STRANGER)
    assert member is not None and member.role == "manager" and member.store_code == "S2"


async def test_a_forged_role_button_above_the_inviter_is_refused(shop: Shop) -> None:
    await shop.send(MANAGER, "/invite")
    await shop.press(MANAGER, "sti:owner")
    answers = await shop.press(MANAGER, "stw:-")
    assert answers == [err("role_too_high", role="owner")]


async def test_the_staff_list_and_deactivation(shop: Shop) -> None:
    answers = await shop.send(MANAGER, "/staff")
    assert all(name in answers[0] for name in ("Olga", "Alex", "Maria", "Kate", "Kirill"))
    last = shop.harness.session.requests[-1]
    assert isinstance(last, SendMessage) and last.reply_markup is None  # managers cannot switch anyone off
    await shop.send(ADMIN, "/staff")
    labels = shop.buttons()
    assert not any("Olga" in label or "Alex" in label for label in labels)  # not the owner, not oneself
    kate = next(data for label, data in labels.items() if "Kate" in label)
    # Asked first: nothing happens until the second press.
    assert await shop.press(ADMIN, kate) == [
        "Отключить Kate (кассир, магазин S1)? Команды сотрудника у него пропадут сразу; "
        "вернуть можно новым приглашением."
    ]
    assert await _member(shop, CASHIER) is not None
    assert list(shop.buttons()) == ["Да, отключить", "✖️ Отмена"]
    assert await shop.press(ADMIN, shop.buttons()["✖️ Отмена"]) == ["Отменено."]
    assert await _member(shop, CASHIER) is not None
    await shop.press(ADMIN, kate)
    confirm = shop.buttons()["Да, отключить"]
    assert await shop.press(ADMIN, confirm) == ["Kate больше не сотрудник."]
    assert await _member(shop, CASHIER) is None
    removed = [r for r in shop.harness.session.requests if isinstance(r, DeleteMyCommands)]
    assert removed and removed[0].scope == BotCommandScopeChat(chat_id=CASHIER)


async def test_forged_deactivation_buttons_are_refused(shop: Shop) -> None:
    owner = await _member(shop, OWNER)
    manager = await _member(shop, MANAGER)
    assert owner is not None and manager is not None
    assert await shop.press(ADMIN, f"stm:{owner.id}") == [err("role_too_high", role="owner")]
    assert await shop.press(MANAGER, f"stm:{owner.id}") == [err("role_too_high", role="admin")]
    assert await shop.press(OWNER, f"stm:{owner.id}") == [err("forbidden")]  # not oneself
    assert await shop.press(OWNER, "stm:999") == [err("staff_not_found")]
    # The confirming button is checked the same way: a forged one does nothing.
    assert await shop.press(ADMIN, f"stq:{owner.id}") == [err("role_too_high", role="owner")]
    assert await shop.press(MANAGER, f"stq:{manager.id}") == [err("role_too_high", role="admin")]
    assert await shop.press(OWNER, f"stq:{owner.id}") == [err("forbidden")]
    assert await _member(shop, OWNER) is not None and await _member(shop, MANAGER) is not None


async def test_the_staff_menu_is_set_at_startup_for_active_staff(shop: Shop) -> None:
    dispatcher = shop.harness.dispatcher
    # What start_polling does: the workflow data goes to startup handlers.
    await dispatcher.emit_startup(bot=shop.harness.bot, **dispatcher.workflow_data)
    menus = [
        (r.scope.chat_id, r) for r in shop.harness.session.requests
        if isinstance(r, SetMyCommands) and isinstance(r.scope, BotCommandScopeChat)
    ]
    assert {chat for chat, _ in menus} == {OWNER, ADMIN, MANAGER, CASHIER, CASHIER + 1}
    owner_menu = next(r for chat, r in menus if chat == OWNER and r.language_code is None)
    assert {"adjust", "staff", "invite", "card", "broadcast", "outbox", "linktypes"} <= {
        c.command for c in owner_menu.commands
    }
    manager_menu = next(r for chat, r in menus if chat == MANAGER and r.language_code is None)
    assert "broadcast" not in {c.command for c in manager_menu.commands}


async def test_opening_a_lower_invite_does_not_demote(shop: Shop) -> None:
    payload = _link(await shop.send(ADMIN, "/invite cashier"))
    assert await shop.send(OWNER, f"/start {payload}") == [err("invite_would_demote", role="owner")]
    owner = await _member(shop, OWNER)
    assert owner is not None and owner.role == "owner"
    # The invite was not used up: the person it was meant for can still open it.
    await shop.send(STRANGER, f"/start {payload}")
    assert await _member(shop, STRANGER) is not None
    # Promotion through an invite is fine.
    payload = _link(await shop.send(ADMIN, "/invite manager S1"))
    await shop.send(CASHIER, f"/start {payload}")
    cashier = await _member(shop, CASHIER)
    assert cashier is not None and cashier.role == "manager"
