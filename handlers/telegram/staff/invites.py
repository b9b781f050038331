"""/invite (a one-time deep link for a new staff member), opening it (`/start staff-<code>`), and
/staff (the list; admins and owners switch members off with a button)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from db.uow import UnitOfWork
from handlers.telegram.staff.access import StaffOnly, require
from handlers.telegram.staff.common import esc
from handlers.telegram.staff.keyboards import (
    RoleChoice,
    StaffMemberAction,
    StaffMemberConfirmed,
    StoreChoice,
    button,
    cancel_button,
    column,
    with_cancel,
)
from handlers.telegram.staff.menu import hide_staff_menu, show_staff_menu
from handlers.telegram.staff.states import InviteDialog
from locales import Translator
from services import staff_desk, stores
from services.clock import Clock
from services.staff import InviteView, StaffView

DEEP_LINK_PREFIX = "staff-"


def role_name(tr: Translator, locale: str, role: str) -> str:
    return tr.get(locale, f"staff-role-{role}")


async def _invite_text(bot: Bot, tr: Translator, locale: str, invite: InviteView) -> str:
    me = await bot.me()
    link = f"https://t.me/{me.username}?start={DEEP_LINK_PREFIX}{invite.code}"
    return tr.get(
        locale, "staff-invite-created", role=role_name(tr, locale, invite.role),
        store=esc(invite.store_code or tr.get(locale, "staff-no-store")), link=link,
    )


def get_public_router() -> Router:
    """The deep link must be seen before the customer /start: anyone may open an invite."""
    router = Router(name="staff-invite-link")
    router.message.filter(F.chat.type == "private")

    @router.message(CommandStart(deep_link=True, magic=F.args.startswith(DEEP_LINK_PREFIX)))
    async def accept(
        message: Message, command: CommandObject, bot: Bot, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, staff: StaffView | None = None,
    ) -> None:
        assert message.from_user is not None and command.args is not None
        member = await staff_desk.accept_invite(
            uow, clock, current=staff, code=command.args.removeprefix(DEEP_LINK_PREFIX),
            telegram_id=message.from_user.id, name=message.from_user.full_name,
        )
        await show_staff_menu(bot, tr, member)
        await message.answer(
            tr.get(
                locale, "staff-welcome", name=esc(member.name), role=role_name(tr, locale, member.role),
                store=esc(member.store_code or tr.get(locale, "staff-no-store")),
            )
        )

    return router


def get_router() -> Router:
    router = Router(name="staff-invites")
    router.message.filter(F.chat.type == "private")

    async def _create(
        message: Message, bot: Bot, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
        member: StaffView | None, role: str, store: str | None,
    ) -> None:
        invite = await staff_desk.invite(uow, clock, by=member, role=role, store_code=store)
        await message.answer(await _invite_text(bot, tr, locale, invite))

    @router.message(Command("invite"))
    async def invite_command(
        message: Message, command: CommandObject, state: FSMContext, bot: Bot, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, staff: StaffView | None = None,
    ) -> None:
        member = require(staff, "manager")
        await state.clear()
        args = (command.args or "").split()
        if len(args) > 2:
            await message.answer(tr.get(locale, "staff-usage-invite"))
            return
        if args:
            await _create(message, bot, uow, clock, tr, locale, member, args[0], args[1] if len(args) > 1 else None)
            return
        await state.set_state(InviteDialog.role)
        roles = [button(role_name(tr, locale, r), RoleChoice(role=r)) for r in staff_desk.grantable_roles(member)]
        await message.answer(tr.get(locale, "staff-ask-role"), reply_markup=with_cancel(tr, locale, *roles))

    @router.callback_query(InviteDialog.role, RoleChoice.filter(), StaffOnly())
    async def invite_role(
        query: CallbackQuery, callback_data: RoleChoice, state: FSMContext, uow: UnitOfWork, tr: Translator,
        locale: str, staff: StaffView | None = None,
    ) -> None:
        member = require(staff, "manager")
        await query.answer()
        await state.update_data(role=callback_data.role)
        await state.set_state(InviteDialog.store)
        own = tr.get(locale, "staff-invite-own-store", store=esc(member.store_code or tr.get(locale, "staff-no-store")))
        choices = [button(own, StoreChoice(store="-"))]
        if staff_desk.may_invite_to_any_store(member):
            choices += [
                button(f"{s.code} · {s.name}", StoreChoice(store=s.code)) for s in await stores.list_stores(uow)
            ]
        if isinstance(query.message, Message):
            await query.message.answer(
                tr.get(locale, "staff-ask-store"), reply_markup=with_cancel(tr, locale, *choices)
            )

    @router.callback_query(InviteDialog.store, StoreChoice.filter(), StaffOnly())
    async def invite_store(
        query: CallbackQuery, callback_data: StoreChoice, state: FSMContext, bot: Bot, uow: UnitOfWork,
        clock: Clock, tr: Translator, locale: str, staff: StaffView | None = None,
    ) -> None:
        data = await state.get_data()
        await query.answer()
        store = None if callback_data.store == "-" else callback_data.store
        assert isinstance(query.message, Message)
        await _create(query.message, bot, uow, clock, tr, locale, staff, str(data.get("role", "")), store)
        await state.clear()

    @router.message(Command("staff"))
    async def staff_list(
        message: Message, state: FSMContext, uow: UnitOfWork, tr: Translator, locale: str,
        staff: StaffView | None = None,
    ) -> None:
        member = require(staff, "manager")
        await state.clear()
        members = await staff_desk.list_staff(uow, by=member)
        lines = [
            tr.get(
                locale, "staff-list-line" if m.active else "staff-list-line-inactive", name=esc(m.name),
                role=role_name(tr, locale, m.role), store=esc(m.store_code or "—"), telegram_id=str(m.telegram_id),
            )
            for m in members
        ]
        buttons = [
            button(tr.get(locale, "staff-button-deactivate", name=m.name), StaffMemberAction(staff_id=m.id))
            for m in members
            if staff_desk.may_deactivate(member, m)
        ]
        text = tr.get(locale, "staff-list-title") + "\n" + "\n".join(lines)
        await message.answer(text, reply_markup=column(*buttons) if buttons else None)

    @router.callback_query(StaffMemberAction.filter())
    async def ask_to_deactivate(
        query: CallbackQuery, callback_data: StaffMemberAction, uow: UnitOfWork, tr: Translator, locale: str,
        staff: StaffView | None = None,
    ) -> None:
        """Switching someone off takes their commands away at once: ask before doing it."""
        other = await staff_desk.deactivation_candidate(uow, by=staff, staff_id=callback_data.staff_id)
        await query.answer()
        if isinstance(query.message, Message):
            text = tr.get(
                locale, "staff-deactivate-confirm", name=esc(other.name), role=role_name(tr, locale, other.role),
                store=esc(other.store_code or tr.get(locale, "staff-no-store")),
            )
            yes = button(tr.get(locale, "staff-button-deactivate-yes"), StaffMemberConfirmed(staff_id=other.id))
            await query.message.answer(text, reply_markup=column(yes, cancel_button(tr, locale)))

    @router.callback_query(StaffMemberConfirmed.filter())
    async def deactivate(
        query: CallbackQuery, callback_data: StaffMemberConfirmed, bot: Bot, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, staff: StaffView | None = None,
    ) -> None:
        gone = await staff_desk.deactivate(uow, clock, by=staff, staff_id=callback_data.staff_id)
        await hide_staff_menu(bot, gone.telegram_id)
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(tr.get(locale, "staff-deactivated", name=esc(gone.name)))

    return router
