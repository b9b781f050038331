"""/family: the members of the customer's card and a one-time invite link; `/start family-<code>`
joins the inviter's card (at once for a registered customer, right after registration for a new
one); the owner removes members, a member leaves. A customer who holds a card of their own is asked
whether to keep it or join."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiogram import BaseMiddleware, Bot, F, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, TelegramObject

from db.uow import UnitOfWork
from handlers.telegram.menu import PRIVATE, REGISTERED
from handlers.telegram.start import START_PAYLOAD_KEY, send_registration_prompt, start_payload
from locales import Translator, points
from services import customers, family
from services.clock import Clock
from services.customers import CustomerView
from services.family import FamilyView, JoinResult

_PAYLOAD_MAX = 64


class FamilyAction(CallbackData, prefix="fam"):
    action: str  # invite | remove | leave | keep | join
    customer_id: int = 0
    code: str = ""


def _b(text: str, data: FamilyAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text[:60], callback_data=data.pack())


def render_family(view: FamilyView, tr: Translator, locale: str) -> str:
    lines = [tr.get(locale, "family-title", number=view.card_number, owner=escape(view.owner_name))]
    if view.members:
        lines += [f"• {escape(m.name)}" for m in view.members]
    else:
        lines.append(tr.get(locale, "family-no-members"))
    if view.viewer_is_owner:
        lines += ["", tr.get(locale, "family-places", left=view.places_left, limit=view.limit)]
    return "\n".join(lines)


def family_keyboard(view: FamilyView, tr: Translator, locale: str) -> InlineKeyboardMarkup:
    if not view.viewer_is_owner:
        return InlineKeyboardMarkup(inline_keyboard=[[_b(tr.get(locale, "family-button-leave"),
                                                         FamilyAction(action="leave"))]])
    rows = []
    if view.places_left > 0:
        rows.append([_b(tr.get(locale, "family-button-invite"), FamilyAction(action="invite"))])
    for m in view.members:
        data = FamilyAction(action="remove", customer_id=m.customer_id)
        rows.append([_b(tr.get(locale, "family-button-remove", name=m.name), data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _join_text(result: JoinResult, tr: Translator, locale: str) -> str:
    owner = escape(result.owner_name)
    if result.outcome == "joined":
        text = tr.get(locale, "family-joined", owner=owner, number=result.card_number)
        if result.moved_points:
            text += "\n" + tr.get(locale, "family-moved", points=points(result.moved_points))
        return text
    if result.outcome == "already":
        return tr.get(locale, "family-already", owner=owner, number=result.card_number)
    return tr.get(locale, "family-kept")


async def _forget_code(state: FSMContext) -> None:
    data = await state.get_data()
    if data.pop(START_PAYLOAD_KEY, None) is not None:
        await state.set_data(data)


async def offer_join(
    message: Message, state: FSMContext, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str,
    customer_id: int, code: str,
) -> None:
    """Join at once, or ask a customer with a card of their own whether to keep it."""
    result = await family.join_family(uow, clock, code=code, customer_id=customer_id)
    # Used up (or now carried by the buttons below). A refused code stays until the next deep link
    # replaces it: the error router has told the person why.
    await _forget_code(state)
    if result.outcome == "needs_choice":
        keyboard = InlineKeyboardMarkup(inline_keyboard=[
            [_b(tr.get(locale, "family-button-join"), FamilyAction(action="join", code=code))],
            [_b(tr.get(locale, "family-button-keep"), FamilyAction(action="keep", code=code))],
        ])
        await message.answer(
            tr.get(locale, "family-choice", owner=escape(result.owner_name), number=result.card_number),
            reply_markup=keyboard,
        )
        return
    await message.answer(_join_text(result, tr, locale))


class JoinAfterRegistration(BaseMiddleware):
    """Wraps the registration router's handlers: once a shared contact has made the person a
    customer, a family invite they arrived with is taken up."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        result = await handler(event, data)
        state: FSMContext | None = data.get("state")
        if not isinstance(event, Message) or event.contact is None or event.from_user is None or state is None:
            return result
        code = family.code_from_start_payload(await start_payload(state))
        if code is None:
            return result
        uow: UnitOfWork = data["uow"]
        registered = await customers.get_by_telegram(uow, event.from_user.id)
        if registered is not None:
            await offer_join(event, state, uow, data["clock"], data["tr"], registered.language, registered.id, code)
        return result


def attach_to_registration(router: Router) -> Router:
    router.message.middleware(JoinAfterRegistration())
    return router


def get_deep_link_router() -> Router:
    """Before the customer /start: `/start family-<code>`."""
    router = Router(name="family-start")
    router.message.filter(PRIVATE)

    @router.message(CommandStart(deep_link=True, magic=F.args.startswith(family.START_PREFIX)))
    async def start_family(
        message: Message, command: CommandObject, state: FSMContext, uow: UnitOfWork, clock: Clock,
        tr: Translator, locale: str, customer: CustomerView | None,
    ) -> None:
        payload = (command.args or "").strip()[:_PAYLOAD_MAX]
        await state.update_data({START_PAYLOAD_KEY: payload})
        code = family.code_from_start_payload(payload)
        if customer is None or code is None:
            await send_registration_prompt(message, state, uow, tr, locale)
            return
        await offer_join(message, state, uow, clock, tr, locale, customer.id, code)

    return router


def get_router() -> Router:
    router = Router(name="family")
    router.message.filter(PRIVATE)

    @router.message(Command("family"), REGISTERED)
    async def show(message: Message, uow: UnitOfWork, tr: Translator, locale: str, customer: CustomerView) -> None:
        try:
            view = await family.get_family(uow, customer_id=customer.id)
        except family.FamilyNoCard:
            await message.answer(tr.get(locale, "family-no-card"))
            return
        await message.answer(render_family(view, tr, locale), reply_markup=family_keyboard(view, tr, locale))

    @router.callback_query(FamilyAction.filter(F.action == "invite"), REGISTERED)
    async def invite(
        query: CallbackQuery, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, customer: CustomerView,
        bot: Bot,
    ) -> None:
        created = await family.create_invite(uow, clock, customer_id=customer.id)
        me = await bot.me()
        link = f"https://t.me/{me.username}?start={created.start_payload}"
        assert query.message is not None
        await query.message.answer(tr.get(locale, "family-invite", link=link, hours=48))
        await query.answer()

    @router.callback_query(FamilyAction.filter(F.action == "remove"), REGISTERED)
    async def remove(
        query: CallbackQuery, callback_data: FamilyAction, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, customer: CustomerView,
    ) -> None:
        await family.remove_member(
            uow, clock, owner_customer_id=customer.id, member_customer_id=callback_data.customer_id
        )
        await query.answer(tr.get(locale, "family-removed"))
        view = await family.get_family(uow, customer_id=customer.id)
        assert query.message is not None
        await query.message.answer(render_family(view, tr, locale), reply_markup=family_keyboard(view, tr, locale))

    @router.callback_query(FamilyAction.filter(F.action == "leave"), REGISTERED)
    async def leave(
        query: CallbackQuery, uow: UnitOfWork, clock: Clock, tr: Translator, locale: str, customer: CustomerView
    ) -> None:
        await family.leave_family(uow, clock, customer_id=customer.id)
        assert query.message is not None
        await query.message.answer(tr.get(locale, "family-left"))
        await query.answer()

    @router.callback_query(FamilyAction.filter(F.action.in_({"keep", "join"})), REGISTERED)
    async def choose(
        query: CallbackQuery, callback_data: FamilyAction, uow: UnitOfWork, clock: Clock, tr: Translator,
        locale: str, customer: CustomerView,
    ) -> None:
        result = await family.join_family(
            uow, clock, code=callback_data.code, customer_id=customer.id,
            keep_own_card=callback_data.action == "keep",
        )
        assert query.message is not None
        await query.message.answer(_join_text(result, tr, locale))
        await query.answer()

    return router
